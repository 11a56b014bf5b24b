import { describe, expect, it } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import { selectTaskById } from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';

const progress = (task_id: string, state: string, extra: object = {}) => ({
  type: 'task.progress',
  timestamp: TS,
  task_id,
  node_id: 'n1',
  state,
  ...extra,
});

describe('task selectors', () => {
  it('an unknown task is undefined', () => {
    expect(selectTaskById(initial(), 't1')).toBeUndefined();
    expect(initial().tasks.ids).toEqual([]);
  });

  it('show a Celery task with its granular step', () => {
    const state = apply(
      initial(),
      progress('t1', 'PENDING'),
      progress('t1', 'STARTED', { progress: 0 }),
      progress('t1', 'PROGRESS', { progress: 42, step: 'Denoising', current_step: 3, total_steps: 30, message: 'Sampling' }),
    );
    expect(selectTaskById(state, 't1')).toMatchObject({
      task_id: 't1',
      node_id: 'n1',
      state: 'PROGRESS',
      progress: 42,
      step: 'Denoising',
      current_step: 3,
      total_steps: 30,
      message: 'Sampling',
    });
  });

  it('clamp progress to 0..100 and never go back', () => {
    let state = apply(initial(), progress('t1', 'PROGRESS', { progress: 150 }));
    expect(selectTaskById(state, 't1')?.progress).toBe(100);
    state = apply(initial(), progress('t2', 'PROGRESS', { progress: -5 }));
    expect(selectTaskById(state, 't2')?.progress).toBe(0);
    state = apply(state, progress('t2', 'PROGRESS', { progress: 60 }), progress('t2', 'PROGRESS', { progress: 20 }));
    expect(selectTaskById(state, 't2')?.progress).toBe(60);
  });

  it('a finished task stays finished when late frames arrive', () => {
    const state = apply(
      initial(),
      progress('t1', 'PROGRESS', { progress: 90 }),
      progress('t1', 'SUCCESS', { result: { output_path: '/o.png' } }),
      progress('t1', 'PROGRESS', { progress: 95 }),
      progress('t1', 'STARTED'),
    );
    expect(selectTaskById(state, 't1')).toMatchObject({ state: 'SUCCESS', progress: 100, result: { output_path: '/o.png' } });
    expect(state.tasks.lateFramesIgnored).toBe(2);
  });

  it('the entity table keeps its identity across frames that touch no task', () => {
    const state = apply(initial(), progress('t1', 'PROGRESS', { progress: 10 }));
    const table = state.tasks;
    const task = selectTaskById(state, 't1');
    const after = apply(
      state,
      { type: 'system.heartbeat', timestamp: TS },
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1' },
      { type: 'narrative.beat', timestamp: TS, beat_name: 'Midpoint', scene_id: 'S004' },
    );
    expect(after.tasks).toBe(table);
    const moved = apply(after, progress('t2', 'PROGRESS', { progress: 10 }));
    expect(moved.tasks).not.toBe(table);
    expect(selectTaskById(moved, 't1')).toBe(task);
  });
});
