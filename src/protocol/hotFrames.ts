/**
 * Hand-written validators for the frame types that make up nearly all traffic (on a busy canvas
 * task.progress is ~45% of frames, the agent frames ~45%, node and generation frames most of the
 * rest).
 *
 * Why not only ./compileSchema.ts: there one object loop reads and writes `input[key]` for every
 * type, and each field is a closure call, so V8 can neither cache the property accesses per type
 * nor inline the field checks. Here each type has its own function, with `i.task_id`-style
 * access and calls to the plain field functions of ./fastFields.ts: about 3x faster.
 *
 * Only the shape is written by hand. Each validator comes with a spec naming, for every field
 * after the envelope, the field schema of ./fields.ts it stands for (opt() for an optional one).
 * hotValidator checks the spec against the frame's schema (same keys in the same order, each
 * the same schema object, optional where the schema says so) and returns undefined when they
 * differ: a schema edited without this file falls back to the generic path, still correct.
 * fastParse.test.ts checks that every validator here is in use and agrees with valibot.
 *
 * Same contract as compileSchema: the valibot output, or INVALID. One case is left to the
 * generic path: a declared key present with the value undefined (only an object input can have
 * one), which valibot keeps as an own key.
 *
 * One line per field, each storing the field's parsed value and giving up on INVALID (the
 * half-built output is then dropped):
 * - required: `(o.key = fast(i.key)) === INVALID`; a missing key reads as undefined, which the
 *   field function refuses (hotValidator checks that it does);
 * - optional: `(v = i.key) !== undefined ? (o.key = fast(v)) === INVALID : 'key' in i`: parsed
 *   when there, skipped when absent, left to the generic path when present but undefined.
 */
import { INVALID, type CompiledSchema } from './compileSchema.js';
import {
  agent,
  amount,
  celeryState,
  count,
  FAST_FIELDS,
  id,
  json,
  nodeStatus,
  percent,
  shortText,
  takeList,
  text,
  timestamp,
  url,
} from './fastFields.js';
import { Agent, Amount, CeleryState, Count, IdSchema, Json, NodeStatus, Percent, ShortText, TakeList, Text, Timestamp, Url } from './fields.js';
import {
  AgentAssignedSchema,
  AgentCompletedSchema,
  AgentHandoffSchema,
  AgentProgressSchema,
  GenerationCompletedSchema,
  GenerationErrorSchema,
  GenerationStartedSchema,
  NodeStateChangedSchema,
  TaskProgressSchema,
  type InboundType,
} from './inbound.js';

type In = Record<string, unknown>;
type Out = Record<string, unknown>;

/** A spec entry: the field schema, wrapped in opt() when the frame declares it optional. */
type Spec = Record<string, unknown>;
class Optional {
  constructor(readonly schema: unknown) {}
}

function opt(schema: unknown): Optional {
  return new Optional(schema);
}

interface HotFrame {
  schema: { entries: Record<string, unknown> };
  spec: Spec;
  run: (input: In) => unknown;
}

function hot(schema: HotFrame['schema'], spec: Spec, run: HotFrame['run']): HotFrame {
  return { schema, spec, run };
}

/** Every frame starts with `type` and the envelope fields. */
const ENVELOPE: Spec = { timestamp: opt(Timestamp), seq: opt(Count), project_id: opt(IdSchema) };

