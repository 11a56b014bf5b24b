/**
 * What the client needs to resume after a reload or a backend restart: its session, the
 * projects it subscribed to, and the last event position (seq) it applied per project. Gaps in
 * the sequence are recorded so the UI can say what may have been missed.
 *
 * Duplicate and stale frames (seq at or below the last applied) never reach this or any other
 * slice: the root reducer turns them into `frames/duplicateDropped` (see rootReducer.ts).
 */
import { createSlice } from '@reduxjs/toolkit';
import { appendBounded, pushUnique } from './bounded.js';
import { disconnect, subscribeProject, unsubscribeProject } from './commands.js';
import { sessionCreated, sessionLoaded } from './deliveryEvents.js';
import {
  framesBatched,
  isFrameAction,
  replayGapReported,
  sessionInitialized,
  sessionRestored,
  type FrameAction,
  type IngestAction,
} from './frameEvents.js';
import { isSafeKey } from '../protocol/index.js';

export interface SeqGap {
  project_id: string;
  /** First missing seq. */
  from: number;
  /** Last missing seq. */
  to: number;
  at: number;
  /** 'client' when the client saw the hole; 'server' when the backend said it could not replay. */
  detectedBy: 'client' | 'server';
}

export interface SyncState {
  sessionId?: string;
  resumeToken?: string;
  /** Projects the application subscribed to, in order. */
  subscriptions: string[];
  /** Last seq applied per project. */
  lastSeq: Record<string, number>;
  gaps: SeqGap[];
}

export const MAX_GAPS = 50;

export const initialSyncState: SyncState = { subscriptions: [], lastSeq: {}, gaps: [] };

function addGap(state: SyncState, gap: SeqGap) {
  const { list } = appendBounded(state.gaps, [gap], MAX_GAPS);
  if (list !== state.gaps) state.gaps = list;
}

function onFrame(state: SyncState, action: FrameAction) {
  const { frame, receivedAt } = action.payload;
  if (sessionInitialized.match(action) || sessionRestored.match(action)) {
    const restored = action.type === sessionRestored.type;
    const session = action.payload.frame;
    state.sessionId = session.session_id;
    if (session.resume_token !== undefined) state.resumeToken = session.resume_token;
    // A new session numbers events afresh; only a restored one continues the old positions.
    if (!restored) state.lastSeq = {};
    return;
  }
  if (replayGapReported.match(action)) {
    const gap = action.payload.frame;
    addGap(state, { project_id: gap.project_id, from: gap.from_seq, to: gap.to_seq, at: receivedAt, detectedBy: 'server' });
    // The stream continues after to_seq; lower than before when the server's stream was reset.
    state.lastSeq[gap.project_id] = gap.to_seq;
    return;
  }
  const { seq, project_id: projectId } = frame;
  if (seq === undefined || projectId === undefined) return;
  const last = state.lastSeq[projectId];
  if (last !== undefined && seq > last + 1) {
    addGap(state, { project_id: projectId, from: last + 1, to: seq - 1, at: receivedAt, detectedBy: 'client' });
  }
  state.lastSeq[projectId] = seq;
}

const syncSlice = createSlice({
  name: 'sync',
  initialState: initialSyncState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(subscribeProject, (state, { payload }) => {
        if (isSafeKey(payload.projectId)) pushUnique(state.subscriptions, payload.projectId);
      })
      .addCase(unsubscribeProject, (state, { payload }) => {
        state.subscriptions = state.subscriptions.filter((id) => id !== payload.projectId);
      })
      .addCase(sessionLoaded, (state, { payload }) => {
        state.sessionId ??= payload.sessionId;
        state.resumeToken ??= payload.resumeToken;
        for (const projectId of payload.subscriptions) if (isSafeKey(projectId)) pushUnique(state.subscriptions, projectId);
        for (const [projectId, seq] of Object.entries(payload.lastSeq)) {
          if (isSafeKey(projectId) && state.lastSeq[projectId] === undefined) state.lastSeq[projectId] = seq;
        }
      })
      .addCase(sessionCreated, (state, { payload }) => {
        state.sessionId = payload.sessionId;
      })
      .addCase(disconnect, (state, { payload }) => {
        if (!payload.forgetSession) return;
        return initialSyncState;
      })
      .addCase(framesBatched, (state, action) => {
        for (const inner of action.payload.actions) if (isFrameAction(inner)) onFrame(state, inner);
      })
      .addMatcher(
        (action): action is FrameAction => isFrameAction(action as IngestAction),
        (state, action) => onFrame(state, action),
      );
  },
});

export const syncReducer = syncSlice.reducer;
