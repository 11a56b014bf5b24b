/**
 * A frame recorder, given to a store as its `recorder` option: the last inbound frames, as they
 * arrived, with their receive times, for a bug report or a test (`recorder.toJSONL()`, then
 * `replayFrames` or `canvas-realtime replay`). Line format: src/protocol/recordedLine.ts.
 * Created by the application, not by the store, so that an application that records nothing
 * ships none of it (the core bundle's budget, test/bench/bundle.test.ts).
 *
 * The socket middleware hands it each frame's raw data with the receive time it reduces the frame
 * with (its `onFrame` hook), so a replay gives the same state, not one a clock read a microsecond
 * later. Every frame is recorded, rejected, unknown and duplicate ones included.
 *
 * Bounded: at most `maxFrames` frames and `maxChars` characters of frame data (bytes count one
 * each); the oldest go first, and are counted in `evicted`. The newest frame is always kept.
 */
import { encodeRecordedLine } from '../protocol/recordedLine.js';

export interface FrameRecorderOptions {
  /** Frames kept, newest last. Default 1,000. */
  maxFrames?: number;
  /** Characters of frame data kept (a binary frame counts its bytes). Default 4,000,000. */
  maxChars?: number;
}

export interface FrameRecorder {
  /** The recording, oldest frame first, one JSONL line per frame (empty when none). */
  toJSONL(): string;
  /** Frames held now. */
  readonly size: number;
  /** Frames dropped to stay within the bounds (since creation or the last clear()). */
  readonly evicted: number;
  /** Forgets every recorded frame. */
  clear(): void;
  /** Called by the store for each inbound frame, in arrival order (the socket middleware's `onFrame`). */
  record(raw: unknown, receivedAt: number): void;
}

export const DEFAULT_RECORD_MAX_FRAMES = 1_000;
export const DEFAULT_RECORD_MAX_CHARS = 4_000_000;

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export function createFrameRecorder(options: FrameRecorderOptions = {}): FrameRecorder {
  const maxFrames = options.maxFrames ?? DEFAULT_RECORD_MAX_FRAMES;
  const maxChars = options.maxChars ?? DEFAULT_RECORD_MAX_CHARS;
  if (!(Number.isInteger(maxFrames) && maxFrames >= 1)) throw new RangeError(`maxFrames must be a positive integer (got ${maxFrames})`);
  if (!(Number.isFinite(maxChars) && maxChars >= 0)) throw new RangeError(`maxChars must be a number >= 0 (got ${maxChars})`);

  // Recorded frames, oldest first: a queue with a moving head, compacted now and then.
  let data: unknown[] = [];
  let times: number[] = [];
  let head = 0;
  let chars = 0;
  let evicted = 0;

  function dropOldest() {
    chars -= sizeOf(data[head]);
    data[head] = undefined;
    head += 1;
    evicted += 1;
    if (head > 1_024 && head * 2 > data.length) {
      data = data.slice(head);
      times = times.slice(head);
      head = 0;
    }
  }

  function record(raw: unknown, receivedAt: number) {
    data.push(raw);
    times.push(receivedAt);
    chars += sizeOf(raw);
    while (data.length - head > 1 && (data.length - head > maxFrames || chars > maxChars)) dropOldest();
  }

  return {
    record,
    toJSONL() {
      const lines: string[] = [];
      for (let i = head; i < data.length; i++) lines.push(encodeRecordedLine(data[i], times[i]!));
      return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
    },
    get size() {
      return data.length - head;
    },
    get evicted() {
      return evicted;
    },
    clear() {
      data = [];
      times = [];
      head = 0;
      chars = 0;
      evicted = 0;
    },
  };
}
