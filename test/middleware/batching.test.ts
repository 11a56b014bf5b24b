/**
 * Inbound batching: frames that arrive within one tick become one `frames/batchReceived` action
 * (one store notification); a lone frame is its own action; the state is the same either way.
 */
import { readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, createMemoryStorage, createRealtimeStore, framesBatched, type RealtimeState } from '../../src/index.js';
import { fakeWebSocket, makeStore, mswBackend, until, WS_URL } from './helpers.js';
import { getEntity } from '../../src/slices/table.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}.jsonl`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');

function connectedFake(options: Parameters<typeof makeStore>[0] = {}) {
  const fake = fakeWebSocket();
  const t = makeStore({ WebSocket: fake.WebSocket, sessionReplyTimeoutMs: 60_000, ...options });
  t.store.dispatch(connect());
  fake.last().open();
  t.clock.advance(0);
  return { t, socket: fake.last() };
}

const progress = (value: number) => ({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: value });

describe('batching (hand-driven socket)', () => {
  it('frames within one tick: one frames/batchReceived action, one store notification', () => {
    const { t, socket } = connectedFake();
    const before = t.notifications();
    const actionsBefore = t.actions.length;
    for (let i = 1; i <= 5; i++) socket.receive(progress(i * 10));
    expect(t.notifications()).toBe(before); // nothing until the tick ends
    t.clock.advance(0);
    expect(t.notifications()).toBe(before + 1);
    const dispatched = t.actions.slice(actionsBefore);
    expect(dispatched.map((a) => a.type)).toEqual(['frames/batchReceived']);
    const batch = dispatched[0] as ReturnType<typeof framesBatched>;
    expect(batch.payload.actions.map((a) => a.type)).toEqual(Array(5).fill('tasks/progressReceived'));
    expect(getEntity(t.store.getState().tasks, 't1')?.progress).toBe(50);
    expect(t.store.getState().frames.applied).toBe(5);
    t.store.dispose();
  });

  it('a single frame is its own action', () => {
    const { t, socket } = connectedFake();
    const actionsBefore = t.actions.length;
    socket.receive(progress(10));
    t.clock.advance(0);
    expect(t.actions.slice(actionsBefore).map((a) => a.type)).toEqual(['tasks/progressReceived']);
    socket.receive(progress(20));
    t.clock.advance(0);
    expect(t.actions.slice(actionsBefore).map((a) => a.type)).toEqual(['tasks/progressReceived', 'tasks/progressReceived']);
    t.store.dispose();
  });

  it('batch: false applies each frame as it arrives', () => {
    const { t, socket } = connectedFake({ batch: false });
    const before = t.notifications();
    for (let i = 1; i <= 3; i++) socket.receive(progress(i));
    expect(t.notifications()).toBe(before + 3);
    expect(t.of('frames/batchReceived')).toEqual([]);
    t.store.dispose();
  });

  it('frames received just before a close are applied before the close is recorded', () => {
    const { t, socket } = connectedFake();
    socket.receive(progress(10));
    socket.receive(progress(90));
    socket.serverClose(1006);
    const types = t.actions.map((a) => a.type);
    expect(types.indexOf('frames/batchReceived')).toBeGreaterThan(-1);
    expect(types.indexOf('frames/batchReceived')).toBeLessThan(types.indexOf('connection/socketClosed'));
    expect(getEntity(t.store.getState().tasks, 't1')?.progress).toBe(90);
    t.store.dispose();
  });

  it.each(['generation-success', 'agent-pipeline', 'narrative-progression', 'distributed-events', 'bad-frames'])(
    'the state is identical with and without batching: %s',
    (name) => {
      const lines = [...fixture(name), '{"type":"render.farm.status"}', 'not json'];
      const run = (batch: boolean, chunk: number) => {
        const { t, socket } = connectedFake({ batch, random: () => 0.42 });
        for (let i = 0; i < lines.length; i += chunk) {
          for (const line of lines.slice(i, i + chunk)) socket.receive(line);
          t.clock.advance(0);
        }
        const state = t.store.getState();
        t.store.dispose();
        return state;
      };
      const oneByOne = run(false, 1);
      const batched = run(true, lines.length);
      const chunked = run(true, 4);
      const tables = (s: RealtimeState) => {
        const { connection, ...rest } = s;
        return { ...rest, connection: { ...connection } };
      };
      expect(tables(batched)).toEqual(tables(oneByOne));
      expect(tables(chunked)).toEqual(tables(oneByOne));
      expect(oneByOne.frames.applied + oneByOne.frames.rejected.total + oneByOne.frames.unknown.total + oneByOne.frames.duplicatesDropped).toBe(lines.length);
    },
  );

  it('without injected timers the flush runs at the end of the tick (setImmediate), under vitest fake timers', () => {
    vi.useFakeTimers();
    const fake = fakeWebSocket();
    const store = createRealtimeStore({ url: WS_URL, WebSocket: fake.WebSocket, autoConnect: false, devTools: false, storage: createMemoryStorage(), browser: null });
    const seen: string[] = [];
    store.dispatch(connect());
    fake.last().open();
    vi.runOnlyPendingTimers();
    const unsubscribe = store.subscribe(() => seen.push('notified'));
    for (let i = 1; i <= 4; i++) fake.last().receive(progress(i));
    expect(seen).toEqual([]);
    vi.advanceTimersToNextTimer();
    expect(seen).toEqual(['notified']);
    expect(store.getState().frames.applied).toBe(4);
    unsubscribe();
    store.dispose();
  });
});

describe('batching (msw)', () => {
  it('a burst sent by the backend in one go is one action', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore();
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    const start = t.actions.length;
    for (let i = 1; i <= 10; i++) backend.last().push(progress(i * 10));
    await until(() => getEntity(t.store.getState().tasks, 't1')?.progress === 100, 'the burst', t.clock);
    const ingest = t.actions.slice(start).filter((a) => a.type.startsWith('frames/') || a.type.startsWith('tasks/'));
    expect(ingest.map((a) => a.type)).toEqual(['frames/batchReceived']);
    expect((ingest[0] as ReturnType<typeof framesBatched>).payload.actions).toHaveLength(10);
    t.store.dispose();
  });
});
