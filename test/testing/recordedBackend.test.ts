/**
 * The `./testing` entry used the way a user would: createRealtimeStore with its default
 * (global, msw-patched) WebSocket, msw's setupServer, and a recorded log as the backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  replayFrames,
  startGeneration,
  subscribeProject,
  type RealtimeState,
  type RealtimeStoreOptions,
} from '../../src/index.js';
import { createRecordedBackend, type RecordedBackend } from '../../src/testing/index.js';
import { getEntity } from '../../src/slices/table.js';

const URL = 'ws://canvas.test/ws';
const FIXTURE = new globalThis.URL('../fixtures/generation-success.jsonl', import.meta.url);

/** A short generation, used when the fixture is not there. */
const INLINE_LOG = [
  { type: 'session.init', session_id: 'rec-1', instance_id: 'backend-rec', capabilities: ['ack', 'seq', 'replay'] },
  { type: 'ack', command_id: 'cmd-recorded', status: 'accepted' },
  { type: 'generation.started', project_id: 'proj-aurora', seq: 1, node_id: 'node-t2i-7f3a', task_id: 'task-1', command_id: 'cmd-recorded' },
  { type: 'task.progress', project_id: 'proj-aurora', seq: 2, node_id: 'node-t2i-7f3a', task_id: 'task-1', state: 'PROGRESS', progress: 50, step: 'Denoising 15/30' },
  { type: 'system.heartbeat', instance_id: 'backend-rec' },
  {
    type: 'generation.completed',
    project_id: 'proj-aurora',
    seq: 3,
    node_id: 'node-t2i-7f3a',
    task_id: 'task-1',
    output_path: '/media/take-1.png',
    takes: [{ id: 'take-1', take_number: 1, path: '/media/take-1.png', created_at: '2026-03-02T14:05:00.000Z' }],
  },
  { type: 'node.state_changed', project_id: 'proj-aurora', seq: 4, node_id: 'node-t2i-7f3a', status: 'completed', progress: 100 },
];
const LOG: string | object[] = existsSync(FIXTURE) ? readFileSync(FIXTURE, 'utf8') : INLINE_LOG;
const NODE = 'node-t2i-7f3a';
const STORY_TYPES = new Set(['session.init', 'subscribe', 'unsubscribe', 'ping', 'start_generation', 'cancel_generation']);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function serve(backend: RecordedBackend) {
  const server = setupServer(backend.handler);
  server.listen({ onUnhandledRequest: 'error' });
  cleanups.push(() => server.close());
  return server;
}

function store(options: Partial<RealtimeStoreOptions> = {}) {
  const created = createRealtimeStore({ url: URL, storage: createMemoryStorage(), autoConnect: false, devTools: false, browser: null, ...options });
  cleanups.push(() => created.dispose());
  return created;
}

function until(s: ReturnType<typeof store>, predicate: (state: RealtimeState) => boolean, what: string): Promise<RealtimeState> {
  return new Promise((resolve, reject) => {
    if (predicate(s.getState())) return resolve(s.getState());
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5_000);
    const unsubscribe = s.subscribe(() => {
      if (!predicate(s.getState())) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(s.getState());
    });
  });
}

function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'at' && !k.endsWith('At')).map(([k, v]) => [k, timeless(v)]));
  }
  return value;
}
const domain = ({ tasks, nodes, takes, agents, narrative, prompts, activity }: RealtimeState) =>
  timeless({ tasks, nodes, takes, agents, narrative, prompts, activity });

