/**
 * Frames the backend sends to the client (Direction: server -> client).
 *
 * Each frame has a valibot schema; the TypeScript types are inferred from the schemas, so the
 * runtime check and the compile-time union cannot drift apart. Objects are parsed with
 * `v.object`, which keeps only the declared keys: extra fields a newer backend adds are
 * tolerated and dropped, and `__proto__` keys never survive into state.
 */
import * as v from 'valibot';
import {
  CAPABILITIES,
  SNAPSHOT_AGENT_STATUSES,
  SNAPSHOT_NODE_STATUSES,
  STRUCTURE_TYPES,
  TASK_STATUS_STATES,
  type Capability,
} from './vocabulary.js';
import { isSafeKey } from './safety.js';
import {
  Agent,
  Amount,
  CeleryState,
  CompositePromptSchema,
  Count,
  IdList,
  IdSchema,
  Json,
  JsonObject,
  NodeStatus,
  Percent,
  ShortText,
  StringList,
  TakeList,
  TakeSchema,
  Text,
  Timestamp,
  Url,
} from './fields.js';

// ---------------------------------------------------------------------------------------------
// Field schemas: ./fields.ts

export { CompositePromptSchema, IdSchema, TakeSchema } from './fields.js';

const Envelope = {
  timestamp: v.optional(Timestamp),
  /** Position of the event in its project's stream; present when the backend announces `seq`. */
  seq: v.optional(Count),
  project_id: v.optional(IdSchema),
};

// ---------------------------------------------------------------------------------------------
// Frames

export const SystemHeartbeatSchema = v.object({
  type: v.literal('system.heartbeat'),
  ...Envelope,
  server_time: v.optional(v.number()),
  instance_id: v.optional(IdSchema),
});

/** Sent by a backend that is about to stop (deploy, container restart). */
export const SystemShutdownSchema = v.object({
  type: v.literal('system.shutdown'),
  ...Envelope,
  reason: v.optional(ShortText),
  /** How soon the backend expects to be back, as a hint for the reconnect delay. */
  restart_in_ms: v.optional(Count),
  instance_id: v.optional(IdSchema),
});

function isCapability(name: string): name is Capability {
  return (CAPABILITIES as readonly string[]).includes(name);
}

const SessionFields = {
  ...Envelope,
  session_id: IdSchema,
  reconnect: v.optional(v.boolean(), false),
  /** Identifies the backend process; a change after a reconnect means it restarted. */
  instance_id: v.optional(IdSchema),
  /** Capabilities this client does not know are ignored, not a reason to refuse the session. */
  capabilities: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.maxLength(64))),
      v.maxLength(100),
      v.transform((names: string[]) => names.filter(isCapability)),
    ),
    [],
  ),
  /** Opaque token to present on the next session.init to resume this session. */
  resume_token: v.optional(v.pipe(v.string(), v.maxLength(512))),
  /** Projects the backend considers this session subscribed to. */
  subscriptions: v.optional(IdList),
};

export const SessionInitSchema = v.object({ type: v.literal('session.init'), ...SessionFields });
export const SessionRestoredSchema = v.object({
  type: v.literal('session.restored'),
  ...SessionFields,
});

const ProjectFields = {
  ...Envelope,
  project_id: IdSchema,
  data: v.optional(JsonObject),
};
export const ProjectCreatedSchema = v.object({ type: v.literal('project.created'), ...ProjectFields });
export const ProjectUpdatedSchema = v.object({ type: v.literal('project.updated'), ...ProjectFields });
export const ProjectDeletedSchema = v.object({ type: v.literal('project.deleted'), ...ProjectFields });

const FileInfo = v.object({
  name: ShortText,
  path: ShortText,
  size: Count,
  asset_type: ShortText,
});
const FileFields = { ...Envelope, project_id: IdSchema, file: FileInfo };
export const FileUploadedSchema = v.object({ type: v.literal('file.uploaded'), ...FileFields });
export const FileDeletedSchema = v.object({ type: v.literal('file.deleted'), ...FileFields });

