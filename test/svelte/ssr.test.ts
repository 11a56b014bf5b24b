import { render } from 'svelte/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ConnectionStatus from '../../src/components/ConnectionStatus.svelte';
import { createRealtimeStore } from '../../src/index.js';

describe('server-side rendering', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('imports the svelte entry and renders a component without a DOM and without opening a socket', async () => {
    const constructed = vi.fn();
    // Node 22+ has a global WebSocket: make sure nothing tries to use it during SSR.
    vi.stubGlobal(
      'WebSocket',
      class {
        constructor() {
          constructed();
        }
      },
    );
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined');

    const entry = await import('../../src/svelte/index.js');
    expect(typeof entry.setupWebSocket).toBe('function');
    // The story's stores are readable before any client exists, and say "disconnected".
    let status: string | undefined;
    entry.wsState.subscribe((value) => (status = value.status))();
    expect(status).toBe('disconnected');

    const store = createRealtimeStore();
    const { body } = render(ConnectionStatus, { props: { store } });
    expect(body).toContain('Disconnected');
    expect(body).toContain('role="status"');
    expect(store.getState().connection.status).toBe('disconnected');
    expect(constructed).not.toHaveBeenCalled();
    expect(store.resources().socket).toBe(false);
    store.dispose();
  });
});
