/**
 * Celery tasks, keyed by task id. Invariants (each tested in test/slices/tasksSlice.test.ts):
 * - a terminal state (SUCCESS, FAILURE, REVOKED) is never undone by a late or repeated frame;
 * - progress is clamped to 0..100 and never goes backwards within one task;
 * - the state never moves back (a late STARTED after PROGRESS keeps PROGRESS);
 * - finished tasks are capped (oldest dropped first), so a long session stays bounded.
 */
import { createEntityAdapter, createSlice, type EntityState } from '@reduxjs/toolkit';
import { isTerminalCeleryState, type CeleryState } from '../protocol/index.js';
import { appendBounded, clampPercent } from './bounded.js';
import { generationCompleted, generationFailed, generationStarted, taskProgressReceived } from './frameEvents.js';
import { addIngestCases, caseFor } from './ingestCases.js';
import { applyStep } from './steps.js';

export interface TaskRecord {
  task_id: string;
  node_id?: string;
  state: CeleryState;
  /** 0..100, never decreasing. */
  progress: number;
  message?: string;
  /** Human description of the current step ("Denoising 12/30"). */
  step?: string;
  current_step?: number;
  total_steps?: number;
  /** Celery's result on SUCCESS, or error info on FAILURE. */
  result?: unknown;
  firstSeenAt: number;
  updatedAt: number;
  finishedAt?: number;
}

export const MAX_FINISHED_TASKS = 500;

export const tasksAdapter = createEntityAdapter({ selectId: (task: TaskRecord) => task.task_id });

export interface TasksState extends EntityState<TaskRecord, string> {
  /** Finished task ids, oldest first; beyond MAX_FINISHED_TASKS the oldest are dropped. */
  finishedOrder: string[];
  /** Frames that arrived for a task already finished, and were ignored. */
  lateFramesIgnored: number;
}

const initialState: TasksState = tasksAdapter.getInitialState({ finishedOrder: [], lateFramesIgnored: 0 });

const STATE_RANK: Record<CeleryState, number> = {
  PENDING: 0,
  STARTED: 1,
  RETRY: 2,
  PROGRESS: 2,
  SUCCESS: 3,
  FAILURE: 3,
  REVOKED: 3,
};

function ensureTask(state: TasksState, taskId: string, at: number): TaskRecord {
  let task = state.entities[taskId];
  if (!task) {
    tasksAdapter.addOne(state, { task_id: taskId, state: 'PENDING', progress: 0, firstSeenAt: at, updatedAt: at });
    task = state.entities[taskId]!;
  }
  return task;
}

function finish(state: TasksState, task: TaskRecord, at: number) {
  task.finishedAt = at;
  const { list, dropped } = appendBounded(state.finishedOrder, [task.task_id], MAX_FINISHED_TASKS);
  if (dropped.length > 0) {
    state.finishedOrder = list;
    tasksAdapter.removeMany(state, dropped);
  }
}

/** Moves a task to `next` unless that would go backwards; returns false when ignored. */
function advance(state: TasksState, task: TaskRecord, next: CeleryState, at: number): boolean {
  if (isTerminalCeleryState(task.state)) {
    state.lateFramesIgnored += 1;
    return false;
  }
  if (STATE_RANK[next] >= STATE_RANK[task.state]) task.state = next;
  task.updatedAt = at;
  if (isTerminalCeleryState(task.state)) finish(state, task, at);
  return true;
}

const on = caseFor<TasksState>();

const tasksSlice = createSlice({
  name: 'tasks',
  initialState,
  reducers: {},
  extraReducers: (builder) =>
    addIngestCases(builder, [
      on(taskProgressReceived, (state, { payload: { frame, receivedAt } }) => {
        const task = ensureTask(state, frame.task_id, receivedAt);
        if (isTerminalCeleryState(task.state)) {
          state.lateFramesIgnored += 1;
          return;
        }
        if (frame.node_id) task.node_id = frame.node_id;
        if (frame.progress !== undefined) task.progress = Math.max(task.progress, clampPercent(frame.progress));
        if (frame.state === 'SUCCESS') task.progress = 100;
        if (frame.message !== undefined) task.message = frame.message;
        // A running step's message ("Sampler: ...") says nothing once the task has finished.
        else if (isTerminalCeleryState(frame.state)) task.message = undefined;
        applyStep(task, frame);
        if (frame.result !== undefined) task.result = frame.result;
        advance(state, task, frame.state, receivedAt);
      }),
      on(generationStarted, (state, { payload: { frame, receivedAt } }) => {
        const task = ensureTask(state, frame.task_id, receivedAt);
        task.node_id = frame.node_id;
      }),
      on(generationCompleted, (state, { payload: { frame, receivedAt } }) => {
        const task = ensureTask(state, frame.task_id, receivedAt);
        task.node_id = frame.node_id;
        if (advance(state, task, 'SUCCESS', receivedAt)) task.progress = 100;
      }),
      on(generationFailed, (state, { payload: { frame, receivedAt } }) => {
        const task = ensureTask(state, frame.task_id, receivedAt);
        task.node_id = frame.node_id;
        if (advance(state, task, 'FAILURE', receivedAt)) task.message = frame.message ?? frame.error;
      }),
    ]),
});

export const tasksReducer = tasksSlice.reducer;
