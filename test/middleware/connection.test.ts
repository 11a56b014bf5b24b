/**
 * The connection state machine as the middleware drives it: msw for the flows against a backend,
 * a hand-driven fake socket where timing matters (a socket that never opens, retries in a row).
 */
import { ws } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, disconnect, shutdownAnnounced, shutdownOutlived, SHUTDOWN_GRACE_MS, STORAGE_KEY, subscribeProject } from '../../src/index.js';
import { fakeWebSocket, makeStore, mswBackend, settle, until, WS_URL } from './helpers.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** Connects a store to an msw backend and waits until the session is ready. */
async function connected(options: Parameters<typeof makeStore>[0] = {}) {
  const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: [] });
  const t = makeStore({ backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 }, ...options });
  t.store.dispatch(connect());
  await until(() => t.connection().sessionReady, 'the session', t.clock);
  return { t, backend };
}

/** Fires the pending retry (whatever its delay). */
function fireRetry(t: ReturnType<typeof makeStore>) {
  const at = t.connection().nextRetryAt;
  expect(at, 'a retry is scheduled').toBeDefined();
  t.clock.advance(at! - t.clock.now());
}

describe('with an msw backend', () => {
  it('disconnected -> connecting -> connected, session.init first', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore();
    expect(t.status()).toBe('disconnected');
    t.store.dispatch(connect());
    expect(t.status()).toBe('connecting');
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected']);
    expect(backend.connections).toHaveLength(1);
    expect(backend.types()[0]).toBe('session.init');
    expect(t.connection()).toMatchObject({ status: 'connected', wanted: true, reconnectAttempts: 0, instanceId: 'instance-1' });
    expect(t.store.resources().socket).toBe(true);
    t.store.dispose();
  });

  it.each([1006, 1000, 1011, 1013, 4429])('close %i: reconnecting, a backoff retry, then connected again', async (code) => {
    const { t, backend } = await connected();
    backend.close(backend.last(), code, 'bye');
    await until(() => t.status() === 'reconnecting', 'reconnecting', t.clock);
    expect(t.connection().lastClose).toMatchObject({ code, reason: 'bye' });
    expect(t.retryDelays()).toEqual([100]);
    expect(t.store.resources().socket).toBe(false);
    // nothing happens before the delay
    await settle(t.clock);
    expect(backend.connections).toHaveLength(1);
    fireRetry(t);
    await until(() => t.connection().sessionReady, 'the new session', t.clock);
    expect(backend.connections).toHaveLength(2);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected']);
    t.store.dispose();
  });

  it.each([1001, 1012])('close %i: suspended, a quick retry, then connected again', async (code) => {
    const { t, backend } = await connected({ backoff: { initialMs: 1_000, maxMs: 30_000, jitter: 0 } });
    backend.close(backend.last(), code, 'deploy');
    await until(() => t.status() === 'suspended', 'suspended', t.clock);
    expect(t.connection().suspendedReason).toBe('deploy');
    expect(t.retryDelays()).toEqual([250]);
    fireRetry(t);
    await until(() => t.connection().sessionReady, 'the new session', t.clock);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'suspended', 'connected']);
    expect(t.connection().suspendedReason).toBeUndefined();
    t.store.dispose();
  });

  it('a system.shutdown frame suspends before the socket even closes, and stays suspended through a failed retry', async () => {
    const { t, backend } = await connected({ backoff: { initialMs: 1_000, maxMs: 30_000, jitter: 0 } });
    backend.last().push({ type: 'system.shutdown', reason: 'container restart', restart_in_ms: 2_000 });
    await until(() => t.status() === 'suspended', 'suspended', t.clock);
    expect(t.of(shutdownAnnounced.type)).toHaveLength(1);
    expect(t.connection().suspendedReason).toBe('container restart');
    // the backend goes away without a close frame
    backend.close(backend.last(), 1006);
    await until(() => t.retryDelays().length === 1, 'a retry', t.clock);
    expect(t.status()).toBe('suspended');
    expect(t.retryDelays()).toEqual([250]);
    // the first retry is refused (still restarting): still suspended, next quick retry
    server.use(ws.link(WS_URL).addEventListener('connection', ({ client }) => queueMicrotask(() => client.close(1006))));
    fireRetry(t);
    await until(() => t.retryDelays().length === 2, 'a second retry', t.clock);
    expect(t.status()).toBe('suspended');
    expect(t.retryDelays()).toEqual([250, 500]);
    server.resetHandlers();
    const back = mswBackend(server, WS_URL, { reply: 'init', instanceId: 'instance-2' });
    fireRetry(t);
    await until(() => t.connection().sessionReady, 'the new session', t.clock);
    expect(back.connections).toHaveLength(1);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'suspended', 'connected']);
    t.store.dispose();
  });

  it.each([
    [1008, 'policy'],
    [4401, 'unauthorized'],
    [4403, 'forbidden'],
  ])('close %i: error, no retry (no timer, no second socket)', async (code, reason) => {
    const { t, backend } = await connected();
    backend.close(backend.last(), code, reason);
    await until(() => t.status() === 'error', 'error', t.clock);
    expect(t.connection()).toMatchObject({ status: 'error', wanted: false, error: reason });
    expect(t.retryDelays()).toEqual([]);
    t.clock.advance(0);
    expect(t.clock.pending()).toBe(0);
    t.clock.advance(10 * 60_000);
    await settle(t.clock);
    expect(backend.connections).toHaveLength(1);
    expect(t.store.resources()).toMatchObject({ timers: 0, socket: false });
    // connect() tries again, from the start
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the new session', t.clock);
    expect(backend.connections).toHaveLength(2);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'error', 'connecting', 'connected']);
    t.store.dispose();
  });

  it('a refusal without a reason still says why', async () => {
    const { t, backend } = await connected();
    backend.close(backend.last(), 4401);
    await until(() => t.status() === 'error', 'error', t.clock);
    expect(t.connection().error).toBe('connection refused (close code 4401)');
    t.store.dispose();
  });

  it('connect() twice while connecting opens one socket', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore();
    t.store.dispatch(connect());
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispatch(connect());
    await settle(t.clock);
    expect(backend.connections).toHaveLength(1);
    expect(t.of('connection/socketOpening')).toHaveLength(1);
    t.store.dispose();
  });

  it('disconnect(): closes with 1000, stays down, and forgets the stored session', async () => {
    const { t, backend } = await connected();
    t.store.dispatch(subscribeProject('p1'));
    t.clock.advance(0);
    expect(t.storage.getItem(STORAGE_KEY)).toContain('p1');
    t.store.dispatch(disconnect());
    expect(t.status()).toBe('disconnected');
    await until(() => backend.last().closed, 'the backend to see the close', t.clock);
    t.clock.advance(60 * 60_000);
    await settle(t.clock);
    expect(backend.connections).toHaveLength(1);
    expect(t.retryDelays()).toEqual([]);
    expect(t.storage.getItem(STORAGE_KEY)).toBeNull();
    expect(t.store.getState().sync.sessionId).toBeUndefined();
    expect(t.store.getState().sync.subscriptions).toEqual([]);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'disconnected']);
    expect(t.store.resources()).toMatchObject({ timers: 0, socket: false });
    t.store.dispose();
  });

  it('disconnect({ forgetSession: false }) keeps the stored session', async () => {
    const { t } = await connected();
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(disconnect({ forgetSession: false }));
    t.clock.advance(0);
    expect(JSON.parse(t.storage.getItem(STORAGE_KEY)!)).toMatchObject({ subscriptions: ['p1'] });
    t.store.dispose();
  });
});

