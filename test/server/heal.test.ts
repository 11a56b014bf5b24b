/**
 * Issue 12 with the real gateway on 127.0.0.1 and the real client (createRealtimeStore, `ws`):
 * a fresh client (another browser) and a reload (same storage, new store) show the completed node
 * and its take with the snapshot that answers their subscribe; a memory-bus server killed
 * mid-run and started again (a new bus, simulator and gateway on the same port: what `kill -9`
 * and a restart of `npm start` leave) retires the run, answers a cancel, and a rerun adds a new
 * take; and one whose memory bus keeps a file (what `npm start` runs by default), killed mid-run
 * and started again on that file: a fresh client sees the take made before the kill, the run cut
 * off ends with the worker-lost error, and a rerun adds a new take.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForState as waitForStateOf } from '../support/miniGateway.js';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { createGateway, type Gateway } from '../../server/gateway.js';
import { WORKER_LOST } from '../../server/simulator/lostRuns.js';
import { createSimulator, type Simulator } from '../../server/simulator/simulator.js';
import {
  cancelGeneration,
  connect,
  createMemoryStorage,
  createRealtimeStore,
  selectTakesByNode,
  startGeneration,
  subscribeProject,
  type RealtimeState,
} from '../../src/index.js';
import { getEntity } from '../../src/slices/table.js';
import { cleanupStack, eventually } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

type Storage = ReturnType<typeof createMemoryStorage>;

/** A whole memory-bus server (what `npm start` runs): bus, simulator, gateway, on `port` (0: free). */
async function server(port = 0, instanceId?: string, extensions: { snapshot?: boolean; taskStatus?: boolean } = {}, file?: string) {
  const bus = createMemoryBus({ file });
  const simulator: Simulator = createSimulator({ bus, seed: 2026, speed: 25, failureRate: 0, ambientEveryMs: 0 });
  // As server/main.ts: the runs of a previous process end before any client is served.
  await simulator.recovered;
  const gateway: Gateway = createGateway({ bus, host: '127.0.0.1', port, instanceId, heartbeatMs: 200, onCommand: simulator.handleCommand, ...extensions });
  await gateway.ready;
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    // Everything dies at once, nothing is written anywhere: a SIGKILLed in-memory server.
    simulator.stop();
    await gateway.terminate();
    await bus.close();
  };
  cleanups.add(kill);
  return { bus, simulator, gateway, kill, url: `ws://127.0.0.1:${gateway.port()}`, port: gateway.port() };
}

function client(url: string, storage: Storage = createMemoryStorage(), options: Partial<Parameters<typeof createRealtimeStore>[0]> = {}) {
  const store = createRealtimeStore({ url, WebSocket, storage, devTools: false, autoConnect: false, browser: null, backoff: { initialMs: 20, maxMs: 100 }, ...options });
  cleanups.add(() => store.dispose());
  return store;
}

type Store = ReturnType<typeof client>;

/** Resolves once `predicate` holds (test/support/miniGateway.ts); 10 s is a safety net, not a delay. */
const waitForState = (store: Store, predicate: (state: RealtimeState) => boolean, what: string, timeoutMs = 10_000) =>
  waitForStateOf(store, predicate, what, timeoutMs);

const node = (state: RealtimeState, id: string) => getEntity(state.nodes, id);

/** Starts a run and waits for its take (a new one in the node) and the end of its agents. */
async function generateOnce(store: Store, nodeId: string, prompt = 'A lone rider at dusk') {
  const takes = node(store.getState(), nodeId)?.take_ids.length ?? 0;
  store.dispatch(startGeneration({ nodeId, projectId: 'proj-1', params: { prompt, steps: 6 } }));
  await waitForState(store, (s) => node(s, nodeId)?.status === 'completed' && node(s, nodeId)!.take_ids.length > takes, `${nodeId} completed with a new take`);
  const taskId = node(store.getState(), nodeId)!.task_id!;
  return waitForState(store, (s) => getEntity(s.agents, 'Editor')?.status === 'completed' && getEntity(s.agents, 'Editor')!.task_id?.startsWith(taskId) === true, `${nodeId}: the Editor reviewed the take`);
}

async function ready(store: Store) {
  store.dispatch(connect());
  await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
  store.dispatch(subscribeProject('proj-1'));
}

