/**
 * Bookkeeping about the stream itself: how many frames of each kind arrived, which were
 * rejected and why, unknown types (a newer backend), duplicates dropped, and a bounded window
 * of the most recent frames (what the story's $wsMessages showed).
 */
import { createSlice } from '@reduxjs/toolkit';
import { isSafeKey, type InboundFrame, type RejectReason } from '../protocol/index.js';
import { pushBounded } from './bounded.js';
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

function apply(state: FramesState, action: IngestAction) {
  if (isFrameAction(action)) {
    state.applied += 1;
    state.lastReceivedAt = action.payload.receivedAt;
    pushBounded(state.recent, { frame: action.payload.frame, receivedAt: action.payload.receivedAt }, MAX_RECENT_FRAMES);
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

const framesSlice = createSlice({
  name: 'frames',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(listenerFailed, (state) => {
      state.listenerErrors += 1;
    });
    builder.addCase(framesBatched, (state, action) => {
      for (const inner of action.payload.actions) apply(state, inner);
    });
    builder.addMatcher(
      (action): action is IngestAction =>
        isFrameAction(action) ||
        frameRejected.match(action) ||
        unknownFrameReceived.match(action) ||
        duplicateFrameDropped.match(action),
      (state, action) => apply(state, action),
    );
  },
});

export const framesReducer = framesSlice.reducer;
