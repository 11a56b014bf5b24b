/**
 * Fast equivalents of the field schemas in ./fields.ts, for the hand-written frame validators
 * (./hotFrames.ts). Each takes a value and returns what `v.safeParse(schema, value).output` would
 * be, or INVALID. Plain module functions, because V8 inlines them where the frame validators
 * call them; calling compiled closures (./compileSchema.ts) there instead made task.progress
 * about twice as slow.
 *
 * FAST_FIELDS pairs each with its schema; fastParse.test.ts checks every pair against valibot.
 */
import { compileSchema, INVALID, type CompiledSchema } from './compileSchema.js';
import {
  Agent,
  Amount,
  CeleryState,
  Count,
  IdSchema,
  Json,
  MAX_SHORT_TEXT_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TIMESTAMP_LENGTH,
  NodeStatus,
  Percent,
  ShortText,
  TakeList,
  Text,
  Timestamp,
  Url,
} from './fields.js';
import { isBoundedJson, isSafeKey, safeUrlOrUndefined, stripProtoKeys } from './safety.js';
import { AGENT_TYPES, CELERY_STATES, WIRE_NODE_STATUSES } from './vocabulary.js';

type Value = unknown;

export function id(value: Value): Value {
  return typeof value === 'string' && isSafeKey(value) ? value : INVALID;
}

export function text(value: Value): Value {
  return typeof value === 'string' && value.length <= MAX_TEXT_LENGTH ? value : INVALID;
}

export function shortText(value: Value): Value {
  return typeof value === 'string' && value.length <= MAX_SHORT_TEXT_LENGTH ? value : INVALID;
}

export function timestamp(value: Value): Value {
  return typeof value === 'string' && value.length <= MAX_TIMESTAMP_LENGTH ? value : INVALID;
}

// Number.isFinite and Number.isInteger are false for NaN, which valibot's number() refuses.
export function percent(value: Value): Value {
  return Number.isFinite(value) ? value : INVALID;
}

export function count(value: Value): Value {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? value : INVALID;
}

export function amount(value: Value): Value {
  return Number.isFinite(value) && (value as number) >= 0 ? value : INVALID;
}

// includes() compares like valibot's picklist (SameValueZero); the lists are short.
export function agent(value: Value): Value {
  return (AGENT_TYPES as readonly unknown[]).includes(value) ? value : INVALID;
}

export function celeryState(value: Value): Value {
  return (CELERY_STATES as readonly unknown[]).includes(value) ? value : INVALID;
}

export function nodeStatus(value: Value): Value {
  return (WIRE_NODE_STATUSES as readonly unknown[]).includes(value) ? value : INVALID;
}

/** The safe URL, or undefined when unsafe (the frame is still accepted). */
export function url(value: Value): Value {
  return typeof value === 'string' ? safeUrlOrUndefined(value) : INVALID;
}

export function json(value: Value): Value {
  return isBoundedJson(value) ? stripProtoKeys(value) : INVALID;
}

let compiledTakes: CompiledSchema | null | undefined;

/** Takes are rare (one per finished generation) and nested: the compiled schema is fine. */
export function takeList(value: Value): Value {
  if (compiledTakes === undefined) compiledTakes = compileSchema(TakeList) ?? null;
  // null (not compilable) cannot happen with today's TakeList; the caller would use valibot.
  return compiledTakes === null ? INVALID : compiledTakes(value);
}

/** Each fast function with the schema it stands for. */
export const FAST_FIELDS: ReadonlyArray<readonly [schema: unknown, fast: (value: Value) => Value]> = [
  [IdSchema, id],
  [Text, text],
  [ShortText, shortText],
  [Timestamp, timestamp],
  [Percent, percent],
  [Count, count],
  [Amount, amount],
  [Agent, agent],
  [CeleryState, celeryState],
  [NodeStatus, nodeStatus],
  [Url, url],
  [Json, json],
  [TakeList, takeList],
];