const ProcessFields = {
  ...Envelope,
  project_id: IdSchema,
  process_id: IdSchema,
  progress: v.optional(Percent),
  message: v.optional(Text),
};
export const ProcessStartedSchema = v.object({ type: v.literal('process.started'), ...ProcessFields });
export const ProcessProgressSchema = v.object({
  type: v.literal('process.progress'),
  ...ProcessFields,
});
export const ProcessCompletedSchema = v.object({
  type: v.literal('process.completed'),
  ...ProcessFields,
});

export const TaskProgressSchema = v.object({
  type: v.literal('task.progress'),
  ...Envelope,
  task_id: IdSchema,
  state: CeleryState,
  progress: v.optional(Percent),
  message: v.optional(Text),
  /** Celery's task result on SUCCESS (or its error info on FAILURE): JSON data. */
  result: v.optional(Json),
  node_id: v.optional(IdSchema),
  step: v.optional(ShortText),
  total_steps: v.optional(Count),
  current_step: v.optional(Count),
});

export const NodeStateChangedSchema = v.object({
  type: v.literal('node.state_changed'),
  ...Envelope,
  node_id: IdSchema,
  status: NodeStatus,
  progress: v.optional(Percent),
  message: v.optional(Text),
  error: v.optional(Text),
  output_path: v.optional(Url),
  thumbnail: v.optional(Url),
  takes: v.optional(TakeList),
  current_take: v.optional(Count),
  task_id: v.optional(IdSchema),
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  emotional_beat: v.optional(ShortText),
  assigned_agent: v.optional(Agent),
});

export const GenerationStartedSchema = v.object({
  type: v.literal('generation.started'),
  ...Envelope,
  node_id: IdSchema,
  task_id: IdSchema,
  /** The command id of the start_generation this answers, when the client sent one. */
  command_id: v.optional(IdSchema),
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  emotional_beat: v.optional(ShortText),
});

export const GenerationCompletedSchema = v.object({
  type: v.literal('generation.completed'),
  ...Envelope,
  node_id: IdSchema,
  task_id: IdSchema,
  output_path: Url,
  thumbnail: v.optional(Url),
  takes: v.optional(TakeList),
});

export const GenerationErrorSchema = v.object({
  type: v.literal('generation.error'),
  ...Envelope,
  node_id: IdSchema,
  task_id: IdSchema,
  error: Text,
  message: v.optional(Text),
});

export const AgentAssignedSchema = v.object({
  type: v.literal('agent.assigned'),
  ...Envelope,
  agent_type: Agent,
  task_id: IdSchema,
  task_description: Text,
  estimated_duration: v.optional(Amount),
  node_id: v.optional(IdSchema),
});

export const AgentProgressSchema = v.object({
  type: v.literal('agent.progress'),
  ...Envelope,
  agent_type: Agent,
  task_id: IdSchema,
  progress: Percent,
  current_step: v.optional(ShortText),
  /** GB of GPU memory in use; reported by the Producer, which schedules the GPU. */
  vram_usage: v.optional(Amount),
  node_id: v.optional(IdSchema),
});

export const AgentCompletedSchema = v.object({
  type: v.literal('agent.completed'),
  ...Envelope,
  agent_type: Agent,
  task_id: IdSchema,
  output: v.optional(Json),
  handoff_to: v.optional(Agent),
  node_id: v.optional(IdSchema),
});

/** Not defined by the story beyond its name: one agent passes its work to the next. */
export const AgentHandoffSchema = v.object({
  type: v.literal('agent.handoff'),
  ...Envelope,
  from_agent: Agent,
  to_agent: Agent,
  task_id: IdSchema,
  node_id: v.optional(IdSchema),
  notes: v.optional(Text),
});

export const PromptCompositeSchema = v.object({
  type: v.literal('prompt.composite'),
  ...Envelope,
  node_id: v.optional(IdSchema),
  task_id: v.optional(IdSchema),
  composite_prompt: CompositePromptSchema,
});

/** A beat's name: a key of the beats table, so never a name Object.prototype owns. */
const BeatName = v.pipe(ShortText, v.check(isSafeKey, 'a beat name must be a usable key'));

