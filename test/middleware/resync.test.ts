/**
 * Healing after a reconnect or a restart (docs/ARCHITECTURE.md, "Resynchronization"), with a
 * hand-driven socket and a fake clock: query_tasks for what the client shows running, the
 * staleAfter timer that turns unconfirmed runs into "Lost contact with this run", and the rule
 * that a stored last_seq is sent only with the state it belongs to.
 */
import { describe, expect, it } from 'vitest';
import { cancelGeneration, connect, createMemoryStorage, STORAGE_KEY, STORAGE_VERSION, subscribeProject, type Capability } from '../../src/index.js';
import { LOST_CONTACT_ERROR } from '../../src/slices/nodesSlice.js';
import { getEntity } from '../../src/slices/table.js';
import { fakeWebSocket, makeStore, type FakeSocket } from './helpers.js';

const RESYNC: Capability[] = ['ack', 'seq', 'replay', 'snapshot', 'task_status'];
const backoff = { initialMs: 100, maxMs: 100, factor: 1, jitter: 0 };

function session(socket: FakeSocket, capabilities: Capability[], instance = 'i-1', type = 'session.init') {
  socket.receive({ type, session_id: 'sess-1', reconnect: type === 'session.restored', instance_id: instance, capabilities });
}

/** A store with n1 generating task t1 (and n2 idle), on a session with `capabilities`. */
function generating(capabilities: Capability[], options: Parameters<typeof makeStore>[0] = {}) {
  const fake = fakeWebSocket();
  const t = makeStore({ WebSocket: fake.WebSocket, batch: false, backoff, sessionReplyTimeoutMs: 60_000, staleAfterMs: 20_000, ...options });
  t.store.dispatch(subscribeProject('p1'));
  t.store.dispatch(connect());
  fake.last().open();
  session(fake.last(), capabilities);
  fake.last().receive({ type: 'generation.started', node_id: 'n1', task_id: 't1', project_id: 'p1', seq: 1 });
  fake.last().receive({ type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 26, project_id: 'p1', seq: 2 });
  const node = (id = 'n1') => getEntity(t.store.getState().nodes, id);
  /** The socket drops (1006) and the retry opens a new one, answered with `reply`. */
  const reconnect = (caps: Capability[] = capabilities, instance = 'i-1') => {
    fake.last().serverClose(1006);
    t.clock.advance(100);
    fake.last().open();
    session(fake.last(), caps, instance, 'session.restored');
    return fake.last();
  };
  return { t, fake, node, reconnect };
}

describe('after a reconnect to a backend that can answer (snapshot, task_status)', () => {
  it('asks query_tasks for the running tasks, after the subscriptions', () => {
    const { fake, reconnect } = generating(RESYNC);
    expect(fake.last().types()).not.toContain('query_tasks'); // not on the first socket
    const socket = reconnect();
    expect(socket.types()).toEqual(['session.init', 'subscribe', 'query_tasks']);
    expect(socket.frames()[1]).toEqual({ type: 'subscribe', project_id: 'p1', last_seq: 2 });
    expect(socket.frames()[2]).toEqual({ type: 'query_tasks', task_ids: ['t1'], timestamp: expect.any(String) });
  });

  it('an unconfirmed run is stale, then lost after exactly staleAfterMs; Generate works again', () => {
    const { t, node, reconnect } = generating(RESYNC);
    reconnect();
    expect(node()).toMatchObject({ status: 'generating', stale: true });
    t.clock.advance(19_999);
    expect(node()!.status).toBe('generating');
    t.clock.advance(1);
    expect(node()).toMatchObject({ status: 'error', lost: true, error: LOST_CONTACT_ERROR });
    expect(t.of('nodes/contactLost')).toEqual([expect.objectContaining({ payload: { nodeIds: ['n1'], at: t.clock.now() } })]);
    expect(t.store.getState().nodes.generating_ids).toEqual([]);
    t.store.dispose();
  });

  it('a task.status answer confirms the run: nothing is lost', () => {
    const { t, node, reconnect } = generating(RESYNC);
    const socket = reconnect();
    socket.receive({ type: 'task.status', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 40 });
    expect(node()).toMatchObject({ status: 'generating', progress: 40 });
    expect(node()!.stale).toBeUndefined();
    t.clock.advance(20_000);
    expect(node()!.status).toBe('generating');
    expect(t.of('nodes/contactLost')).toEqual([]);
    t.store.dispose();
  });

  it('UNKNOWN loses the run at once', () => {
    const { t, node, reconnect } = generating(RESYNC);
    reconnect().receive({ type: 'task.status', task_id: 't1', state: 'UNKNOWN' });
    expect(node()).toMatchObject({ status: 'error', lost: true });
    t.store.dispose();
  });

  it('a cancel pressed while waiting resolves when contact is lost (never "Cancelling..." forever)', () => {
    const { t, node, reconnect } = generating(RESYNC);
    reconnect();
    t.store.dispatch(cancelGeneration({ nodeId: 'n1' }));
    expect(node()!.pending?.kind).toBe('cancel');
    t.clock.advance(20_000);
    expect(node()).toMatchObject({ status: 'error', lost: true, pending: undefined });
    t.store.dispose();
  });

  it('more than 100 running tasks go in several query_tasks frames', () => {
    const { t, fake, reconnect } = generating(RESYNC);
    for (let i = 0; i < 150; i++) fake.last().receive({ type: 'task.progress', task_id: `x${i}`, state: 'STARTED', project_id: 'p1', seq: 3 + i });
    const queries = reconnect().frames().filter((f) => f.type === 'query_tasks') as Array<{ task_ids: string[] }>;
    expect(queries.map((q) => q.task_ids.length)).toEqual([100, 51]);
    expect(new Set(queries.flatMap((q) => q.task_ids)).size).toBe(151);
    t.store.dispose();
  });

  it('the staleAfter timer is counted by resources() and cleared by dispose()', () => {
    const { t, reconnect } = generating(RESYNC);
    reconnect();
    expect(t.clock.pending()).toBeGreaterThan(0);
    const before = t.store.dispose;
    before();
    expect(t.clock.pending()).toBe(0);
  });

  it('a snapshot too large for maxFrameBytes is refused; query_tasks still answers for the runs', () => {
    const { t, node, reconnect } = generating(RESYNC, { maxFrameBytes: 2_000 });
    const socket = reconnect();
    const nodes = Array.from({ length: 100 }, (_, i) => ({ node_id: `big-${i}`, status: 'idle' }));
    socket.receive({ type: 'project.snapshot', project_id: 'p1', at_seq: 9, nodes, tasks: [], takes: [], agents: [] });
    expect(t.store.getState().frames.rejected.byReason.too_large).toBe(1);
    expect(t.store.getState().sync.lastSeq.p1).toBe(2);
    expect(socket.types()).toContain('query_tasks');
    socket.receive({ type: 'task.status', task_id: 't1', node_id: 'n1', state: 'SUCCESS' });
    expect(node()!.status).toBe('completed');
    t.store.dispose();
  });
});

