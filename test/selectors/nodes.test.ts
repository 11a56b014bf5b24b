import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import {
  cancelGeneration,
  realtimeReducer,
  startGeneration,
  type RealtimeState,
} from '../../src/slices/index.js';
import {
  selectActiveGenerationIds,
  selectIsNodeGenerating,
  selectNodeById,
  selectNodeVisual,
  stepText,
} from '../../src/selectors/index.js';
import { initial, TS } from '../support/state.js';
import { getEntity } from '../../src/slices/table.js';

/** Replays frames on top of `state`, and fails if any frame was rejected (a typo in a test frame). */
function apply(state: RealtimeState, ...frames: object[]): RealtimeState {
  const next = replayFrames(frames, { initialState: state });
  expect(next.frames.rejected.total, 'a test frame was rejected').toBe(state.frames.rejected.total);
  expect(next.frames.unknown.total, 'a test frame has an unknown type').toBe(state.frames.unknown.total);
  return next;
}

const started = (node_id: string, task_id: string) => ({ type: 'generation.started', timestamp: TS, node_id, task_id });
const progress = (node_id: string, task_id: string, value: number, extra: object = {}) => ({
  type: 'task.progress',
  timestamp: TS,
  task_id,
  node_id,
  state: 'PROGRESS',
  progress: value,
  ...extra,
});
const heartbeat = { type: 'system.heartbeat', timestamp: TS, server_time: 1, instance_id: 'backend-1' };
const gitCommit = { type: 'git.commit', timestamp: TS, project_id: 'proj-1', ref: 'main', message: 'Add scene 2', author: 'ana' };

