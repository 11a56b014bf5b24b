import { describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { backoffDelay, DEFAULT_BACKOFF, resolveBackoff, type BackoffOptions } from '../../src/middleware/backoff.js';
import { createSocketMiddleware } from '../../src/middleware/socketMiddleware.js';
import { fakeWebSocket, makeStore } from './helpers.js';

const exact: BackoffOptions = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };

describe('backoffDelay (pure)', () => {
  it('grows by the factor and stops at maxMs, exactly, without jitter', () => {
    const delays = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, exact, 0.5));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
  });

  it('uses the factor given', () => {
    const triple = { ...exact, factor: 3, maxMs: 10_000 };
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, triple, 0))).toEqual([100, 300, 900, 2_700, 8_100]);
    const flat = { ...exact, factor: 1 };
    expect([0, 5, 50].map((a) => backoffDelay(a, flat, 0.9))).toEqual([100, 100, 100]);
  });

  it('is pure: the same inputs give the same delay, and the options are not touched', () => {
    const options = { ...DEFAULT_BACKOFF };
    const frozen = Object.freeze({ ...options });
    expect(backoffDelay(3, frozen, 0.25)).toBe(backoffDelay(3, frozen, 0.25));
    expect(frozen).toEqual(options);
  });

  it('spreads full jitter over [0, ceiling]', () => {
    const full = { ...exact, jitter: 1 };
    expect(backoffDelay(0, full, 0)).toBe(0);
    expect(backoffDelay(3, full, 0)).toBe(0);
    expect(backoffDelay(3, full, 0.5)).toBe(400);
    // random < 1: the delay approaches the ceiling (800 for attempt 3)
    expect(backoffDelay(3, full, 0.999)).toBeGreaterThanOrEqual(799);
    expect(backoffDelay(3, full, 0.999)).toBeLessThanOrEqual(800);
    // capped ceiling
    expect(backoffDelay(20, full, 0.999)).toBeGreaterThanOrEqual(999);
    expect(backoffDelay(20, full, 0.999)).toBeLessThanOrEqual(1_000);
    // many draws stay in range and cover it
    const draws = Array.from({ length: 1_000 }, (_, i) => backoffDelay(4, full, i / 1_000));
    expect(Math.min(...draws)).toBe(0);
    expect(Math.max(...draws)).toBeGreaterThanOrEqual(995);
    expect(draws.every((d) => d >= 0 && d <= 1_000)).toBe(true);
  });

  it('partial jitter randomizes only that fraction of the ceiling', () => {
    const quarter = { ...exact, jitter: 0.25 };
    // ceiling 800: fixed part 600, random part up to 200
    expect(backoffDelay(3, quarter, 0)).toBe(600);
    expect(backoffDelay(3, quarter, 0.5)).toBe(700);
    expect(backoffDelay(3, quarter, 0.999)).toBe(800);
  });

  it('clamps a random value outside [0, 1)', () => {
    const full = { ...exact, jitter: 1 };
    expect(backoffDelay(2, full, -3)).toBe(0);
    expect(backoffDelay(2, full, 7)).toBe(400);
  });

  it('treats a negative attempt as the first and a huge one as capped', () => {
    expect(backoffDelay(-5, exact, 0)).toBe(100);
    expect(backoffDelay(10_000, exact, 0)).toBe(1_000);
  });
});

