/**
 * What a WebSocket close code means for the client. Shared by client and server so that both
 * sides agree on which codes ask the client to come back and which tell it to stay away.
 *
 * | code        | meaning                                   | client does            |
 * |-------------|-------------------------------------------|------------------------|
 * | 1000        | normal closure by the server              | reconnect (backoff)    |
 * | 1001        | going away (server shutting down)         | suspended, quick retry |
 * | 1006        | abnormal closure (no close frame)         | reconnect (backoff)    |
 * | 1011        | server internal error                     | reconnect (backoff)    |
 * | 1012        | service restart                           | suspended, quick retry |
 * | 1013        | try again later (overloaded)              | reconnect (backoff)    |
 * | 1002, 1003, 1007, 1008, 1009, 1010 | protocol / policy  | error, no retry        |
 * | 4000        | client: heartbeat timeout                 | reconnect (backoff)    |
 * | 4001        | client: connect timeout                   | reconnect (backoff)    |
 * | 4400-4499   | application refusal (4401 auth, 4403 forbidden, 4429 rate limited: retry) | error, no retry |
 * | other       | unknown                                   | reconnect (backoff)    |
 */
export type CloseOutcome = 'retry' | 'restart' | 'fatal';

export const CLIENT_CLOSE = {
  /** The client closed the socket itself (disconnect()). */
  normal: 1000,
  heartbeatTimeout: 4000,
  connectTimeout: 4001,
} as const;

export const SERVER_CLOSE = {
  goingAway: 1001,
  policyViolation: 1008,
  tooLarge: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  unauthorized: 4401,
  forbidden: 4403,
  rateLimited: 4429,
} as const;

export function classifyClose(code: number): CloseOutcome {
  if (code === 1001 || code === 1012) return 'restart';
  if (code === 4429) return 'retry';
  if (code === 1002 || code === 1003 || code === 1007 || code === 1008 || code === 1009 || code === 1010) {
    return 'fatal';
  }
  if (code >= 4400 && code <= 4499) return 'fatal';
  return 'retry';
}
