/**
 * The token bucket that paces outbound frames (src/middleware/pacer.ts): a burst at once, then
 * the sustained rate, and never more than burst + rate in any second; a clock set back refills
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/middleware/pacer.js';

const T = 1_700_000_000_000;

function takeAll(pacer: ReturnType<typeof createPacer>, at: number): number {
  let taken = 0;
  while (pacer.take(at)) taken++;
  return taken;
}

describe('pacer', () => {
  it('a full bucket gives `burst` frames at once, then one per 1/maxPerSecond', () => {
    const pacer = createPacer({ maxPerSecond: 10, burst: 5 }, T);
    expect(takeAll(pacer, T)).toBe(5);
    expect(pacer.delayMs(T)).toBe(100);
    expect(pacer.take(T + 99)).toBe(false);
    expect(pacer.delayMs(T + 99)).toBe(1);
    expect(pacer.take(T + 100)).toBe(true);
    expect(takeAll(pacer, T + 600)).toBe(5);
  });

  it('a quiet spell refills the bucket up to `burst`, no further', () => {
    const pacer = createPacer({ maxPerSecond: 10, burst: 5 }, T);
    takeAll(pacer, T);
    expect(pacer.delayMs(T + 60_000)).toBe(0);
    expect(takeAll(pacer, T + 60_000)).toBe(5);
  });

  it('never lets more than burst + maxPerSecond frames through in any second (counted as the reference gateway counts)', () => {
    const pacer = createPacer({ maxPerSecond: 40, burst: 120 }, T);
    const sentAt: number[] = [];
    // A client that always wants to send, checking every millisecond for 5 s.
    for (let at = T; at < T + 5_000; at++) while (pacer.take(at)) sentAt.push(at);
    let most = 0;
    for (let i = 0, j = 0; i < sentAt.length; i++) {
      // server/gateway.ts tooFast: the frames at most 1,000 ms older than the newest.
      while (sentAt[i]! - sentAt[j]! > 1_000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBe(160);
    expect(sentAt.length).toBe(120 + 40 * 5 - 1);
  });

  it('a clock set back refills nothing: the wait is measured from the new time', () => {
    const pacer = createPacer({ maxPerSecond: 10, burst: 2 }, T);
    takeAll(pacer, T);
    expect(pacer.take(T - 30_000)).toBe(false);
    expect(pacer.delayMs(T - 30_000)).toBe(100);
    expect(pacer.take(T - 30_000 + 100)).toBe(true);
  });
});
