/**
 * Frames the client sends to the backend (Direction: client -> server).
 *
 * Every outbound frame is built from typed values and checked against its schema before it is
 * serialized, so no user input (prompt text, ids) can produce an invalid frame or smuggle in
 * another frame: JSON.stringify escapes text, and ids are checked like inbound ids.
 */
import * as v from 'valibot';
import { IdSchema } from './inbound.js';
import { isBoundedJson } from './safety.js';

const Timestamp = v.pipe(v.string(), v.maxLength(64));
const Seq = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const CommandId = IdSchema;

export const OutSessionInitSchema = v.object({
  type: v.literal('session.init'),
  session_id: IdSchema,
  reconnect: v.boolean(),
  resume_token: v.optional(v.pipe(v.string(), v.maxLength(512))),
  /** Last seq applied per project, so the backend can replay what was missed. */
  last_seq: v.optional(v.record(IdSchema, Seq)),
  timestamp: v.optional(Timestamp),
});

export const OutSubscribeSchema = v.object({
  type: v.literal('subscribe'),
  project_id: IdSchema,
  /** Replay events after this seq (only to a backend that announced `replay`). */
  last_seq: v.optional(Seq),
});

export const OutUnsubscribeSchema = v.object({
  type: v.literal('unsubscribe'),
  project_id: IdSchema,
});

export const OutPingSchema = v.object({
  type: v.literal('ping'),
  timestamp: v.optional(Timestamp),
});

/** Filmmaking context that travels with a generation request. */
export const GenerationContextSchema = v.object({
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  emotional_beat: v.optional(v.pipe(v.string(), v.maxLength(1_000))),
  character_refs: v.optional(v.pipe(v.array(IdSchema), v.maxLength(1_000))),
  style_refs: v.optional(v.pipe(v.array(IdSchema), v.maxLength(1_000))),
  location_ref: v.optional(IdSchema),
});

/**
 * Generation parameters. The text-to-image fields are typed; other node kinds may add their
 * own JSON-valued parameters.
 */
export const GenerationParamsSchema = v.pipe(
  v.looseObject({
    prompt: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
    negative_prompt: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
    width: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16_384))),
    height: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16_384))),
    steps: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000))),
    cfg_scale: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100))),
    seed: v.optional(v.pipe(v.number(), v.integer())),
  }),
  v.check((params: Record<string, unknown>) => isBoundedJson(params), 'params nest too deeply'),
);

export const OutStartGenerationSchema = v.object({
  type: v.literal('start_generation'),
  node_id: IdSchema,
  params: GenerationParamsSchema,
  context: v.optional(GenerationContextSchema),
  project_id: v.optional(IdSchema),
  /** Client-made id; a backend that acks dedupes retries by it. */
  command_id: v.optional(CommandId),
  timestamp: Timestamp,
});

export const OutCancelGenerationSchema = v.object({
  type: v.literal('cancel_generation'),
  node_id: IdSchema,
  task_id: v.optional(IdSchema),
  project_id: v.optional(IdSchema),
  command_id: v.optional(CommandId),
  timestamp: Timestamp,
});

/** Most task ids one query_tasks may carry; more go in several frames. */
export const MAX_QUERY_TASK_IDS = 100;

/** Extension (`task_status`): asks the current state of the tasks the client shows running. */
export const OutQueryTasksSchema = v.object({
  type: v.literal('query_tasks'),
  // v.check, not v.minLength: the same rule without one more valibot action in the bundle.
  task_ids: v.pipe(
    v.array(IdSchema),
    v.check((ids: string[]) => ids.length > 0, 'at least one task id'),
    v.maxLength(MAX_QUERY_TASK_IDS),
  ),
  project_id: v.optional(IdSchema),
  timestamp: Timestamp,
});

export const OUTBOUND_SCHEMAS = {
  'session.init': OutSessionInitSchema,
  subscribe: OutSubscribeSchema,
  unsubscribe: OutUnsubscribeSchema,
  ping: OutPingSchema,
  start_generation: OutStartGenerationSchema,
  cancel_generation: OutCancelGenerationSchema,
  query_tasks: OutQueryTasksSchema,
} as const;

type OutSchemas = typeof OUTBOUND_SCHEMAS;
export type OutboundType = keyof OutSchemas;
export const OUTBOUND_TYPES = Object.keys(OUTBOUND_SCHEMAS) as OutboundType[];
export type OutboundFrameOf<T extends OutboundType> = v.InferOutput<OutSchemas[T]>;
export type OutboundFrame = { [T in OutboundType]: OutboundFrameOf<T> }[OutboundType];

export type GenerationParams = v.InferInput<typeof GenerationParamsSchema>;
export type GenerationContext = v.InferInput<typeof GenerationContextSchema>;

export type EncodeResult = { ok: true; data: string } | { ok: false; reason: string };

/**
 * Validates an outbound frame and serializes it. Never throws: a frame that does not match its
 * schema comes back as `{ ok: false, reason }` so the caller can surface it.
 */
export function encodeFrame(frame: OutboundFrame): EncodeResult {
  const type = (frame as { type?: unknown } | null | undefined)?.type;
  // Own keys only: `constructor`, `toString`, `__proto__` must not find Object.prototype's members.
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(OUTBOUND_SCHEMAS, type)) {
    return { ok: false, reason: `unknown outbound type ${String(type).slice(0, 100)}` };
  }
  const schema = (OUTBOUND_SCHEMAS as Record<string, v.GenericSchema>)[type]!;
  try {
    const result = v.safeParse(schema, frame);
    if (!result.success) return { ok: false, reason: describeIssues(result.issues) };
    // Extra params are free-form: a BigInt or a throwing toJSON must not escape as an exception.
    return { ok: true, data: JSON.stringify(result.output) };
  } catch (error) {
    return { ok: false, reason: `frame cannot be serialized: ${String((error as Error)?.message ?? error).slice(0, 200)}` };
  }
}

/** One line per issue: `path: message`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