describe('the canvas heals: project state on subscribe', () => {
  it('a fresh client (another browser) shows the completed node and its take with the first frame after its subscribe', async () => {
    const srv = await server();
    const first = client(srv.url);
    await ready(first);
    await generateOnce(first, 'node-1');

    const other = client(srv.url);
    await ready(other);
    const state = await waitForState(other, (s) => node(s, 'node-1') !== undefined, 'node-1 known');
    // The snapshot is the first frame of the project: the state appears all at once.
    expect(node(state, 'node-1')).toMatchObject({ status: 'completed' });
    expect(selectTakesByNode(state, 'node-1')).toHaveLength(1);
    expect(state.sync.lastSeq['proj-1']).toBe(await srv.bus.lastSeq('proj-1'));
    expect(state.frames.rejected.total).toBe(0);
  });

  it('a reload (same storage, a new store) shows the completed node and its take again', async () => {
    const srv = await server();
    const storage = createMemoryStorage();
    const first = client(srv.url, storage);
    await ready(first);
    await generateOnce(first, 'node-1');
    // The page goes away; its storage (session, position) stays.
    first.dispose();

    const reloaded = client(srv.url, storage);
    await ready(reloaded);
    const state = await waitForState(reloaded, (s) => node(s, 'node-1')?.status === 'completed', 'node-1 completed after the reload');
    expect(selectTakesByNode(state, 'node-1')).toHaveLength(1);
    // From the snapshot that answered the subscribe, not from a replay of the whole history.
    expect(state.frames.recent.map((recent) => recent.frame.type)).toContain('project.snapshot');
    expect(state.frames.recent.map((recent) => recent.frame.type)).not.toContain('generation.completed');
    expect(state.sync.lastSeq['proj-1']).toBe(await srv.bus.lastSeq('proj-1'));
  });
});

describe('the canvas heals: a memory-bus server killed mid-run and started again', () => {
  it('a restarted server with task_status only (no snapshot): the run is lost at once, on the UNKNOWN answer, long before staleAfterMs', async () => {
    const before = await server(0, 'gw-before', { snapshot: false });
    // A timer this long cannot be what ends the run within the wait below: the answer does.
    const store = client(before.url, createMemoryStorage(), { staleAfterMs: 60_000 });
    await ready(store);
    store.dispatch(startGeneration({ nodeId: 'node-3', projectId: 'proj-1', params: { prompt: 'A close-up', steps: 30 } }));
    await waitForState(store, (s) => (node(s, 'node-3')?.step ?? '').startsWith('Denoising'), 'denoising');
    await before.kill();
    await waitForState(store, (s) => s.connection.status === 'reconnecting', 'reconnecting');
    const restartedAt = Date.now();
    await server(before.port, 'gw-after', { snapshot: false });
    const lost = await waitForState(store, (s) => node(s, 'node-3')?.status !== 'generating', 'the run lost', 5_000);
    expect(node(lost, 'node-3')).toMatchObject({ status: 'error', lost: true });
    console.log(`[heal] memory-bus restart, task_status only: the run was shown lost ${Date.now() - restartedAt} ms after the new server started`);
  });


  it('the run leaves generating, a cancel resolves, and a rerun adds a new take', async () => {
    const before = await server(0, 'gw-before');
    const store = client(before.url);
    await ready(store);
    await generateOnce(store, 'node-1');
    store.dispatch(startGeneration({ nodeId: 'node-1', projectId: 'proj-1', params: { prompt: 'A second take', steps: 30 } }));
    // And a run nobody cancels: it must leave generating by itself.
    store.dispatch(startGeneration({ nodeId: 'node-2', projectId: 'proj-1', params: { prompt: 'A wide shot', steps: 30 } }));
    await waitForState(store, (s) => (node(s, 'node-1')?.step ?? '').startsWith('Denoising') && (node(s, 'node-2')?.step ?? '').startsWith('Denoising'), 'both runs denoising');

    await before.kill();
    await waitForState(store, (s) => s.connection.status === 'reconnecting', 'reconnecting');
    // The user presses Cancel while the server is down: "Cancelling..." until it is answered.
    store.dispatch(cancelGeneration({ nodeId: 'node-1', projectId: 'proj-1' }));
    expect(node(store.getState(), 'node-1')).toMatchObject({ status: 'generating', pending: { kind: 'cancel' } });
    const restartedAt = Date.now();
    const after = await server(before.port, 'gw-after');
    const left = await waitForState(
      store,
      (s) => s.connection.instanceId === 'gw-after' && s.nodes.generating_ids.length === 0 && node(s, 'node-1')?.pending === undefined,
      'the lost runs to leave generating and the cancel to resolve',
    );
    const resolvedAfterMs = Date.now() - restartedAt;
    expect(node(left, 'node-2')!.status).not.toBe('generating');
    expect(resolvedAfterMs).toBeLessThan(10_000);

    // A rerun on the restarted server: its take is new (ids differ across restarts), not a duplicate.
    const takesBefore = selectTakesByNode(store.getState(), 'node-1').map((take) => take.id);
    const rerun = await generateOnce(store, 'node-1', 'After the restart');
    const takesAfter = selectTakesByNode(rerun, 'node-1').map((take) => take.id);
    expect(takesAfter).toHaveLength(takesBefore.length + 1);
    expect(takesAfter.filter((id) => !takesBefore.includes(id))).toHaveLength(1);
    expect(rerun.frames.rejected.total).toBe(0);
    await eventually(() => after.simulator.activeRuns().length === 0, 'the rerun to end');
    // Figures for docs/RELIABILITY.md.
    console.log(`[heal] memory-bus restart: the lost runs left generating, and the cancel pressed while the server was down resolved, ${resolvedAfterMs} ms after the new server started`);
  });
});