describe('resolveBackoff', () => {
  it('accepts the longest timer delay as a cap', () => {
    expect(resolveBackoff({ maxMs: 2 ** 31 - 1 }).maxMs).toBe(2 ** 31 - 1);
  });

  it('fills in the defaults', () => {
    expect(resolveBackoff(undefined)).toEqual(DEFAULT_BACKOFF);
    expect(resolveBackoff({ maxMs: 5_000 })).toEqual({ ...DEFAULT_BACKOFF, maxMs: 5_000 });
  });

  it.each([
    ['initialMs -1', { initialMs: -1 }, /initialMs/],
    ['initialMs NaN', { initialMs: Number.NaN }, /initialMs/],
    ['initialMs above maxMs', { initialMs: 1_000, maxMs: 500 }, /initialMs <= maxMs/],
    ['factor 0.5', { factor: 0.5 }, /factor >= 1/],
    ['factor NaN', { factor: Number.NaN }, /factor/],
    ['jitter -0.1', { jitter: -0.1 }, /jitter must be between 0 and 1/],
    ['jitter 1.5', { jitter: 1.5 }, /jitter must be between 0 and 1/],
    ['jitter NaN', { jitter: Number.NaN }, /jitter must be between 0 and 1/],
    // A delay beyond what setTimeout can hold fires at once: an uncapped backoff would become a retry storm.
    ['maxMs Infinity', { maxMs: Number.POSITIVE_INFINITY }, /maxMs must be at most 2147483647/],
    ['maxMs 2^31', { maxMs: 2 ** 31 }, /maxMs must be at most 2147483647/],
  ])('refuses %s with a RangeError that says why', (_name, partial, message) => {
    expect(() => resolveBackoff(partial as Partial<BackoffOptions>)).toThrow(RangeError);
    expect(() => resolveBackoff(partial as Partial<BackoffOptions>)).toThrow(message);
  });

  it('is checked when the middleware is created', () => {
    expect(() => createSocketMiddleware({ backoff: { factor: 0 } })).toThrow(RangeError);
    expect(() => createSocketMiddleware({ heartbeat: { intervalMs: 10_000, timeoutMs: 5_000 } })).toThrow(
      /heartbeat.timeoutMs must be longer than heartbeat.intervalMs/,
    );
    expect(() => createSocketMiddleware({ queue: { max: 0 } })).toThrow(/queue.max must be a positive number/);
  });

  it.each(['connectTimeoutMs', 'sessionReplyTimeoutMs', 'stableAfterMs', 'staleAfterMs'] as const)(
    '%s longer than a timer can hold is refused (it would fire at once)',
    (name) => {
      expect(() => createSocketMiddleware({ [name]: 2 ** 31 })).toThrow(new RangeError(`${name} must be at most 2147483647 ms, the longest timer delay (got 2147483648)`));
      expect(() => createSocketMiddleware({ [name]: 2 ** 31 - 1 })).not.toThrow();
    },
  );

  it('a heartbeat interval longer than a timer can hold is refused (it would ping in a loop)', () => {
    expect(() => createSocketMiddleware({ heartbeat: { intervalMs: 3e9, timeoutMs: 6e9 } })).toThrow(/heartbeat.intervalMs must be at most 2147483647 ms/);
  });
});

describe('the middleware uses backoffDelay', () => {
  /** Drops every attempt before it opens (1006) and returns the delays it scheduled. */
  function failRepeatedly(options: Parameters<typeof makeStore>[0], times: number) {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, ...options });
    t.store.dispatch(connect());
    for (let i = 0; i < times; i++) {
      fake.last().serverClose(1006);
      t.clock.advance(t.connection().nextRetryAt! - t.clock.now());
    }
    return { t, fake };
  }

  it('schedules growing, capped delays drawn with the injected random', () => {
    const { t, fake } = failRepeatedly({ backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 1 }, random: () => 0.5 }, 7);
    expect(t.retryDelays()).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(t.connection().reconnectAttempts).toBe(7);
    // every retry opened a new socket, one at a time
    expect(fake.sockets).toHaveLength(8);
    t.store.dispose();
  });

  it('without jitter the delays are the exact ceilings', () => {
    const { t } = failRepeatedly({ backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 } }, 6);
    expect(t.retryDelays()).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    t.store.dispose();
  });

  it('waits the scheduled delay, not less', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff: { initialMs: 1_000, jitter: 0 } });
    t.store.dispatch(connect());
    fake.last().serverClose(1006);
    t.clock.advance(999);
    expect(fake.sockets).toHaveLength(1);
    t.clock.advance(1);
    expect(fake.sockets).toHaveLength(2);
    t.store.dispose();
  });

  it('resets the attempt count only after stableAfterMs of being connected, not on open', () => {
    const fake = fakeWebSocket();
    const t = makeStore({
      WebSocket: fake.WebSocket,
      backoff: { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0 },
      stableAfterMs: 5_000,
      sessionReplyTimeoutMs: 100,
    });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1006);
    t.clock.advance(100);
    fake.last().open();
    // Open, but not yet stable: a drop now continues the backoff.
    expect(t.connection().reconnectAttempts).toBe(1);
    t.clock.advance(4_999);
    expect(t.of('connection/stabilized')).toHaveLength(0);
    fake.last().serverClose(1006);
    expect(t.retryDelays()).toEqual([100, 200]);
    t.clock.advance(200);
    fake.last().open();
    t.clock.advance(5_000);
    expect(t.of('connection/stabilized')).toHaveLength(1);
    expect(t.connection().reconnectAttempts).toBe(0);
    fake.last().serverClose(1006);
    expect(t.retryDelays()).toEqual([100, 200, 100]);
    t.store.dispose();
  });

  it('retries quickly while suspended (container restart): initial at most 250 ms, cap at most 5 s', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff: { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0 } });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1012, 'restart');
    for (let i = 0; i < 8; i++) {
      t.clock.advance(t.connection().nextRetryAt! - t.clock.now());
      fake.last().serverClose(1006);
    }
    expect(t.status()).toBe('suspended');
    expect(t.retryDelays()).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000]);
    t.store.dispose();
  });
});
