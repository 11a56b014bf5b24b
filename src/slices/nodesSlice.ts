/**
 * Canvas nodes and their generation runs, keyed by node id. A node holds take ids (the takes
 * live in the takes slice) and the state of its current run.
 *
 * Runs: each Celery task id is one run. A frame for a new task id starts a new run (progress,
 * step and error reset); a frame for one of the node's past tasks is ignored, so a late frame
 * of an old run never overwrites the current one. Within a run, a finished status (completed,
 * error, cancelled) is not undone by a late progress frame, and progress never goes backwards
 * within one attempt: a Celery retry or redelivery of the same task id starts a new attempt
 * (./attempts.ts), whose progress, step and message replace the old attempt's.
 */
import { isSafeKey, type AgentType, type CeleryState, type InboundFrameOf, type Take } from '../protocol/index.js';
import { appendBounded, clampPercent } from './bounded.js';
import { cancelGeneration, startGeneration } from './commands.js';
import { commandInvalid, contactLost, nodesMarkedStale } from './deliveryEvents.js';
import { freeze, freezeDeep, passCaseFor, passReducer, settleArray, TableWork } from './cow.js';
import { emptyTable, type Table } from './table.js';
import {
  agentAssigned,
  commandAcknowledged,
  generationCompleted,
  generationFailed,
  generationStarted,
  nodeStateChanged,
  serverErrorReported,
  snapshotReceived,
  taskProgressReceived,
  taskStatusReceived,
} from './frameEvents.js';
import { startsNewAttempt, TERMINAL_STATE_OF } from './attempts.js';
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
  /** The Celery state last reported for the current run (task.progress), to see a new attempt. */
  task_state?: CeleryState;
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
  /**
   * Take ids in arrival order (the newest MAX_TAKES_PER_NODE); the takes themselves are in the
   * takes slice, which may have let the oldest go (MAX_TAKES): selectTakesByNode skips those.
   */
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
  /**
   * Nothing confirmed the run within `staleAfterMs` of a reconnect or restart signal, or the
   * backend said it never heard of it: the node shows an error ("Lost contact with this run")
   * and Generate works again. A later frame of the same run brings it back.
   */
  lost?: true;
  /** The project the node belongs to: from the envelope of frames naming it, or a snapshot. */
  project_id?: string;
  updatedAt: number;
}

export const LOST_CONTACT_ERROR = 'Lost contact with this run';

export const MAX_PAST_RUNS = 20;
/** Take ids a node keeps (its newest); the takes table keeps at most MAX_TAKES takes in all. */
export const MAX_TAKES_PER_NODE = 100;

export interface NodesState extends Table<NodeRecord> {
  /**
   * Ids of nodes whose status is 'generating', kept in step with every status change so that
   * reading the active set never scans the whole table.
   */
  generating_ids: string[];
}

/**
 * Shallow: most writes to a node (a progress frame) leave its id lists alone, so the lists are
 * not copied up front; addTakes and addPastRun replace a list with a longer copy instead.
 */
const cloneNode = (node: NodeRecord): NodeRecord => ({ ...node });

/** One copy-on-write pass over the nodes table: a frame, a burst of frames, or a command. */
class NodesPass {
  private readonly table: TableWork<NodeRecord>;
  readonly generating: string[];

  constructor(private readonly base: NodesState) {
    this.table = new TableWork(base, cloneNode);
    this.generating = [...base.generating_ids];
  }

  peek(id: string) {
    return this.table.peek(id);
  }
  edit(id: string) {
    return this.table.edit(id);
  }
  add(record: NodeRecord) {
    return this.table.add(record.node_id, record);
  }
  ids() {
    return this.table.currentIds();
  }

  commit(): NodesState {
    const table = this.table.commit();
    const generating = settleArray(this.generating, this.base.generating_ids) as string[];
    if (!table && generating === this.base.generating_ids) return this.base;
    return freeze({ ...this.base, ...table, generating_ids: generating });
  }
}

type NodesTable = NodesPass;

const initialState: NodesState = freezeDeep({ ...emptyTable<NodeRecord>(), generating_ids: [] });

/** Every status change goes through here, so generating_ids stays exact. */
function setStatus(table: NodesTable, node: NodeRecord, status: NodeStatus) {
  if (node.status === status) return;
  if (status === 'generating') table.generating.push(node.node_id);
  else if (node.status === 'generating') {
    const index = table.generating.indexOf(node.node_id);
    if (index >= 0) table.generating.splice(index, 1);
  }
  node.status = status;
}

