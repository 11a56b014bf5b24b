/**
 * One focused test per bug the reliability suites found (docs/RELIABILITY.md, "Found and
 * fixed"). Each failed before its fix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { createGateway, type Gateway } from '../../server/gateway.js';
import {
  cancelGeneration,
  connect,
  createMemoryStorage,
  createRealtimeStore,
  disconnect,
  startGeneration,
  subscribeProject,
  type RealtimeStore,
  type StorageLike,
} from '../../src/index.js';
import { waitForState } from '../support/miniGateway.js';
import { ChaosProxy } from './chaosProxy.js';
import { assertPrototypeClean } from './frames.js';
import { getEntity } from '../../src/slices/table.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  assertPrototypeClean();
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gatewayOn(bus: EventBus, options: { port?: number; sessionTtlMs?: number; heartbeatMs?: number; clientTimeoutMs?: number; snapshot?: boolean } = {}): Promise<Gateway> {
  const gateway = createGateway({ bus, host: '127.0.0.1', port: options.port ?? 0, heartbeatMs: options.heartbeatMs ?? 60_000, ...options });
  await gateway.ready;
  cleanups.push(() => gateway.terminate());
  return gateway;
}

function client(url: string, storage: StorageLike = createMemoryStorage()): RealtimeStore {
  const store = createRealtimeStore({
    url,
    WebSocket,
    storage,
    browser: null,
    devTools: false,
    backoff: { initialMs: 10, maxMs: 50 },
    sessionReplyTimeoutMs: 5_000,
  });
  cleanups.push(() => store.dispose());
  return store;
}

/**
 * A client subscribed to p1 and at seq 5 on a gateway whose process then goes away; a new
 * gateway on the same port has an empty in-memory bus holding 8 events of a new numbering. The
 * client is disconnected (session kept) and hears project.updated seqs in `seen` from now on.
 */
async function clientAtFiveAcrossABusReset(options: { snapshot: boolean }) {
  const oldBus = createMemoryBus();
  const first = await gatewayOn(oldBus);
  const store = client(`ws://127.0.0.1:${first.port()}/ws`, createMemoryStorage());
  store.dispatch(subscribeProject('p1'));
  store.dispatch(connect());
  await waitForState(store, (s) => s.connection.sessionReady, 'session');
  await subscribed(oldBus, store, 'p1');
  for (let n = 1; n <= 5; n++) await oldBus.publish('p1', event(n));
  await waitForState(store, (s) => s.sync.lastSeq.p1 === 5, 'events 1-5');
  store.dispatch(disconnect({ forgetSession: false }));
  const port = first.port();
  await first.terminate();
  const newBus = createMemoryBus();
  const second = await gatewayOn(newBus, { port, snapshot: options.snapshot });
  for (let n = 1; n <= 8; n++) await newBus.publish('p1', event(100 + n));
  const seen: number[] = [];
  store.on('project.updated', (frame) => seen.push(frame.seq!));
  return { store, newBus, second, seen };
}

async function subscribed(bus: EventBus, store: RealtimeStore, projectId: string) {
  for (let i = 0; i < 500; i++) {
    if ((await bus.getSession(store.getState().sync.sessionId ?? ''))?.subscriptions.includes(projectId)) return;
    await delay(10);
  }
  throw new Error('never subscribed');
}

const event = (n: number) => ({ type: 'project.updated', data: { n } });

