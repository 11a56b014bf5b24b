/**
 * Celery semantics on one task id, from recorded logs (test/fixtures/celery-*.jsonl): retries and
 * redeliveries start a new attempt, a late PENDING changes nothing, a terminal state stays
 * terminal but task_postrun's SUCCESS still brings its result. docs/ARCHITECTURE.md has the table.
 */
import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { startsNewAttempt } from '../../src/slices/attempts.js';
import { getEntity } from '../../src/slices/table.js';
import type { CeleryState } from '../../src/protocol/index.js';
import type { RealtimeState } from '../../src/slices/index.js';
import { readFixture, stamped } from '../support/fixtures.js';

/** The task and node of a one-run log, at every step of the log. */
function stepsOf(name: 'celery-retry' | 'celery-redelivery' | 'celery-postrun') {
  return replayTimeline(readFixture(name)).map(({ state, action }) => ({ state, type: action.type, task: onlyTask(state), node: onlyNode(state) }));
}
function onlyTask(state: RealtimeState) {
  return state.tasks.ids.length === 1 ? getEntity(state.tasks, state.tasks.ids[0]!) : undefined;
}
function onlyNode(state: RealtimeState) {
  return state.nodes.ids.length === 1 ? getEntity(state.nodes, state.nodes.ids[0]!) : undefined;
}

describe('startsNewAttempt', () => {
  const ALL: CeleryState[] = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];
  it.each([
    ['RETRY', 'STARTED'],
    ['RETRY', 'PROGRESS'],
    ['PROGRESS', 'STARTED'],
  ] as const)('%s then %s is a new attempt', (previous, next) => {
    expect(startsNewAttempt(previous, next)).toBe(true);
  });
  it('no other pair is', () => {
    const pairs = [[undefined, ...ALL].flatMap((previous) => ALL.map((next) => [previous, next] as const))].flat();
    const fresh = pairs.filter(([previous, next]) => startsNewAttempt(previous, next)).map((pair) => pair.join(' -> '));
    expect(fresh).toEqual(['PROGRESS -> STARTED', 'RETRY -> STARTED', 'RETRY -> PROGRESS']);
  });
});

describe('celery-retry: self.retry() at step 3 of 6', () => {
  const steps = stepsOf('celery-retry');
  const retryAt = steps.findIndex((s) => s.task?.state === 'RETRY');
  const restartAt = retryAt + 1;

  it('the first attempt rises to step 3 and RETRY keeps its figures', () => {
    expect(steps[retryAt]!.task).toMatchObject({ attempt: 1, progress: 45, current_step: 3, message: expect.stringContaining('Retry in 5s') });
    expect(steps[retryAt]!.node).toMatchObject({ status: 'generating', progress: 45, current_step: 3 });
  });

  it('the retried run starts a second attempt: progress, step and message go back down', () => {
    const { task, node } = steps[restartAt]!;
    expect(task).toMatchObject({ state: 'STARTED', attempt: 2, progress: 0, step: 'Loading model', current_step: undefined, message: 'Loading model' });
    expect(node).toMatchObject({ status: 'generating', progress: 0, step: 'Loading model', current_step: undefined, message: 'Loading model' });
  });

  it('a late PENDING after the new STARTED changes nothing', () => {
    const pending = steps[restartAt + 1]!;
    expect(pending.task).toMatchObject({ state: 'STARTED', attempt: 2, progress: 0 });
    expect(pending.node?.task_state).toBe('STARTED');
  });

  it('the bar and the step text agree at the end: step 1 of 6 is 15%, not the old 45%', () => {
    const { task, node } = steps[steps.length - 1]!;
    expect(task).toMatchObject({ state: 'PROGRESS', attempt: 2, progress: 15, current_step: 1, total_steps: 6 });
    expect(node).toMatchObject({ progress: 15, current_step: 1, total_steps: 6 });
  });
});

describe('celery-redelivery: the worker dies at step 4, the task comes back with the same id', () => {
  const steps = stepsOf('celery-redelivery');
  const last = steps[steps.length - 1]!;

  it('STARTED after PROGRESS is a second attempt from 0, and progress then rises again', () => {
    const redelivered = steps.findIndex((s) => s.task?.attempt === 2);
    expect(steps[redelivered - 1]!.task).toMatchObject({ state: 'PROGRESS', progress: 60, current_step: 4 });
    expect(steps[redelivered]!.task).toMatchObject({ state: 'STARTED', progress: 0, message: 'Redelivered to gpu-worker-3' });
    expect(steps[redelivered]!.node).toMatchObject({ progress: 0, message: 'Redelivered to gpu-worker-3', current_step: undefined });
    expect(last.task).toMatchObject({ attempt: 2, progress: 30, current_step: 2 });
    expect(last.node).toMatchObject({ status: 'generating', progress: 30, current_step: 2 });
  });

  it('an agent shows the latest progress it reported for its assignment (92 after 98)', () => {
    const agent = getEntity(last.state.agents, 'Cinematographer');
    expect(agent).toMatchObject({ status: 'working', progress: 92, current_step: 'Re-checking the framing on gpu-worker-3' });
  });
});

describe('celery-postrun: SUCCESS from task_postrun after generation.completed', () => {
  const steps = stepsOf('celery-postrun');
  const final = steps[steps.length - 1]!;

  it('records the result and is not counted as a late frame', () => {
    expect(steps[steps.length - 2]!.task?.state).toBe('SUCCESS');
    expect(steps[steps.length - 2]!.task?.result).toBeUndefined();
    expect(final.task).toMatchObject({ state: 'SUCCESS', progress: 100, result: { take_id: 'take-S002-P003-001', seed: 99 } });
    expect(final.state.tasks.lateFramesIgnored).toBe(0);
    expect(final.node).toMatchObject({ status: 'completed', progress: 100, take_ids: ['take-S002-P003-001'] });
  });

  it('a terminal state still stays terminal: a late PROGRESS, FAILURE or second result is ignored', () => {
    const text = readFixture('celery-postrun');
    const taskId = final.task!.task_id;
    const late = stamped(
      [
        { type: 'task.progress', task_id: taskId, node_id: final.node!.node_id, state: 'PROGRESS', progress: 10 },
        { type: 'task.progress', task_id: taskId, node_id: final.node!.node_id, state: 'FAILURE', message: 'late' },
        { type: 'task.progress', task_id: taskId, node_id: final.node!.node_id, state: 'SUCCESS', result: { take_id: 'other' } },
        { type: 'task.progress', task_id: taskId, node_id: final.node!.node_id, state: 'STARTED' },
      ],
      '2026-03-03T11:00:00.000Z',
    ).map((frame) => JSON.stringify(frame));
    const state = replayFrames(`${text}${late.join('\n')}\n`);
    expect(getEntity(state.tasks, taskId)).toMatchObject({ state: 'SUCCESS', progress: 100, attempt: 1, result: { take_id: 'take-S002-P003-001' } });
    expect(state.tasks.lateFramesIgnored).toBe(4);
    expect(getEntity(state.nodes, final.node!.node_id)).toMatchObject({ status: 'completed', progress: 100 });
  });
});
