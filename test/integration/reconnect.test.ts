/**
 * Reconnection against a real backend on 127.0.0.1 (test/support/miniGateway.ts): the server
 * dies and comes back on the same port, restarts as a new instance, goes half-open, or closes
 * with 1012. Waits are on store state and gateway frames, never on sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, replayFrames, subscribeProject, type RealtimeState } from '../../src/index.js';
import { createTestStore, MiniGateway, waitForState, type Frame } from '../support/miniGateway.js';
import { getEntity } from '../../src/slices/table.js';

type Store = ReturnType<typeof createTestStore>;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(options: Parameters<typeof MiniGateway.start>[0] = {}): Promise<MiniGateway> {
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

/** A production's worth of project events: generations, agents, takes, narrative, activity. */
function productionEvents(nodes: number): Frame[] {
  const events: Frame[] = [];
  for (let i = 1; i <= nodes; i++) {
    const node_id = `node-${i}`;
    const task_id = `task-${i}`;
    events.push(
      { type: 'generation.started', node_id, task_id, scene_id: 'S001', shot_id: `P00${i}` },
      { type: 'agent.assigned', agent_type: 'Producer', task_id, node_id, task_description: `Schedule ${node_id}` },
      { type: 'task.progress', task_id, node_id, state: 'PROGRESS', progress: 25, step: 'Encoding prompt (step 1/4)', current_step: 1, total_steps: 4 },
      { type: 'agent.progress', agent_type: 'Producer', task_id, node_id, progress: 50, current_step: 'Reserving GPU', vram_usage: 6.5 },
      { type: 'task.progress', task_id, node_id, state: 'PROGRESS', progress: 75, step: 'Denoising (step 3/4)', current_step: 3, total_steps: 4 },
      { type: 'structure.changed', changes: { added: [`shots/P00${i}.json`] } },
      {
        type: 'generation.completed',
        node_id,
        task_id,
        output_path: `/media/${node_id}/take-${i}.png`,
        takes: [{ id: `take-${i}`, take_number: 1, path: `/media/${node_id}/take-${i}.png`, created_at: '2026-03-02T14:05:00.000Z' }],
      },
      { type: 'narrative.beat', beat_name: `beat-${i}`, scene_id: 'S001', keywords: ['resolve'] },
      { type: 'git.commit', ref: `c0ffee${i}`, message: `Take ${i}`, author: 'dana' },
    );
  }
  return events;
}

