/**
 * The line format of a recording (the store's `record` option): one inbound frame per JSONL line,
 * exactly as it arrived, with the time it arrived. Written by src/middleware/recorder.ts, read by
 * replayFrames (src/replay), so that a recorded session replays into the state the live store had.
 *
 *   {"received_at":1767225600123,"frame":{"type":"task.progress",...}}   JSON text, as sent
 *   {"received_at":1767225600124,"text":"{\"type\":\"task.prog"}          any other text
 *   {"received_at":1767225600125,"base64":"eyJ0eXBlIjoi..."}              a binary frame's bytes
 *
 * `frame` is used only when the text is the compact JSON of its value (what JSON.stringify
 * gives, and what the reference gateway sends): the replay then feeds the very same text back.
 * Anything else (not JSON, other spacing, a frame too large) keeps its text as a string, so a
 * rejected frame is rejected again for the same reason.
 */

export interface RecordedArrival {
  /** What the socket delivered: text, or bytes for a binary frame. */
  data: string | Uint8Array;
  /** Receive time in epoch ms, as the store stamped it. */
  receivedAt: number;
}

/** The JSONL line (without newline) for one frame. */
export function encodeRecordedLine(data: unknown, receivedAt: number): string {
  const head = `{"received_at":${JSON.stringify(receivedAt)},`;
  if (typeof data === 'string') {
    if (isCompactJson(data)) return `${head}"frame":${data}}`;
    return `${head}"text":${JSON.stringify(data)}}`;
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return `${head}"base64":"${toBase64(bytes)}"}`;
  }
  // Not something a WebSocket delivers with binaryType 'arraybuffer': kept as its description.
  return `${head}"text":${JSON.stringify(String(data))}}`;
}

function isCompactJson(text: string): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const PREFIX = '{"received_at":';

/**
 * The arrival a recorded line stands for, or undefined when `line` is not one (a plain frame).
 * Takes the line as text or already parsed.
 */
export function decodeRecordedLine(line: unknown): RecordedArrival | undefined {
  let value: unknown = line;
  if (typeof line === 'string') {
    if (!line.startsWith(PREFIX)) return undefined;
    try {
      value = JSON.parse(line);
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  try {
    return arrivalOf(value as Record<string, unknown>);
  } catch {
    return undefined; // a getter or a proxy that throws: not a recorded line (replay rejects it)
  }
}

function arrivalOf(record: Record<string, unknown>): RecordedArrival | undefined {
  const receivedAt = record.received_at;
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt) || 'type' in record) return undefined;
  if ('frame' in record) {
    const text = JSON.stringify(record.frame);
    return text === undefined ? undefined : { data: text, receivedAt };
  }
  if (typeof record.text === 'string') return { data: record.text, receivedAt };
  if (typeof record.base64 === 'string') {
    const bytes = fromBase64(record.base64);
    return bytes && { data: bytes, receivedAt };
  }
  return undefined;
}

// btoa/atob exist in browsers and Node >= 16; they work on "binary strings" (one char per byte).
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}