describe('the canvas heals: a memory-bus server with a file (the demo) killed mid-run and started again on it', () => {
  it('a fresh client shows the take made before the kill, the run cut off ends with the worker-lost error, a rerun adds a new take', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'i12-durable-heal-'));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'demo.jsonl');

    const before = await server(0, 'gw-before', {}, file);
    const open = client(before.url);
    await ready(open);
    await generateOnce(open, 'node-1');
    const firstTake = selectTakesByNode(open.getState(), 'node-1')[0]!.id;
    open.dispatch(startGeneration({ nodeId: 'node-2', projectId: 'proj-1', params: { prompt: 'A wide shot', steps: 30 } }));
    await waitForState(open, (s) => (node(s, 'node-2')?.step ?? '').startsWith('Denoising'), 'node-2 denoising');
    const cutTask = node(open.getState(), 'node-2')!.task_id;
    // Dropped without a graceful stop: nothing flushed, only what was appended as it happened.
    await before.kill();

    const restartedAt = Date.now();
    const after = await server(before.port, 'gw-after', {}, file);
    expect(await after.simulator.recovered).toBe(1);

    // A page loaded after the restart (new storage): the take, and no spinner.
    const fresh = client(after.url);
    await ready(fresh);
    const healed = await waitForState(fresh, (s) => node(s, 'node-1')?.status === 'completed' && node(s, 'node-2')?.status === 'error', 'the project restored');
    console.log(`[heal] memory bus with a file: a fresh client showed the take and the lost run ${Date.now() - restartedAt} ms after the new server started`);
    expect(selectTakesByNode(healed, 'node-1').map((take) => take.id)).toEqual([firstTake]);
    expect(node(healed, 'node-2')).toMatchObject({ status: 'error', error: WORKER_LOST, task_id: cutTask });
    expect(healed.nodes.generating_ids).toEqual([]);
    // The tab that stayed open sees the run end the same way.
    await waitForState(open, (s) => node(s, 'node-2')?.status === 'error' && node(s, 'node-2')?.error === WORKER_LOST, 'the open tab: node-2 lost');

    // Generate works again, and the new take is a new one (ids unique across the restart).
    const rerun = await generateOnce(fresh, 'node-1', 'After the restart');
    const takes = selectTakesByNode(rerun, 'node-1').map((take) => take.id);
    expect(takes).toHaveLength(2);
    expect(takes).toContain(firstTake);
    const retried = await generateOnce(fresh, 'node-2', 'A wide shot, again');
    expect(node(retried, 'node-2')).toMatchObject({ status: 'completed' });
    expect(selectTakesByNode(retried, 'node-2')).toHaveLength(1);
    expect(retried.frames.rejected.total).toBe(0);
    await eventually(() => after.simulator.activeRuns().length === 0, 'the reruns to end');
  });
});
