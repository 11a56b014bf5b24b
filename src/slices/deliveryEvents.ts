/**
 * What the socket middleware reports about delivery and sessions. The outbox and sync slices
 * record them; the UI reads the counts ("3 commands dropped").
 */
import { createAction } from '@reduxjs/toolkit';
import type { Capability } from '../protocol/index.js';
import type { OutboxEntry } from './outboxSlice.js';

/** A session read back from storage at start-up (reload, or a restarted page). */
export const sessionLoaded = createAction<{
  sessionId?: string;
  resumeToken?: string;
  subscriptions: string[];
  lastSeq: Record<string, number>;
  outbox: OutboxEntry[];
  capabilities: Capability[];
  at: number;
}>('session/loaded');

/** The client made itself a session id (first connect, nothing stored). */
export const sessionCreated = createAction<{ sessionId: string; at: number }>('session/created');

/** The backend did not answer session.init in time: it speaks only the story's frames. */
export const sessionAssumed = createAction<{ at: number }>('session/assumedWithoutReply');

/** Commands written to an open socket. */
export const outboxSent = createAction<{ commandIds: string[]; at: number }>('outbox/sent');
/** Commands now known delivered (sent to a backend that does not ack): they leave the outbox. */
export const outboxDelivered = createAction<{ commandIds: string[]; at: number }>('outbox/delivered');
/** Commands not yet sent dropped because more than `queue.max` waited (oldest first); `detail` says when. */
export const outboxOverflowed = createAction<{ commandIds: string[]; at: number; detail?: string }>('outbox/overflowed');
/** Commands dropped because they waited longer than the outbox's ttl. */
export const outboxExpired = createAction<{ commandIds: string[]; at: number }>('outbox/expired');
/** A command whose frame failed validation: never sent. */
export const commandInvalid = createAction<{ commandId: string; nodeId?: string; reason: string; at: number }>(
  'commands/invalid',
);

/**
 * After a backend restart, nodes still shown as generating that no frame has confirmed since:
 * the UI says it is waiting to hear about them again.
 */
export const nodesMarkedStale = createAction<{ nodeIds: string[]; at: number }>('nodes/markedStale');

/**
 * Runs nothing confirmed within `staleAfterMs` of a reconnect or a restart signal (or that the
 * backend answered UNKNOWN for): each node shows "Lost contact with this run" and Generate works
 * again. `at` is the time, stamped by the middleware.
 */
export const contactLost = createAction<{ nodeIds: string[]; at: number }>('nodes/contactLost');

/** A listener registered with `on(type, cb)` threw; the others still ran. */
export const listenerFailed = createAction<{ type: string; error: string; at: number }>('listeners/failed');
