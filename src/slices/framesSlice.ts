/**
 * Bookkeeping about the stream itself: how many frames of each kind arrived, which were
 * rejected and why, unknown types (a newer backend), duplicates dropped, and a bounded window
 * of the most recent frames (what the story's $wsMessages showed).
 */
import { createSlice } from '@reduxjs/toolkit';
import { isSafeKey, type InboundFrame, type RejectReason } from '../protocol/index.js';
import { appendBounded } from './bounded.js';
import { listenerFailed } from './deliveryEvents.js';
import {
  duplicateFrameDropped,
  frameRejected,
  framesBatched,
  isFrameAction,
  unknownFrameReceived,
  type IngestAction,
} from './frameEvents.js';

export interface RecentFrame {
  frame: InboundFrame;
  receivedAt: number;
}

export interface FramesState {
  /** Valid frames applied. */
  applied: number;
  rejected: { total: number; byReason: Partial<Record<RejectReason, number>>; last?: { reason: RejectReason; detail: string; type?: string; at: number } };
  unknown: { total: number; byType: Record<string, number> };
  duplicatesDropped: number;
  /** Listeners registered with on(type, cb) that threw. */
  listenerErrors: number;
  recent: RecentFrame[];
  lastReceivedAt?: number;
}

export const MAX_RECENT_FRAMES = 100;
/** Distinct unknown types counted by name; beyond this they are counted under "(other)". */
export const MAX_UNKNOWN_TYPES = 50;

const initialState: FramesState = {
  applied: 0,
  rejected: { total: 0, byReason: {} },
  unknown: { total: 0, byType: {} },
  duplicatesDropped: 0,
  listenerErrors: 0,
  recent: [],
};

/**
 * Records one ingest action. Valid frames are collected in `recent` by the caller, which appends
 * them to the window once: the window is rebuilt at most once per action (or burst), never
 * shifted in place through the draft for every frame.
 */
function apply(state: FramesState, action: IngestAction, recent: RecentFrame[]) {
  if (isFrameAction(action)) {
    state.applied += 1;
    state.lastReceivedAt = action.payload.receivedAt;
    recent.push({ frame: action.payload.frame, receivedAt: action.payload.receivedAt });
  } else if (frameRejected.match(action)) {
    const { reason, detail, type, receivedAt } = action.payload;
    state.rejected.total += 1;
    state.rejected.byReason[reason] = (state.rejected.byReason[reason] ?? 0) + 1;
    state.rejected.last = { reason, detail, type, at: receivedAt };
    state.lastReceivedAt = receivedAt;
  } else if (unknownFrameReceived.match(action)) {
    state.unknown.total += 1;
    const { type } = action.payload;
    const known = Object.prototype.hasOwnProperty.call(state.unknown.byType, type);
    const room = Object.keys(state.unknown.byType).length < MAX_UNKNOWN_TYPES;
    // A type named like an Object.prototype member ("constructor") must not be used as a key.
    const key = known || (room && isSafeKey(type)) ? type : '(other)';
    state.unknown.byType[key] = (state.unknown.byType[key] ?? 0) + 1;
    state.lastReceivedAt = action.payload.receivedAt;
  } else if (duplicateFrameDropped.match(action)) {
    state.duplicatesDropped += 1;
    state.lastReceivedAt = action.payload.receivedAt;
  }
}

function applyAll(state: FramesState, actions: readonly IngestAction[]) {
  const recent: RecentFrame[] = [];
  for (const action of actions) apply(state, action, recent);
  if (recent.length === 0) return;
  const { list } = appendBounded(state.recent, recent.length > MAX_RECENT_FRAMES ? recent.slice(-MAX_RECENT_FRAMES) : recent, MAX_RECENT_FRAMES);
  if (list !== state.recent) state.recent = list;
}

const framesSlice = createSlice({
  name: 'frames',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(listenerFailed, (state) => {
      state.listenerErrors += 1;
    });
    builder.addCase(framesBatched, (state, action) => applyAll(state, action.payload.actions));
    builder.addMatcher(
      (action): action is IngestAction =>
        isFrameAction(action) ||
        frameRejected.match(action) ||
        unknownFrameReceived.match(action) ||
        duplicateFrameDropped.match(action),
      (state, action) => applyAll(state, [action]),
    );
  },
});

export const framesReducer = framesSlice.reducer;
