/**
 * The frame recorder behind the store's `record` option: the last inbound frames, as they
 * arrived, with their receive times, for a bug report or a test (`store.recorder.toJSONL()`, then
 * `replayFrames` or `canvas-realtime replay`). Line format: src/protocol/recordedLine.ts.
 *
 * Two halves, so that the socket middleware needs no hook of its own:
 * - the raw data comes from the socket: the WebSocket constructor is wrapped, and its onmessage
 *   handler sees each frame before the middleware does;
 * - the receive time comes from the ingest action the middleware then dispatches (one per frame,
 *   in arrival order, single or batched): the very time the store reduced it with, so a replay
 *   gives the same state, not one a clock read a microsecond later.
 *
 * Bounded: at most `maxFrames` frames and `maxChars` characters of frame data (bytes count one
 * each); the oldest go first, and are counted in `evicted`. The newest frame is always kept.
 */
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { encodeRecordedLine } from '../protocol/recordedLine.js';
import { duplicateFrameDropped, frameRejected, framesBatched, isFrameAction, unknownFrameReceived } from '../slices/index.js';
import type { RealtimeOptions, SocketLike, WebSocketConstructor } from './options.js';

export interface FrameRecorderOptions {
  /** Frames kept, newest last. Default 1,000. */
  maxFrames?: number;
  /** Characters of frame data kept (a binary frame counts its bytes). Default 4,000,000. */
  maxChars?: number;
}

/** What the store exposes as `store.recorder`. */
export interface FrameRecorder {
  /** The recording, oldest frame first, one JSONL line per frame (empty when none). */
  toJSONL(): string;
  /** Frames held now. */
  readonly size: number;
  /** Frames dropped to stay within the bounds (since creation or the last clear()). */
  readonly evicted: number;
  /** Forgets every recorded frame. */
  clear(): void;
}

export interface RecorderWiring {
  recorder: FrameRecorder;
  /** Goes before the socket middleware; it sees every ingest action the socket dispatches. */
  middleware: Middleware;
  /** The options with a recording WebSocket, still looked up at connect time. */
  withRecordingSocket<O extends RealtimeOptions>(options: O): O;
  /** Frames that arrived but will never be reduced (the store was disposed). */
  discardWaiting(): void;
}

export const DEFAULT_RECORD_MAX_FRAMES = 1_000;
export const DEFAULT_RECORD_MAX_CHARS = 4_000_000;

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export function createFrameRecorder(options: FrameRecorderOptions = {}): RecorderWiring {
  const maxFrames = Math.max(1, Math.floor(options.maxFrames ?? DEFAULT_RECORD_MAX_FRAMES));
  const maxChars = Math.max(0, options.maxChars ?? DEFAULT_RECORD_MAX_CHARS);

  // Recorded frames, oldest first: a queue with a moving head, compacted now and then.
  let data: unknown[] = [];
  let times: number[] = [];
  let head = 0;
  let chars = 0;
  let evicted = 0;
  // Arrived, not yet reduced (the middleware batches the frames of one tick), from waitingHead on.
  let waiting: unknown[] = [];
  let waitingHead = 0;

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

  function record(receivedAt: number) {
    if (waitingHead === waiting.length) return; // an ingest action no socket delivered (the app's)
    const raw = waiting[waitingHead];
    waiting[waitingHead++] = undefined;
    if (waitingHead === waiting.length) discardWaiting();
    data.push(raw);
    times.push(receivedAt);
    chars += sizeOf(raw);
    while (data.length - head > 1 && (data.length - head > maxFrames || chars > maxChars)) dropOldest();
  }

  const middleware: Middleware = () => (next) => (action) => {
    const result = next(action);
    if (waitingHead < waiting.length) {
      const a = action as UnknownAction;
      if (framesBatched.match(a)) for (const each of a.payload.actions) record(each.payload.receivedAt);
      else if (isFrameAction(a) || frameRejected.match(a) || unknownFrameReceived.match(a) || duplicateFrameDropped.match(a)) {
        record(a.payload.receivedAt);
      }
    }
    return result;
  };

  function discardWaiting() {
    waiting = [];
    waitingHead = 0;
  }

  const wrapped = new WeakMap<WebSocketConstructor, WebSocketConstructor>();
  function wrap(base: WebSocketConstructor): WebSocketConstructor {
    let Recording = wrapped.get(base);
    if (!Recording) {
      const arrived = (raw: unknown) => waiting.push(raw);
      Recording = function RecordingWebSocket(url: string, protocols?: string | string[]) {
        return recordingSocket(new base(url, protocols), arrived);
      } as unknown as WebSocketConstructor;
      wrapped.set(base, Recording);
    }
    return Recording;
  }

  const recorder: FrameRecorder = {
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

  return {
    recorder,
    middleware,
    withRecordingSocket(options) {
      return {
        ...options,
        // A getter: the middleware reads it at each connect, so the global WebSocket is still
        // looked up then (msw replaces it in server.listen()), and a missing one still reads as
        // missing.
        get WebSocket() {
          const base = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
          return base && wrap(base);
        },
      };
    },
    discardWaiting,
  };
}

/**
 * The socket itself, but for onmessage: the handler the middleware sets first hands the frame to
 * the recorder. A Proxy rather than a class, so that whatever else the middleware uses (readyState,
 * bufferedAmount, ...) reaches the real socket, with methods bound to it (a browser's WebSocket
 * refuses calls on another `this`).
 */
function recordingSocket(socket: SocketLike, arrived: (raw: unknown) => void): SocketLike {
  return new Proxy(socket, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value === 'function' && !(typeof key === 'string' && key.startsWith('on'))) return value.bind(target);
      return value;
    },
    set(target, key, value: unknown) {
      if (key === 'onmessage' && typeof value === 'function') {
        const handler = value as NonNullable<SocketLike['onmessage']>;
        value = (event: { data: unknown }) => {
          arrived(event.data);
          handler(event);
        };
      }
      return Reflect.set(target, key, value, target);
    },
  });
}
