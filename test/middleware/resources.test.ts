/**
 * dispose(): no timers, no browser listeners, no frame listeners, no socket, whatever was live.
 * Timers are counted on the injected clock itself, not only by resources().
 */
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  cancelGeneration,
  connect,
  disconnect,
  startGeneration,
  STORAGE_KEY,
  subscribeProject,
  unsubscribeProject,
} from '../../src/index.js';
import { fakeBrowser, fakeWebSocket, makeStore, mswBackend, settle, until, WS_URL } from './helpers.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const NOTHING = { timers: 0, browserListeners: 0, frameListeners: 0, socket: false };

describe('dispose()', () => {
  it('with everything live: socket open, heartbeat, session reply, stable timer, a frame and a save pending', () => {
    const fake = fakeWebSocket();
    const browser = fakeBrowser();
    const t = makeStore({ WebSocket: fake.WebSocket, browser });
    t.store.on('*', () => undefined);
    t.store.on('task.progress', () => undefined);
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'system.heartbeat' }); // its flush is pending
    t.store.dispatch(subscribeProject('p1')); // its save is pending
    expect(t.store.resources()).toMatchObject({ browserListeners: 4, frameListeners: 2, socket: true });
    expect(browser.window.count() + browser.document.count()).toBe(4);
    expect(t.clock.pending()).toBeGreaterThan(0);
    t.store.dispose();
    expect(t.store.resources()).toEqual(NOTHING);
    expect(t.clock.pending()).toBe(0);
    expect(browser.window.count() + browser.document.count()).toBe(0);
    expect(fake.last().closedWith?.code).toBe(1000);
    // nothing runs afterwards
    const actions = t.actions.length;
    t.clock.advance(60 * 60_000);
    browser.window.fire('online');
    browser.document.fire('visibilitychange');
    expect(t.actions.length).toBe(actions);
    expect(fake.sockets).toHaveLength(1);
  });

  it('does not schedule a retry on its way out, and leaves the status at disconnected', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    fake.last().open();
    t.store.dispose();
    expect(t.retryDelays()).toEqual([]);
    expect(t.status()).toBe('disconnected');
    expect(t.clock.pending()).toBe(0);
  });

  it('keeps the stored session (a hot reload resumes it), with the latest changes', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    fake.last().open();
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispose();
    expect(JSON.parse(t.storage.getItem(STORAGE_KEY)!)).toMatchObject({ subscriptions: ['p1'] });
  });

  it('while a retry is pending', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().serverClose(1006);
    expect(t.store.resources().timers).toBeGreaterThan(0);
    t.store.dispose();
    expect(t.store.resources()).toEqual(NOTHING);
    expect(t.clock.pending()).toBe(0);
    t.clock.advance(60 * 60_000);
    expect(fake.sockets).toHaveLength(1);
  });

  it('while connecting', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    t.store.dispose();
    expect(t.store.resources()).toEqual(NOTHING);
    expect(t.clock.pending()).toBe(0);
    fake.last().open(); // the socket opens after all: nothing listens any more
    expect(t.status()).not.toBe('connected');
  });

  it('twice is harmless, and the store stays readable', () => {
    const t = makeStore();
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    t.store.dispose();
    t.store.dispose();
    expect(t.store.getState().outbox.entries).toHaveLength(1);
    expect(t.store.resources()).toEqual(NOTHING);
  });

  it('afterwards every command is refused with a clear error, and changes nothing', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispose();
    const before = t.store.getState();
    for (const command of [
      connect(),
      disconnect(),
      subscribeProject('p1'),
      unsubscribeProject('p1'),
      startGeneration({ nodeId: 'n1', params: {} }),
      cancelGeneration({ nodeId: 'n1' }),
    ]) {
      expect(() => t.store.dispatch(command)).toThrow(`canvas-realtime: ${command.type} refused: this store was disposed`);
    }
    expect(t.store.getState()).toBe(before);
    expect(t.status()).toBe('disconnected');
    expect(fake.sockets).toHaveLength(0);
    expect(t.store.resources()).toEqual(NOTHING);
  });

  it('with an msw backend: the backend sees the close', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore({ browser: fakeBrowser() });
    t.store.on('*', () => undefined);
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispose();
    expect(t.store.resources()).toEqual(NOTHING);
    expect(t.clock.pending()).toBe(0);
    await until(() => backend.last().closed, 'the close', t.clock);
    await settle(t.clock);
    expect(backend.connections).toHaveLength(1);
  });
});
