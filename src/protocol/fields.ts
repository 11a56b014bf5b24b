/**
 * The field schemas inbound frames are made of (./inbound.ts puts them together).
 *
 * They live in their own module so that the hand-written fast path (./hotFrames.ts) can name
 * the very schema objects each of its fields stands for, and check at start-up that a frame's
 * schema still uses them (./fastFields.ts pairs each with its fast equivalent). The public ones
 * (IdSchema, TakeSchema, CompositePromptSchema) are re-exported by ./inbound.ts.
 */
import * as v from 'valibot';
import { AGENT_TYPES, CELERY_STATES, QUALITY_PRESETS, WIRE_NODE_STATUSES } from './vocabulary.js';
import { isBoundedJson, isSafeKey, safeUrlOrUndefined, stripProtoKeys } from './safety.js';

export const MAX_TEXT_LENGTH = 10_000;
export const MAX_SHORT_TEXT_LENGTH = 1_000;
export const MAX_TIMESTAMP_LENGTH = 64;

/** An id used as an entity key: non-empty, bounded, and never a name Object.prototype owns. */
export const IdSchema = v.pipe(
  v.string(),
  v.check(isSafeKey, 'id must be 1-256 characters and not a reserved object key'),
);

/** Free text from the backend (messages, step descriptions). Rendered as text, never as HTML. */
export const Text = v.pipe(v.string(), v.maxLength(MAX_TEXT_LENGTH));
export const ShortText = v.pipe(v.string(), v.maxLength(MAX_SHORT_TEXT_LENGTH));
export const Timestamp = v.pipe(v.string(), v.maxLength(MAX_TIMESTAMP_LENGTH));
export const Percent = v.pipe(v.number(), v.finite());
/**
 * An integer >= 0 that a number holds exactly: above 2^53 - 1 neighbouring integers share one
 * number, so a seq there would swallow the next frames as duplicates.
 */
export const Count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
/** A finite amount that cannot be negative (durations, GB of memory). */
export const Amount = v.pipe(v.number(), v.finite(), v.minValue(0));

export const Agent = v.picklist(AGENT_TYPES);
export const CeleryState = v.picklist(CELERY_STATES);
export const NodeStatus = v.picklist(WIRE_NODE_STATUSES);

/** A URL that is kept only when safe (http, https, relative, blob, data:image); else dropped. */
export const Url = v.pipe(v.string(), v.transform((url: string) => safeUrlOrUndefined(url)));

/** Free-form JSON data (task results, agent output, metadata), bounded in depth. */
export const Json = v.pipe(
  v.unknown(),
  v.check(isBoundedJson, 'value nests too deeply'),
  v.transform((value: unknown) => stripProtoKeys(value)),
);
export const JsonObject = v.pipe(
  // v.record alone takes an array and turns [1, 2] into {"0": 1, "1": 2}: refuse arrays first.
  v.unknown(),
  v.check((value: unknown) => !Array.isArray(value), 'Invalid type: Expected Object but received Array'),
  v.record(ShortText, v.unknown()),
  v.check((value: Record<string, unknown>) => isBoundedJson(value), 'value nests too deeply'),
  v.transform((value: Record<string, unknown>) => stripProtoKeys(value)),
);

export const StringList = v.pipe(v.array(ShortText), v.maxLength(1_000));
export const IdList = v.pipe(v.array(IdSchema), v.maxLength(1_000));

export const CompositePromptSchema = v.object({
  base_prompt: Text,
  character_refs: v.optional(IdList, []),
  style_refs: v.optional(IdList, []),
  location_ref: v.optional(IdSchema),
  emotional_keywords: v.optional(StringList, []),
  agent_notes: v.optional(v.record(Agent, Text)),
});

export const TakeSchema = v.object({
  id: IdSchema,
  take_number: v.pipe(v.number(), v.integer(), v.minValue(1)),
  path: Url,
  thumbnail: v.optional(Url),
  created_at: Timestamp,
  scene_id: v.optional(IdSchema),
  shot_id: v.optional(IdSchema),
  quality_preset: v.optional(v.picklist(QUALITY_PRESETS)),
  composite_prompt: v.optional(CompositePromptSchema),
  /** Free-form metadata; must be JSON data (it came from JSON.parse). */
  metadata: v.optional(JsonObject),
  /** Emotional beat the take was produced for (links takes to narrative beats). */
  emotional_beat: v.optional(ShortText),
});

export const TakeList = v.pipe(v.array(TakeSchema), v.maxLength(500));
