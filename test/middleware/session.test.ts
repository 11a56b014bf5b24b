/**
 * Session persistence and container restarts, against msw backends: what is stored, how a second
 * store (a reload) resumes from it, what expires, and what a backend restart does to the canvas.
 */
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  createMemoryStorage,
  disconnect,
  startGeneration,
  STORAGE_KEY,
  STORAGE_VERSION,
  subscribeProject,
  type StoredSession,
} from '../../src/index.js';
import { FakeClock, fakeBrowser, makeStore, mswBackend, settle, until, WS_URL } from './helpers.js';
import { getEntity } from '../../src/slices/table.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const backoff = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };
const stored = (storage: { getItem(key: string): string | null }) => JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as StoredSession | null;

/** A first page: subscribes p1, applies three events, and leaves one command waiting for its ack. */
async function firstPage() {
  const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: ['ack', 'seq', 'replay'], ack: false });
  const t = makeStore({ backoff });
  t.store.dispatch(subscribeProject('p1'));
  t.store.dispatch(connect());
  await until(() => t.connection().sessionReady, 'the session', t.clock);
  for (let seq = 1; seq <= 3; seq++) {
    backend.last().push({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: seq * 10, project_id: 'p1', seq });
  }
  t.store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a cat' } }));
  await until(() => t.store.getState().sync.lastSeq.p1 === 3, 'the events', t.clock);
  t.clock.advance(0);
  return { t, backend };
}

