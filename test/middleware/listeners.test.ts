/**
 * on(type, cb): frame listeners, against an msw backend.
 */
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, startGeneration, type InboundFrame, type UnknownFrame } from '../../src/index.js';
import { createListenerRegistry } from '../../src/middleware/listeners.js';
import { makeStore, mswBackend, settle, until, WS_URL } from './helpers.js';
import { getEntity } from '../../src/slices/table.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function live(options: Parameters<typeof makeStore>[0] = {}) {
  const backend = mswBackend(server, WS_URL, { reply: 'init' });
  const t = makeStore(options);
  t.store.dispatch(connect());
  await until(() => t.connection().sessionReady, 'the session', t.clock);
  return { t, backend, push: (frame: object) => backend.last().push(frame) };
}

const progress = (taskId: string, value: number) => ({ type: 'task.progress', task_id: taskId, state: 'PROGRESS', progress: value, node_id: 'n1' });

describe.each([true, false])('listeners (batch: %s)', (batch) => {
  it('fire for their type, after the state is updated', async () => {
    const { t, push } = await live({ batch });
    const seen: Array<{ task: string; progress: number | undefined; inState: number | undefined }> = [];
    t.store.on('task.progress', (frame) => {
      seen.push({ task: frame.task_id, progress: frame.progress, inState: getEntity(t.store.getState().tasks, frame.task_id)?.progress });
    });
    push(progress('t1', 10));
    push({ type: 'agent.assigned', agent_type: 'Producer', task_id: 'a1' });
    push(progress('t1', 55));
    await until(() => seen.length === 2, 'two progress frames', t.clock);
    await settle(t.clock);
    expect(seen).toEqual([
      { task: 't1', progress: 10, inState: batch ? 55 : 10 },
      { task: 't1', progress: 55, inState: 55 },
    ]);
    t.store.dispose();
  });

  it('several per type, in registration order, then the catch-all', async () => {
    const { t, push } = await live({ batch });
    const calls: string[] = [];
    t.store.on('*', (frame) => calls.push(`*:${frame.type}`));
    t.store.on('task.progress', () => calls.push('first'));
    t.store.on('task.progress', () => calls.push('second'));
    t.store.on('generation.started', () => calls.push('started'));
    push(progress('t1', 10));
    await until(() => calls.length === 3, 'the listeners', t.clock);
    push({ type: 'generation.started', node_id: 'n1', task_id: 't1' });
    await until(() => calls.length === 5, 'the listeners', t.clock);
    expect(calls).toEqual(['first', 'second', '*:task.progress', 'started', '*:generation.started']);
    t.store.dispose();
  });

  it("'*' hears every frame, unknown types too; unknown types never reach the tables", async () => {
    const { t, push } = await live({ batch });
    const all: string[] = [];
    const unknown: Array<InboundFrame | UnknownFrame> = [];
    t.store.on('*', (frame) => all.push(frame.type));
    t.store.on('render.farm.status', (frame) => unknown.push(frame));
    const before = t.store.getState();
    push({ type: 'render.farm.status', queue: 3, node_id: 'n1' });
    push({ type: 'system.heartbeat' });
    await until(() => all.length === 2, 'the frames', t.clock);
    expect(all).toEqual(['render.farm.status', 'system.heartbeat']);
    expect(unknown).toEqual([expect.objectContaining({ type: 'render.farm.status', queue: 3 })]);
    const after = t.store.getState();
    expect(after.frames.unknown).toEqual({ total: 1, byType: { 'render.farm.status': 1 } });
    for (const table of ['tasks', 'nodes', 'takes', 'agents', 'narrative', 'prompts', 'activity'] as const) {
      expect(after[table], table).toBe(before[table]);
    }
    t.store.dispose();
  });

  it('frames that fail validation reach no listener', async () => {
    const { t, push } = await live({ batch });
    const all: string[] = [];
    t.store.on('*', (frame) => all.push(frame.type));
    t.store.on('task.progress', (frame) => all.push(`typed:${frame.type}`));
    push({ type: 'task.progress', task_id: 't1', state: 'NOPE' });
    await until(() => t.store.getState().frames.rejected.total === 1, 'the rejection', t.clock);
    await settle(t.clock);
    expect(all).toEqual([]);
    t.store.dispose();
  });

  it('unsubscribe works, one registration at a time', async () => {
    const { t, push } = await live({ batch });
    const calls: string[] = [];
    const listener = (frame: { type: string }) => calls.push(frame.type);
    const offA = t.store.on('system.heartbeat', listener);
    const offB = t.store.on('system.heartbeat', listener);
    expect(t.store.resources().frameListeners).toBe(2);
    push({ type: 'system.heartbeat' });
    await until(() => calls.length === 2, 'two calls', t.clock);
    offA();
    offA(); // twice is harmless
    expect(t.store.resources().frameListeners).toBe(1);
    push({ type: 'system.heartbeat' });
    await until(() => calls.length === 3, 'one more call', t.clock);
    offB();
    expect(t.store.resources().frameListeners).toBe(0);
    push({ type: 'system.heartbeat' });
    await until(() => t.store.getState().frames.applied >= 4, 'the frame', t.clock);
    await settle(t.clock);
    expect(calls).toHaveLength(3);
    t.store.dispose();
  });

  it('a throwing listener breaks neither the others nor the store, and is counted', async () => {
    const { t, push, backend } = await live({ batch });
    const calls: string[] = [];
    t.store.on('task.progress', () => {
      throw new Error('boom');
    });
    t.store.on('task.progress', (frame) => calls.push(`after:${frame.progress}`));
    t.store.on('*', () => {
      throw 'not even an Error';
    });
    t.store.on('*', (frame) => calls.push(`*:${frame.type}`));
    push(progress('t1', 10));
    push(progress('t1', 20));
    await until(() => calls.length === 4, 'the listeners', t.clock);
    expect(calls).toEqual(['after:10', '*:task.progress', 'after:20', '*:task.progress']);
    expect(t.store.getState().frames.listenerErrors).toBe(4);
    expect(t.of('listeners/failed').map((a) => (a as unknown as { payload: { error: string } }).payload.error)).toEqual([
      'boom',
      'not even an Error',
      'boom',
      'not even an Error',
    ]);
    // the store and the socket go on
    expect(getEntity(t.store.getState().tasks, 't1')?.progress).toBe(20);
    expect(t.status()).toBe('connected');
    t.store.dispatch(startGeneration({ nodeId: 'n9', params: {} }));
    await until(() => backend.types().includes('start_generation'), 'the command', t.clock);
    t.store.dispose();
  });

  it('a listener may unsubscribe itself or dispatch while being called', async () => {
    const { t, push, backend } = await live({ batch });
    const calls: string[] = [];
    const off = t.store.on('generation.completed', () => {
      calls.push('once');
      off();
    });
    t.store.on('generation.completed', (frame) => {
      calls.push('again');
      t.store.dispatch(startGeneration({ nodeId: frame.node_id, params: { prompt: 'next take' } }));
    });
    push({ type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/o/1.png' });
    push({ type: 'generation.completed', node_id: 'n1', task_id: 't1b', output_path: '/o/2.png' });
    await until(() => backend.types().filter((type) => type === 'start_generation').length === 2, 'two commands', t.clock);
    expect(calls).toEqual(['once', 'again', 'again']);
    t.store.dispose();
  });
});

describe('createListenerRegistry', () => {
  it('refuses a listener that is not a function', () => {
    const registry = createListenerRegistry();
    expect(() => registry.on('x', 'nope' as never)).toThrow(TypeError);
  });

  it('clear() removes every listener', () => {
    const registry = createListenerRegistry();
    registry.on('a', () => undefined);
    registry.on('*', () => undefined);
    expect(registry.count()).toBe(2);
    registry.clear();
    expect(registry.count()).toBe(0);
  });
});