// prettier-ignore
const HOT_FRAMES: Partial<Record<InboundType, HotFrame>> = {
  'task.progress': hot(TaskProgressSchema, { task_id: IdSchema, state: CeleryState, progress: opt(Percent), message: opt(Text), result: opt(Json), node_id: opt(IdSchema), step: opt(ShortText), total_steps: opt(Count), current_step: opt(Count) }, (i) => {
    if (i.type !== 'task.progress') return INVALID;
    const o: Out = { type: 'task.progress' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((o.state = celeryState(i.state)) === INVALID) return INVALID;
    if ((v = i.progress) !== undefined ? (o.progress = percent(v)) === INVALID : 'progress' in i) return INVALID;
    if ((v = i.message) !== undefined ? (o.message = text(v)) === INVALID : 'message' in i) return INVALID;
    if ((v = i.result) !== undefined ? (o.result = json(v)) === INVALID : 'result' in i) return INVALID;
    if ((v = i.node_id) !== undefined ? (o.node_id = id(v)) === INVALID : 'node_id' in i) return INVALID;
    if ((v = i.step) !== undefined ? (o.step = shortText(v)) === INVALID : 'step' in i) return INVALID;
    if ((v = i.total_steps) !== undefined ? (o.total_steps = count(v)) === INVALID : 'total_steps' in i) return INVALID;
    if ((v = i.current_step) !== undefined ? (o.current_step = count(v)) === INVALID : 'current_step' in i) return INVALID;
    return o;
  }),
  'agent.progress': hot(AgentProgressSchema, { agent_type: Agent, task_id: IdSchema, progress: Percent, current_step: opt(ShortText), vram_usage: opt(Amount), node_id: opt(IdSchema) }, (i) => {
    if (i.type !== 'agent.progress') return INVALID;
    const o: Out = { type: 'agent.progress' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.agent_type = agent(i.agent_type)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((o.progress = percent(i.progress)) === INVALID) return INVALID;
    if ((v = i.current_step) !== undefined ? (o.current_step = shortText(v)) === INVALID : 'current_step' in i) return INVALID;
    if ((v = i.vram_usage) !== undefined ? (o.vram_usage = amount(v)) === INVALID : 'vram_usage' in i) return INVALID;
    if ((v = i.node_id) !== undefined ? (o.node_id = id(v)) === INVALID : 'node_id' in i) return INVALID;
    return o;
  }),
  'agent.completed': hot(AgentCompletedSchema, { agent_type: Agent, task_id: IdSchema, output: opt(Json), handoff_to: opt(Agent), node_id: opt(IdSchema) }, (i) => {
    if (i.type !== 'agent.completed') return INVALID;
    const o: Out = { type: 'agent.completed' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.agent_type = agent(i.agent_type)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((v = i.output) !== undefined ? (o.output = json(v)) === INVALID : 'output' in i) return INVALID;
    if ((v = i.handoff_to) !== undefined ? (o.handoff_to = agent(v)) === INVALID : 'handoff_to' in i) return INVALID;
    if ((v = i.node_id) !== undefined ? (o.node_id = id(v)) === INVALID : 'node_id' in i) return INVALID;
    return o;
  }),
  'agent.assigned': hot(AgentAssignedSchema, { agent_type: Agent, task_id: IdSchema, task_description: Text, estimated_duration: opt(Amount), node_id: opt(IdSchema) }, (i) => {
    if (i.type !== 'agent.assigned') return INVALID;
    const o: Out = { type: 'agent.assigned' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.agent_type = agent(i.agent_type)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((o.task_description = text(i.task_description)) === INVALID) return INVALID;
    if ((v = i.estimated_duration) !== undefined ? (o.estimated_duration = amount(v)) === INVALID : 'estimated_duration' in i) return INVALID;
    if ((v = i.node_id) !== undefined ? (o.node_id = id(v)) === INVALID : 'node_id' in i) return INVALID;
    return o;
  }),
  'agent.handoff': hot(AgentHandoffSchema, { from_agent: Agent, to_agent: Agent, task_id: IdSchema, node_id: opt(IdSchema), notes: opt(Text) }, (i) => {
    if (i.type !== 'agent.handoff') return INVALID;
    const o: Out = { type: 'agent.handoff' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.from_agent = agent(i.from_agent)) === INVALID) return INVALID;
    if ((o.to_agent = agent(i.to_agent)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((v = i.node_id) !== undefined ? (o.node_id = id(v)) === INVALID : 'node_id' in i) return INVALID;
    if ((v = i.notes) !== undefined ? (o.notes = text(v)) === INVALID : 'notes' in i) return INVALID;
    return o;
  }),
  'node.state_changed': hot(NodeStateChangedSchema, { node_id: IdSchema, status: NodeStatus, progress: opt(Percent), message: opt(Text), error: opt(Text), output_path: opt(Url), thumbnail: opt(Url), takes: opt(TakeList), current_take: opt(Count), task_id: opt(IdSchema), scene_id: opt(IdSchema), shot_id: opt(IdSchema), emotional_beat: opt(ShortText), assigned_agent: opt(Agent) }, (i) => {
    if (i.type !== 'node.state_changed') return INVALID;
    const o: Out = { type: 'node.state_changed' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.node_id = id(i.node_id)) === INVALID) return INVALID;
    if ((o.status = nodeStatus(i.status)) === INVALID) return INVALID;
    if ((v = i.progress) !== undefined ? (o.progress = percent(v)) === INVALID : 'progress' in i) return INVALID;
    if ((v = i.message) !== undefined ? (o.message = text(v)) === INVALID : 'message' in i) return INVALID;
    if ((v = i.error) !== undefined ? (o.error = text(v)) === INVALID : 'error' in i) return INVALID;
    if ((v = i.output_path) !== undefined ? (o.output_path = url(v)) === INVALID : 'output_path' in i) return INVALID;
    if ((v = i.thumbnail) !== undefined ? (o.thumbnail = url(v)) === INVALID : 'thumbnail' in i) return INVALID;
    if ((v = i.takes) !== undefined ? (o.takes = takeList(v)) === INVALID : 'takes' in i) return INVALID;
    if ((v = i.current_take) !== undefined ? (o.current_take = count(v)) === INVALID : 'current_take' in i) return INVALID;
    if ((v = i.task_id) !== undefined ? (o.task_id = id(v)) === INVALID : 'task_id' in i) return INVALID;
    if ((v = i.scene_id) !== undefined ? (o.scene_id = id(v)) === INVALID : 'scene_id' in i) return INVALID;
    if ((v = i.shot_id) !== undefined ? (o.shot_id = id(v)) === INVALID : 'shot_id' in i) return INVALID;
    if ((v = i.emotional_beat) !== undefined ? (o.emotional_beat = shortText(v)) === INVALID : 'emotional_beat' in i) return INVALID;
    if ((v = i.assigned_agent) !== undefined ? (o.assigned_agent = agent(v)) === INVALID : 'assigned_agent' in i) return INVALID;
    return o;
  }),
  'generation.started': hot(GenerationStartedSchema, { node_id: IdSchema, task_id: IdSchema, command_id: opt(IdSchema), scene_id: opt(IdSchema), shot_id: opt(IdSchema), emotional_beat: opt(ShortText) }, (i) => {
    if (i.type !== 'generation.started') return INVALID;
    const o: Out = { type: 'generation.started' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.node_id = id(i.node_id)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((v = i.command_id) !== undefined ? (o.command_id = id(v)) === INVALID : 'command_id' in i) return INVALID;
    if ((v = i.scene_id) !== undefined ? (o.scene_id = id(v)) === INVALID : 'scene_id' in i) return INVALID;
    if ((v = i.shot_id) !== undefined ? (o.shot_id = id(v)) === INVALID : 'shot_id' in i) return INVALID;
    if ((v = i.emotional_beat) !== undefined ? (o.emotional_beat = shortText(v)) === INVALID : 'emotional_beat' in i) return INVALID;
    return o;
  }),
  'generation.completed': hot(GenerationCompletedSchema, { node_id: IdSchema, task_id: IdSchema, output_path: Url, thumbnail: opt(Url), takes: opt(TakeList) }, (i) => {
    if (i.type !== 'generation.completed') return INVALID;
    const o: Out = { type: 'generation.completed' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.node_id = id(i.node_id)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((o.output_path = url(i.output_path)) === INVALID) return INVALID;
    if ((v = i.thumbnail) !== undefined ? (o.thumbnail = url(v)) === INVALID : 'thumbnail' in i) return INVALID;
    if ((v = i.takes) !== undefined ? (o.takes = takeList(v)) === INVALID : 'takes' in i) return INVALID;
    return o;
  }),
  'generation.error': hot(GenerationErrorSchema, { node_id: IdSchema, task_id: IdSchema, error: Text, message: opt(Text) }, (i) => {
    if (i.type !== 'generation.error') return INVALID;
    const o: Out = { type: 'generation.error' };
    let v: unknown;
    if ((v = i.timestamp) !== undefined ? (o.timestamp = timestamp(v)) === INVALID : 'timestamp' in i) return INVALID;
    if ((v = i.seq) !== undefined ? (o.seq = count(v)) === INVALID : 'seq' in i) return INVALID;
    if ((v = i.project_id) !== undefined ? (o.project_id = id(v)) === INVALID : 'project_id' in i) return INVALID;
    if ((o.node_id = id(i.node_id)) === INVALID) return INVALID;
    if ((o.task_id = id(i.task_id)) === INVALID) return INVALID;
    if ((o.error = text(i.error)) === INVALID) return INVALID;
    if ((v = i.message) !== undefined ? (o.message = text(v)) === INVALID : 'message' in i) return INVALID;
    return o;
  }),
};

/** The hand-written validator of `type`, if it has one that still matches its schema. */
export function hotValidator(type: InboundType): CompiledSchema | undefined {
  const frame = HOT_FRAMES[type];
  if (!frame || !matchesSchema(frame)) return undefined;
  const run = frame.run;
  return (input) => (typeof input === 'object' && input !== null ? run(input as In) : INVALID);
}

interface Entry {
  type: string;
  wrapped?: unknown;
  default?: unknown;
  pipe?: unknown;
}

function matchesSchema(frame: HotFrame): boolean {
  const spec: Spec = { ...ENVELOPE, ...frame.spec };
  const entries = frame.schema.entries as Record<string, Entry>;
  if (Object.keys(entries).join() !== ['type', ...Object.keys(spec)].join()) return false;
  return Object.keys(spec).every((key) => {
    const entry = entries[key]!;
    const field = spec[key];
    // A bare optional (no default, no pipe of its own), whose job the validator does itself.
    const optional = entry.type === 'optional' && entry.default === undefined && !entry.pipe;
    const schema = optional ? entry.wrapped : entry;
    const expected = field instanceof Optional ? field.schema : field;
    const fast = FAST_FIELDS.find(([known]) => known === schema)?.[1];
    if (optional !== field instanceof Optional || schema !== expected || !fast) return false;
    // A required key that is missing must fail, as in valibot's object().
    return optional || fast(undefined) === INVALID;
  });
}