export const NarrativeBeatSchema = v.object({
  type: v.literal('narrative.beat'),
  ...Envelope,
  beat_name: BeatName,
  scene_id: IdSchema,
  keywords: v.optional(StringList, []),
  /** The generation this beat drives, when the backend knows it. */
  node_id: v.optional(IdSchema),
  task_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  chapter: v.optional(Count),
});

/** Not defined by the story beyond "Chapter/Scene/Shot progress": where the story now stands. */
export const NarrativeProgressSchema = v.object({
  type: v.literal('narrative.progress'),
  ...Envelope,
  structure_type: v.optional(v.picklist(STRUCTURE_TYPES)),
  current_chapter: v.optional(Count),
  total_chapters: v.optional(Count),
  current_scene: v.optional(IdSchema),
  total_scenes: v.optional(Count),
  current_shot: v.optional(IdSchema),
  total_shots: v.optional(Count),
});

export const StructureChangedSchema = v.object({
  type: v.literal('structure.changed'),
  ...Envelope,
  project_id: IdSchema,
  changes: v.object({
    added: v.optional(StringList, []),
    modified: v.optional(StringList, []),
    deleted: v.optional(StringList, []),
  }),
});

const GitFields = {
  ...Envelope,
  project_id: IdSchema,
  ref: v.optional(ShortText),
  message: v.optional(Text),
  author: v.optional(ShortText),
};
export const GitCommitSchema = v.object({ type: v.literal('git.commit'), ...GitFields });
export const GitPushSchema = v.object({ type: v.literal('git.push'), ...GitFields });
export const GitPullSchema = v.object({ type: v.literal('git.pull'), ...GitFields });

/** Extension: the backend acknowledges a command (only when it announced `ack`). */
export const AckSchema = v.object({
  type: v.literal('ack'),
  ...Envelope,
  command_id: IdSchema,
  status: v.picklist(['accepted', 'duplicate', 'rejected']),
  error: v.optional(Text),
});

/** Extension: the backend refuses something the client sent. */
export const ErrorFrameSchema = v.object({
  type: v.literal('error'),
  ...Envelope,
  code: v.pipe(v.string(), v.maxLength(64)),
  message: Text,
  command_id: v.optional(IdSchema),
});

/** Extension: the backend could not replay everything asked for (history trimmed). */
export const ReplayGapSchema = v.object({
  type: v.literal('replay.gap'),
  ...Envelope,
  project_id: IdSchema,
  from_seq: Count,
  to_seq: Count,
});

/** What a task reports of its run: task.status, and a snapshot's nodes and tasks. */
const RunFields = {
  progress: v.optional(Percent),
  step: v.optional(ShortText),
  current_step: v.optional(Count),
  total_steps: v.optional(Count),
  message: v.optional(Text),
};

export const SnapshotNodeSchema = v.object({
  node_id: IdSchema,
  status: v.picklist(SNAPSHOT_NODE_STATUSES),
  task_id: v.optional(IdSchema),
  ...RunFields,
  error: v.optional(Text),
  thumbnail: v.optional(Url),
  output_path: v.optional(Url),
  current_take: v.optional(Count),
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  emotional_beat: v.optional(ShortText),
});

export const SnapshotTaskSchema = v.object({
  task_id: IdSchema,
  node_id: v.optional(IdSchema),
  state: CeleryState,
  ...RunFields,
  attempt: v.optional(Count),
});

export const SnapshotTakeSchema = v.object({ ...TakeSchema.entries, node_id: IdSchema });

export const SnapshotAgentSchema = v.object({
  agent_type: Agent,
  status: v.picklist(SNAPSHOT_AGENT_STATUSES),
  task_id: v.optional(IdSchema),
  node_id: v.optional(IdSchema),
  current_task: v.optional(Text),
  progress: v.optional(Percent),
});

export const SnapshotNarrativeSchema = v.object({
  structure_type: v.optional(v.picklist(STRUCTURE_TYPES)),
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  current_beat: v.optional(BeatName),
  completed_beats: v.optional(v.pipe(v.array(BeatName), v.maxLength(1_000))),
});

