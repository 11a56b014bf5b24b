/**
 * Heartbeat, wall-clock liveness, page visibility and network events. Driven by hand: a fake
 * socket, the store's injectable clock, and fake window/document event targets.
 */
import { describe, expect, it } from 'vitest';
import { connect, disconnect } from '../../src/index.js';
import { fakeBrowser, fakeWebSocket, makeStore, type FakeSocket } from './helpers.js';

const heartbeat = { intervalMs: 1_000, timeoutMs: 3_000 };
const backoff = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };

function setup(options: Parameters<typeof makeStore>[0] = {}) {
  const fake = fakeWebSocket();
  const browser = fakeBrowser();
  const t = makeStore({ WebSocket: fake.WebSocket, heartbeat, backoff, browser, sessionReplyTimeoutMs: 10_000, stableAfterMs: 60_000, ...options });
  t.store.dispatch(connect());
  const socket = fake.last();
  socket.open();
  socket.receive({ type: 'session.init', session_id: 's1', instance_id: 'i1' });
  t.clock.advance(0);
  return { t, fake, browser, socket };
}

const pings = (socket: FakeSocket) => socket.types().filter((type) => type === 'ping').length;

describe('heartbeat', () => {
  it('pings every intervalMs while frames keep arriving', () => {
    const { t, socket } = setup();
    for (let i = 1; i <= 10; i++) {
      t.clock.advance(999);
      expect(pings(socket)).toBe(i - 1);
      t.clock.advance(1);
      expect(pings(socket)).toBe(i);
      socket.receive({ type: 'system.heartbeat', server_time: t.clock.now() });
    }
    t.clock.advance(0); // frames are applied on the next tick
    expect(t.status()).toBe('connected');
    expect(t.connection().lastHeartbeatAt).toBe(t.clock.now());
    expect(socket.frames().find((frame) => frame.type === 'ping')).toMatchObject({ timestamp: expect.any(String) });
    t.store.dispose();
  });

  it('no frame within timeoutMs: the half-open socket is abandoned with 4000 and a reconnect is scheduled', () => {
    const { t, fake, socket } = setup();
    t.clock.advance(3_000);
    // silence of exactly timeoutMs is still tolerated
    expect(socket.closedWith).toBeUndefined();
    expect(pings(socket)).toBe(3);
    t.clock.advance(1_000);
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
    expect(pings(socket)).toBe(3);
    expect(t.status()).toBe('reconnecting');
    expect(t.connection().lastClose).toMatchObject({ code: 4000 });
    expect(t.retryDelays()).toEqual([100]);
    // the half-open socket never sends its close event; the retry goes ahead regardless
    t.clock.advance(100);
    expect(fake.sockets).toHaveLength(2);
    t.store.dispose();
  });

  it.each([
    ['task.progress', { type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: 10 }],
    ['an unknown type', { type: 'render.farm.status', ok: true }],
    ['a frame that fails validation', { type: 'task.progress', task_id: 't1', state: 'NOT_A_STATE' }],
  ])('any inbound frame keeps the link alive: %s', (_name, frame) => {
    const { t, socket } = setup();
    for (let i = 0; i < 20; i++) {
      t.clock.advance(2_500);
      socket.receive(frame);
    }
    expect(socket.closedWith).toBeUndefined();
    expect(t.status()).toBe('connected');
    expect(pings(socket)).toBe(50);
    t.store.dispose();
  });

  it('compares wall-clock time: a timer that fires late (throttled background tab) declares the link dead at that first firing', () => {
    const { t, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    t.clock.advance(15_000);
    expect(pings(socket)).toBe(1);
    socket.receive({ type: 'system.heartbeat' });
    // The tab is throttled: ten minutes pass and the heartbeat timer has not fired.
    t.clock.jump(10 * 60_000);
    expect(socket.closedWith).toBeUndefined();
    t.clock.advance(0); // the timer finally fires, once, very late
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
    expect(pings(socket)).toBe(1); // no ping on a link known dead
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });

  it('a late timer after a short silence only pings', () => {
    const { t, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    t.clock.jump(30_000);
    t.clock.advance(0);
    expect(socket.closedWith).toBeUndefined();
    expect(pings(socket)).toBe(1);
    t.store.dispose();
  });
});

describe('page visibility', () => {
  it("'visible' after a long silence probes at once: a ping that must be answered", () => {
    const { t, browser, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    browser.document.visibility = 'hidden';
    browser.document.fire('visibilitychange');
    t.clock.jump(20_000); // hidden, timers throttled
    browser.document.visibility = 'visible';
    browser.document.fire('visibilitychange');
    expect(pings(socket)).toBe(1); // at once, not at the next heartbeat
    // the probe waits at most 5 s for an answer (the overdue heartbeat fires meanwhile, late)
    t.clock.advance(4_999);
    expect(socket.closedWith).toBeUndefined();
    t.clock.advance(1);
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'no answer after the page became visible' });
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });

  it("'visible' probe answered: the link stays", () => {
    const { t, browser, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    t.clock.jump(20_000);
    browser.document.fire('visibilitychange');
    expect(pings(socket)).toBe(1);
    t.clock.advance(100);
    socket.receive({ type: 'system.heartbeat' });
    t.clock.advance(5_000);
    expect(socket.closedWith).toBeUndefined();
    expect(t.status()).toBe('connected');
    t.store.dispose();
  });

  it("'visible' after a silence longer than timeoutMs gives the link up at once", () => {
    const { t, browser, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    t.clock.jump(60_000);
    browser.document.fire('visibilitychange');
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });

  it("'hidden' does nothing", () => {
    const { t, browser, socket } = setup({ heartbeat: { intervalMs: 15_000, timeoutMs: 45_000 } });
    t.clock.jump(60_000);
    browser.document.visibility = 'hidden';
    browser.document.fire('visibilitychange');
    expect(socket.closedWith).toBeUndefined();
    expect(pings(socket)).toBe(0);
    t.store.dispose();
  });

  it("'visible' while a retry is pending retries at once", () => {
    const { t, fake, browser, socket } = setup({ backoff: { initialMs: 20_000, maxMs: 30_000, jitter: 0 } });
    socket.serverClose(1006);
    expect(fake.sockets).toHaveLength(1);
    browser.document.fire('visibilitychange');
    expect(fake.sockets).toHaveLength(2);
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });

  it("'visible' after disconnect() does nothing", () => {
    const { t, fake, browser } = setup();
    t.store.dispatch(disconnect());
    t.clock.jump(60_000);
    browser.document.fire('visibilitychange');
    expect(fake.sockets).toHaveLength(1);
    t.store.dispose();
  });
});

describe('network events', () => {
  it("'offline' pauses retries (no timer); 'online' retries at once", () => {
    const { t, fake, browser, socket } = setup();
    browser.window.fire('offline');
    expect(t.connection().offline).toBe(true);
    socket.serverClose(1006);
    expect(t.status()).toBe('reconnecting');
    expect(t.retryDelays()).toEqual([]);
    t.clock.advance(0);
    expect(t.clock.pending()).toBe(0);
    t.clock.advance(10 * 60_000);
    expect(fake.sockets).toHaveLength(1);
    browser.window.fire('online');
    expect(t.connection().offline).toBe(false);
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected']);
    t.store.dispose();
  });

  it("'offline' cancels a retry already scheduled", () => {
    const { t, fake, browser, socket } = setup();
    socket.serverClose(1006);
    expect(t.retryDelays()).toEqual([100]);
    browser.window.fire('offline');
    t.clock.advance(60_000);
    expect(fake.sockets).toHaveLength(1);
    browser.window.fire('online');
    expect(fake.sockets).toHaveLength(2);
    t.store.dispose();
  });

  it("'online' while connected or after disconnect() opens nothing", () => {
    const { t, fake, browser } = setup();
    browser.window.fire('offline');
    browser.window.fire('online');
    expect(fake.sockets).toHaveLength(1);
    t.store.dispatch(disconnect());
    browser.window.fire('offline');
    browser.window.fire('online');
    expect(fake.sockets).toHaveLength(1);
    expect(t.status()).toBe('disconnected');
    t.store.dispose();
  });
});
