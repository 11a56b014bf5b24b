import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { framesBatched, MAX_RECENT_FRAMES, realtimeReducer, toFrameAction } from '../../src/slices/index.js';
import { MAX_UNKNOWN_TYPES } from '../../src/slices/framesSlice.js';
import { expectPrototypeClean, FIXTURE_NAMES, fixtureLines, readFixture, stamped, timeOf } from '../support/fixtures.js';

describe('frames slice', () => {
  describe('bad-frames fixture', () => {
    it('counts rejected frames by reason', () => {
      const { rejected } = replayFrames(readFixture('bad-frames')).frames;
      expect(rejected.byReason).toEqual({ not_json: 1, not_object: 2, missing_type: 1, invalid_type: 2, invalid_fields: 12 });
      expect(rejected.total).toBe(18);
    });

    it('remembers the last rejection with its reason, type and receive time', () => {
      const lines = fixtureLines('bad-frames');
      const deep = lines.findIndex((line) => line.includes('"leaf":true'));
      const { rejected } = replayFrames(readFixture('bad-frames')).frames;
      expect(rejected.last).toEqual({
        reason: 'invalid_fields',
        detail: 'result: value nests too deeply',
        type: 'task.progress',
        at: Date.parse(JSON.parse(lines[deep]!).timestamp),
      });
    });

    it('counts unknown types by name, reserved names under "(other)"', () => {
      const { unknown } = replayFrames(readFixture('bad-frames')).frames;
      expect(unknown.total).toBe(2);
      expect(unknown.byType).toEqual({ 'render.preview': 1, '(other)': 1 });
      expect(Object.prototype.hasOwnProperty.call(unknown.byType, 'constructor')).toBe(false);
      expectPrototypeClean();
    });

    it('accounts for every line: applied + rejected + unknown + duplicates', () => {
      const { frames } = replayFrames(readFixture('bad-frames'));
      expect(frames.applied).toBe(11);
      expect(frames.duplicatesDropped).toBe(3);
      expect(frames.applied + frames.rejected.total + frames.unknown.total + frames.duplicatesDropped).toBe(fixtureLines('bad-frames').length);
    });

    it('recent frames hold validated, sanitized frames only', () => {
      const { recent } = replayFrames(readFixture('bad-frames')).frames;
      expect(recent).toHaveLength(11);
      expect(recent.map((r) => r.frame.type)).toEqual([
        'session.init',
        'generation.started',
        'task.progress',
        'agent.completed',
        'task.progress',
        'task.progress',
        'task.progress',
        'generation.completed',
        'task.progress',
        'node.state_changed',
        'system.heartbeat',
      ]);
      const agent = recent[3]!.frame as { output?: unknown };
      expect(agent.output).toEqual({ cut: 'v1', clips: [{}] });
      expect(Object.prototype.hasOwnProperty.call(agent, '__proto__')).toBe(false);
      expect(Object.prototype.hasOwnProperty.call(agent.output, '__proto__')).toBe(false);
      expect(JSON.stringify(recent)).not.toContain('polluted');
    });
  });

  it.each(FIXTURE_NAMES)('%s: lastReceivedAt is the timestamp of the last frame', (name) => {
    const lines = fixtureLines(name);
    const last = JSON.parse(lines[lines.length - 1]!) as { timestamp: string };
    expect(replayFrames(readFixture(name)).frames.lastReceivedAt).toBe(Date.parse(last.timestamp));
  });

  it('every clean fixture is applied whole: nothing rejected, unknown or duplicated', () => {
    for (const name of FIXTURE_NAMES.filter((n) => n !== 'bad-frames')) {
      const { frames } = replayFrames(readFixture(name));
      expect(frames.rejected.total, name).toBe(0);
      expect(frames.unknown.total, name).toBe(0);
      // resync-snapshot re-sends one event its snapshot includes, on purpose.
      const duplicates = name === 'resync-snapshot' ? 1 : 0;
      expect(frames.duplicatesDropped, name).toBe(duplicates);
      expect(frames.applied, name).toBe(fixtureLines(name).length - duplicates);
    }
  });

  it(`keeps at most MAX_RECENT_FRAMES (${MAX_RECENT_FRAMES}) recent frames, newest last`, () => {
    const total = MAX_RECENT_FRAMES + 57;
    const log = stamped(Array.from({ length: total }, (_, i) => ({ type: 'system.heartbeat', server_time: i })));
    const { frames } = replayFrames(log);
    expect(frames.applied).toBe(total);
    expect(frames.recent).toHaveLength(MAX_RECENT_FRAMES);
    expect(frames.recent[0]).toMatchObject({ receivedAt: timeOf(log, 57), frame: { server_time: 57 } });
    expect(frames.recent[MAX_RECENT_FRAMES - 1]).toMatchObject({ receivedAt: timeOf(log, total - 1), frame: { server_time: total - 1 } });
  });

  it('keeps the newest MAX_RECENT_FRAMES across bursts of any size, in order', () => {
    const beat = (n: number) => toFrameAction({ type: 'system.heartbeat', server_time: n } as never, n);
    const burst = (from: number, count: number) => framesBatched({ actions: Array.from({ length: count }, (_, i) => beat(from + i)) });
    const times = (state: ReturnType<typeof realtimeReducer>) => state.frames.recent.map((r) => r.receivedAt);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    let state = realtimeReducer(undefined, { type: '@@test/init' });
    state = realtimeReducer(state, burst(0, 30));
    expect(times(state)).toEqual(range(0, 30));
    state = realtimeReducer(state, burst(30, 90));
    expect(times(state)).toEqual(range(120 - MAX_RECENT_FRAMES, 120));
    // A burst longer than the window replaces it with the burst's newest frames.
    state = realtimeReducer(state, burst(120, MAX_RECENT_FRAMES + 7));
    expect(times(state)).toEqual(range(127, 127 + MAX_RECENT_FRAMES));
    expect(state.frames.recent[0]!.frame).toMatchObject({ server_time: 127 });
  });

  it('the recent window never exceeds its bound at any step', () => {
    const log = stamped(Array.from({ length: MAX_RECENT_FRAMES + 5 }, () => ({ type: 'system.heartbeat' })));
    for (const { state } of replayTimeline(log)) expect(state.frames.recent.length).toBeLessThanOrEqual(MAX_RECENT_FRAMES);
  });

  it(`counts at most MAX_UNKNOWN_TYPES (${MAX_UNKNOWN_TYPES}) unknown type names, the rest under "(other)"`, () => {
    const total = MAX_UNKNOWN_TYPES + 20;
    const log = stamped(Array.from({ length: total }, (_, i) => ({ type: `future.kind_${i}` })));
    const { unknown } = replayFrames(log).frames;
    expect(unknown.total).toBe(total);
    expect(Object.keys(unknown.byType)).toHaveLength(MAX_UNKNOWN_TYPES + 1);
    expect(unknown.byType['(other)']).toBe(20);
    expect(unknown.byType['future.kind_0']).toBe(1);
    expect(unknown.byType[`future.kind_${MAX_UNKNOWN_TYPES}`]).toBeUndefined();
  });

  it('rejected and unknown frames never reach the entity tables', () => {
    const log = stamped([
      { type: 'render.preview', node_id: 'n1', task_id: 't1', status: 'generating' },
      { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 'fifty' },
      { type: 'node.state_changed', node_id: 'n1', status: 'exploded' },
    ]);
    const state = replayFrames(log);
    expect(state.tasks.ids).toEqual([]);
    expect(state.nodes.ids).toEqual([]);
    expect(state.frames.recent).toEqual([]);
    expect(state.frames.applied).toBe(0);
  });
});
