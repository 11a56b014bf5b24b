/**
 * Celery tasks, keyed by task id. Invariants (each tested in test/slices/tasksSlice.test.ts):
 * - a terminal state (SUCCESS, FAILURE, REVOKED) is never undone by a late or repeated frame,
 *   but a SUCCESS that comes after generation.completed still records its result (Celery's
 *   task_postrun fires after the task body, so its SUCCESS follows what the body published);
 * - a retry or a redelivery starts a new attempt (./attempts.ts): progress, step and message
 *   follow the new attempt, down as well as up;
 * - within one attempt progress is clamped to 0..100 and never goes backwards, and the state
 *   never moves back (a late PENDING after STARTED keeps STARTED);
 * - finished tasks are capped (oldest dropped first), so a long session stays bounded.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { isTerminalCeleryState, type CeleryState } from '../protocol/index.js';
import { appendBounded, clampPercent } from './bounded.js';
import { freeze, freezeDeep, settleArray, TableWork } from './cow.js';
import {
  framesBatched,
  generationCompleted,
  generationFailed,
  generationStarted,
  snapshotReceived,
  taskProgressReceived,
  taskStatusReceived,
} from './frameEvents.js';
import type { InboundFrameOf } from '../protocol/index.js';
import type { MatchableCreator } from './ingestCases.js';
import { startsNewAttempt, TERMINAL_STATE_OF } from './attempts.js';
import { applyStep } from './steps.js';
import { emptyTable, type Table } from './table.js';

export interface TaskRecord {
  task_id: string;
  node_id?: string;
  state: CeleryState;
  /** 0..100, never decreasing within one attempt. */
  progress: number;
  /** 1 for the first run of the task id; each retry or redelivery adds one. */
  attempt: number;
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

export interface TasksState extends Table<TaskRecord> {
  /** Finished task ids, oldest first; beyond MAX_FINISHED_TASKS the oldest are dropped. */
  finishedOrder: string[];
  /** Frames that arrived for a task already finished, and were ignored. */
  lateFramesIgnored: number;
}

const initialState: TasksState = freezeDeep({ ...emptyTable<TaskRecord>(), finishedOrder: [], lateFramesIgnored: 0 });

const STATE_RANK: Record<CeleryState, number> = {
  PENDING: 0,
  STARTED: 1,
  RETRY: 2,
  PROGRESS: 2,
  SUCCESS: 3,
  FAILURE: 3,
  REVOKED: 3,
};

/**
 * One copy-on-write pass of frames over the tasks table (one frame, or a burst): the table and
 * each task written are copied once, and only what changed is kept (see ./cow.ts).
 */
class TasksPass {
  readonly table: TableWork<TaskRecord>;
  /** Copied on the first finish of the pass (most bursts finish no task). */
  finishedOrder?: string[];
  lateFramesIgnored: number;

  constructor(readonly base: TasksState) {
    this.table = new TableWork(base, (task) => ({ ...task }));
    this.lateFramesIgnored = base.lateFramesIgnored;
  }

  commit(): TasksState {
    const table = this.table.commit();
    const finishedOrder = this.finishedOrder ? (settleArray(this.finishedOrder, this.base.finishedOrder) as string[]) : this.base.finishedOrder;
    if (!table && finishedOrder === this.base.finishedOrder && this.lateFramesIgnored === this.base.lateFramesIgnored) return this.base;
    return freeze({ ...this.base, ...table, finishedOrder, lateFramesIgnored: this.lateFramesIgnored });
  }
}

function ensureTask(pass: TasksPass, taskId: string, at: number): TaskRecord {
  return pass.table.edit(taskId) ?? pass.table.add(taskId, { task_id: taskId, state: 'PENDING', progress: 0, attempt: 1, firstSeenAt: at, updatedAt: at });
}

function finish(pass: TasksPass, task: TaskRecord, at: number) {
  task.finishedAt = at;
  const { list, dropped } = appendBounded((pass.finishedOrder ??= [...pass.base.finishedOrder]), [task.task_id], MAX_FINISHED_TASKS);
  pass.finishedOrder = list;
  if (dropped.length > 0) pass.table.remove(dropped);
}

/** Moves a task to `next` unless that would go backwards; returns false when ignored. */
function advance(pass: TasksPass, task: TaskRecord, next: CeleryState, at: number): boolean {
  if (isTerminalCeleryState(task.state)) {
    pass.lateFramesIgnored += 1;
    return false;
  }
  if (STATE_RANK[next] >= STATE_RANK[task.state]) task.state = next;
  task.updatedAt = at;
  if (isTerminalCeleryState(task.state)) finish(pass, task, at);
  return true;
}

/** The SUCCESS of task_postrun, after generation.completed already finished the task. */
function isResultAfterCompletion(task: TaskRecord, frame: { state: CeleryState; result?: unknown }): boolean {
  return task.state === 'SUCCESS' && frame.state === 'SUCCESS' && frame.result !== undefined && task.result === undefined;
}