describe('with a hand-driven socket', () => {
  const backoff = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };

  it('connect timeout: a socket that never opens is abandoned with 4001 and a retry is scheduled', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, connectTimeoutMs: 5_000, backoff });
    t.store.dispatch(connect());
    t.clock.advance(4_999);
    expect(fake.last().closedWith).toBeUndefined();
    expect(t.status()).toBe('connecting');
    t.clock.advance(1);
    expect(fake.last().closedWith).toEqual({ code: 4001, reason: 'connect timeout' });
    expect(t.status()).toBe('reconnecting');
    expect(t.connection().lastClose?.code).toBe(4001);
    expect(t.retryDelays()).toEqual([100]);
    expect(t.store.resources().socket).toBe(false);
    t.clock.advance(100);
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    expect(t.status()).toBe('connected');
    // the abandoned socket's late close event changes nothing
    fake.sockets[0]!.serverClose(1006);
    expect(t.status()).toBe('connected');
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'reconnecting', 'connected']);
    t.store.dispose();
  });

  it('no flicker: failed retries stay reconnecting, never connecting or disconnected', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff, connectTimeoutMs: 1_000 });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1006);
    const seen: string[] = [];
    const unsubscribe = t.store.subscribe(() => seen.push(t.status()));
    for (let i = 0; i < 3; i++) {
      fireRetry(t);
      fake.last().serverClose(1006); // refused before opening
    }
    fireRetry(t);
    t.clock.advance(1_000); // this one times out
    fireRetry(t);
    fake.last().open();
    unsubscribe();
    expect(new Set(seen.slice(0, -1))).toEqual(new Set(['reconnecting']));
    expect(seen.at(-1)).toBe('connected');
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected']);
    expect(t.retryDelays()).toEqual([100, 200, 400, 800, 1_000]);
    t.store.dispose();
  });

  it('suspended retries stay suspended', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1012);
    for (let i = 0; i < 3; i++) {
      fireRetry(t);
      fake.last().serverClose(1006);
    }
    fireRetry(t);
    fake.last().open();
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'suspended', 'connected']);
    t.store.dispose();
  });

  it('connect() while reconnecting retries at once', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff: { ...backoff, initialMs: 900 } });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1006);
    expect(t.clock.pendingDelays()).toContain(900);
    t.store.dispatch(connect());
    expect(fake.sockets).toHaveLength(2);
    expect(t.status()).toBe('reconnecting');
    expect(t.clock.pendingDelays()).not.toContain(900); // the pending retry is gone
    fake.last().open();
    t.clock.advance(900);
    expect(fake.sockets).toHaveLength(2);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'reconnecting', 'connected']);
    t.store.dispose();
  });

  it('connect() while a socket is connecting does not open another', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    t.store.dispatch(connect());
    expect(fake.sockets).toHaveLength(1);
    t.store.dispose();
  });

  it('disconnect() while a socket is connecting: it closes, and its late close event changes nothing', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.dispatch(connect());
    t.store.dispatch(disconnect());
    expect(fake.last().closedWith).toEqual({ code: 1000, reason: 'client disconnect' });
    fake.last().serverClose(1006);
    t.clock.advance(60_000);
    expect(fake.sockets).toHaveLength(1);
    expect(t.status()).toBe('disconnected');
    expect(t.retryDelays()).toEqual([]);
    t.store.dispose();
  });

  it('disconnect() while a retry is pending cancels it', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1006);
    t.store.dispatch(disconnect());
    t.clock.advance(60_000);
    expect(fake.sockets).toHaveLength(1);
    expect(t.status()).toBe('disconnected');
    expect(t.connection().nextRetryAt).toBeUndefined();
    expect(t.clock.pending()).toBe(0);
    t.store.dispose();
  });

  it('a system.shutdown not followed by a close: the next frame brings the link back to connected', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff, sessionReplyTimeoutMs: 60_000, stableAfterMs: 60_000 });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'system.shutdown', reason: 'deploy' });
    t.clock.advance(0);
    expect(t.status()).toBe('suspended');
    t.clock.advance(1_000); // within the grace: still waiting for the close
    expect(t.status()).toBe('suspended');
    fake.last().receive({ type: 'system.heartbeat' });
    t.clock.advance(0);
    expect(t.connection()).toMatchObject({ status: 'connected', suspendedReason: undefined });
    expect(t.of(shutdownOutlived.type)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ after: 'frame' }) })]);
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'suspended', 'connected']);
    expect(fake.sockets).toHaveLength(1);
    expect(t.retryDelays()).toEqual([]);
    t.store.dispose();
  });

  it('a system.shutdown not followed by a close nor a frame: connected again after SHUTDOWN_GRACE_MS', () => {
    const fake = fakeWebSocket();
    // A heartbeat slower than the grace, so that no other timer decides first.
    const t = makeStore({ WebSocket: fake.WebSocket, backoff, heartbeat: { intervalMs: 60_000, timeoutMs: 180_000 }, sessionReplyTimeoutMs: 60_000, stableAfterMs: 60_000 });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'system.shutdown', reason: 'deploy' });
    t.clock.advance(0);
    expect(t.status()).toBe('suspended');
    expect(t.store.resources().timers).toBeGreaterThan(0);
    t.clock.advance(SHUTDOWN_GRACE_MS - 1);
    expect(t.status()).toBe('suspended');
    t.clock.advance(1);
    expect(t.status()).toBe('connected');
    expect(t.of(shutdownOutlived.type)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ after: 'grace' }) })]);
    t.store.dispose();
  });

  it('a system.shutdown followed by its close: the grace timer goes with the socket, and the status stays suspended', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 }, heartbeat: { intervalMs: 60_000, timeoutMs: 180_000 } });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'system.shutdown', reason: 'deploy' });
    t.clock.advance(0);
    fake.last().serverClose(1012, 'restart');
    expect(t.status()).toBe('suspended');
    t.clock.advance(SHUTDOWN_GRACE_MS);
    expect(t.status()).toBe('suspended');
    expect(t.of(shutdownOutlived.type)).toEqual([]);
    t.store.dispose();
  });

  it('one socket at most, even when a listener calls connect() while the socket closes', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.on('system.shutdown', () => t.store.dispatch(connect()));
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'system.shutdown', reason: 'deploy' });
    fake.last().serverClose(1012); // the pending frame is applied (and heard) during the close
    expect(fake.sockets).toHaveLength(2);
    t.clock.advance(5_000); // past any retry, before the connect timeout
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    expect(t.status()).toBe('connected');
    t.store.dispose();
  });

  it('an unknown close code retries', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(4999);
    expect(t.status()).toBe('reconnecting');
    t.store.dispose();
  });

  it('a close code in 4400-4499 other than 4429 is a refusal', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, backoff });
    t.store.dispatch(connect());
    fake.last().serverClose(4400); // refused before even opening
    expect(t.status()).toBe('error');
    t.clock.advance(60_000);
    expect(fake.sockets).toHaveLength(1);
    t.store.dispose();
  });
});
