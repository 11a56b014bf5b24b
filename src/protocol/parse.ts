/**
 * parseFrame: the single entry point for inbound data. It never throws; anything it cannot
 * accept comes back as a typed rejection with a reason, which the store records as a visible
 * `frames/rejected` action instead of letting it reach a reducer.
 */
import * as v from 'valibot';
import { INBOUND_SCHEMAS, isInboundType, type InboundFrame } from './inbound.js';
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

  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
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
  if (typeof type !== 'string' || type.length > 100 || !TYPE_PATTERN.test(type)) {
    return { ok: false, reason: 'invalid_type', detail: 'type must be a dotted lower-case name' };
  }

  if (!isInboundType(type)) {
    return { ok: true, kind: 'unknown', frame: data as UnknownFrame };
  }

  const result = v.safeParse(INBOUND_SCHEMAS[type], data);
  if (!result.success) {
    return { ok: false, reason: 'invalid_fields', detail: describeIssues(result.issues), type };
  }
  return { ok: true, kind: 'event', frame: result.output as InboundFrame };
}

function tooLarge(bytes: number, maxBytes: number): ParseResult {
  return { ok: false, reason: 'too_large', detail: `${bytes} bytes exceeds the ${maxBytes}-byte limit` };
}