/** Drops receive times (they differ between live and replayed runs), keeps everything else. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'at' && !key.endsWith('At'))
        .map(([key, inner]) => [key, timeless(inner)]),
    );
  }
  return value;
}

function domain(state: RealtimeState) {
  const { tasks, nodes, takes, agents, narrative, prompts, activity } = state;
  return timeless({ tasks, nodes, takes, agents, narrative, prompts, activity });
}

describe('reconnecting to a real backend', () => {
  it('server killed mid-stream and restarted on the same port: replay fills the gap, nothing applied twice', async () => {
    const events = productionEvents(5); // 45 events
    const first = await gateway({ replayOverlap: 3 });
    const store = client(first.url);
    let heartbeats = 0;
    let sessions = 0;
    const delivered: number[] = [];
    store.on('system.heartbeat', () => heartbeats++);
    store.on('session.init', () => sessions++);
    store.on('session.restored', () => sessions++);
    store.on('*', (frame) => {
      if ('seq' in frame && typeof frame.seq === 'number') delivered.push(frame.seq);
    });
    store.dispatch(subscribeProject('p1'));
    store.dispatch(connect());
    await first.waitFor('subscribe');

    // Mid-stream: events go out one per macrotask, then three in a burst, and the process dies
    // in the same tick as the burst (those frames may or may not reach the client).
    for (const event of events.slice(0, 12)) {
      first.publish('p1', event);
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const event of events.slice(12, 15)) first.publish('p1', event);
    const reached = store.getState().sync.lastSeq.p1 ?? 0;
    await first.stop('terminate');
    const dropped = await waitForState(store, (s) => s.connection.lastClose !== undefined, 'the close');
    expect(dropped.connection).toMatchObject({ status: 'reconnecting', lastClose: { code: 1006 } });

    // Same port, same Redis: the new process publishes 15 events before the client is back.
    const second = await gateway({ port: first.port, state: first.state, replayOverlap: 3 });
    for (const event of events.slice(15, 30)) second.publish('p1', event);
    const resubscribe = await second.waitFor('subscribe');
    expect(resubscribe).toMatchObject({ project_id: 'p1', last_seq: expect.any(Number) });
    expect(resubscribe.last_seq).toBeGreaterThanOrEqual(reached);
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 30, 'replay up to seq 30');

    // Then live traffic on the new socket.
    for (const event of events.slice(30)) second.publish('p1', event);
    const final = await waitForState(store, (s) => s.sync.lastSeq.p1 === events.length, 'live events');

    // The fault-free result: the same events reduced once each, in order.
    const faultFree = replayFrames(second.history('p1'));
    expect(domain(final)).toEqual(domain(faultFree));
    expect(final.sync.gaps).toEqual([]);
    // Every seq applied exactly once; the replay overlap was dropped, and listeners never saw it.
    expect(final.frames.applied - heartbeats - sessions).toBe(events.length);
    expect(final.frames.duplicatesDropped).toBeGreaterThanOrEqual(3);
    expect(delivered).toEqual(events.map((_, i) => i + 1));
    expect(second.received.filter((f) => f.type === 'session.init')).toHaveLength(1);
  });

  it('backend restarted as a new instance: restartDetectedAt set, generating nodes stale until a frame confirms them', async () => {
    const first = await gateway({ instanceId: 'backend-a' });
    const store = client(first.url);
    store.dispatch(subscribeProject('p1'));
    store.dispatch(connect());
    await first.waitFor('subscribe');
    first.publish('p1', { type: 'generation.started', node_id: 'n1', task_id: 't1' });
    first.publish('p1', { type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 30 });
    first.publish('p1', { type: 'generation.started', node_id: 'n2', task_id: 't2' });
    first.publish('p1', { type: 'generation.completed', node_id: 'n2', task_id: 't2', output_path: '/media/n2.png' });
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 4, 'first events');
    expect(store.getState().connection.instanceId).toBe('backend-a');
    expect(store.getState().connection.restartDetectedAt).toBeUndefined();

    await first.stop('terminate');
    const second = await gateway({ port: first.port, state: first.state, instanceId: 'backend-b' });
    const stale = await waitForState(store, (s) => getEntity(s.nodes, 'n1')?.stale === true, 'n1 marked stale');
    expect(stale.connection.instanceId).toBe('backend-b');
    expect(stale.connection.restartDetectedAt).toEqual(expect.any(Number));
    expect(getEntity(stale.nodes, 'n1')).toMatchObject({ status: 'generating', progress: 30 });
    // A finished node is not in doubt.
    expect(getEntity(stale.nodes, 'n2')?.stale).toBeUndefined();

    // The next frame about n1 confirms it.
    await second.waitFor('subscribe');
    second.publish('p1', { type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 60 });
    const confirmed = await waitForState(store, (s) => getEntity(s.nodes, 'n1')?.progress === 60, 'n1 confirmed');
    expect(getEntity(confirmed.nodes, 'n1')?.stale).toBeUndefined();
    expect(getEntity(confirmed.nodes, 'n1')?.status).toBe('generating');
  });

  it('half-open link: the heartbeat timeout gives it up (4000) and the client reconnects', async () => {
    const gw = await gateway();
    const store = client(gw.url, { heartbeat: { intervalMs: 40, timeoutMs: 150 } });
    store.dispatch(subscribeProject('p1'));
    store.dispatch(connect());
    await ready(store);
    await gw.waitFor('subscribe');
    gw.publish('p1', { type: 'project.updated', data: { name: 'seen' } });
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 1, 'first event');

    gw.halfOpen(); // no more heartbeats, nothing read; the socket stays open
    gw.publish('p1', { type: 'project.updated', data: { name: 'missed while half-open' } });
    await gw.waitForConnections(2);
    const back = await ready(store, 'reconnected after heartbeat timeout');
    expect(back.connection.lastClose).toMatchObject({ code: 4000, reason: 'heartbeat timeout' });
    // The new socket asks for what the half-open one never delivered, and gets it.
    expect(await gw.waitFor('subscribe', (f) => f.last_seq === 1)).toEqual({ type: 'subscribe', project_id: 'p1', last_seq: 1 });
    const caughtUp = await waitForState(store, (s) => s.sync.lastSeq.p1 === 2, 'missed event replayed');
    expect(caughtUp.activity.feed.map((item) => (item.frame as { data?: { name?: string } }).data?.name)).toEqual(['seen', 'missed while half-open']);
  });

  it('1012 (service restart): suspended, then connected again, without passing through reconnecting', async () => {
    const first = await gateway();
    const store = client(first.url);
    const statuses: string[] = [];
    store.subscribe(() => {
      const { status } = store.getState().connection;
      if (statuses.at(-1) !== status) statuses.push(status);
    });
    store.dispatch(connect());
    await ready(store);

    await first.stop('restart');
    const suspended = await waitForState(store, (s) => s.connection.status === 'suspended', 'suspended');
    expect(suspended.connection.lastClose?.code).toBe(1012);
    // Attempts while the port is closed fail with 1006 and stay suspended.
    await waitForState(store, (s) => s.connection.reconnectAttempts >= 3, 'failed attempts while down');
    expect(store.getState().connection.status).toBe('suspended');

    const second = await gateway({ port: first.port, state: first.state });
    await ready(store, 'back after restart');
    expect(second.received[0]).toMatchObject({ type: 'session.init', reconnect: true });
    expect(statuses).toEqual(['connecting', 'connected', 'suspended', 'connected']);
  });
});
