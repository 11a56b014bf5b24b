import { render, screen, fireEvent } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import ConnectionStatus from '../../src/components/ConnectionStatus.svelte';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  disconnect,
  reconnectScheduled,
  socketClosed,
  socketFailed,
  socketOpened,
  socketOpening,
} from '../../src/index.js';

function makeStore() {
  // No socket: the store's connection events are dispatched by hand, as the middleware would.
  return createRealtimeStore({
    autoConnect: false,
    devTools: false,
    storage: createMemoryStorage(),
    browser: null,
    WebSocket: class {
      readyState = 0;
      onopen = null;
      onclose = null;
      onmessage = null;
      onerror = null;
      send() {}
      close() {}
    } as never,
  });
}

describe('ConnectionStatus', () => {
  it('shows each status with its text, and retry when it makes sense', async () => {
    const store = makeStore();
    render(ConnectionStatus, { props: { store } });
    expect(screen.getByRole('status').textContent).toBe('Disconnected');
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();

    store.dispatch(connect());
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toBe('Connecting…');

    store.dispatch(socketOpened({ at: 1 }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toBe('Connected');

    store.dispatch(socketClosed({ code: 1006, reason: '', byClient: false, at: 2 }));
    store.dispatch(reconnectScheduled({ delayMs: 100, at: 2 }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toMatch(/^Reconnecting… \(attempt \d+\)$/);
    expect(screen.getByRole('button', { name: 'Retry now' })).toBeTruthy();

    store.dispatch(socketClosed({ code: 1012, reason: 'restart', byClient: false, at: 3 }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toBe('Container restart detected: reconnecting…');

    store.dispatch(socketFailed({ error: 'bad url', at: 4 }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toBe('Connection error: bad url');

    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    expect(store.getState().connection.wanted).toBe(true);
    store.dispatch(disconnect());
    store.dispose();
  });

  it('shows why the last socket failed, when the runtime said, until a socket opens', async () => {
    const store = makeStore();
    const { container } = render(ConnectionStatus, { props: { store } });
    const cause = () => container.querySelector('.cr-cause')?.textContent;
    store.dispatch(connect());
    store.dispatch(socketClosed({ code: 1006, reason: '', byClient: false, at: 1, error: 'connect ECONNREFUSED 127.0.0.1:8000' }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toMatch(/^Reconnecting…/);
    expect(cause()).toBe('(connect ECONNREFUSED 127.0.0.1:8000)');

    store.dispatch(socketClosed({ code: 1006, reason: '', byClient: false, at: 2, error: 'Unexpected server response: 404' }));
    await Promise.resolve();
    expect(cause()).toBe('(Unexpected server response: 404)');

    store.dispatch(socketClosed({ code: 1006, reason: '', byClient: false, at: 3 })); // a browser says nothing
    await Promise.resolve();
    expect(cause()).toBeUndefined();

    store.dispatch(socketClosed({ code: 1006, reason: '', byClient: false, at: 4, error: 'getaddrinfo ENOTFOUND backend' }));
    store.dispatch(socketOpened({ at: 5 }));
    await Promise.resolve();
    expect(screen.getByRole('status').textContent).toBe('Connected');
    expect(cause()).toBeUndefined();
    store.dispatch(disconnect());
    store.dispose();
  });
});
