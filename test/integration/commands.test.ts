/**
 * Command delivery against a real backend on 127.0.0.1: commands queued while the backend is
 * down, acks lost to a dying socket, and a story-only backend that never answers session.init.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cancelGeneration, connect, startGeneration, subscribeProject } from '../../src/index.js';
import { createTestStore, MiniGateway, waitForState, type MiniGatewayOptions } from '../support/miniGateway.js';
import { getEntity } from '../../src/slices/table.js';

type Store = ReturnType<typeof createTestStore>;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(options: MiniGatewayOptions = {}): Promise<MiniGateway> {
  const gw = await MiniGateway.start({ heartbeatMs: 30, ...options });
  cleanups.push(() => gw.stop());
  return gw;
}

function client(url: string, options: Parameters<typeof createTestStore>[1] = {}): Store {
  const store = createTestStore(url, options);
  cleanups.push(() => store.dispose());
  return store;
}

const ready = (store: Store, what = 'session ready') =>
  waitForState(store, (s) => s.connection.status === 'connected' && s.connection.sessionReady, what);
const outboxEmpty = (store: Store, what = 'outbox empty') => waitForState(store, (s) => s.outbox.entries.length === 0, what);

/** The frame types STORY-009's client sends. */
const STORY_COMMAND_TYPES = new Set(['session.init', 'subscribe', 'unsubscribe', 'ping', 'start_generation', 'cancel_generation']);

describe('command delivery against a real backend', () => {
  it('commands dispatched while the backend is down are delivered once, in order, when it is back', async () => {
    const first = await gateway();
    const store = client(first.url);
    store.dispatch(connect());
    await ready(store);
    await first.stop('terminate');
    await waitForState(store, (s) => s.connection.status === 'reconnecting', 'reconnecting');

    const commands = [
      store.dispatch(startGeneration({ nodeId: 'n1', projectId: 'p1', params: { prompt: 'a lone rider at dusk' } })),
      store.dispatch(cancelGeneration({ nodeId: 'n1', projectId: 'p1' })),
      store.dispatch(startGeneration({ nodeId: 'n2', projectId: 'p1', params: { prompt: 'the desert at noon', seed: 7 } })),
    ].map((action) => action.payload.commandId);
    expect(store.getState().outbox.entries.map((e) => [e.commandId, e.sends])).toEqual(commands.map((id) => [id, 0]));
    // Still down after a few failed attempts: nothing is dropped.
    await waitForState(store, (s) => s.connection.reconnectAttempts >= 3, 'attempts while down');
    expect(store.getState().outbox.entries).toHaveLength(3);

    const second = await gateway({ port: first.port, state: first.state });
    const after = await outboxEmpty(store);
    expect(second.state.executed.map((c) => c.command_id)).toEqual(commands);
    for (const id of commands) expect(second.executions(id)).toBe(1);
    expect(second.received.filter((f) => f.command_id !== undefined).map((f) => f.command_id)).toEqual(commands);
    expect(after.outbox).toMatchObject({ delivered: 3, dropped: { overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 } });
  });

  it.each([
    ['the socket dies between execution and ack', 'no-ack'],
    ['the backend restarts right after acking', 'ack-then-restart'],
  ] as const)('an executed command is never executed twice when %s', async (_, fault) => {
    let faulted = false;
    const onCommand: MiniGatewayOptions['onCommand'] = (_command, connection) => {
      if (faulted) return;
      faulted = true;
      if (fault === 'no-ack') {
        connection.terminate();
        return 'no-ack';
      }
    };
    const first = await gateway({ onCommand, instanceId: 'backend-a' });
    const store = client(first.url);
    store.dispatch(connect());
    await ready(store);

    const { commandId } = store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a cat' } })).payload;
    await first.waitFor('start_generation');
    let backend = first;
    if (fault === 'ack-then-restart') {
      await first.stop('terminate');
      backend = await gateway({ port: first.port, state: first.state, instanceId: 'backend-b' });
    }
    const after = await outboxEmpty(store, 'command settled');
    expect(backend.executions(commandId)).toBe(1);
    expect(after.outbox.delivered).toBe(1);
    if (fault === 'no-ack') {
      // It was sent twice (once per socket) and the backend said "duplicate" to the resend.
      expect(first.received.filter((f) => f.command_id === commandId)).toHaveLength(2);
      expect(after.frames.recent.map((r) => r.frame)).toContainEqual(
        expect.objectContaining({ type: 'ack', command_id: commandId, status: 'duplicate' }),
      );
    }
    // A command dispatched afterwards runs once too.
    const next = store.dispatch(cancelGeneration({ nodeId: 'n1' })).payload.commandId;
    await outboxEmpty(store, 'second command');
    expect(backend.state.executed.map((c) => c.command_id)).toEqual([commandId, next]);
  });

  it('a story-only backend (no capabilities, never answers session.init) still gets every command', async () => {
    const gw = await gateway({ capabilities: [] });
    const store = client(gw.url, { sessionReplyTimeoutMs: 80 });
    store.dispatch(subscribeProject('p1'));
    const first = store.dispatch(startGeneration({ nodeId: 'n1', projectId: 'p1', params: { prompt: 'a cat' } })).payload.commandId;
    store.dispatch(connect());

    await gw.waitFor('start_generation');
    const assumed = await waitForState(store, (s) => s.connection.sessionReady && s.outbox.entries.length === 0, 'assumed session');
    expect(assumed.connection.capabilities).toEqual([]);
    expect(assumed.outbox.delivered).toBe(1);

    // Events without seq are applied as they come.
    await gw.waitFor('subscribe');
    gw.publish('p1', { type: 'generation.started', node_id: 'n1', task_id: 't1' });
    await waitForState(store, (s) => getEntity(s.nodes, 'n1')?.status === 'generating', 'story event');

    // Drop the link and queue a command while it is down.
    gw.terminate();
    await waitForState(store, (s) => s.connection.status === 'reconnecting', 'reconnecting');
    const second = store.dispatch(cancelGeneration({ nodeId: 'n1', projectId: 'p1' })).payload.commandId;
    await gw.waitFor('cancel_generation');
    await outboxEmpty(store);

    expect(gw.state.executed.map((c) => c.command_id)).toEqual([first, second]);
    expect(gw.received.filter((f) => f.type === 'session.init').map((f) => f.reconnect)).toEqual([false, true]);
    const types = new Set(gw.received.map((f) => f.type));
    expect([...types].filter((type) => !STORY_COMMAND_TYPES.has(type))).toEqual([]);
    // Nothing asked of it that it never announced.
    expect(gw.received.filter((f) => f.type === 'subscribe' && 'last_seq' in f)).toEqual([]);
    expect(store.getState().sync.lastSeq).toEqual({});
    expect(store.getState().connection.status).toBe('connected');
  });
});
