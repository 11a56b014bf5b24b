/**
 * Reduces a recorded frame log through the same validation and reducers as live traffic.
 * Receive times come from the log, never from the clock, so the same log always gives the same
 * state: what bug reports and reducer tests rely on. A line written by the store's recorder
 * (`{"received_at":..., "frame": ...}`, src/protocol/recordedLine.ts) replays the data that
 * arrived at the time it arrived; any other line is a frame, received at its own `timestamp`.
 *
 * A log is evidence of something going wrong, so no element of it may stop the replay: null, a
 * number, an array, an object whose reads throw all become rejected frames, as on the wire.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { decodeRecordedLine, type ParseOptions } from '../protocol/index.js';
import { frameRejected, ingestFrame, realtimeReducer, type IngestAction, type RealtimeState } from '../slices/index.js';

export type RecordedFrame = string | object;

export interface ReplayOptions extends ParseOptions {
  /**
   * Receive time of frame `index`. Default: a recorded line's `received_at`; else the frame's
   * own `timestamp` when it parses as a date; else the previous receive time plus `stepMs`.
   */
  receivedAt?: (raw: RecordedFrame, index: number, previous: number) => number;
  /** Receive time used before any frame carried a timestamp. Default 0. */
  startAt?: number;
  /** Spacing for frames without a timestamp. Default 1 ms. */
  stepMs?: number;
  /** State to start from (e.g. one produced by an earlier replay). */
  initialState?: RealtimeState;
}

export interface TimelineEntry {
  index: number;
  /** The line as recorded (a string for JSONL input). */
  raw: RecordedFrame;
  action: IngestAction;
  state: RealtimeState;
}

/** Splits JSONL text into lines; blank lines are skipped, every other line is one frame. */
export function splitJsonl(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim().length > 0);
}

function toFrames(input: string | Iterable<RecordedFrame>): RecordedFrame[] {
  return typeof input === 'string' ? splitJsonl(input) : Array.from(input);
}

function timestampOf(raw: RecordedFrame): number | undefined {
  let value: unknown;
  if (typeof raw === 'string') {
    const match = /"timestamp"\s*:\s*"([^"]{1,64})"/.exec(raw);
    value = match?.[1];
  } else if (raw !== null && typeof raw === 'object') {
    // A getter or a proxy may throw: such a frame simply has no readable timestamp.
    try {
      value = (raw as { timestamp?: unknown }).timestamp;
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

function* run(input: string | Iterable<RecordedFrame>, options: ReplayOptions): Generator<TimelineEntry> {
  const step = options.stepMs ?? 1;
  let previous = options.startAt ?? 0;
  let state = options.initialState ?? realtimeReducer(undefined, { type: '@@canvas-realtime/init' });
  const frames = toFrames(input);
  for (let index = 0; index < frames.length; index++) {
    const raw = frames[index]!;
    const recorded = decodeRecordedLine(raw);
    const at = options.receivedAt
      ? options.receivedAt(raw, index, previous)
      : (recorded?.receivedAt ?? timestampOf(raw) ?? previous + (index === 0 ? 0 : step));
    previous = at;
    const action = ingestRecorded(recorded ? recorded.data : raw, at, options);
    state = realtimeReducer(state, action as UnknownAction);
    yield { index, raw, action, state };
  }
}

/**
 * ingestFrame never throws on what a socket delivers (strings, bytes), but a log may hold parsed
 * objects, and reading one (a getter, a proxy) can throw: that frame is rejected, not the replay.
 */
function ingestRecorded(raw: unknown, at: number, options: ParseOptions): IngestAction {
  try {
    return ingestFrame(raw, at, options).action;
  } catch (error) {
    const detail = `frame could not be read: ${error instanceof Error ? error.message : typeof error}`.slice(0, 200);
    return frameRejected({ reason: 'not_object', detail, receivedAt: at });
  }
}

/** The state after the whole log. */
export function replayFrames(input: string | Iterable<RecordedFrame>, options: ReplayOptions = {}): RealtimeState {
  let last: RealtimeState | undefined = options.initialState;
  for (const entry of run(input, options)) last = entry.state;
  return last ?? realtimeReducer(undefined, { type: '@@canvas-realtime/init' });
}

/** Every intermediate state, one entry per frame: for time-travel style tests and debugging. */
export function replayTimeline(input: string | Iterable<RecordedFrame>, options: ReplayOptions = {}): TimelineEntry[] {
  return Array.from(run(input, options));
}

/** The ingest actions a log produces, to dispatch into a store (or DevTools) yourself. */
export function framesToActions(input: string | Iterable<RecordedFrame>, options: ReplayOptions = {}): IngestAction[] {
  return replayTimeline(input, options).map((entry) => entry.action);
}
