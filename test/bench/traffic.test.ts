/**
 * The benchmark's traffic generator: deterministic, and every frame it makes is one the client
 * accepts. No timing here; the benchmarks themselves run with `npm run bench`.
 */
import { describe, expect, it } from 'vitest';
import { burstSizes, fingerprint, generateTraffic } from '../../bench/traffic.js';
import { INBOUND_TYPES, parseFrame } from '../../src/protocol/index.js';

describe('bench traffic generator', () => {
  it('gives the same frames for the same options, and other frames for another seed', () => {
    const a = generateTraffic({ frames: 3_000, nodes: 50 });
    const b = generateTraffic({ frames: 3_000, nodes: 50 });
    expect(b.frames).toEqual(a.frames);
    expect(fingerprint(b.frames)).toBe(fingerprint(a.frames));
    expect(generateTraffic({ frames: 3_000, nodes: 50, seed: 1 }).frames).not.toEqual(a.frames);
  });

  it('makes exactly the frames asked for, all accepted by parseFrame as known events', () => {
    for (const [frames, nodes] of [
      [4_000, 50],
      [6_000, 500],
      [7_000, 5_000],
    ] as const) {
      const traffic = generateTraffic({ frames, nodes });
      expect(traffic.frames).toHaveLength(frames);
      for (const raw of traffic.frames) {
        const parsed = parseFrame(raw);
        if (!parsed.ok || parsed.kind !== 'event') throw new Error(`rejected: ${raw.slice(0, 200)} ${JSON.stringify(parsed)}`);
      }
      expect(traffic.loadFrames).toBe(Math.min(frames, nodes + 1));
    }
  });

  it('carries the whole mix: tasks with many PROGRESS frames, nodes, takes, agents, prompts, beats, heartbeats, structure and git', () => {
    const traffic = generateTraffic({ frames: 20_000, nodes: 500 });
    const types = new Set(Object.keys(traffic.counts));
    for (const type of [
      'session.init',
      'task.progress',
      'node.state_changed',
      'generation.started',
      'generation.completed',
      'generation.error',
      'agent.assigned',
      'agent.progress',
      'agent.completed',
      'agent.handoff',
      'prompt.composite',
      'narrative.beat',
      'narrative.progress',
      'system.heartbeat',
      'structure.changed',
      'git.commit',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    for (const type of types) expect(INBOUND_TYPES as readonly string[]).toContain(type);
    expect(traffic.counts['task.progress']! / traffic.counts['generation.started']!).toBeGreaterThan(20);
    // Every event carries its project's seq, increasing by one.
    const seqs = traffic.frames.map((raw) => (JSON.parse(raw) as { seq?: number }).seq).filter((s) => s !== undefined);
    expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
  });

  it('splits a log into bursts of 1 to 32 frames with a boundary where asked', () => {
    const sizes = burstSizes(10_000, [5_000]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(sizes.every((size) => size >= 1 && size <= 32)).toBe(true);
    let at = 0;
    const boundaries = new Set(sizes.map((size) => (at += size)));
    expect(boundaries.has(5_000)).toBe(true);
    expect(burstSizes(10_000, [5_000])).toEqual(sizes);
  });
});