/**
 * Extension (`snapshot`): the project's current state, sent on subscribe when the client has no
 * state for it or its position cannot be replayed. Not seq-numbered: `at_seq` is the last event
 * it includes.
 */
export const ProjectSnapshotSchema = v.object({
  type: v.literal('project.snapshot'),
  ...Envelope,
  project_id: IdSchema,
  at_seq: Count,
  // The server's caps (docs/PROTOCOL.md): 2,000 nodes, 500 tasks, 8 takes per node, 7 agents.
  nodes: v.pipe(v.array(SnapshotNodeSchema), v.maxLength(2_000)),
  tasks: v.pipe(v.array(SnapshotTaskSchema), v.maxLength(500)),
  takes: v.pipe(v.array(SnapshotTakeSchema), v.maxLength(16_000)),
  agents: v.pipe(v.array(SnapshotAgentSchema), v.maxLength(7)),
  narrative: v.optional(SnapshotNarrativeSchema),
});

/** Extension (`task_status`): the answer to query_tasks, one per asked task id. */
export const TaskStatusSchema = v.object({
  type: v.literal('task.status'),
  ...Envelope,
  task_id: IdSchema,
  state: v.picklist(TASK_STATUS_STATES),
  node_id: v.optional(IdSchema),
  ...RunFields,
  result: v.optional(Json),
  attempt: v.optional(Count),
});

export const INBOUND_SCHEMAS = {
  'system.heartbeat': SystemHeartbeatSchema,
  'system.shutdown': SystemShutdownSchema,
  'session.init': SessionInitSchema,
  'session.restored': SessionRestoredSchema,
  'project.created': ProjectCreatedSchema,
  'project.updated': ProjectUpdatedSchema,
  'project.deleted': ProjectDeletedSchema,
  'file.uploaded': FileUploadedSchema,
  'file.deleted': FileDeletedSchema,
  'process.started': ProcessStartedSchema,
  'process.progress': ProcessProgressSchema,
  'process.completed': ProcessCompletedSchema,
  'task.progress': TaskProgressSchema,
  'node.state_changed': NodeStateChangedSchema,
  'generation.started': GenerationStartedSchema,
  'generation.completed': GenerationCompletedSchema,
  'generation.error': GenerationErrorSchema,
  'agent.assigned': AgentAssignedSchema,
  'agent.progress': AgentProgressSchema,
  'agent.completed': AgentCompletedSchema,
  'agent.handoff': AgentHandoffSchema,
  'prompt.composite': PromptCompositeSchema,
  'narrative.beat': NarrativeBeatSchema,
  'narrative.progress': NarrativeProgressSchema,
  'structure.changed': StructureChangedSchema,
  'git.commit': GitCommitSchema,
  'git.push': GitPushSchema,
  'git.pull': GitPullSchema,
  ack: AckSchema,
  error: ErrorFrameSchema,
  'replay.gap': ReplayGapSchema,
  'project.snapshot': ProjectSnapshotSchema,
  'task.status': TaskStatusSchema,
} as const;

type Schemas = typeof INBOUND_SCHEMAS;
export type InboundType = keyof Schemas;
export const INBOUND_TYPES = Object.keys(INBOUND_SCHEMAS) as InboundType[];

/** The frame of a given type, after validation. */
export type InboundFrameOf<T extends InboundType> = v.InferOutput<Schemas[T]>;
/** Any valid inbound frame: a discriminated union on `type`. */
export type InboundFrame = { [T in InboundType]: InboundFrameOf<T> }[InboundType];

export type Take = v.InferOutput<typeof TakeSchema>;
export type SnapshotNode = v.InferOutput<typeof SnapshotNodeSchema>;
export type SnapshotTask = v.InferOutput<typeof SnapshotTaskSchema>;
export type SnapshotTake = v.InferOutput<typeof SnapshotTakeSchema>;
export type SnapshotAgent = v.InferOutput<typeof SnapshotAgentSchema>;
export type CompositePrompt = v.InferOutput<typeof CompositePromptSchema>;

export function isInboundType(type: string): type is InboundType {
  return Object.prototype.hasOwnProperty.call(INBOUND_SCHEMAS, type);
}
