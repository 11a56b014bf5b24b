import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { MAX_FINISHED_TASKS } from '../../src/slices/index.js';
import type { CeleryState } from '../../src/protocol/index.js';
import { fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';
import { entitiesOf, getEntity } from '../../src/slices/table.js';

const TASK = 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b';
const RANK: Record<CeleryState, number> = { PENDING: 0, STARTED: 1, RETRY: 2, PROGRESS: 2, SUCCESS: 3, FAILURE: 3, REVOKED: 3 };

function progress(task_id: string, state: CeleryState, fields: Record<string, unknown> = {}) {
  return { type: 'task.progress', task_id, node_id: 'node-1', state, ...fields };
}

describe('tasks slice', () => {
  describe('generation-success fixture', () => {
    it('ends in SUCCESS at 100% with the result and the last step', () => {
      const task = getEntity(replayFrames(readFixture('generation-success')).tasks, TASK);
      expect(task).toMatchObject({
        task_id: TASK,
        node_id: 'node-t2i-7f3a',
        state: 'SUCCESS',
        progress: 100,
        message: 'Take 3 saved',
        step: 'Saving take 3',
        result: {
          output_path: '/media/proj-aurora/S001/P003/take-003.png',
          take_id: 'take-S001-P003-003',
          seed: 1234567,
          steps: 30,
          cfg_scale: 7,
          duration_s: 23.4,
        },
      });
    });

    it('walks PENDING -> STARTED -> PROGRESS -> SUCCESS through the granular steps', () => {
      const timeline = replayTimeline(readFixture('generation-success'));
      const seen: Array<[CeleryState, string | undefined, number | undefined, number]> = [];
      for (const { state } of timeline) {
        const task = getEntity(state.tasks, TASK);
        if (!task) continue;
        const last = seen[seen.length - 1];
        const entry: [CeleryState, string | undefined, number | undefined, number] = [task.state, task.step, task.current_step, task.progress];
        if (!last || last.join('|') !== entry.join('|')) seen.push(entry);
      }
      expect(seen.map(([state]) => state).filter((s, i, all) => s !== all[i - 1])).toEqual(['PENDING', 'STARTED', 'PROGRESS', 'SUCCESS']);
      const steps = seen.map(([, step]) => step).filter((s, i, all) => s !== undefined && s !== all[i - 1]);
      expect(steps).toEqual(['Loading model sdxl-base-1.0', 'Encoding prompt', 'Denoising', 'Decoding latents (VAE)', 'Saving take 3']);
      const denoising = seen.filter(([, step]) => step === 'Denoising').map(([, , current]) => current);
      expect(denoising).toEqual([5, 10, 15, 20, 25, 30]);
      // 'Saving take 3' comes without counts: the 30 of the denoising step must not stick to it.
      expect(seen[seen.length - 1]).toEqual(['SUCCESS', 'Saving take 3', undefined, 100]);
    });

    it('never lowers progress nor moves the state back at any step', () => {
      let previous: { state: CeleryState; progress: number } | undefined;
      for (const { state } of replayTimeline(readFixture('generation-success'))) {
        const task = getEntity(state.tasks, TASK);
        if (!task) continue;
        if (previous) {
          expect(task.progress).toBeGreaterThanOrEqual(previous.progress);
          expect(RANK[task.state]).toBeGreaterThanOrEqual(RANK[previous.state]);
        }
        expect(task.progress).toBeGreaterThanOrEqual(0);
        expect(task.progress).toBeLessThanOrEqual(100);
        previous = task;
      }
    });

    it('takes receive times from the frame timestamps', () => {
      const frames = fixtureFrames('generation-success');
      const first = frames.find((f) => f.task_id === TASK)!;
      const success = frames.find((f) => f.type === 'task.progress' && f.state === 'SUCCESS')!;
      const task = getEntity(replayFrames(readFixture('generation-success')).tasks, TASK)!;
      expect(task.firstSeenAt).toBe(Date.parse(first.timestamp!));
      expect(task.finishedAt).toBe(Date.parse(success.timestamp!));
      expect(task.updatedAt).toBe(Date.parse(success.timestamp!));
    });
  });

  describe('terminal states are final', () => {
    it('SUCCESS is not undone by a late PROGRESS frame', () => {
      const log = stamped([
        progress('t1', 'STARTED', { progress: 5, step: 'Loading model' }),
        progress('t1', 'PROGRESS', { progress: 60, step: 'Denoising', current_step: 18, total_steps: 30 }),
        progress('t1', 'SUCCESS', { progress: 100, result: { take_id: 'k1' } }),
        progress('t1', 'PROGRESS', { progress: 70, step: 'Denoising', current_step: 21, total_steps: 30, message: 'late' }),
      ]);
      const done = replayFrames(log.slice(0, 3));
      const state = replayFrames(log);
      expect(getEntity(state.tasks, 't1')).toEqual(getEntity(done.tasks, 't1'));
      expect(getEntity(state.tasks, 't1')).toMatchObject({ state: 'SUCCESS', progress: 100, step: 'Denoising', current_step: 18, result: { take_id: 'k1' } });
      expect(getEntity(state.tasks, 't1')?.message).toBeUndefined();
      expect(state.tasks.lateFramesIgnored).toBe(1);
    });

    it('FAILURE is not undone by a late PROGRESS frame', () => {
      const log = stamped([
        progress('t1', 'PROGRESS', { progress: 40 }),
        progress('t1', 'FAILURE', { progress: 41, message: 'CUDA out of memory', result: { exc_type: 'OutOfMemoryError' } }),
        progress('t1', 'PROGRESS', { progress: 45 }),
        progress('t1', 'STARTED'),
      ]);
      const task = getEntity(replayFrames(log).tasks, 't1');
      expect(task).toMatchObject({ state: 'FAILURE', progress: 41, message: 'CUDA out of memory', result: { exc_type: 'OutOfMemoryError' } });
      expect(task?.finishedAt).toBe(timeOf(log, 1));
      expect(replayFrames(log).tasks.lateFramesIgnored).toBe(2);
    });

    it('REVOKED is not undone by the worker\'s last PROGRESS (generation-cancel fixture)', () => {
      const state = replayFrames(readFixture('generation-cancel'));
      const task = getEntity(state.tasks, 'celery-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d');
      // The last update before the revoke was denoising 16/40 at 41%; the late one says 20/40 at 42%.
      expect(task).toMatchObject({ state: 'REVOKED', progress: 41, message: 'Cancelled by user', step: 'Denoising', current_step: 16, total_steps: 40 });
      expect(task?.result).toEqual({ reason: 'revoked', terminated: true, signal: 'SIGTERM' });
      expect(state.tasks.lateFramesIgnored).toBe(1);
    });

    it('a duplicated SUCCESS (no seq) finishes the task once', () => {
      const log = stamped([progress('t1', 'PROGRESS', { progress: 50 }), progress('t1', 'SUCCESS', { progress: 100 }), progress('t1', 'SUCCESS', { progress: 100 })]);
      const state = replayFrames(log);
      expect(state.tasks.finishedOrder).toEqual(['t1']);
      expect(getEntity(state.tasks, 't1')?.finishedAt).toBe(timeOf(log, 1));
      expect(state.tasks.lateFramesIgnored).toBe(1);
    });

    it('generation.completed and generation.error finish a task never reported by Celery', () => {
      const log = stamped([
        { type: 'generation.started', node_id: 'n1', task_id: 't1' },
        { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/a.png' },
        { type: 'generation.started', node_id: 'n2', task_id: 't2' },
        { type: 'generation.error', node_id: 'n2', task_id: 't2', error: 'CUDA out of memory', message: 'Try standard quality' },
      ]);
      const state = replayFrames(log);
      expect(getEntity(state.tasks, 't1')).toMatchObject({ state: 'SUCCESS', progress: 100, node_id: 'n1', finishedAt: timeOf(log, 1) });
      expect(getEntity(state.tasks, 't2')).toMatchObject({ state: 'FAILURE', progress: 0, node_id: 'n2', message: 'Try standard quality' });
    });
  });

  describe('progress', () => {
    it('is clamped to 0..100', () => {
      const over = replayFrames(stamped([progress('t1', 'PROGRESS', { progress: 250 })]));
      const under = replayFrames(stamped([progress('t2', 'PROGRESS', { progress: -30 })]));
      expect(getEntity(over.tasks, 't1')?.progress).toBe(100);
      expect(getEntity(under.tasks, 't2')?.progress).toBe(0);
    });

    it('does not go backwards within one task', () => {
      const log = stamped([
        progress('t1', 'PROGRESS', { progress: 60, current_step: 18, total_steps: 30 }),
        progress('t1', 'PROGRESS', { progress: 35, current_step: 10, total_steps: 30 }),
      ]);
      expect(getEntity(replayFrames(log).tasks, 't1')?.progress).toBe(60);
    });

    it('is tracked per task: a new task starts from 0', () => {
      const log = stamped([progress('t1', 'PROGRESS', { progress: 80 }), progress('t2', 'STARTED', { progress: 3 })]);
      const state = replayFrames(log);
      expect(getEntity(state.tasks, 't1')?.progress).toBe(80);
      expect(getEntity(state.tasks, 't2')?.progress).toBe(3);
    });
  });

  describe('state order', () => {
    it('STARTED after PROGRESS is a redelivery: a second attempt from its own progress', () => {
      const log = stamped([progress('t1', 'STARTED'), progress('t1', 'PROGRESS', { progress: 30 }), progress('t1', 'STARTED', { progress: 5 })]);
      const task = getEntity(replayFrames(log).tasks, 't1');
      expect(task).toMatchObject({ state: 'STARTED', progress: 5, attempt: 2 });
    });

    it('a late PENDING after STARTED keeps STARTED', () => {
      const log = stamped([progress('t1', 'STARTED', { progress: 2 }), progress('t1', 'PENDING')]);
      expect(getEntity(replayFrames(log).tasks, 't1')?.state).toBe('STARTED');
    });
  });

  describe('bounds', () => {
    it(`keeps at most MAX_FINISHED_TASKS (${MAX_FINISHED_TASKS}) finished tasks, oldest dropped first`, () => {
      const total = MAX_FINISHED_TASKS + 37;
      const frames: object[] = [progress('running', 'PROGRESS', { progress: 10 })];
      for (let i = 0; i < total; i++) frames.push(progress(`t${i}`, 'SUCCESS', { progress: 100 }));
      const state = replayFrames(stamped(frames));
      expect(state.tasks.finishedOrder).toHaveLength(MAX_FINISHED_TASKS);
      expect(state.tasks.finishedOrder[0]).toBe('t37');
      expect(state.tasks.finishedOrder[MAX_FINISHED_TASKS - 1]).toBe(`t${total - 1}`);
      expect(state.tasks.ids).toHaveLength(MAX_FINISHED_TASKS + 1);
      expect(getEntity(state.tasks, 't36')).toBeUndefined();
      expect(getEntity(state.tasks, 't37')?.state).toBe('SUCCESS');
      // A running task is never evicted by finished ones.
      expect(getEntity(state.tasks, 'running')).toMatchObject({ state: 'PROGRESS', progress: 10 });
      expect(Object.keys(entitiesOf(state.tasks))).toHaveLength(MAX_FINISHED_TASKS + 1);
    });
  });
});

describe('step counts', () => {
  it('a new step without counts clears the counts of the step before it, on the task and its node', () => {
    const state = replayFrames([
      { type: 'task.progress', task_id: 'tc', node_id: 'nc', state: 'PROGRESS', progress: 90, step: 'Denoising 30/30', current_step: 30, total_steps: 30 },
      { type: 'task.progress', task_id: 'tc', node_id: 'nc', state: 'PROGRESS', progress: 95, step: 'Decoding latents' },
    ]);
    expect(getEntity(state.tasks, 'tc')).toMatchObject({ step: 'Decoding latents', current_step: undefined, total_steps: undefined });
    expect(getEntity(state.nodes, 'nc')).toMatchObject({ step: 'Decoding latents', current_step: undefined, total_steps: undefined });
  });

  it('counts alone update the counts of the current step', () => {
    const state = replayFrames([
      { type: 'task.progress', task_id: 'tc', node_id: 'nc', state: 'PROGRESS', progress: 10, step: 'Denoising', current_step: 3, total_steps: 30 },
      { type: 'task.progress', task_id: 'tc', node_id: 'nc', state: 'PROGRESS', progress: 12, current_step: 4 },
    ]);
    expect(getEntity(state.nodes, 'nc')).toMatchObject({ step: 'Denoising', current_step: 4, total_steps: 30 });
  });
});

describe('messages', () => {
  it('a finished task without a message of its own drops the running step message', () => {
    const state = replayFrames([
      { type: 'task.progress', task_id: 'tm', node_id: 'nm', state: 'PROGRESS', progress: 50, message: 'Sampler: DPM++ 2M, cfg 7' },
      { type: 'task.progress', task_id: 'tm', node_id: 'nm', state: 'SUCCESS', progress: 100 },
    ]);
    expect(getEntity(state.tasks, 'tm')?.message).toBeUndefined();
    expect(getEntity(state.nodes, 'nm')?.message).toBeUndefined();
  });

  it('a finished task keeps the message it came with', () => {
    const state = replayFrames([
      { type: 'task.progress', task_id: 'tm', state: 'PROGRESS', progress: 50, message: 'Sampler' },
      { type: 'task.progress', task_id: 'tm', state: 'FAILURE', message: 'CUDA out of memory' },
    ]);
    expect(getEntity(state.tasks, 'tm')?.message).toBe('CUDA out of memory');
  });
});
