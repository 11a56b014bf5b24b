/**
 * parseFrame: the single entry point for inbound data. It never throws; anything it cannot
 * accept comes back as a typed rejection with a reason, which the store records as a visible
 * `frames/rejected` action instead of letting it reach a reducer.
 */
import * as v from 'valibot';
import { compileSchema, INVALID, type CompiledSchema } from './compileSchema.js';
import { hotValidator } from './hotFrames.js';
import { INBOUND_SCHEMAS, INBOUND_TYPES, type InboundFrame, type InboundType } from './inbound.js';
import { describeIssues } from './outbound.js';

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export type RejectReason =
  | 'too_large'
  | 'not_text'
  | 'not_json'
  | 'not_object'
  | 'missing_type'
  | 'invalid_type'
  | 'invalid_fields';

/** A frame whose `type` this client does not know: kept for listeners, never reduced. */
export interface UnknownFrame {
  type: string;
  [key: string]: unknown;
}

export type ParseResult =
  | { ok: true; kind: 'event'; frame: InboundFrame }
  | { ok: true; kind: 'unknown'; frame: UnknownFrame }
  | { ok: false; reason: RejectReason; detail: string; type?: string };

export interface ParseOptions {
  /** Frames larger than this many bytes (UTF-8) are rejected unparsed. Default 1 MiB. */
  maxBytes?: number;
}

const TYPE_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$/;
// fatal: bytes that are not valid UTF-8 are refused (not_text) instead of decoded to U+FFFD.
const decoder = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });
const encoder = /* @__PURE__ */ new TextEncoder();

function utf8Length(text: string, limit: number): number {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: only measure when it could matter.
  if (text.length * 3 <= limit) return text.length;
  // Each unit is at least one byte: already over, no need to encode a huge string to know it.
  if (text.length > limit) return text.length;
  return encoder.encode(text).length;
}

/**
 * Parses one inbound frame: a JSON string, bytes (ArrayBuffer or a typed array), or an already
 * parsed object (recorded logs).
 */
export function parseFrame(raw: unknown, options: ParseOptions = {}): ParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  let data: unknown = raw;

  if (typeof raw !== 'string' && (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw))) {
    const bytes = raw instanceof ArrayBuffer ? raw.byteLength : raw.byteLength;
    if (bytes > maxBytes) return tooLarge(bytes, maxBytes);
    try {
      data = decoder.decode(raw as ArrayBuffer);
    } catch {
      return { ok: false, reason: 'not_text', detail: 'binary frame is not UTF-8 text' };
    }
  }

  if (typeof data === 'string') {
    const bytes = utf8Length(data, maxBytes);
    if (bytes > maxBytes) return tooLarge(bytes, maxBytes);
    try {
      data = JSON.parse(data);
    } catch (error) {
      return { ok: false, reason: 'not_json', detail: (error as Error).message.slice(0, 200) };
    }
  } else if (data === null || typeof data !== 'object') {
    return { ok: false, reason: 'not_text', detail: `frame is a ${data === null ? 'null' : typeof data}` };
  }

  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, reason: 'not_object', detail: 'frame is not a JSON object' };
  }

  const type = (data as { type?: unknown }).type;
  if (type === undefined) return { ok: false, reason: 'missing_type', detail: 'frame has no type' };
  if (typeof type !== 'string') return invalidType();
  // Every known type matches the pattern (fastParse.test.ts): only an unknown name needs the regex.
  const known = knownType(type);
  if (known === undefined) {
    if (type.length > 100 || !TYPE_PATTERN.test(type)) return invalidType();
    return { ok: true, kind: 'unknown', frame: data as UnknownFrame };
  }

  const fast = validate(known, data);
  if (fast !== INVALID) return { ok: true, kind: 'event', frame: fast as InboundFrame };

  // Refused by the fast path: valibot decides (the same way), and says why.
  const result = v.safeParse(INBOUND_SCHEMAS[known.type], data);
  if (!result.success) {
    return { ok: false, reason: 'invalid_fields', detail: describeIssues(result.issues), type };
  }
  return { ok: true, kind: 'event', frame: result.output as InboundFrame };
}

interface KnownType {
  type: InboundType;
  /** The fast validator, made on first use (most apps never see half the types); null: none. */
  run?: CompiledSchema | null;
}

let knownTypes: Array<KnownType[] | undefined> | undefined;

/**
 * Answers both "is it an inbound type?" and "with which validator?". Not a Map: JSON.parse makes
 * a new string for every frame's type, and Map.get would hash it (~70 ns). The names are grouped
 * by length instead, and comparing with the two or three names of the same length is a few ns.
 */
function knownType(type: string): KnownType | undefined {
  knownTypes ??= groupByLength(INBOUND_TYPES);
  const candidates = knownTypes[type.length];
  if (candidates === undefined) return undefined;
  for (const known of candidates) if (known.type === type) return known;
  return undefined;
}

function groupByLength(types: readonly InboundType[]): Array<KnownType[] | undefined> {
  const groups: Array<KnownType[] | undefined> = [];
  for (const type of types) (groups[type.length] ??= []).push({ type });
  return groups;
}

/**
 * The fast path: the schema's output, or INVALID. Hand-written for the busiest types
 * (./hotFrames.ts), compiled from the schema for the others (./compileSchema.ts). Either only
 * accepts what valibot accepts, with the same output; anything unexpected (a getter that throws
 * on an object input) sends the frame to valibot too.
 */
function validate(known: KnownType, data: unknown): unknown {
  let run = known.run;
  if (run === undefined) run = known.run = hotValidator(known.type) ?? compileSchema(INBOUND_SCHEMAS[known.type]) ?? null;
  if (run === null) return INVALID;
  try {
    return run(data);
  } catch {
    return INVALID;
  }
}

function invalidType(): ParseResult {
  return { ok: false, reason: 'invalid_type', detail: 'type must be a dotted lower-case name' };
}

function tooLarge(bytes: number, maxBytes: number): ParseResult {
  return { ok: false, reason: 'too_large', detail: `${bytes} bytes exceeds the ${maxBytes}-byte limit` };
}
