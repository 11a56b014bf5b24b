/**
 * Reconnect delays: exponential growth with a cap, and jitter so that thousands of canvases
 * dropped by one deploy do not all come back in the same instant.
 */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 500 ms. */
  initialMs: number;
  /** Upper bound of the delay. Default 30 s. */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /**
   * Fraction (0..1) of the delay that is randomized: 0 = none, 1 = full jitter (uniform in
   * [0, delay]). Default 1.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 1 };

/** The longest delay setTimeout can hold; a longer one fires at once (a retry storm). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The delay before retry number `attempt` (0 for the first retry). `random` is a number in
 * [0, 1): the caller passes Math.random() in production and a fixed value in tests.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number): number {
  const { initialMs, maxMs, factor, jitter } = options;
  const exponent = Math.max(0, Math.min(attempt, 64));
  const ceiling = Math.min(maxMs, initialMs * Math.pow(factor, exponent));
  const spread = ceiling * Math.min(1, Math.max(0, jitter));
  return Math.round(ceiling - spread + spread * Math.min(Math.max(random, 0), 1));
}

export function resolveBackoff(partial: Partial<BackoffOptions> | undefined): BackoffOptions {
  const merged = { ...DEFAULT_BACKOFF, ...partial };
  if (!(merged.initialMs >= 0) || !(merged.maxMs >= merged.initialMs) || !(merged.factor >= 1)) {
    throw new RangeError(
      `backoff: need 0 <= initialMs <= maxMs and factor >= 1 (got ${JSON.stringify(merged)})`,
    );
  }
  if (!(merged.maxMs <= MAX_TIMER_MS)) {
    throw new RangeError(`backoff: maxMs must be at most ${MAX_TIMER_MS} ms, the longest timer delay (got ${merged.maxMs})`);
  }
  if (!(merged.jitter >= 0 && merged.jitter <= 1)) {
    throw new RangeError(`backoff: jitter must be between 0 and 1 (got ${merged.jitter})`);
  }
  return merged;
}