describe('session persistence', () => {
  it('stores the session id, subscriptions, last seq per project, outbox and capabilities', async () => {
    const { t } = await firstPage();
    const session = stored(t.storage)!;
    expect(session).toMatchObject({
      version: STORAGE_VERSION,
      sessionId: t.store.getState().sync.sessionId,
      subscriptions: ['p1'],
      lastSeq: { p1: 3 },
      capabilities: ['ack', 'seq', 'replay'],
    });
    expect(session.sessionId).toMatch(/^sess-/);
    expect(session.outbox).toEqual([expect.objectContaining({ frame: expect.objectContaining({ type: 'start_generation', node_id: 'n1' }) })]);
    t.store.dispose();
  });

  it('a command is stored as soon as it is asked for, before the next tick', () => {
    const t = makeStore();
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    expect(stored(t.storage)?.outbox).toHaveLength(1);
    t.store.dispose();
  });

  it('a second store on the same storage resumes (reconnect), replays from 0 since its state is empty, delivers the stored outbox', async () => {
    const { t: first, backend } = await firstPage();
    const sessionId = first.store.getState().sync.sessionId;
    const commandId = first.store.getState().outbox.entries[0]!.commandId;
    first.store.dispose();
    server.resetHandlers();

    const again = mswBackend(server, WS_URL, { reply: 'restored', capabilities: ['ack', 'seq', 'replay'], ack: true });
    // the page reloads a few seconds later
    const second = makeStore({ storage: first.storage, backoff, clock: new FakeClock(first.clock.now() + 5_000) });
    await settle(second.clock); // the stored session is loaded on the next microtask
    // The stored position has no state behind it in this store: kept aside, never used to drop events.
    expect(second.store.getState().sync).toMatchObject({ sessionId, subscriptions: ['p1'], lastSeq: {}, storedLastSeq: { p1: 3 } });
    expect(second.store.getState().outbox.entries.map((e) => e.commandId)).toEqual([commandId]);
    second.store.dispatch(connect());
    await until(() => second.store.getState().outbox.entries.length === 0, 'the stored command', second.clock);
    expect(again.wire()).toEqual([
      expect.objectContaining({ type: 'session.init', session_id: sessionId, reconnect: true }),
      { type: 'subscribe', project_id: 'p1', last_seq: 0 },
      expect.objectContaining({ type: 'start_generation', node_id: 'n1', command_id: commandId }),
    ]);
    expect(again.wire()[0]).not.toHaveProperty('last_seq');
    expect(backend.connections).toHaveLength(1);
    second.store.dispose();
  });

  it.each([
    ['announces seq but not replay', { reply: 'restored' as const, capabilities: ['seq'] }],
    ['speaks only the story (never answers)', { reply: 'none' as const }],
  ])('resubscribes without last_seq to a backend that %s', async (_name, behavior) => {
    const { t: first } = await firstPage();
    first.store.dispose();
    server.resetHandlers();
    const again = mswBackend(server, WS_URL, behavior);
    const second = makeStore({ storage: first.storage, clock: new FakeClock(first.clock.now() + 5_000), sessionReplyTimeoutMs: 1_000 });
    await settle(second.clock);
    second.store.dispatch(connect());
    await until(() => again.types().includes('session.init'), 'session.init', second.clock);
    second.clock.advance(1_000); // the story-only backend never answers
    await until(() => again.types().includes('subscribe'), 'the subscription', second.clock);
    expect(again.wire().find((frame) => frame.type === 'subscribe')).toEqual({ type: 'subscribe', project_id: 'p1' });
    second.store.dispose();
  });

  it('a brand-new store sends reconnect false and no last_seq', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore();
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    const init = backend.wire()[0]!;
    expect(init).toMatchObject({ type: 'session.init', reconnect: false, session_id: t.store.getState().sync.sessionId });
    expect(init).not.toHaveProperty('last_seq');
    t.store.dispose();
  });

  it('an expired stored session is ignored', async () => {
    const { t: first } = await firstPage();
    const oldSession = first.store.getState().sync.sessionId;
    first.store.dispose();
    server.resetHandlers();
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const clock = new FakeClock(first.clock.now() + 60 * 60_000);
    const second = makeStore({ storage: first.storage, clock, sessionTtlMs: 60 * 60_000, random: () => 0.25 });
    await settle(clock);
    expect(second.store.getState().sync.subscriptions).toEqual([]);
    expect(second.store.getState().outbox.entries).toEqual([]);
    second.store.dispatch(connect());
    await until(() => second.connection().sessionReady, 'the session', clock);
    await settle(clock);
    expect(backend.types()).toEqual(['session.init']);
    expect(backend.wire()[0]).toMatchObject({ reconnect: false });
    expect(backend.wire()[0]!.session_id).not.toBe(oldSession);
    second.store.dispose();
  });

  it('disconnect() removes the stored session: the next store starts afresh', async () => {
    const { t: first } = await firstPage();
    first.store.dispatch(disconnect());
    first.clock.advance(60_000);
    expect(first.storage.getItem(STORAGE_KEY)).toBeNull();
    first.store.dispose();
    const second = makeStore({ storage: first.storage });
    await settle(second.clock);
    expect(second.store.getState().sync.sessionId).toBeUndefined();
    expect(second.store.getState().outbox.entries).toEqual([]);
    second.store.dispose();
  });

  it("saves on 'pagehide'", async () => {
    const storage = createMemoryStorage();
    const browser = fakeBrowser();
    const t = makeStore({ storage, browser });
    t.store.dispatch(subscribeProject('p9'));
    expect(stored(storage)).toBeNull(); // not yet: positions are saved on the next tick
    browser.window.fire('pagehide');
    expect(stored(storage)?.subscriptions).toEqual(['p9']);
    t.store.dispose();
  });

  it('a stored command that no longer validates is dropped visibly and does not block the others', async () => {
    const storage = createMemoryStorage();
    const clock = new FakeClock(Date.now());
    const entry = (commandId: string, nodeId: string, params: Record<string, unknown>) => ({
      commandId,
      frame: { type: 'start_generation', node_id: nodeId, params, command_id: commandId, timestamp: new Date(clock.now()).toISOString() },
      enqueuedAt: clock.now(),
      sends: 0,
    });
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({
        version: STORAGE_VERSION,
        savedAt: clock.now(),
        sessionId: 'sess-stored',
        subscriptions: [],
        lastSeq: {},
        capabilities: [],
        outbox: [entry('cmd-bad', 'n1', { width: -1 }), entry('cmd-good', 'n2', { prompt: 'ok' })],
      }),
    );
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore({ storage, clock });
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', clock);
    await settle(clock);
    expect(backend.types()).toEqual(['session.init', 'start_generation']);
    expect(backend.wire()[1]).toMatchObject({ node_id: 'n2', command_id: 'cmd-good' });
    expect(t.store.getState().outbox.entries).toEqual([]);
    expect(t.store.getState().outbox.dropped.invalid).toBe(1);
    expect(t.store.getState().outbox.recentDrops[0]).toMatchObject({ commandId: 'cmd-bad', why: 'invalid' });
    t.store.dispose();
  });
});

