/**
 * The pure parts of the browser latency benchmark (bench/browser/frames.ts): the frames it sends
 * are ones the client accepts, the page reads the frame number back from the wire and from the
 * DOM text, frames are matched to the DOM update that first showed them (or a later frame), and
 * the clock check keeps its shortest round trip. No browser here: `npx tsx bench/browserLatency.ts`.
 */
import { describe, expect, it } from 'vitest';
import { clockOffset, frameMessage, frameOfMessage, frameOfRaw, matchLatencies, progressFrame } from '../../bench/browser/frames.js';
import { parseFrame } from '../../src/protocol/index.js';

describe('browser latency bench: frames', () => {
  it('sends task.progress frames the client accepts, numbered by current_step and message', () => {
    for (const k of [1, 999, 6000]) {
      const frame = { ...progressFrame('bench-task-1', 'bench-node', k, 6000), project_id: 'bench', seq: k };
      const text = JSON.stringify(frame);
      const parsed = parseFrame(text);
      expect(parsed, JSON.stringify(parsed)).toMatchObject({ ok: true, kind: 'event', frame: { type: 'task.progress', current_step: k } });
      expect(frameOfRaw(text)).toBe(k);
      expect(frameOfMessage(frameMessage(k))).toBe(k);
      expect(frame.progress).toBeGreaterThanOrEqual(0);
      expect(frame.progress).toBeLessThan(100);
    }
  });

  it('reads no frame number from other frames or other text', () => {
    expect(frameOfRaw(JSON.stringify({ type: 'system.heartbeat', server_time: 1 }))).toBeUndefined();
    expect(frameOfRaw(new ArrayBuffer(4))).toBeUndefined();
    expect(frameOfMessage('Waiting for the task to report…')).toBeUndefined();
    expect(frameOfMessage(undefined)).toBeUndefined();
    expect(frameOfMessage('  frame 12 \n')).toBe(12);
  });
});

describe('browser latency bench: matching frames to DOM updates', () => {
  it('settles each frame at the first update showing it or a later frame', () => {
    // Frames 11..15 sent at 0, 1, 2, 3, 4 ms; the DOM showed 9 (warm-up), 12 at 5, 15 at 9.
    const matched = matchLatencies(11, [0, 1, 2, 3, 4], [9, 12, 15], [-1, 5, 9]);
    expect(matched.latencies).toEqual([5, 4, 7, 6, 5]);
    expect(matched.shownAtOf).toEqual([5, 5, 9, 9, 9]);
    expect(matched.unmatched).toBe(0);
    expect(matched.updates).toBe(2);
  });

  it('counts frames the DOM never reached, and ignores updates past the range', () => {
    expect(matchLatencies(1, [0, 1, 2, 3], [2], [4])).toEqual({ latencies: [4, 3], shownAtOf: [4, 4], unmatched: 2, updates: 1 });
    expect(matchLatencies(1, [0, 1], [5, 6], [3, 4])).toEqual({ latencies: [3, 2], shownAtOf: [3, 3], unmatched: 0, updates: 1 });
    expect(matchLatencies(1, [0, 1], [], [])).toEqual({ latencies: [], shownAtOf: [], unmatched: 2, updates: 0 });
  });

  it('takes the offset of the shortest round trip for the clock check', () => {
    const { offset, roundTrip } = clockOffset([
      { before: 0, remote: 100, after: 4 },
      { before: 10, remote: 110.6, after: 11 },
      { before: 20, remote: 130, after: 23 },
    ]);
    expect(roundTrip).toBe(1);
    expect(offset).toBeCloseTo(100.1, 9);
    expect(() => clockOffset([])).toThrow();
  });
});