/** A retry or redelivery: the new attempt's figures replace the old ones (the state may move back). */
function beginAttempt(task: TaskRecord, state: CeleryState) {
  task.attempt += 1;
  task.state = state;
  task.progress = 0;
  task.message = undefined;
  task.step = undefined;
  task.current_step = undefined;
  task.total_steps = undefined;
}

type TaskFrame = InboundFrameOf<'task.progress'> | (InboundFrameOf<'task.status'> & { state: CeleryState });

/** task.progress, and a task.status with a Celery state: the same rules. */
function applyTaskFrame(pass: TasksPass, frame: TaskFrame, receivedAt: number) {
  const task = ensureTask(pass, frame.task_id, receivedAt);
  if (isTerminalCeleryState(task.state)) {
    if (isResultAfterCompletion(task, frame)) {
      task.result = frame.result;
      task.updatedAt = receivedAt;
    } else pass.lateFramesIgnored += 1;
    return;
  }
  if (frame.node_id) task.node_id = frame.node_id;
  if (startsNewAttempt(task.state, frame.state)) beginAttempt(task, frame.state);
  if (frame.progress !== undefined) task.progress = Math.max(task.progress, clampPercent(frame.progress));
  if (frame.state === 'SUCCESS') task.progress = 100;
  if (frame.message !== undefined) task.message = frame.message;
  // A running step's message ("Sampler: ...") says nothing once the task has finished.
  else if (isTerminalCeleryState(frame.state)) task.message = undefined;
  applyStep(task, frame);
  if (frame.result !== undefined) task.result = frame.result;
  advance(pass, task, frame.state, receivedAt);
}

type TaskCase = (pass: TasksPass, action: UnknownAction) => void;
function on<A extends UnknownAction>(creator: MatchableCreator<A>, run: (pass: TasksPass, action: A) => void): [string, TaskCase] {
  return [creator.type, run as TaskCase];
}

const CASES = new Map<string, TaskCase>([
  on(taskProgressReceived, (pass, { payload: { frame, receivedAt } }) => {
    applyTaskFrame(pass, frame, receivedAt);
  }),
  on(taskStatusReceived, (pass, { payload: { frame, receivedAt } }) => {
    // UNKNOWN is about the node's run (nodesSlice); the task record, if any, is left as it was.
    if (frame.state !== 'UNKNOWN') applyTaskFrame(pass, frame as TaskFrame, receivedAt);
  }),
  on(snapshotReceived, (pass, { payload: { frame, receivedAt } }) => {
    for (const entry of frame.tasks) {
      const task = ensureTask(pass, entry.task_id, receivedAt);
      if (isTerminalCeleryState(task.state)) continue;
      // The server's current figures replace the client's, down as well as up.
      beginAttempt(task, entry.state);
      task.attempt = Math.max(entry.attempt ?? 0, task.attempt - 1);
      Object.assign(task, { node_id: entry.node_id ?? task.node_id, progress: clampPercent(entry.progress ?? 0), message: entry.message, step: entry.step, current_step: entry.current_step, total_steps: entry.total_steps, updatedAt: receivedAt });
      if (isTerminalCeleryState(entry.state)) finish(pass, task, receivedAt);
    }
    // A run the snapshot shows finished: its task, still unfinished here, finished too.
    for (const node of frame.nodes) {
      const state = TERMINAL_STATE_OF[node.status];
      const known = node.task_id === undefined ? undefined : pass.table.peek(node.task_id);
      if (state && known && !isTerminalCeleryState(known.state)) {
        const task = pass.table.edit(known.task_id)!;
        if (advance(pass, task, state, receivedAt) && state === 'SUCCESS') task.progress = 100;
      }
    }
  }),
  on(generationStarted, (pass, { payload: { frame, receivedAt } }) => {
    const task = ensureTask(pass, frame.task_id, receivedAt);
    task.node_id = frame.node_id;
  }),
  on(generationCompleted, (pass, { payload: { frame, receivedAt } }) => {
    const task = ensureTask(pass, frame.task_id, receivedAt);
    task.node_id = frame.node_id;
    if (advance(pass, task, 'SUCCESS', receivedAt)) task.progress = 100;
  }),
  on(generationFailed, (pass, { payload: { frame, receivedAt } }) => {
    const task = ensureTask(pass, frame.task_id, receivedAt);
    task.node_id = frame.node_id;
    if (advance(pass, task, 'FAILURE', receivedAt)) task.message = frame.message ?? frame.error;
  }),
]);

/** Every action the tasks slice handles is a frame: one copy-on-write pass per frame or burst. */
export function tasksReducer(state: TasksState = initialState, action: UnknownAction): TasksState {
  const actions = framesBatched.match(action) ? action.payload.actions : CASES.has(action.type) ? [action] : undefined;
  if (!actions) return state;
  let pass: TasksPass | undefined;
  for (const inner of actions) {
    const run = CASES.get(inner.type);
    if (run) run((pass ??= new TasksPass(state)), inner);
  }
  return pass ? pass.commit() : state;
}