describe('container restart', () => {
  async function generatingThenRestart(nextInstance: string) {
    const backend = mswBackend(server, WS_URL, { reply: 'restored', instanceId: 'instance-1', capabilities: ['seq', 'replay'] });
    const t = makeStore({ backoff });
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(subscribeProject('p2'));
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    backend.last().push({ type: 'generation.started', node_id: 'n1', task_id: 't1', project_id: 'p1', seq: 1 });
    backend.last().push({ type: 'generation.started', node_id: 'n2', task_id: 't2', project_id: 'p1', seq: 2 });
    backend.last().push({ type: 'generation.completed', node_id: 'n2', task_id: 't2', output_path: '/outputs/n2.png', project_id: 'p1', seq: 3 });
    await until(() => t.store.getState().sync.lastSeq.p1 === 3, 'the events', t.clock);
    expect(t.store.getState().nodes.generating_ids).toEqual(['n1']);
    // the container restarts
    backend.last().push({ type: 'system.shutdown', reason: 'container restart' });
    backend.close(backend.last(), 1012, 'restart');
    await until(() => t.status() === 'suspended' && t.connection().nextRetryAt !== undefined, 'suspended', t.clock);
    backend.behavior.instanceId = nextInstance;
    t.clock.advance(t.connection().nextRetryAt! - t.clock.now());
    await until(() => backend.connections.length === 2 && t.connection().sessionReady, 'the new session', t.clock);
    await settle(t.clock);
    return { t, backend };
  }

  it('a different instance_id after a reconnect: restartDetectedAt, generating nodes marked stale, subscriptions back', async () => {
    const { t, backend } = await generatingThenRestart('instance-2');
    const { connection, nodes } = t.store.getState();
    expect(connection.instanceId).toBe('instance-2');
    expect(connection.restartDetectedAt).toBeTypeOf('number');
    expect(t.of('nodes/markedStale')).toEqual([expect.objectContaining({ payload: expect.objectContaining({ nodeIds: ['n1'] }) })]);
    expect(getEntity(nodes, 'n1')?.stale).toBe(true);
    expect(getEntity(nodes, 'n2')?.stale).toBeUndefined();
    expect(backend.last().received.map((f) => [f.type, f.project_id ?? null])).toEqual([
      ['session.init', null],
      ['subscribe', 'p1'],
      ['subscribe', 'p2'],
    ]);
    expect(backend.last().received[1]).toEqual({ type: 'subscribe', project_id: 'p1', last_seq: 3 });
    expect(t.statuses).toEqual(['disconnected', 'connecting', 'connected', 'suspended', 'connected']);
    // a frame about the node confirms it again
    backend.last().push({ type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 40, project_id: 'p1', seq: 4 });
    await until(() => getEntity(t.store.getState().nodes, 'n1')?.progress === 40, 'the progress', t.clock);
    expect(getEntity(t.store.getState().nodes, 'n1')?.stale).toBeUndefined();
    t.store.dispose();
  });

  it('a restarted backend that answers session.init late (cold start): still detected, nodes still marked stale', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'restored', instanceId: 'instance-1' });
    const t = makeStore({ backoff, sessionReplyTimeoutMs: 1_500 });
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    backend.last().push({ type: 'generation.started', node_id: 'n1', task_id: 't1' });
    await until(() => t.store.getState().nodes.generating_ids.includes('n1'), 'the generation', t.clock);
    backend.close(backend.last(), 1012, 'restart');
    await until(() => t.connection().nextRetryAt !== undefined, 'a retry', t.clock);
    backend.behavior.reply = 'none'; // the new container is slow to answer
    t.clock.advance(t.connection().nextRetryAt! - t.clock.now());
    await until(() => backend.connections.length === 2 && backend.last().received.length === 1, 'session.init', t.clock);
    t.clock.advance(1_500);
    await until(() => t.connection().sessionReady, 'the assumed session', t.clock);
    expect(t.of('session/assumedWithoutReply')).toHaveLength(1);
    backend.last().push({ type: 'session.init', session_id: 'sess-new', instance_id: 'instance-2', capabilities: [] });
    await until(() => t.connection().instanceId === 'instance-2', 'the late reply', t.clock);
    await settle(t.clock);
    expect(t.connection().restartDetectedAt).toBeTypeOf('number');
    expect(getEntity(t.store.getState().nodes, 'n1')?.stale).toBe(true);
    t.store.dispose();
  });

  it('the same instance_id after a reconnect: no restart, nothing stale', async () => {
    const { t } = await generatingThenRestart('instance-1');
    expect(t.connection().restartDetectedAt).toBeUndefined();
    expect(t.of('nodes/markedStale')).toEqual([]);
    expect(getEntity(t.store.getState().nodes, 'n1')?.stale).toBeUndefined();
    t.store.dispose();
  });
});
