/**
 * What the client needs to resume after a reload or a backend restart: its session, the
 * projects it subscribed to, and the last event position (seq) it applied per project. Gaps in
 * the sequence are recorded so the UI can say what may have been missed.
 *
 * Duplicate and stale frames (seq at or below the last applied) never reach this or any other
 * slice: the root reducer turns them into `frames/duplicateDropped` (see rootReducer.ts).
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { appendBounded } from './bounded.js';
import { disconnect, subscribeProject, unsubscribeProject } from './commands.js';
import { sessionCreated, sessionLoaded } from './deliveryEvents.js';
import { freezeDeep, passReducer, type PassCase } from './cow.js';
import { copyCaseFor, copyCases } from './ingestCases.js';
import {
  FRAME_ACTION_TYPES,
  replayGapReported,
  sessionInitialized,
  sessionRestored,
  snapshotReceived,
  type FrameAction,
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
  /**
   * Positions read back from storage (a reload) with no state behind them: never used to drop
   * events, only kept (and stored again) until the project's state is rebuilt. `lastSeq` holds
   * only positions whose state this store holds (frames or a snapshot applied, or preloaded).
   */
  storedLastSeq: Record<string, number>;
  gaps: SeqGap[];
}

export const MAX_GAPS = 50;

export const initialSyncState: SyncState = freezeDeep({ subscriptions: [], lastSeq: {}, storedLastSeq: {}, gaps: [] });

/** One pass of frames (a frame, or a burst) over the sync state: plain copies, made on write. */
class SyncPass {
  readonly next: SyncState;
  private lastSeqCopied = false;
  private gapsCopied = false;

  constructor(private readonly base: SyncState) {
    this.next = { ...base };
  }

  resetLastSeq() {
    this.next.lastSeq = {};
    this.lastSeqCopied = true;
  }

  setLastSeq(projectId: string, seq: number) {
    if (this.next.lastSeq[projectId] === seq) return;
    // The project's state is being built here: a stored position of it is now superseded.
    if (this.next.lastSeq[projectId] === undefined && projectId in this.next.storedLastSeq) {
      const { [projectId]: _superseded, ...rest } = this.next.storedLastSeq;
      this.next.storedLastSeq = rest;
    }
    if (!this.lastSeqCopied) {
      this.lastSeqCopied = true;
      this.next.lastSeq = { ...this.base.lastSeq };
    }
    this.next.lastSeq[projectId] = seq;
  }

  addGap(gap: SeqGap) {
    if (!this.gapsCopied) {
      this.gapsCopied = true;
      this.next.gaps = [...this.base.gaps];
    }
    this.next.gaps = appendBounded(this.next.gaps, [gap], MAX_GAPS).list;
  }

  commit(): SyncState {
    const { base, next } = this;
    if (this.lastSeqCopied && sameRecord(next.lastSeq, base.lastSeq)) next.lastSeq = base.lastSeq;
    if (next.sessionId === base.sessionId && next.resumeToken === base.resumeToken && next.lastSeq === base.lastSeq && next.gaps === base.gaps && next.storedLastSeq === base.storedLastSeq) {
      return base;
    }
    return freezeDeep(next);
  }
}

function sameRecord(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key] || !Object.prototype.hasOwnProperty.call(b, key)) return false;
  return true;
}

const onFrame: PassCase<SyncPass> = (pass, a) => {
  const action = a as FrameAction;
  const { frame, receivedAt } = action.payload;
  if (sessionInitialized.match(action) || sessionRestored.match(action)) {
    const restored = action.type === sessionRestored.type;
    const session = action.payload.frame;
    pass.next.sessionId = session.session_id;
    if (session.resume_token !== undefined) pass.next.resumeToken = session.resume_token;
    // A new session numbers events afresh; only a restored one continues the old positions.
    if (!restored) pass.resetLastSeq();
    return;
  }
  if (snapshotReceived.match(action)) {
    // Not seq-numbered: the snapshot includes the project's events up to at_seq, lower or not.
    pass.setLastSeq(action.payload.frame.project_id, action.payload.frame.at_seq);
    return;
  }
  if (replayGapReported.match(action)) {
    const gap = action.payload.frame;
    pass.addGap({ project_id: gap.project_id, from: gap.from_seq, to: gap.to_seq, at: receivedAt, detectedBy: 'server' });
    // The stream continues after to_seq; lower than before when the server's stream was reset.
    pass.setLastSeq(gap.project_id, gap.to_seq);
    return;
  }
  const { seq, project_id: projectId } = frame;
  if (seq === undefined || projectId === undefined) return;
  const last = pass.next.lastSeq[projectId];
  if (last !== undefined && seq > last + 1) {
    pass.addGap({ project_id: projectId, from: last + 1, to: seq - 1, at: receivedAt, detectedBy: 'client' });
  }
  pass.setLastSeq(projectId, seq);
};

/** `list` with `item` appended, or `list` itself when it already holds it. */
function withItem(list: string[], item: string): string[] {
  return list.includes(item) ? list : [...list, item];
}

const on = copyCaseFor<SyncState>();

/** Commands and session events: each case writes the fields of a shallow copy (./ingestCases.ts). */
const commandCases = copyCases<SyncState>([
  on(subscribeProject, (state, { payload }) => {
    if (isSafeKey(payload.projectId)) state.subscriptions = withItem(state.subscriptions, payload.projectId);
  }),
  on(unsubscribeProject, (state, { payload }) => {
    if (state.subscriptions.includes(payload.projectId)) state.subscriptions = state.subscriptions.filter((id) => id !== payload.projectId);
  }),
  on(sessionLoaded, (state, { payload }) => {
    state.sessionId ??= payload.sessionId;
    state.resumeToken ??= payload.resumeToken;
    for (const projectId of payload.subscriptions) if (isSafeKey(projectId)) state.subscriptions = withItem(state.subscriptions, projectId);
    // A stored position without its state must not make the client skip events: it is kept
    // aside (storedLastSeq), and the project subscribes for a snapshot or a replay from 0.
    let stored: Record<string, number> | undefined;
    for (const [projectId, seq] of Object.entries(payload.lastSeq)) {
      if (isSafeKey(projectId) && state.lastSeq[projectId] === undefined) (stored ??= { ...state.storedLastSeq })[projectId] = seq;
    }
    if (stored) state.storedLastSeq = stored;
  }),
  on(sessionCreated, (state, { payload }) => {
    state.sessionId = payload.sessionId;
  }),
]);

/** Frames (alone or in a burst) in one plain copy-on-write pass; commands on a shallow copy. */
export const syncReducer = passReducer<SyncState, SyncPass>({
  initialState: initialSyncState,
  cases: new Map(Object.values(FRAME_ACTION_TYPES).map((type): [string, PassCase<SyncPass>] => [type, onFrame])),
  open: (state) => new SyncPass(state),
  commit: (pass) => pass.commit(),
  otherwise: (state, action: UnknownAction) => {
    // Logging out forgets the session, the subscriptions and the positions.
    if (disconnect.match(action)) return action.payload.forgetSession ? initialSyncState : state;
    return commandCases(state, action);
  },
});