const FINISHED: ReadonlySet<NodeStatus> = new Set(['completed', 'error', 'cancelled']);

/** Finished, unless only contact was lost: a frame of a lost run is applied and revives it. */
function isFinishedRun(node: NodeRecord): boolean {
  return FINISHED.has(node.status) && node.lost === undefined;
}

function ensureNode(table: NodesTable, nodeId: string, at: number): NodeRecord {
  return (
    table.edit(nodeId) ??
    table.add({
      node_id: nodeId,
      status: 'idle',
      past_task_ids: [],
      progress: 0,
      take_ids: [],
      updatedAt: at,
    })
  );
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

/**
 * touch() for a frame of the node's run: it also brings back a run whose contact was lost. The
 * frame's own case sets the status and error that follow.
 */
function confirm(node: NodeRecord, at: number, projectId: string | undefined) {
  touch(node, at);
  if (node.lost) {
    delete node.lost;
    node.error = undefined;
  }
  if (projectId !== undefined && node.project_id !== projectId) node.project_id = projectId;
}

function markLost(table: NodesTable, node: NodeRecord, at: number) {
  setStatus(table, node, 'error');
  node.lost = true;
  node.error = LOST_CONTACT_ERROR;
  node.message = undefined;
  node.pending = undefined;
  if (node.stale) delete node.stale;
  node.updatedAt = at;
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
  node.past_task_ids = appendBounded([...node.past_task_ids], [taskId], MAX_PAST_RUNS).list;
}

/** Places a frame's task id among the node's runs, starting a new run when it is new. */
function matchRun(node: NodeRecord, taskId: string | undefined): RunMatch {
  if (taskId === undefined || taskId === node.task_id) return 'current';
  if (node.past_task_ids.includes(taskId)) return 'past';
  if (node.task_id !== undefined) addPastRun(node, node.task_id);
  node.task_id = taskId;
  node.task_state = undefined;
  resetProgress(node);
  return 'new';
}

/** A new run or a new attempt of the current one: nothing of the previous one is shown. */
function resetProgress(node: NodeRecord) {
  node.progress = 0;
  node.step = undefined;
  node.current_step = undefined;
  node.total_steps = undefined;
  node.error = undefined;
  node.message = undefined;
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
  for (const take of takes) {
    if (node.take_ids.includes(take.id)) continue;
    node.take_ids = appendBounded([...node.take_ids], [take.id], MAX_TAKES_PER_NODE).list;
    added = true;
  }
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

/** A refused start/cancel: the node that waited for it shows the error. */
function clearPendingWithError(table: NodesTable, commandId: string, error: string) {
  for (const id of table.ids()) {
    if (table.peek(id)?.pending?.commandId !== commandId) continue;
    const node = table.edit(id)!;
    const wasStart = node.pending!.kind === 'start';
    node.pending = undefined;
    if (wasStart) {
      setStatus(table, node, 'error');
      node.error = error;
    }
    return;
  }
}

/** task.progress, and a task.status with a Celery state: the same rules. */
function applyTaskFrame(table: NodesTable, frame: TaskFrame, receivedAt: number) {
  if (!frame.node_id) return;
  const node = ensureNode(table, frame.node_id, receivedAt);
  const run = matchRun(node, frame.task_id);
  if (run === 'past') return;
  if (run === 'current' && isFinishedRun(node) && node.task_id === frame.task_id) return;
  confirm(node, receivedAt, frame.project_id);
  if (run === 'current' && startsNewAttempt(node.task_state, frame.state)) resetProgress(node);
  // A late PENDING says nothing about the attempt under way.
  if (frame.state !== 'PENDING' || node.task_state === undefined) node.task_state = frame.state;
  setStatus(table, node, statusForCelery(frame.state));
  if (node.status !== 'generating' || node.pending?.kind === 'start') node.pending = undefined;
  setProgress(node, frame.progress);
  if (frame.state === 'SUCCESS') node.progress = 100;
  applyStep(node, frame);
  if (frame.message !== undefined) node.message = frame.message;
  else if (node.status !== 'generating') node.message = undefined;
  if (frame.state === 'FAILURE') node.error = frame.message ?? 'Generation failed';
}

type TaskFrame = InboundFrameOf<'task.progress'> | (InboundFrameOf<'task.status'> & { state: CeleryState });

type Snapshot = InboundFrameOf<'project.snapshot'>;

/** A snapshot's figures of the node's run: set as they are (absent ones cleared). */
const SNAPSHOT_RUN_FIELDS = ['step', 'current_step', 'total_steps', 'message'] as const;
/** A snapshot's descriptive fields: set when present. */
const SNAPSHOT_KEPT_FIELDS = ['output_path', 'thumbnail', 'current_take', 'scene_id', 'shot_id', 'emotional_beat'] as const;

/**
 * The project's part of the state, replaced from a snapshot: the listed nodes take its fields,
 * and a node of the project shown generating that it does not list leaves `generating` (its run
 * is retired).
 */
function applySnapshot(table: NodesTable, frame: Snapshot, at: number) {
  const listed = new Set<string>();
  for (const entry of frame.nodes) {
    listed.add(entry.node_id);
    const node = ensureNode(table, entry.node_id, at);
    confirm(node, at, frame.project_id);
    if (entry.task_id !== undefined && entry.task_id !== node.task_id) {
      if (node.task_id !== undefined) addPastRun(node, node.task_id);
      node.past_task_ids = node.past_task_ids.filter((id) => id !== entry.task_id);
      node.task_id = entry.task_id;
    }
    const status = entry.status;
    setStatus(table, node, status);
    if (status === 'idle') retireRun(node);
    node.task_state = frame.tasks.find((task) => task.task_id === node.task_id)?.state ?? TERMINAL_STATE_OF[status];
    // A start waits for its own answer; anything else the snapshot settles.
    if (status !== 'generating' || node.pending?.kind === 'start') node.pending = undefined;
    resetProgress(node);
    node.progress = status === 'completed' ? 100 : clampPercent(entry.progress ?? 0);
    const record = node as unknown as Record<string, unknown>;
    for (const key of SNAPSHOT_RUN_FIELDS) record[key] = entry[key];
    for (const key of SNAPSHOT_KEPT_FIELDS) if (entry[key] !== undefined) record[key] = entry[key];
    if (status === 'error') node.error = entry.error ?? 'Generation failed';
  }
  // Oldest first, so each node keeps its newest take ids.
  for (const take of [...frame.takes].sort((a, b) => a.take_number - b.take_number)) {
    const node = ensureNode(table, take.node_id, at);
    node.project_id = frame.project_id;
    addTakes(node, [take]);
  }
  for (const id of [...table.generating]) {
    if (listed.has(id) || table.peek(id)?.project_id !== frame.project_id) continue;
    const node = table.edit(id)!;
    setStatus(table, node, 'idle');
    retireRun(node);
    resetProgress(node);
    node.pending = undefined;
    touch(node, at);
  }
}

const on = passCaseFor<NodesPass>();

/** Every case runs in a copy-on-write pass: one per frame, burst of frames, or command. */
const CASES = new Map([
  on(taskProgressReceived, (table, { payload: { frame, receivedAt } }) => {
    applyTaskFrame(table, frame, receivedAt);
  }),
  on(taskStatusReceived, (table, { payload: { frame, receivedAt } }) => {
    if (frame.state !== 'UNKNOWN') {
      applyTaskFrame(table, frame as TaskFrame, receivedAt);
      return;
    }
    // The backend never heard of the task (or forgot it in a restart): its run is lost now.
    // task.status may not name the node (the backend forgot the task): a scan, for a rare frame.
    const nodeId = frame.node_id ?? table.ids().find((id) => table.peek(id)?.task_id === frame.task_id);
    const node = nodeId === undefined ? undefined : table.peek(nodeId);
    if (node?.task_id === frame.task_id && node.status === 'generating') markLost(table, table.edit(nodeId!)!, receivedAt);
  }),
  on(snapshotReceived, (table, { payload: { frame, receivedAt } }) => {
    applySnapshot(table, frame, receivedAt);
  }),
  on(contactLost, (table, { payload }) => {
    for (const id of payload.nodeIds) {
      const node = table.peek(id);
      if (node?.status === 'generating' && node.stale) markLost(table, table.edit(id)!, payload.at);
    }
  }),
  on(nodeStateChanged, (table, { payload: { frame, receivedAt } }) => {
    const node = ensureNode(table, frame.node_id, receivedAt);
    const run = matchRun(node, frame.task_id);
    // A "generating" frame naming a task whose run already finished is a late one (sent
    // before the SUCCESS/FAILURE/REVOKED it was overtaken by): it must not reopen the run.
    const lateForFinishedRun =
      run === 'current' && frame.task_id !== undefined && frame.status === 'generating' && isFinishedRun(node);
    if (run === 'past' || lateForFinishedRun) {
      if (addTakes(node, frame.takes)) node.updatedAt = receivedAt;
      return;
    }
    confirm(node, receivedAt, frame.project_id);
    // The backend's word on the node: authoritative within the current run.
    setStatus(table, node, frame.status);
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
  on(generationStarted, (table, { payload: { frame, receivedAt } }) => {
    const node = ensureNode(table, frame.node_id, receivedAt);
    const run = matchRun(node, frame.task_id);
    if (run === 'past' || (run === 'current' && isFinishedRun(node))) return;
    confirm(node, receivedAt, frame.project_id);
    setStatus(table, node, 'generating');
    node.pending = undefined;
    node.message ??= 'Starting generation...';
    if (frame.scene_id !== undefined) node.scene_id = frame.scene_id;
    if (frame.shot_id !== undefined) node.shot_id = frame.shot_id;
    if (frame.emotional_beat !== undefined) node.emotional_beat = frame.emotional_beat;
  }),
  on(generationCompleted, (table, { payload: { frame, receivedAt } }) => {
    const node = ensureNode(table, frame.node_id, receivedAt);
    if (addTakes(node, frame.takes)) node.updatedAt = receivedAt;
    const run = matchRun(node, frame.task_id);
    if (run === 'past') return;
    confirm(node, receivedAt, frame.project_id);
    setStatus(table, node, 'completed');
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
  on(generationFailed, (table, { payload: { frame, receivedAt } }) => {
    const node = ensureNode(table, frame.node_id, receivedAt);
    const run = matchRun(node, frame.task_id);
    if (run === 'past') return;
    if (run === 'current' && node.status === 'completed') return;
    confirm(node, receivedAt, frame.project_id);
    setStatus(table, node, 'error');
    node.pending = undefined;
    node.error = frame.error;
    if (frame.message !== undefined) node.message = frame.message;
  }),
  on(agentAssigned, (table, { payload: { frame, receivedAt } }) => {
    if (!frame.node_id) return;
    const node = ensureNode(table, frame.node_id, receivedAt);
    touch(node, receivedAt);
    node.assigned_agent = frame.agent_type;
  }),
  on(startGeneration, (table, { payload }) => {
    // The node id comes from the application (user input), not the wire: `__proto__` as a key
    // would be refused anyway (shards have no prototype), and the middleware refuses such a
    // command (commands/invalid); nothing is recorded for it here.
    if (!isSafeKey(payload.nodeId)) return;
    const node = ensureNode(table, payload.nodeId, payload.requestedAt);
    // A command is not the backend's word: a stale run stays stale (and may still be lost).
    node.updatedAt = payload.requestedAt;
    node.pending = { kind: 'start', commandId: payload.commandId, requestedAt: payload.requestedAt };
    if (payload.projectId) node.project_id = payload.projectId;
    if (payload.context?.scene_id) node.scene_id = payload.context.scene_id;
    if (payload.context?.shot_id) node.shot_id = payload.context.shot_id;
    if (payload.context?.emotional_beat) node.emotional_beat = payload.context.emotional_beat;
  }),
  on(cancelGeneration, (table, { payload }) => {
    if (!isSafeKey(payload.nodeId)) return;
    const node = ensureNode(table, payload.nodeId, payload.requestedAt);
    node.updatedAt = payload.requestedAt;
    node.pending = { kind: 'cancel', commandId: payload.commandId, requestedAt: payload.requestedAt };
  }),
  on(commandInvalid, (table, { payload }) => {
    clearPendingWithError(table, payload.commandId, `Not sent: ${payload.reason}`);
  }),
  on(nodesMarkedStale, (table, { payload }) => {
    for (const id of payload.nodeIds) {
      if (table.peek(id)?.status === 'generating') table.edit(id)!.stale = true;
    }
  }),
  on(commandAcknowledged, (table, { payload: { frame } }) => {
    if (frame.status !== 'rejected') return;
    clearPendingWithError(table, frame.command_id, frame.error ?? 'Command rejected by the server');
  }),
  on(serverErrorReported, (table, { payload: { frame } }) => {
    if (frame.command_id) clearPendingWithError(table, frame.command_id, frame.message);
  }),
]);

/** Frames (alone or in a burst) and commands, each in one copy-on-write pass. */
export const nodesReducer = passReducer<NodesState, NodesPass>({
  initialState,
  open: (state) => new NodesPass(state),
  commit: (pass) => pass.commit(),
  cases: CASES,
});
