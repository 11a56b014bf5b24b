/**
 * The session / resume token the client keeps in storage (localStorage in a browser): what it
 * grants, how long it lives, and when it is cleared. Real client, real reference gateway on a
 * memory bus whose clock the test moves (no sleeping for TTLs). docs/RELIABILITY.md, "The
 * session token", says the same in words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { createGateway, type Gateway } from '../../server/gateway.js';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  disconnect,
  STORAGE_KEY,
  subscribeProject,
  type RealtimeStore,
  type StorageLike,
} from '../../src/index.js';
import { waitForState } from '../support/miniGateway.js';
import { report } from './scale.js';

const GATEWAY_TTL_MS = 60_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const figures: Record<string, unknown> = {};

async function setup() {
  let now = Date.UTC(2026, 2, 4, 12);
  const bus = createMemoryBus({ now: () => now });
  const gateway: Gateway = createGateway({ bus, host: '127.0.0.1', port: 0, heartbeatMs: 60_000, sessionTtlMs: GATEWAY_TTL_MS });
  await gateway.ready;
  cleanups.push(() => gateway.terminate(), () => bus.close());
  const url = `ws://127.0.0.1:${gateway.port()}/ws`;
  const client = (storage: StorageLike = createMemoryStorage(), options: { sessionTtlMs?: number } = {}) => {
    const store = createRealtimeStore({
      url,
      WebSocket,
      storage,
      browser: null,
      devTools: false,
      sessionReplyTimeoutMs: 5_000,
      ...options,
    });
    cleanups.push(() => store.dispose());
    return store;
  };
  return { bus, gateway, client, advance: (ms: number) => (now += ms) };
}

const ready = (store: RealtimeStore, what: string) => waitForState(store, (s) => s.connection.sessionReady, what);
const stored = (storage: StorageLike) => JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as { sessionId?: string; resumeToken?: string; subscriptions: string[] } | null;

/** Polls (storage has no events): the session is saved within a tick of the change. */
async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

async function reconnect(store: RealtimeStore) {
  store.dispatch(disconnect({ forgetSession: false }));
  store.dispatch(connect());
  return ready(store, 'reconnected');
}

