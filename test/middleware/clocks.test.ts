/**
 * Which clock measures what: silences on the monotonic clock (a wall clock set back must not
 * hide a dead link), command stamps and their expiry on one clock, the store's.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, startGeneration, systemTimers } from '../../src/index.js';
import { FakeClock, fakeWebSocket, makeStore } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the heartbeat measures silence on the monotonic clock', () => {
  it('heartbeat 200/600 ms, server silent, wall clock set back 30 s: the link is given up after 600-800 ms', () => {
    // The system timers (not a test clock), with setTimeout, Date and performance faked: setting
    // the system time moves Date.now() alone, as setting a computer's clock does.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const fake = fakeWebSocket();
    const t = makeStore({
      WebSocket: fake.WebSocket,
      timers: systemTimers,
      heartbeat: { intervalMs: 200, timeoutMs: 600 },
      backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
      sessionReplyTimeoutMs: 60_000,
      stableAfterMs: 60_000,
    });
    t.store.dispatch(connect());
    const socket = fake.last();
    socket.open();
    socket.receive({ type: 'session.init', session_id: 's1', instance_id: 'i1' });
    vi.advanceTimersByTime(0);
    expect(t.connection().sessionReady).toBe(true);

    vi.setSystemTime(Date.now() - 30_000); // from here on the server says nothing
    vi.advanceTimersByTime(600);
    expect(socket.closedWith).toBeUndefined(); // a silence of exactly timeoutMs is tolerated
    vi.advanceTimersByTime(200);
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });
});

describe('commands are stamped and expired on the same clock', () => {
  it("the store's clock stamps a command (enqueuedAt, the frame's timestamp), and queue.ttlMs expires it on that clock", () => {
    // A test clock far from the real one (2023 against today's Date.now()): a command stamped
    // with Date.now() would never expire on it.
    const clock = new FakeClock(Date.UTC(2023, 0, 1));
    const fake = fakeWebSocket();
    const t = makeStore({ clock, WebSocket: fake.WebSocket, queue: { ttlMs: 60_000 }, sessionReplyTimeoutMs: 60_000 });
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a' } }));
    const [entry] = t.store.getState().outbox.entries;
    expect(entry?.enqueuedAt).toBe(clock.now());
    expect(entry?.frame.timestamp).toBe(new Date(clock.now()).toISOString());

    clock.advance(60_000);
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'session.init', session_id: 's1', instance_id: 'i1', capabilities: ['ack'] });
    clock.advance(0);
    expect(t.store.getState().outbox.entries).toEqual([]);
    expect(t.store.getState().outbox.dropped.expired).toBe(1);
    expect(fake.last().types()).not.toContain('start_generation');
    t.store.dispose();
  });
});
