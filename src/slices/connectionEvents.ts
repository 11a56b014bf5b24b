/**
 * What happened to the socket, as reported by the socket middleware. The connection slice turns
 * these into the connection state machine (see docs/ARCHITECTURE.md); the middleware only
 * reports and then acts on the resulting state.
 */
import { createAction } from '@reduxjs/toolkit';

export const socketOpening = createAction<{ url: string; at: number }>('connection/socketOpening');
export const socketOpened = createAction<{ at: number }>('connection/socketOpened');
export const socketClosed = createAction<{
  code: number;
  reason: string;
  /** True when the client closed it (disconnect, heartbeat or connect timeout). */
  byClient: boolean;
  at: number;
  /**
   * The cause the runtime gave in the socket's error event ('connect ECONNREFUSED ...',
   * 'Unexpected server response: 404', 'getaddrinfo ENOTFOUND ...' from `ws`). A browser's error
   * event carries none.
   */
  error?: string;
}>('connection/socketClosed');
/** The WebSocket constructor threw (bad URL, blocked port): not retryable as such. */
export const socketFailed = createAction<{ error: string; at: number }>('connection/socketFailed');
export const reconnectScheduled = createAction<{ delayMs: number; at: number }>(
  'connection/reconnectScheduled',
);
/** The connection stayed up long enough that the backoff starts again from the first step. */
export const connectionStabilized = createAction<{ at: number }>('connection/stabilized');
export const networkWentOffline = createAction<{ at: number }>('connection/networkWentOffline');
export const networkCameOnline = createAction<{ at: number }>('connection/networkCameOnline');
/**
 * A call to the session storage threw (SecurityError in private modes, quota exceeded). The
 * store carries on without it; the failure is counted in the connection state.
 */
export const storageFailed = createAction<{ operation: 'read' | 'write' | 'remove'; error: string; at: number }>(
  'connection/storageFailed',
);
/**
 * The link outlived a system.shutdown: the socket stayed open and a frame came after the
 * announcement ('frame'), or nothing closed it within a short grace ('grace').
 */
export const shutdownOutlived = createAction<{ at: number; after: 'frame' | 'grace' }>('connection/shutdownOutlived');
