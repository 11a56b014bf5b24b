/**
 * Paces the frames the client writes to its socket: a token bucket. A gateway closes a client
 * that sends too many frames per second (the reference one: over 200), and a burst of commands
 * (a "generate every shot" button, an outbox filled offline) must not get the socket closed:
 * up to `burst` frames go at once, then `maxPerSecond`. Any one second then holds at most
 * `burst + maxPerSecond` frames.
 *
 * Pure bookkeeping on the times it is given (the middleware's monotonic clock), so fake-timer
 * tests drive it; the middleware owns the timer that waits for the next token.
 */
export interface PacerOptions {
  /** Sustained rate: frames per second once the burst is spent. */
  maxPerSecond: number;
  /** Frames that may go at once after a quiet spell (the bucket's size). */
  burst: number;
}

export interface Pacer {
  /** Takes the token for one frame at `now`: false when none is left. */
  take(now: number): boolean;
  /** How long from `now` until a token is there (0 when one is). */
  delayMs(now: number): number;
}

/** Float sums of fractions of a token: 0.9999999999 tokens is one. */
const EPSILON = 1e-9;

export function createPacer({ maxPerSecond, burst }: PacerOptions, now: number): Pacer {
  let tokens = burst;
  let updatedAt = now;

  function refill(at: number) {
    // A clock set back refills nothing (and does not owe tokens): waiting is only ever shortened
    // by time that really passed.
    if (at > updatedAt) tokens = Math.min(burst, tokens + ((at - updatedAt) * maxPerSecond) / 1_000);
    updatedAt = at;
  }

  return {
    take(at) {
      refill(at);
      if (tokens < 1 - EPSILON) return false;
      tokens -= 1;
      return true;
    },
    delayMs(at) {
      refill(at);
      if (tokens >= 1 - EPSILON) return 0;
      // At least 1 ms: a zero-delay wait for a token that is not there would spin.
      return Math.max(1, Math.ceil(((1 - tokens) * 1_000) / maxPerSecond - EPSILON));
    },
  };
}
