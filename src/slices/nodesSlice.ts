/**
 * Canvas nodes and their generation runs, keyed by node id. A node holds take ids (the takes
 * live in the takes slice) and the state of its current run.
 *
 * Runs: each Celery task id is one run. A frame for a new task id starts a new run (progress,
 * step and error reset); a frame for one of the node's past tasks is ignored, so a late frame
 * of an old run never overwrites the current one. Within a run, a finished status (completed,
 * error, cancelled) is not undone by a late progress frame, and progress never goes backwards.
 */
import { createEntityAdapter, createSlice, type EntityState } from '@reduxjs/toolkit';
import { isSafeKey, type AgentType, type CeleryState, type Take } from '../protocol/index.js';
import { appendBounded, clampPercent, pushUnique } from './bounded.js';
import { cancelGeneration, startGeneration } from './commands.js';
import { commandInvalid, nodesMarkedStale } from './deliveryEvents.js';
import {
  agentAssigned,
  commandAcknowledged,
  generationCompleted,
  generationFailed,
  generationStarted,
  nodeStateChanged,
  serverErrorReported,
  taskProgressReceived,
} from './frameEvents.js';
import { addIngestCases, caseFor } from './ingestCases.js';
import { applyStep } from './steps.js';

export const NODE_STATUSES = ['idle', 'generating', 'completed', 'error', 'cancelled'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface PendingCommand {
  kind: 'start' | 'cancel';
  commandId: string;
  requestedAt: number;
}

export interface NodeRecord {
  node_id: string;
  status: NodeStatus;
  /** Task id of the current run. */
  task_id?: string;
  /** Recent past runs' task ids (bounded), whose late frames are ignored. */
  past_task_ids: string[];
  progress: number;
  message?: string;
  step?: string;
  current_step?: number;
  total_steps?: number;
  error?: string;
  output_path?: string;
  thumbnail?: string;
  /** Take ids in arrival order; the takes themselves are in the takes slice. */
  take_ids: string[];
  current_take?: number;
  scene_id?: string;
  shot_id?: string;
  emotional_beat?: string;
  assigned_agent?: AgentType;
  /** A start or cancel the user asked for that the backend has not answered yet. */
  pending?: PendingCommand;
  /**
   * Set after a backend restart while this node was generating and no frame has confirmed it
   * since; cleared by the next frame about the node.
   */
  stale?: boolean;
  updatedAt: number;
}

export const MAX_PAST_RUNS = 20;

export const nodesAdapter = createEntityAdapter({ selectId: (node: NodeRecord) => node.node_id });
export interface NodesState extends EntityState<NodeRecord, string> {
  /**
   * Ids of nodes whose status is 'generating', kept in step with every status change so that
   * reading the active set never scans the whole table.
   */
  generating_ids: string[];
}

/** Every status change goes through here, so generating_ids stays exact. */
function setStatus(state: NodesState, node: NodeRecord, status: NodeStatus) {
  if (node.status === status) return;
  if (status === 'generating') state.generating_ids.push(node.node_id);
  else if (node.status === 'generating') {
    const index = state.generating_ids.indexOf(node.node_id);
    if (index >= 0) state.generating_ids.splice(index, 1);
  }
  node.status = status;
}

const FINISHED: ReadonlySet<NodeStatus> = new Set(['completed', 'error', 'cancelled']);

function ensureNode(state: NodesState, nodeId: string, at: number): NodeRecord {
  let node = state.entities[nodeId];
  if (!node) {
    nodesAdapter.addOne(state, {
      node_id: nodeId,
      status: 'idle',
      past_task_ids: [],
      progress: 0,
      take_ids: [],
      updatedAt: at,
    });
    node = state.entities[nodeId]!;
  }
  return node;
}

/**
 * Records that a frame was applied to the node. Called only once the frame passed the run
 * checks: a late frame of a past or finished run leaves the record as it was (same object, so
 * memoized selectors do not recompute) and does not confirm a stale node.
 */
function touch(node: NodeRecord, at: number) {
  node.updatedAt = at;
  if (node.stale) delete node.stale;
}

type RunMatch = 'current' | 'new' | 'past';

/**
 * Idle means the node has no run: its task joins the past runs, so a late frame of it (a
 * PROGRESS sent before a REVOKED, delivered after the backend reported the node idle) is
 * ignored instead of turning the node back to generating with no end.
 */
function retireRun(node: NodeRecord) {
  if (node.task_id === undefined) return;
  addPastRun(node, node.task_id);
  node.task_id = undefined;
}

function addPastRun(node: NodeRecord, taskId: string) {
  const { list } = appendBounded(node.past_task_ids, [taskId], MAX_PAST_RUNS);
  if (list !== node.past_task_ids) node.past_task_ids = list;
}

/** Places a frame's task id among the node's runs, starting a new run when it is new. */
function matchRun(node: NodeRecord, taskId: string | undefined): RunMatch {
  if (taskId === undefined || taskId === node.task_id) return 'current';
  if (node.past_task_ids.includes(taskId)) return 'past';
  if (node.task_id !== undefined) addPastRun(node, node.task_id);
  node.task_id = taskId;
  node.progress = 0;
  node.step = undefined;
  node.current_step = undefined;
  node.total_steps = undefined;
  node.error = undefined;
  node.message = undefined;
  return 'new';
}

function statusForCelery(state: CeleryState): NodeStatus {
  switch (state) {
    case 'SUCCESS':
      return 'completed';
    case 'FAILURE':
      return 'error';
    case 'REVOKED':
      return 'cancelled';
    default:
      return 'generating';
  }
}

function setProgress(node: NodeRecord, progress: number | undefined) {
  if (progress !== undefined) node.progress = Math.max(node.progress, clampPercent(progress));
}

/** Returns true when a take id was new to the node. */
function addTakes(node: NodeRecord, takes: readonly Take[] | undefined): boolean {
  if (!takes) return false;
  let added = false;
  for (const take of takes) if (pushUnique(node.take_ids, take.id)) added = true;
  return added;
}

function latestTakeNumber(takes: readonly Take[] | undefined): number | undefined {
  if (!takes || takes.length === 0) return undefined;
  return takes.reduce((max, take) => Math.max(max, take.take_number), 0);
}

function latestThumbnail(takes: readonly Take[] | undefined): string | undefined {
  if (!takes || takes.length === 0) return undefined;
  const latest = takes.reduce((a, b) => (b.take_number > a.take_number ? b : a));
  return latest.thumbnail ?? latest.path;
}

const on = caseFor<NodesState>();

const nodesSlice = createSlice({
  name: 'nodes',
  initialState: nodesAdapter.getInitialState({ generating_ids: [] as string[] }),
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(startGeneration, (state, { payload }) => {
        // The node id comes from the application (user input), not the wire: `__proto__` as a key
        // would reach Object.prototype. The middleware refuses such a command (commands/invalid).
        if (!isSafeKey(payload.nodeId)) return;
        const node = ensureNode(state, payload.nodeId, payload.requestedAt);
        touch(node, payload.requestedAt);
        node.pending = { kind: 'start', commandId: payload.commandId, requestedAt: payload.requestedAt };
        if (payload.context?.scene_id) node.scene_id = payload.context.scene_id;
        if (payload.context?.shot_id) node.shot_id = payload.context.shot_id;
        if (payload.context?.emotional_beat) node.emotional_beat = payload.context.emotional_beat;
      })
      .addCase(cancelGeneration, (state, { payload }) => {
        if (!isSafeKey(payload.nodeId)) return;
        const node = ensureNode(state, payload.nodeId, payload.requestedAt);
        touch(node, payload.requestedAt);
        node.pending = { kind: 'cancel', commandId: payload.commandId, requestedAt: payload.requestedAt };
      })
      .addCase(commandInvalid, (state, { payload }) => {
        clearPendingWithError(state, payload.commandId, `Not sent: ${payload.reason}`);
      })
      .addCase(nodesMarkedStale, (state, { payload }) => {
        for (const id of payload.nodeIds) {
          const node = state.entities[id];
          if (node?.status === 'generating') node.stale = true;
        }
      });
    addIngestCases(builder, [
      on(taskProgressReceived, (state, { payload: { frame, receivedAt } }) => {
        if (!frame.node_id) return;
        const node = ensureNode(state, frame.node_id, receivedAt);
        const run = matchRun(node, frame.task_id);
        if (run === 'past') return;
        if (run === 'current' && FINISHED.has(node.status) && node.task_id === frame.task_id) return;
        touch(node, receivedAt);
        setStatus(state, node, statusForCelery(frame.state));
        if (node.status !== 'generating' || node.pending?.kind === 'start') node.pending = undefined;
        setProgress(node, frame.progress);
        if (frame.state === 'SUCCESS') node.progress = 100;
        applyStep(node, frame);
        if (frame.message !== undefined) node.message = frame.message;
        else if (node.status !== 'generating') node.message = undefined;
        if (frame.state === 'FAILURE') node.error = frame.message ?? 'Generation failed';
      }),
      on(nodeStateChanged, (state, { payload: { frame, receivedAt } }) => {
        const node = ensureNode(state, frame.node_id, receivedAt);
        const run = matchRun(node, frame.task_id);
        // A "generating" frame naming a task whose run already finished is a late one (sent
        // before the SUCCESS/FAILURE/REVOKED it was overtaken by): it must not reopen the run.
        const lateForFinishedRun =
          run === 'current' && frame.task_id !== undefined && frame.status === 'generating' && FINISHED.has(node.status);
        if (run === 'past' || lateForFinishedRun) {
          if (addTakes(node, frame.takes)) node.updatedAt = receivedAt;
          return;
        }
        touch(node, receivedAt);
        // The backend's word on the node: authoritative within the current run.
        setStatus(state, node, frame.status);
        if (frame.status !== 'generating') node.pending = undefined;
        if (frame.status === 'idle') retireRun(node);
        if (frame.progress !== undefined) {
          const progress = clampPercent(frame.progress);
          // Within a running run progress only rises; a new status may legitimately reset it.
          node.progress = frame.status === 'generating' && run === 'current' ? Math.max(node.progress, progress) : progress;
        }
        if (frame.status === 'completed') node.progress = 100;
        if (frame.message !== undefined) node.message = frame.message;
        node.error = frame.status === 'error' ? (frame.error ?? node.error ?? 'Generation failed') : undefined;
        if (frame.output_path !== undefined) node.output_path = frame.output_path;
        if (frame.thumbnail !== undefined) node.thumbnail = frame.thumbnail;
        addTakes(node, frame.takes);
        if (frame.current_take !== undefined) node.current_take = frame.current_take;
        if (frame.scene_id !== undefined) node.scene_id = frame.scene_id;
        if (frame.shot_id !== undefined) node.shot_id = frame.shot_id;
        if (frame.emotional_beat !== undefined) node.emotional_beat = frame.emotional_beat;
        if (frame.assigned_agent !== undefined) node.assigned_agent = frame.assigned_agent;
      }),
      on(generationStarted, (state, { payload: { frame, receivedAt } }) => {
        const node = ensureNode(state, frame.node_id, receivedAt);
        const run = matchRun(node, frame.task_id);
        if (run === 'past' || (run === 'current' && FINISHED.has(node.status))) return;
        touch(node, receivedAt);
        setStatus(state, node, 'generating');
        node.pending = undefined;
        node.message ??= 'Starting generation...';
        if (frame.scene_id !== undefined) node.scene_id = frame.scene_id;
        if (frame.shot_id !== undefined) node.shot_id = frame.shot_id;
        if (frame.emotional_beat !== undefined) node.emotional_beat = frame.emotional_beat;
      }),
      on(generationCompleted, (state, { payload: { frame, receivedAt } }) => {
        const node = ensureNode(state, frame.node_id, receivedAt);
        if (addTakes(node, frame.takes)) node.updatedAt = receivedAt;
        const run = matchRun(node, frame.task_id);
        if (run === 'past') return;
        touch(node, receivedAt);
        setStatus(state, node, 'completed');
        node.pending = undefined;
        node.progress = 100;
        node.message = 'Generation complete';
        node.error = undefined;
        if (frame.output_path !== undefined) node.output_path = frame.output_path;
        const thumbnail = frame.thumbnail ?? latestThumbnail(frame.takes);
        if (thumbnail !== undefined) node.thumbnail = thumbnail;
        const latest = latestTakeNumber(frame.takes);
        if (latest !== undefined) node.current_take = latest;
      }),
      on(generationFailed, (state, { payload: { frame, receivedAt } }) => {
        const node = ensureNode(state, frame.node_id, receivedAt);
        const run = matchRun(node, frame.task_id);
        if (run === 'past') return;
        if (run === 'current' && node.status === 'completed') return;
        touch(node, receivedAt);
        setStatus(state, node, 'error');
        node.pending = undefined;
        node.error = frame.error;
        if (frame.message !== undefined) node.message = frame.message;
      }),
      on(agentAssigned, (state, { payload: { frame, receivedAt } }) => {
        if (!frame.node_id) return;
        const node = ensureNode(state, frame.node_id, receivedAt);
        touch(node, receivedAt);
        node.assigned_agent = frame.agent_type;
      }),
      on(commandAcknowledged, (state, { payload: { frame } }) => {
        if (frame.status !== 'rejected') return;
        clearPendingWithError(state, frame.command_id, frame.error ?? 'Command rejected by the server');
      }),
      on(serverErrorReported, (state, { payload: { frame } }) => {
        if (frame.command_id) clearPendingWithError(state, frame.command_id, frame.message);
      }),
    ]);
  },
});

/** A refused start/cancel: the node that waited for it shows the error. */
function clearPendingWithError(state: NodesState, commandId: string, error: string) {
  for (const id of state.ids) {
    const node = state.entities[id]!;
    if (node.pending?.commandId !== commandId) continue;
    const wasStart = node.pending.kind === 'start';
    node.pending = undefined;
    if (wasStart) {
      setStatus(state, node, 'error');
      node.error = error;
    }
    return;
  }
}

export const nodesReducer = nodesSlice.reducer;