describe('the session token', () => {
  it('is stored with the session and resumes its subscriptions on the gateway that issued it', async () => {
    const { client } = await setup();
    const storage = createMemoryStorage();
    const store = client(storage);
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(connect());
    const first = await ready(store, 'first session');
    await until(() => stored(storage)?.resumeToken !== undefined, 'the token saved');
    expect(stored(storage)).toMatchObject({ sessionId: first.sync.sessionId, resumeToken: first.sync.resumeToken, subscriptions: ['proj-1'] });

    // A reload: a new store on the same storage resumes the session.
    store.dispose();
    const reloaded = client(storage);
    const frames: string[] = [];
    reloaded.on('session.restored', (frame) => frames.push(frame.type));
    reloaded.dispatch(connect());
    const back = await ready(reloaded, 'resumed after a reload');
    expect(frames).toEqual(['session.restored']);
    expect(back.sync.sessionId).toBe(first.sync.sessionId);
    expect(back.sync.subscriptions).toEqual(['proj-1']);
  });

  it('grants resuming, not identity: whoever presents the session id and token resumes that session (so it is cleared on logout)', async () => {
    const { client } = await setup();
    const victimStorage = createMemoryStorage();
    const victim = client(victimStorage);
    victim.dispatch(subscribeProject('secret-project'));
    victim.dispatch(connect());
    await ready(victim, 'victim session');
    await until(() => stored(victimStorage)?.resumeToken !== undefined, 'the token saved');
    // Another browser with a copy of the victim's storage entry.
    const thief = client(createMemoryStorage());
    const copy = createMemoryStorage();
    copy.setItem(STORAGE_KEY, victimStorage.getItem(STORAGE_KEY)!);
    const replayer = client(copy);
    replayer.dispatch(connect());
    const resumed = await ready(replayer, 'resumed with a copied token');
    expect(resumed.sync.sessionId).toBe(victim.getState().sync.sessionId);
    expect(resumed.sync.subscriptions).toEqual(['secret-project']);
    thief.dispose();
    figures.grants = 'a copied {session id, token} resumes the session and its subscriptions: possession is enough; it is not authentication';
  });

  it('the gateway issues a new session for a token it did not issue', async () => {
    const { client } = await setup();
    const storage = createMemoryStorage();
    const store = client(storage);
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(connect());
    const first = await ready(store, 'first session');
    await until(() => stored(storage)?.resumeToken !== undefined, 'the token saved');
    store.dispose();
    const forged = { ...stored(storage)!, resumeToken: 'forged-token-0000000000000000' };
    storage.setItem(STORAGE_KEY, JSON.stringify(forged));
    const again = client(storage);
    const replies: string[] = [];
    again.on('session.init', (frame) => replies.push(`${frame.type}:${frame.reconnect}`));
    again.on('session.restored', (frame) => replies.push(frame.type));
    again.dispatch(connect());
    const state = await ready(again, 'new session');
    expect(replies).toEqual(['session.init:false']);
    expect(state.sync.sessionId).not.toBe(first.sync.sessionId);
    expect(state.sync.resumeToken).not.toBe(forged.resumeToken);
    // The client still follows its projects: it subscribes again by itself.
    expect(state.sync.subscriptions).toEqual(['proj-1']);
    figures.forged = 'new session (session.init, reconnect false); the old session is untouched';
  });

  it(`the gateway issues a new session for an expired one (sessionTtlMs ${GATEWAY_TTL_MS} ms, renewed on use)`, async () => {
    const { client, advance } = await setup();
    const store = client();
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(connect());
    const first = await ready(store, 'first session');
    // Within the TTL (and renewed by each use): restored.
    advance(GATEWAY_TTL_MS - 1_000);
    expect((await reconnect(store)).sync.sessionId).toBe(first.sync.sessionId);
    advance(GATEWAY_TTL_MS - 1_000);
    expect((await reconnect(store)).sync.sessionId).toBe(first.sync.sessionId);
    // Past the TTL: a new session, a new token.
    advance(GATEWAY_TTL_MS + 1);
    const expired = await reconnect(store);
    expect(expired.sync.sessionId).not.toBe(first.sync.sessionId);
    expect(expired.sync.resumeToken).not.toBe(first.sync.resumeToken);
    expect(expired.sync.subscriptions).toEqual(['proj-1']);
    figures.expired = 'new session after sessionTtlMs of disuse (gateway side; every session start and subscribe renews it)';
  });

  it('disconnect() (logout) clears it from storage and from state; nothing saves it back', async () => {
    const { client } = await setup();
    const storage = createMemoryStorage();
    const store = client(storage);
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(connect());
    await ready(store, 'session');
    await until(() => stored(storage)?.resumeToken !== undefined, 'the token saved');
    store.dispatch(disconnect());
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    const { sync } = store.getState();
    expect([sync.sessionId, sync.resumeToken, sync.subscriptions]).toEqual([undefined, undefined, []]);
    // Activity after the logout (a dispatch, the store's disposal) does not write it back.
    store.dispatch(subscribeProject('proj-2'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    store.dispose();
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    figures.logout = 'disconnect() (forgetSession defaults to true) removes the stored session and the token from state';
  });

  it('the client ignores (and removes) a stored session older than its own sessionTtlMs', async () => {
    const { client } = await setup();
    const storage = createMemoryStorage();
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({ version: 1, savedAt: Date.now() - 2_000, sessionId: 's-old', resumeToken: 'tok-old', subscriptions: ['proj-1'], lastSeq: {}, outbox: [], capabilities: [] }),
    );
    const store = client(storage, { sessionTtlMs: 1_000 });
    store.dispatch(connect());
    const state = await ready(store, 'fresh session');
    expect(state.sync.sessionId).not.toBe('s-old');
    expect(state.sync.subscriptions).toEqual([]);
    figures.clientTtl = 'a stored session older than sessionTtlMs (default 24 h) is ignored and removed at start-up';
  });
});

afterEach(() => report('session-token', figures));
