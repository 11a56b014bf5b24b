/**
 * A burst of commands against the reference gateway on 127.0.0.1, with its default frame limit
 * (200 frames/s) and the client's default pacing: every command runs once, none is reported
 * dropped, and the connection never goes to `error`. Issue 15, items 2 and 3.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { createGateway } from '../../server/gateway.js';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  startGeneration,
  subscribeProject,
  type RealtimeOptions,
  type RealtimeState,
  type WebSocketConstructor,
} from '../../src/index.js';
import { cleanupStack } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

/** The reference gateway (its defaults unless told); records the command ids it was handed to run. */
async function backend(options: { maxFramesPerSecond?: number } = {}) {
  const bus = createMemoryBus();
  const ran: string[] = [];
  const gateway = createGateway({ ...options, bus, host: '127.0.0.1', port: 0, publishCommands: false, onCommand: (frame) => void ran.push(frame.command_id!) });
  await gateway.ready;
  cleanups.add(() => bus.close());
  cleanups.add(() => gateway.terminate());
  return { ran, url: `ws://127.0.0.1:${gateway.port()}` };
}

/** A client with the default pacing and queue; records every connection status it goes through. */
function client(url: string, options: Partial<RealtimeOptions> = {}) {
  const store = createRealtimeStore({
    ...options,
    url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    storage: createMemoryStorage(),
    devTools: false,
    autoConnect: false,
    browser: null,
  });
  cleanups.add(() => store.dispose());
  const statuses: string[] = [store.getState().connection.status];
  cleanups.add(
    store.subscribe(() => {
      const { status } = store.getState().connection;
      if (statuses[statuses.length - 1] !== status) statuses.push(status);
    }),
  );
  return { store, statuses };
}

function waitForState(
  store: ReturnType<typeof client>['store'],
  predicate: (state: RealtimeState) => boolean,
  what: string,
  timeoutMs = 12_000,
): Promise<RealtimeState> {
  return new Promise((resolve, reject) => {
    if (predicate(store.getState())) return resolve(store.getState());
    const timer = setTimeout(() => {
      unsubscribe();
      const { connection, outbox } = store.getState();
      reject(new Error(`timed out waiting for ${what}: ${connection.status}, ${outbox.entries.length} in the outbox, dropped ${JSON.stringify(outbox.dropped)}`));
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => {
      if (store.getState().connection.status === 'error') {
        clearTimeout(timer);
        unsubscribe();
        reject(new Error(`the connection went to error while waiting for ${what}: ${store.getState().connection.error}`));
        return;
      }
      if (!predicate(store.getState())) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(store.getState());
    });
  });
}

const NO_DROPS = { overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 };

describe('a burst of commands against the reference gateway', () => {
  it('200 startGeneration in one burst while connected: each runs once, none dropped, never an error', async () => {
    const { ran, url } = await backend();
    const { store, statuses } = client(url);
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
    store.dispatch(subscribeProject('proj-1'));

    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push(store.dispatch(startGeneration({ nodeId: `node-${i}`, projectId: 'proj-1', params: { prompt: `shot ${i}` } })).payload.commandId);
    }
    // While the burst drains, nothing sent is counted as dropped (item 3).
    expect(store.getState().outbox.dropped).toEqual(NO_DROPS);

    const done = await waitForState(store, (s) => s.outbox.delivered === 200, 'every command acked');
    expect(done.outbox.entries).toEqual([]);
    expect(done.outbox.dropped).toEqual(NO_DROPS);
    expect(done.outbox.recentDrops).toEqual([]);
    expect(ran).toHaveLength(200);
    expect(new Set(ran)).toEqual(new Set(ids));
    expect(statuses).toEqual(['disconnected', 'connecting', 'connected']);
  });

  it('250 queued offline, then connect: all delivered on the first connection, never an error', async () => {
    const { ran, url } = await backend();
    const { store, statuses } = client(url, { queue: { max: 250 } });
    store.dispatch(subscribeProject('proj-1'));
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      ids.push(store.dispatch(startGeneration({ nodeId: `node-${i}`, projectId: 'proj-1', params: { prompt: `shot ${i}` } })).payload.commandId);
    }
    expect(store.getState().outbox.entries).toHaveLength(250);
    store.dispatch(connect());

    const done = await waitForState(store, (s) => s.outbox.delivered === 250, 'every command acked');
    expect(done.outbox.dropped).toEqual(NO_DROPS);
    expect(ran).toEqual(ids);
    expect(statuses).toEqual(['disconnected', 'connecting', 'connected']);
  });

  it('a client faster than the gateway allows is rate limited (4429) and comes back: every command runs once, never an error', async () => {
    const { ran, url } = await backend({ maxFramesPerSecond: 40 });
    // Told it may send far more than this gateway takes.
    const { store, statuses } = client(url, { send: { maxPerSecond: 1_000, burst: 1_000 }, backoff: { initialMs: 20, maxMs: 50 } });
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(store.dispatch(startGeneration({ nodeId: `node-${i}`, params: { prompt: `shot ${i}` } })).payload.commandId);

    const done = await waitForState(store, (s) => s.outbox.delivered === 100, 'every command acked');
    expect(done.connection.lastClose).toMatchObject({ code: 4429 });
    expect(statuses).toContain('reconnecting');
    expect(statuses).not.toContain('error');
    expect(ran.sort()).toEqual([...ids].sort());
    expect(done.outbox.dropped).toEqual(NO_DROPS);
  });
});
