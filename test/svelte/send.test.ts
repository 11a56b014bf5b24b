/**
 * The story's `client.send(data)`: a frame of the outbound contract goes out as the command it
 * is (the outbox, a command id of the client's, waiting out a closed link); anything else throws
 * and nothing reaches the socket or the state.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStorage, createRealtimeStore } from '../../src/index.js';
import { WebSocketClient } from '../../src/svelte/index.js';
import { FakeWebSocket } from '../support/fakeWebSocket.js';

function makeClient() {
  const store = createRealtimeStore({
    url: 'ws://127.0.0.1:1/ws',
    WebSocket: FakeWebSocket,
    storage: createMemoryStorage(),
    browser: null,
    devTools: false,
    autoConnect: false,
    sessionReplyTimeoutMs: 10,
  });
  return new WebSocketClient(store);
}

/** Opens the client's socket as the server; resolves once the session is ready. */
async function openSession(client: WebSocketClient): Promise<FakeWebSocket> {
  client.connect();
  const ws = FakeWebSocket.last();
  ws.open();
  await vi.waitFor(() => expect(client.store.getState().connection.sessionReady).toBe(true));
  return ws;
}

let client: WebSocketClient;
beforeEach(() => {
  FakeWebSocket.reset();
  client = makeClient();
});
afterEach(() => client.store.dispose());

describe('WebSocketClient.send', () => {
  it('sends a start_generation given before the link is up through the outbox, once it is', async () => {
    const commandId = client.send({
      type: 'start_generation',
      node_id: 'node-7',
      params: { prompt: 'a lighthouse at dusk', steps: 30 },
      context: { scene_id: 'S001', shot_id: 'P003' },
      // The client's own id and time replace these.
      command_id: 'cmd-from-caller',
      timestamp: 'not a time',
    });
    expect(commandId).toMatch(/^cmd-[0-9a-f]{24}$/);
    expect(client.store.getState().outbox.entries.map((entry) => entry.commandId)).toEqual([commandId]);
    expect(FakeWebSocket.instances).toHaveLength(0);

    const ws = await openSession(client);
    await vi.waitFor(() => expect(ws.framesOfType('start_generation')).toHaveLength(1));
    const [sent] = ws.framesOfType('start_generation');
    expect(sent).toMatchObject({
      node_id: 'node-7',
      params: { prompt: 'a lighthouse at dusk', steps: 30 },
      context: { scene_id: 'S001', shot_id: 'P003' },
      command_id: commandId,
    });
    expect(new Date(sent!.timestamp as string).getTime()).not.toBeNaN();
  });

  it('takes the JSON text of a frame, and subscribe / unsubscribe / cancel_generation', async () => {
    const ws = await openSession(client);
    expect(client.send(JSON.stringify({ type: 'subscribe', project_id: 'proj-1' }))).toBeUndefined();
    expect(client.store.getState().sync.subscriptions).toEqual(['proj-1']);
    const cancelId = client.send({ type: 'cancel_generation', node_id: 'node-7', task_id: 'task-1' });
    client.send({ type: 'unsubscribe', project_id: 'proj-1' });
    await vi.waitFor(() => expect(ws.framesOfType('cancel_generation')).toHaveLength(1));
    expect(ws.framesOfType('subscribe')).toEqual([{ type: 'subscribe', project_id: 'proj-1' }]);
    expect(ws.framesOfType('unsubscribe')).toEqual([{ type: 'unsubscribe', project_id: 'proj-1' }]);
    expect(ws.framesOfType('cancel_generation')[0]).toMatchObject({ node_id: 'node-7', task_id: 'task-1', command_id: cancelId });
    expect(client.store.getState().sync.subscriptions).toEqual([]);
  });

  it.each([
    ['another type', { type: 'delete_project', project_id: 'proj-1' }, /type "delete_project" is not a command this client sends; it sends start_generation, cancel_generation, subscribe, unsubscribe/],
    ['the heartbeat', { type: 'ping' }, /"ping" is not a command .*the connection's own/],
    ['a session frame', { type: 'session.init', session_id: 's-1', reconnect: false }, /"session.init" is not a command .*the connection's own/],
    ['an inherited name', { type: 'constructor' }, /type "constructor" is not a command/],
    ['no type', { node_id: 'node-7' }, /type undefined is not a command/],
    ['a start_generation without a node', { type: 'start_generation', params: { prompt: 'x' } }, /invalid start_generation frame: node_id/],
    ['a start_generation with bad params', { type: 'start_generation', node_id: 'node-7', params: { steps: -1 } }, /invalid start_generation frame: params.steps/],
    ['a subscribe without a project', { type: 'subscribe' }, /invalid subscribe frame: project_id/],
    ['text that is not JSON', '{"type": "subscribe"', /a string must be the JSON text of a frame/],
    ['a number', 42, /takes a frame object/],
    ['null', null, /takes a frame object/],
    ['an array', [{ type: 'subscribe', project_id: 'proj-1' }], /takes a frame object/],
  ])('refuses %s with a TypeError, and sends nothing', async (_, data, message) => {
    const ws = await openSession(client);
    const before = client.store.getState();
    const sentBefore = ws.sent.length;
    expect(() => client.send(data)).toThrow(TypeError);
    expect(() => client.send(data)).toThrow(message);
    expect(client.store.getState()).toBe(before);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ws.sent).toHaveLength(sentBefore);
  });
});
