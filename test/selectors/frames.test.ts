import { describe, expect, it } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { MAX_RECENT_FRAMES, realtimeReducer, startGeneration, type RealtimeState } from '../../src/slices/index.js';
import { selectFrameStats, selectRecentFrames, selectRejectedFrames } from '../../src/selectors/index.js';
import { initial, TS } from '../support/state.js';

describe('frame selectors', () => {
  it('count applied, rejected, unknown and duplicate frames', () => {
    const state = replayFrames([
      { type: 'system.heartbeat', timestamp: TS },
      '{"type":"task.progress"',
      { type: 'task.progress', task_id: 't1', state: 'NOT_A_STATE' },
      { type: 'hologram.projected', timestamp: TS },
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1', seq: 4 },
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1', seq: 4 },
    ]);
    expect(selectFrameStats(state)).toMatchObject({
      applied: 2,
      duplicatesDropped: 1,
      unknown: { total: 1, byType: { 'hologram.projected': 1 } },
    });
    expect(selectRejectedFrames(state)).toMatchObject({
      total: 2,
      byReason: { not_json: 1, invalid_fields: 1 },
      last: { reason: 'invalid_fields', type: 'task.progress' },
    });
    expect(selectRecentFrames(state).map((r) => r.frame.type)).toEqual(['system.heartbeat', 'git.commit']);
  });

  it('keep a bounded window of recent frames, newest last', () => {
    const frames = Array.from({ length: MAX_RECENT_FRAMES + 5 }, (_, i) => ({
      type: 'system.heartbeat',
      server_time: i,
    }));
    const recent = selectRecentFrames(replayFrames(frames));
    expect(recent).toHaveLength(MAX_RECENT_FRAMES);
    expect(recent[0]?.frame).toMatchObject({ server_time: 5 });
    expect(recent.at(-1)?.frame).toMatchObject({ server_time: MAX_RECENT_FRAMES + 4 });
  });

  it('the recent window keeps its identity across actions that are not frames', () => {
    const state = replayFrames([{ type: 'system.heartbeat', timestamp: TS }]);
    const recent = selectRecentFrames(state);
    const stats = selectFrameStats(state);
    const after = realtimeReducer(state, startGeneration({ nodeId: 'n1', params: { prompt: 'x' } }));
    expect(after).not.toBe(state);
    expect(selectRecentFrames(after)).toBe(recent);
    expect(selectFrameStats(after)).toBe(stats);
    expect(selectRecentFrames(initial())).toEqual([]);
  });
});