describe('regressions found by the reliability suites', () => {
  it('startGeneration / cancelGeneration with a node id named like an Object.prototype member do not pollute the prototype (fuzz-outbound)', () => {
    // Before: the nodes reducer used the application's node id as a key before anything checked
    // it: getEntity(state, '__proto__') is Object.prototype, and `updatedAt` and `pending` landed on
    // every object of the page.
    const store = createRealtimeStore({ autoConnect: false, browser: null, devTools: false });
    cleanups.push(() => store.dispose());
    for (const nodeId of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']) {
      store.dispatch(startGeneration({ nodeId, params: { prompt: 'x' }, context: { emotional_beat: 'Resolve' } }));
      store.dispatch(cancelGeneration({ nodeId }));
    }
    assertPrototypeClean();
    expect(({} as { pending?: unknown }).pending).toBeUndefined();
    expect(store.getState().nodes.ids).toEqual([]);
    expect(getEntity(store.getState().narrative.beats, 'Resolve')?.node_ids ?? []).toEqual([]);
  });

  it('the gateway drops a half-open client after clientTimeoutMs instead of writing every event to it forever (chaos)', async () => {
    const bus = createMemoryBus();
    const gateway = await gatewayOn(bus, { heartbeatMs: 50, clientTimeoutMs: 300 });
    const proxy = await ChaosProxy.start(() => gateway.port());
    cleanups.push(() => proxy.close());
    const store = client(proxy.url);
    store.dispatch(subscribeProject('p1'));
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session');
    expect(gateway.clientCount()).toBe(1);
    // The link goes silent both ways; the client is stopped so that it does not come back.
    proxy.halfOpen();
    store.dispose();
    for (let i = 0; i < 200 && gateway.clientCount() > 0; i++) await delay(10);
    expect(gateway.clientCount()).toBe(0);
  });

  it('a client whose session expired on the gateway gets the events it missed replayed, not silently skipped (token / chaos)', async () => {
    // Before: a new session made the client forget its positions and subscribe "from now".
    let now = Date.UTC(2026, 2, 4);
    const bus = createMemoryBus({ now: () => now });
    const gateway = await gatewayOn(bus, { sessionTtlMs: 60_000 });
    const store = client(`ws://127.0.0.1:${gateway.port()}/ws`);
    store.dispatch(subscribeProject('p1'));
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session');
    await subscribed(bus, store, 'p1');
    for (let n = 1; n <= 3; n++) await bus.publish('p1', event(n));
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 3, 'events 1-3');
    const firstSession = store.getState().sync.sessionId;
    store.dispatch(disconnect({ forgetSession: false }));
    now += 120_000; // the gateway's session expired
    for (let n = 4; n <= 6; n++) await bus.publish('p1', event(n));
    const seen: number[] = [];
    store.on('project.updated', (frame) => seen.push(frame.seq!));
    store.dispatch(connect());
    const back = await waitForState(store, (s) => s.connection.sessionReady && s.sync.lastSeq.p1 === 6, 'events 4-6 replayed');
    expect(back.sync.sessionId).not.toBe(firstSession);
    expect(seen).toEqual([4, 5, 6]);
    expect(back.sync.gaps).toEqual([]);
  });

  it('a client coming back to a gateway (without the snapshot extension) whose bus lost its data is told with a gap, even when the new numbering is already past its position (chaos)', async () => {
    // Before: with the new numbering at 8 and the client at 5, the gateway replayed 6-8 of the
    // new numbering as if nothing had happened (events 1-5 of it silently missed).
    // The process restarts with an empty in-memory bus on the same port; 8 new events.
    const { store, newBus, second, seen } = await clientAtFiveAcrossABusReset({ snapshot: false });
    store.dispatch(connect());
    const back = await waitForState(store, (s) => s.connection.sessionReady && s.sync.gaps.length > 0, 'the gap');
    expect(back.sync.gaps).toEqual([expect.objectContaining({ project_id: 'p1', from: 6, to: 8, detectedBy: 'server' })]);
    expect(seen).toEqual([]);
    await subscribed(newBus, store, 'p1');
    await newBus.publish('p1', event(109));
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 9, 'the next event');
    expect(seen).toEqual([9]);
    expect(second.clientCount()).toBe(1);
  });

  it('a client coming back to a gateway whose bus lost its data gets a project.snapshot of the new numbering, even when it is already past its position', async () => {
    const { store, newBus, seen } = await clientAtFiveAcrossABusReset({ snapshot: true });
    store.dispatch(connect());
    // Not 6-8 of the new numbering replayed as if they followed 5: the state as of 8.
    await waitForState(store, (s) => s.connection.sessionReady && s.sync.lastSeq.p1 === 8, 'the snapshot at 8');
    expect(seen).toEqual([]);
    await subscribed(newBus, store, 'p1');
    await newBus.publish('p1', event(109));
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 9, 'the next event');
    expect(seen).toEqual([9]);
  });
});