let warn: MockInstance;
let error: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
  error = vi.spyOn(console, 'error');
});
afterEach(() => {
  // reselect's dev checks (input stability, identity result) report through console.warn.
  expect(warn).not.toHaveBeenCalled();
  expect(error).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('selectNodeVisual: one visual per status', () => {
  it('an unknown node is idle and can generate', () => {
    const visual = selectNodeVisual(initial(), 'n1');
    expect(visual).toEqual({
      status: 'idle',
      border: 'idle',
      pulse: false,
      showSpinner: false,
      progress: 0,
      canGenerate: true,
      canCancel: false,
    });
    expect(visual.progressText).toBeUndefined();
    expect(visual.stepText).toBeUndefined();
  });

  it('a node the backend reports idle is idle', () => {
    const state = apply(initial(), { type: 'node.state_changed', timestamp: TS, node_id: 'n1', status: 'idle' });
    const visual = selectNodeVisual(state, 'n1');
    expect(visual.status).toBe('idle');
    expect(visual.border).toBe('idle');
    expect(visual.showSpinner).toBe(false);
    expect(visual.pulse).toBe(false);
    expect(visual.canGenerate).toBe(true);
    expect(visual.canCancel).toBe(false);
    expect(visual.progressText).toBeUndefined();
  });

  it('generating shows the spinner, a pulsing border, "Step 3 of 30: Denoising" and "42%"', () => {
    const state = apply(
      initial(),
      started('n1', 't1'),
      progress('n1', 't1', 42, { step: 'Denoising', current_step: 3, total_steps: 30, message: 'Sampling' }),
    );
    expect(selectNodeVisual(state, 'n1')).toEqual({
      status: 'generating',
      border: 'generating',
      pulse: true,
      showSpinner: true,
      progress: 42,
      progressText: '42%',
      stepText: 'Step 3 of 30: Denoising',
      message: 'Sampling',
      error: undefined,
      thumbnail: undefined,
      pending: undefined,
      canGenerate: false,
      canCancel: true,
    });
  });

  it('rounds fractional progress and falls back to the message when no step is reported', () => {
    const state = apply(initial(), started('n1', 't1'), progress('n1', 't1', 41.6, { message: 'Loading model' }));
    const visual = selectNodeVisual(state, 'n1');
    expect(visual.progress).toBe(42);
    expect(visual.progressText).toBe('42%');
    expect(visual.stepText).toBe('Loading model');
  });

  it('a step without counts is shown as is', () => {
    expect(stepText({ step: 'Upscaling' })).toBe('Upscaling');
    expect(stepText({ step: 'Denoising', current_step: 3, total_steps: 30 })).toBe('Step 3 of 30: Denoising');
    expect(stepText({ message: 'Queued' })).toBe('Queued');
    expect(stepText({})).toBeUndefined();
  });

  it('completed shows the thumbnail, full progress and no spinner', () => {
    const state = apply(
      initial(),
      started('n1', 't1'),
      progress('n1', 't1', 80, { step: 'Decoding', current_step: 29, total_steps: 30 }),
      {
        type: 'generation.completed',
        timestamp: TS,
        node_id: 'n1',
        task_id: 't1',
        output_path: '/media/n1/take-1.png',
        thumbnail: '/media/n1/take-1.thumb.png',
        takes: [{ id: 'k1', take_number: 1, path: '/media/n1/take-1.png', created_at: TS }],
      },
    );
    const visual = selectNodeVisual(state, 'n1');
    expect(visual).toMatchObject({
      status: 'completed',
      border: 'completed',
      pulse: false,
      showSpinner: false,
      progress: 100,
      thumbnail: '/media/n1/take-1.thumb.png',
      canGenerate: true,
      canCancel: false,
      message: 'Generation complete',
    });
    expect(visual.progressText).toBeUndefined();
    expect(visual.stepText).toBeUndefined();
    expect(visual.error).toBeUndefined();
  });

  it('completed without a safe thumbnail shows the latest take instead', () => {
    const state = apply(initial(), started('n1', 't1'), {
      type: 'generation.completed',
      timestamp: TS,
      node_id: 'n1',
      task_id: 't1',
      output_path: '/o.png',
      thumbnail: 'javascript:alert(1)',
      takes: [
        { id: 'k2', take_number: 2, path: '/k2.png', thumbnail: '/k2.thumb.png', created_at: TS },
        { id: 'k1', take_number: 1, path: '/k1.png', created_at: TS },
      ],
    });
    expect(selectNodeVisual(state, 'n1').thumbnail).toBe('/k2.thumb.png');
  });

  it('error shows the error text and allows a new generation', () => {
    const state = apply(initial(), started('n1', 't1'), progress('n1', 't1', 10), {
      type: 'generation.error',
      timestamp: TS,
      node_id: 'n1',
      task_id: 't1',
      error: 'CUDA out of memory',
      message: 'Try a lower quality preset',
    });
    expect(selectNodeVisual(state, 'n1')).toMatchObject({
      status: 'error',
      border: 'error',
      pulse: false,
      showSpinner: false,
      error: 'CUDA out of memory',
      message: 'Try a lower quality preset',
      canGenerate: true,
      canCancel: false,
    });
    expect(selectNodeVisual(state, 'n1').thumbnail).toBeUndefined();
    expect(selectNodeVisual(state, 'n1').progressText).toBeUndefined();
  });

  it('a Celery FAILURE shows its message as the error', () => {
    const state = apply(initial(), started('n1', 't1'), {
      type: 'task.progress',
      timestamp: TS,
      task_id: 't1',
      node_id: 'n1',
      state: 'FAILURE',
      message: 'Model not found',
    });
    expect(selectNodeVisual(state, 'n1')).toMatchObject({ status: 'error', error: 'Model not found', showSpinner: false });
  });

  it('cancelled (REVOKED) stops the spinner and allows a new generation', () => {
    const state = apply(initial(), started('n1', 't1'), progress('n1', 't1', 30), {
      type: 'task.progress',
      timestamp: TS,
      task_id: 't1',
      node_id: 'n1',
      state: 'REVOKED',
    });
    const visual = selectNodeVisual(state, 'n1');
    expect(visual).toMatchObject({
      status: 'cancelled',
      border: 'cancelled',
      pulse: false,
      showSpinner: false,
      canGenerate: true,
      canCancel: false,
    });
    expect(visual.error).toBeUndefined();
    expect(visual.thumbnail).toBeUndefined();
    expect(visual.progressText).toBeUndefined();
  });

  it('a late PROGRESS of a cancelled run, after the backend reported the node idle, does not restart the spinner', () => {
    const state = apply(
      initial(),
      started('n1', 't1'),
      progress('n1', 't1', 41),
      { type: 'task.progress', timestamp: TS, task_id: 't1', node_id: 'n1', state: 'REVOKED' },
      { type: 'node.state_changed', timestamp: TS, node_id: 'n1', status: 'idle', progress: 0, task_id: 't1' },
      // Sent by the worker before it saw the revoke, delivered last.
      progress('n1', 't1', 42, { step: 'Denoising', current_step: 13, total_steps: 30 }),
    );
    expect(getEntity(state.tasks, 't1')?.state).toBe('REVOKED');
    expect(selectNodeVisual(state, 'n1')).toMatchObject({ status: 'idle', showSpinner: false, canGenerate: true, progress: 0 });
    expect(selectActiveGenerationIds(state)).toEqual([]);
    // A new run on the node is not mistaken for the old one.
    const again = apply(state, started('n1', 't2'), progress('n1', 't2', 5));
    expect(selectNodeVisual(again, 'n1')).toMatchObject({ status: 'generating', progressText: '5%' });
  });

  it('a pending start (startGeneration sent, not answered) shows the spinner and blocks another start', () => {
    const state = realtimeReducer(
      initial(),
      startGeneration({ nodeId: 'n1', params: { prompt: 'A lone rider at dusk', steps: 30 }, context: { scene_id: 'S001' } }),
    );
    const visual = selectNodeVisual(state, 'n1');
    expect(visual).toMatchObject({
      status: 'idle',
      pending: 'start',
      showSpinner: true,
      canGenerate: false,
      canCancel: false,
      pulse: false,
    });
    expect(visual.progressText).toBeUndefined();

    // The backend answers: the pending start is over, the node generates.
    const running = apply(state, started('n1', 't1'));
    expect(selectNodeVisual(running, 'n1')).toMatchObject({
      status: 'generating',
      pending: undefined,
      showSpinner: true,
      canGenerate: false,
      canCancel: true,
    });
  });

  it('a pending cancel keeps the spinner but cannot be cancelled twice', () => {
    const running = apply(initial(), started('n1', 't1'), progress('n1', 't1', 50));
    const cancelling = realtimeReducer(running, cancelGeneration({ nodeId: 'n1', taskId: 't1' }));
    expect(selectNodeVisual(cancelling, 'n1')).toMatchObject({
      status: 'generating',
      pending: 'cancel',
      showSpinner: true,
      canCancel: false,
      canGenerate: false,
    });
  });

  it('a rejected start shows the error on the node', () => {
    const action = startGeneration({ nodeId: 'n1', params: { prompt: 'x' } });
    const pending = realtimeReducer(initial(), action);
    const rejected = apply(pending, {
      type: 'ack',
      timestamp: TS,
      command_id: action.payload.commandId,
      status: 'rejected',
      error: 'Quota exceeded',
    });
    expect(selectNodeVisual(rejected, 'n1')).toMatchObject({
      status: 'error',
      error: 'Quota exceeded',
      showSpinner: false,
      canGenerate: true,
    });
  });
});

describe('selectNodeVisual: memoization', () => {
  const base = () =>
    apply(
      initial(),
      started('n1', 't1'),
      progress('n1', 't1', 42, { step: 'Denoising', current_step: 3, total_steps: 30 }),
      started('n2', 't2'),
    );

  it.each([
    ['a task.progress frame for another node', progress('n2', 't2', 60, { step: 'Denoising', current_step: 18, total_steps: 30 })],
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['an agent.progress frame', { type: 'agent.progress', timestamp: TS, agent_type: 'Producer', task_id: 'a1', progress: 20, vram_usage: 11.5 }],
    ['a narrative.beat', { type: 'narrative.beat', timestamp: TS, beat_name: 'Call to Adventure', scene_id: 'S001' }],
    ['a generation for a new node', started('n3', 't3')],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = base();
    const visual = selectNodeVisual(before, 'n1');
    const after = apply(before, frame);
    expect(after).not.toBe(before);
    expect(selectNodeVisual(after, 'n1')).toBe(visual);
  });

  it('stays stable per node when several nodes are read in turn (one cache per node)', () => {
    const before = base();
    const v1 = selectNodeVisual(before, 'n1');
    const v2 = selectNodeVisual(before, 'n2');
    const idle = selectNodeVisual(before, 'nope');
    const after = apply(before, heartbeat, progress('n2', 't2', 10));
    expect(selectNodeVisual(after, 'n1')).toBe(v1);
    expect(selectNodeVisual(after, 'nope')).toBe(idle);
    const v2After = selectNodeVisual(after, 'n2');
    expect(v2After).not.toBe(v2);
    expect(v2After.progressText).toBe('10%');
    expect(selectNodeVisual(after, 'n1')).toBe(v1);
  });

  it('returns a new, correct visual when the node itself changes', () => {
    const before = base();
    const visual = selectNodeVisual(before, 'n1');
    const after = apply(before, progress('n1', 't1', 57, { step: 'Denoising', current_step: 17, total_steps: 30 }));
    const next = selectNodeVisual(after, 'n1');
    expect(next).not.toBe(visual);
    expect(next.progressText).toBe('57%');
    expect(next.stepText).toBe('Step 17 of 30: Denoising');
    // The old state still gives the old visual.
    expect(selectNodeVisual(before, 'n1')).toBe(visual);
  });
});

describe('selectActiveGenerationIds', () => {
  it('lists exactly the generating nodes', () => {
    let state = initial();
    expect(selectActiveGenerationIds(state)).toEqual([]);
    state = apply(state, started('n1', 't1'), started('n2', 't2'));
    expect([...selectActiveGenerationIds(state)].sort()).toEqual(['n1', 'n2']);
    expect(selectIsNodeGenerating(state, 'n1')).toBe(true);
    state = apply(state, {
      type: 'generation.completed',
      timestamp: TS,
      node_id: 'n1',
      task_id: 't1',
      output_path: '/o.png',
    });
    expect(selectActiveGenerationIds(state)).toEqual(['n2']);
    expect(selectIsNodeGenerating(state, 'n1')).toBe(false);
    state = apply(state, { type: 'generation.error', timestamp: TS, node_id: 'n2', task_id: 't2', error: 'boom' });
    expect(selectActiveGenerationIds(state)).toEqual([]);
    expect(selectNodeById(state, 'n2')?.status).toBe('error');
  });

  it.each([
    ['a task.progress frame for an already generating node', progress('n2', 't2', 70)],
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a node.state_changed that keeps a node generating', { type: 'node.state_changed', timestamp: TS, node_id: 'n1', status: 'generating', progress: 50 }],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = apply(initial(), started('n1', 't1'), started('n2', 't2'));
    const ids = selectActiveGenerationIds(before);
    const after = apply(before, frame);
    expect(selectActiveGenerationIds(after)).toBe(ids);
  });

  it('returns a new array when a node starts or stops', () => {
    const before = apply(initial(), started('n1', 't1'));
    const ids = selectActiveGenerationIds(before);
    const more = apply(before, progress('n3', 't3', 5));
    expect(selectActiveGenerationIds(more)).not.toBe(ids);
    expect([...selectActiveGenerationIds(more)].sort()).toEqual(['n1', 'n3']);
    const fewer = apply(more, { type: 'task.progress', timestamp: TS, task_id: 't1', node_id: 'n1', state: 'REVOKED' });
    expect(selectActiveGenerationIds(fewer)).toEqual(['n3']);
  });
});