describe('restart signals', () => {
  it('a backend with no capabilities that restarted (new instance id): same rule, no query_tasks', () => {
    const { t, node, reconnect } = generating([]);
    const socket = reconnect([], 'i-2');
    expect(socket.types()).not.toContain('query_tasks');
    expect(node()!.stale).toBe(true);
    t.clock.advance(20_000);
    expect(node()).toMatchObject({ status: 'error', lost: true });
    t.store.dispose();
  });

  it('a plain reconnect to a backend that cannot answer changes nothing (no restart signal)', () => {
    const { t, node, reconnect } = generating(['seq', 'replay']);
    reconnect(['seq', 'replay'], 'i-1');
    expect(node()!.stale).toBeUndefined();
    t.clock.advance(60_000);
    expect(node()!.status).toBe('generating');
    t.store.dispose();
  });
});

describe('subscribe last_seq: only with the state it belongs to', () => {
  function reloaded(capabilities: Capability[]) {
    const storage = createMemoryStorage();
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({ version: STORAGE_VERSION, savedAt: 1_700_000_000_000, sessionId: 'sess-1', subscriptions: ['p1'], lastSeq: { p1: 41 }, capabilities, outbox: [] }),
    );
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, batch: false, storage, sessionReplyTimeoutMs: 60_000 });
    return { t, fake };
  }

  async function connectReloaded(capabilities: Capability[]) {
    const { t, fake } = reloaded(capabilities);
    await Promise.resolve(); // the stored session is loaded on the next microtask
    t.store.dispatch(connect());
    fake.last().open();
    session(fake.last(), capabilities, 'i-1', 'session.restored');
    return { t, socket: fake.last() };
  }

  it('after a reload, a backend with snapshot gets no last_seq (it sends the snapshot)', async () => {
    const { t, socket } = await connectReloaded(['seq', 'replay', 'snapshot']);
    expect(socket.frames()[0]).not.toHaveProperty('last_seq');
    expect(socket.frames()[1]).toEqual({ type: 'subscribe', project_id: 'p1' });
    socket.receive({ type: 'project.snapshot', project_id: 'p1', at_seq: 41, nodes: [{ node_id: 'n1', status: 'completed' }], tasks: [], takes: [], agents: [] });
    expect(t.store.getState().sync).toMatchObject({ lastSeq: { p1: 41 }, storedLastSeq: {} });
    // events the snapshot includes are duplicates; the next one applies
    socket.receive({ type: 'task.progress', task_id: 't9', state: 'STARTED', project_id: 'p1', seq: 41 });
    socket.receive({ type: 'task.progress', task_id: 't9', state: 'STARTED', project_id: 'p1', seq: 42 });
    expect(t.store.getState().frames.duplicatesDropped).toBe(1);
    t.store.dispose();
  });

  it('after a reload, a backend with only replay gets last_seq 0, and the replay is applied (not dropped)', async () => {
    const { t, socket } = await connectReloaded(['seq', 'replay']);
    expect(socket.frames()[1]).toEqual({ type: 'subscribe', project_id: 'p1', last_seq: 0 });
    socket.receive({ type: 'generation.started', node_id: 'n1', task_id: 't1', project_id: 'p1', seq: 1 });
    expect(getEntity(t.store.getState().nodes, 'n1')?.status).toBe('generating');
    expect(t.store.getState().frames.duplicatesDropped).toBe(0);
    t.store.dispose();
  });

  it('the stored position survives in storage until the state is rebuilt', async () => {
    const { t } = await connectReloaded(['seq', 'replay', 'snapshot']);
    t.clock.advance(0);
    expect(JSON.parse(t.storage.getItem(STORAGE_KEY)!).lastSeq).toEqual({ p1: 41 });
    t.store.dispose();
  });
});
