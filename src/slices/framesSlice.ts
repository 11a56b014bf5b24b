/**
 * Bookkeeping about the stream itself: how many frames of each kind arrived, which were
 * rejected and why, unknown types (a newer backend), duplicates dropped, and a bounded window
 * of the most recent frames (what the story's $wsMessages showed).
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { isSafeKey, type InboundFrame, type RejectReason } from '../protocol/index.js';
import { freeze, freezeDeep, passReducer, type PassCase } from './cow.js';
import { listenerFailed } from './deliveryEvents.js';
import {
  duplicateFrameDropped,
  FRAME_ACTION_TYPES,
  frameRejected,
  unknownFrameReceived,
  type FrameAction,
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

const initialState: FramesState = freezeDeep({
  applied: 0,
  rejected: { total: 0, byReason: {} },
  unknown: { total: 0, byType: {} },
  duplicatesDropped: 0,
  listenerErrors: 0,
  recent: [],
});

/**
 * One pass of ingest actions (a frame, or a burst) over the counts: a plain copy of the slice,
 * and the burst's valid frames appended to the recent window once, at the end.
 */
class FramesPass {
  readonly next: FramesState;
  readonly recent: RecentFrame[] = [];
  private rejectedCopied = false;
  private unknownCopied = false;

  constructor(private readonly base: FramesState) {
    this.next = { ...base };
  }

  rejected(): FramesState['rejected'] {
    if (!this.rejectedCopied) {
      this.rejectedCopied = true;
      this.next.rejected = { ...this.base.rejected, byReason: { ...this.base.rejected.byReason } };
    }
    return this.next.rejected;
  }

  unknown(): FramesState['unknown'] {
    if (!this.unknownCopied) {
      this.unknownCopied = true;
      this.next.unknown = { ...this.base.unknown, byType: { ...this.base.unknown.byType } };
    }
    return this.next.unknown;
  }

  commit(): FramesState {
    if (this.recent.length > 0) this.next.recent = recentWindow(this.base.recent, this.recent);
    return freezeDeep(this.next);
  }
}

/**
 * The last MAX_RECENT_FRAMES of `before` followed by `added`, in one new array (no intermediate
 * merged copy: this runs on every burst).
 */
function recentWindow(before: readonly RecentFrame[], added: readonly RecentFrame[]): RecentFrame[] {
  const keep = Math.max(0, Math.min(before.length, MAX_RECENT_FRAMES - added.length));
  const out: RecentFrame[] = [];
  for (let i = before.length - keep; i < before.length; i++) out.push(before[i]!);
  for (let i = Math.max(0, added.length - MAX_RECENT_FRAMES); i < added.length; i++) out.push(added[i]!);
  return out;
}

const applied: PassCase<FramesPass> = (pass, action) => {
  // The payload is { frame, receivedAt }: a RecentFrame already, kept as it is.
  const payload: RecentFrame = (action as FrameAction).payload;
  pass.next.applied += 1;
  pass.next.lastReceivedAt = payload.receivedAt;
  pass.recent.push(payload);
};

const cases = new Map<string, PassCase<FramesPass>>([
  ...Object.values(FRAME_ACTION_TYPES).map((type): [string, PassCase<FramesPass>] => [type, applied]),
  [
    frameRejected.type,
    (pass, action) => {
      const { reason, detail, type, receivedAt } = (action as ReturnType<typeof frameRejected>).payload;
      const rejected = pass.rejected();
      rejected.total += 1;
      rejected.byReason[reason] = (rejected.byReason[reason] ?? 0) + 1;
      rejected.last = { reason, detail, type, at: receivedAt };
      pass.next.lastReceivedAt = receivedAt;
    },
  ],
  [
    unknownFrameReceived.type,
    (pass, action) => {
      const { type, receivedAt } = (action as ReturnType<typeof unknownFrameReceived>).payload;
      const unknown = pass.unknown();
      unknown.total += 1;
      const known = Object.prototype.hasOwnProperty.call(unknown.byType, type);
      const room = Object.keys(unknown.byType).length < MAX_UNKNOWN_TYPES;
      // A type named like an Object.prototype member ("constructor") must not be used as a key.
      const key = known || (room && isSafeKey(type)) ? type : '(other)';
      unknown.byType[key] = (unknown.byType[key] ?? 0) + 1;
      pass.next.lastReceivedAt = receivedAt;
    },
  ],
  [
    duplicateFrameDropped.type,
    (pass, action) => {
      pass.next.duplicatesDropped += 1;
      pass.next.lastReceivedAt = (action as ReturnType<typeof duplicateFrameDropped>).payload.receivedAt;
    },
  ],
]);

export const framesReducer = passReducer<FramesState, FramesPass>({
  initialState,
  cases,
  open: (state) => new FramesPass(state),
  commit: (pass) => pass.commit(),
  otherwise: (state, action: UnknownAction) =>
    listenerFailed.match(action) ? freeze({ ...state, listenerErrors: state.listenerErrors + 1 }) : state,
});