describe('createRecordedBackend (msw)', () => {
  it('plays a recorded generation as the backend: session reply, live acks, then the log', async () => {
    const backend = createRecordedBackend({ url: URL, frames: LOG });
    serve(backend);
    const client = store();
    client.dispatch(subscribeProject('proj-aurora'));
    const { commandId } = client.dispatch(startGeneration({ nodeId: NODE, projectId: 'proj-aurora', params: { prompt: 'a lone rider' } })).payload;
    client.dispatch(connect());

    expect(await backend.waitFor('subscribe')).toMatchObject({ type: 'subscribe', project_id: 'proj-aurora' });
    expect(await backend.waitFor('start_generation')).toMatchObject({ command_id: commandId, node_id: NODE });
    await backend.played;
    const expected = replayFrames(LOG);
    const done = await until(client, (s) => s.sync.lastSeq['proj-aurora'] === expected.sync.lastSeq['proj-aurora'], 'the whole log');

    expect(done.connection).toMatchObject({ status: 'connected', sessionReady: true, capabilities: ['ack', 'seq', 'replay'] });
    expect(done.outbox).toMatchObject({ entries: [], delivered: 1 }); // acked live, by its real command id
    expect(getEntity(done.nodes, NODE)).toMatchObject({ status: 'completed', progress: 100 });
    expect(domain(done)).toEqual(domain(expected));
    expect(done.frames.rejected.total).toBe(0);
    expect(backend.sent.map((f) => f.type).filter((t) => t !== 'ping')).toEqual(['session.init', 'subscribe', 'start_generation']);
  });

  it('as a story-only backend: no session reply, no acks, no seq, and the client sends only story frames', async () => {
    const backend = createRecordedBackend({ url: URL, frames: LOG, capabilities: [], replyToSessionInit: false });
    serve(backend);
    const client = store({ sessionReplyTimeoutMs: 50 });
    client.dispatch(subscribeProject('proj-aurora'));
    client.dispatch(startGeneration({ nodeId: NODE, projectId: 'proj-aurora', params: { prompt: 'a lone rider' } }));
    client.dispatch(connect());

    await backend.played;
    const done = await until(client, (s) => getEntity(s.nodes, NODE)?.status === 'completed' && s.outbox.entries.length === 0, 'completed node');
    expect(done.connection.capabilities).toEqual([]);
    expect(done.sync.lastSeq).toEqual({}); // no seq on the wire
    expect(done.frames.recent.some((r) => r.frame.type === 'ack' || r.frame.seq !== undefined)).toBe(false);
    expect(backend.sent.filter((f) => !STORY_TYPES.has(f.type))).toEqual([]);
    expect(backend.sent.find((f) => f.type === 'subscribe')).toEqual({ type: 'subscribe', project_id: 'proj-aurora' });
  });

  it('starts after a given client frame and closes with a code once played; the last frame is not lost', async () => {
    const frames = [
      { type: 'generation.started', project_id: 'p1', node_id: 'n1', task_id: 't1' },
      { type: 'task.progress', project_id: 'p1', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 40 },
      { type: 'generation.completed', project_id: 'p1', node_id: 'n1', task_id: 't1', output_path: '/media/n1.png' },
    ];
    const backend = createRecordedBackend({ url: URL, frames, capabilities: ['ack', 'seq'], startAfter: 'start_generation', closeAfter: 1012 });
    serve(backend);
    const client = store({ backoff: { initialMs: 5, maxMs: 20 } });
    const statuses: string[] = [];
    client.subscribe(() => {
      const { status } = client.getState().connection;
      if (statuses.at(-1) !== status) statuses.push(status);
    });
    client.dispatch(connect());
    await until(client, (s) => s.connection.sessionReady, 'session');
    expect(client.getState().nodes.ids).toEqual([]); // nothing played before the command

    client.dispatch(startGeneration({ nodeId: 'n1', projectId: 'p1', params: {} }));
    await backend.played;
    const closed = await until(client, (s) => s.connection.lastClose?.code === 1012, 'the 1012 close');
    // The frame sent just before the close arrived: seq was numbered 1..3 by the backend.
    expect(getEntity(closed.nodes, 'n1')).toMatchObject({ status: 'completed', output_path: '/media/n1.png' });
    expect(closed.sync.lastSeq).toEqual({ p1: 3 });

    // The client comes back; the backend knows its session and does not play the log again.
    await until(client, (s) => s.connection.sessionReady, 'reconnected');
    expect(backend.connections).toBe(2);
    expect(client.getState().frames.recent.map((r) => r.frame.type)).toContain('session.restored');
    expect(statuses).toEqual(['connecting', 'connected', 'suspended', 'connected']);
  });

  it('sends recorded bad lines as they are, and waitFor names what the client did send', async () => {
    const jsonl = ['{"type":"project.updated","project_id":"p1","seq":1,"data":{"name":"A"}}', '{not json', '[1,2]', ''].join('\n');
    const backend = createRecordedBackend({ url: URL, frames: jsonl, capabilities: ['seq'] });
    serve(backend);
    const client = store();
    client.dispatch(connect());
    await backend.played;
    const done = await until(client, (s) => s.frames.rejected.total === 2, 'two rejections');
    expect(done.frames.rejected.byReason).toEqual({ not_json: 1, not_object: 1 });
    expect(done.sync.lastSeq).toEqual({ p1: 1 });
    await expect(backend.waitFor('start_generation', { timeoutMs: 30 })).rejects.toThrow(/no "start_generation".*it sent: session\.init/);
  });
});

describe('many backends', () => {
  it('share one msw link per URL: a dozen on one URL add at most one listener to msw\'s BroadcastChannel', () => {
    // Each ws.link() adds a listener to msw's one BroadcastChannel for good: a suite making a
    // backend per test warned MaxListenersExceededWarning from the eleventh on.
    const added = vi.spyOn(BroadcastChannel.prototype, 'addEventListener');
    try {
      for (let i = 0; i < 12; i++) createRecordedBackend({ url: 'ws://many.test/ws', frames: [] });
      expect(added.mock.calls.filter(([type]) => type === 'message').length).toBeLessThanOrEqual(1);
    } finally {
      added.mockRestore();
    }
  });
});
