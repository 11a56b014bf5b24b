/**
 * End to end on 127.0.0.1: the reference gateway and the pipeline simulator on a memory bus, and
 * the real client (createRealtimeStore, `ws` as its WebSocket). A generation started from the
 * client runs through the agents and the Celery steps and lands as a completed node with a take.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForState as waitForStateOf } from '../support/miniGateway.js';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { createGateway } from '../../server/gateway.js';
import { createSimulator } from '../../server/simulator/simulator.js';
import {
  AGENT_TYPES,
  cancelGeneration,
  connect,
  createMemoryStorage,
  createRealtimeStore,
  selectNodeVisual,
  selectTakesByNode,
  startGeneration,
  subscribeProject,
  type RealtimeState,
} from '../../src/index.js';
import { cleanupStack, collectBus, eventually } from './helpers.js';
import { allEntities, getEntity } from '../../src/slices/table.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

async function backend(options: { speed?: number; failureRate?: number } = {}) {
  const bus = createMemoryBus();
  const simulator = createSimulator({ bus, seed: 2026, speed: options.speed ?? 25, failureRate: options.failureRate ?? 0, ambientEveryMs: 0 });
  const gateway = createGateway({ bus, host: '127.0.0.1', port: 0, onCommand: simulator.handleCommand });
  await gateway.ready;
  cleanups.add(() => bus.close());
  cleanups.add(() => gateway.terminate());
  cleanups.add(() => simulator.stop());
  return { bus, simulator, gateway, url: `ws://127.0.0.1:${gateway.port()}` };
}

function client(url: string, options: Partial<Parameters<typeof createRealtimeStore>[0]> = {}) {
  const store = createRealtimeStore({
    ...options,
    url,
    WebSocket,
    storage: createMemoryStorage(),
    devTools: false,
    autoConnect: false,
    browser: null,
  });
  cleanups.add(() => store.dispose());
  return store;
}

type Store = ReturnType<typeof client>;

/** Resolves once `predicate` holds (test/support/miniGateway.ts); 10 s is a safety net, not a delay. */
const waitForState = (store: Store, predicate: (state: RealtimeState) => boolean, what: string, timeoutMs = 10_000) =>
  waitForStateOf(store, predicate, what, timeoutMs);

/** Records, on every state change, what a canvas would show. */
function watch(store: Store, nodeId: string) {
  const stepTexts: string[] = [];
  const statuses: string[] = [];
  const activeAgents = new Set<string>();
  const unsubscribe = store.subscribe(() => {
    const state = store.getState();
    const visual = selectNodeVisual(state, nodeId);
    if (visual.stepText !== undefined && stepTexts[stepTexts.length - 1] !== visual.stepText) stepTexts.push(visual.stepText);
    if (statuses[statuses.length - 1] !== visual.status) statuses.push(visual.status);
    for (const agent of allEntities(state.agents)) if (agent && agent.status !== 'idle') activeAgents.add(agent.agent_type);
  });
  cleanups.add(unsubscribe);
  return { stepTexts, statuses, activeAgents };
}

async function readyClient(url: string, projectId = 'proj-1') {
  const store = client(url);
  store.dispatch(connect());
  await waitForState(store, (s) => s.connection.status === 'connected' && s.connection.sessionReady, 'session ready');
  store.dispatch(subscribeProject(projectId));
  return store;
}

describe('end to end: gateway + simulator + client', () => {
  it('startGeneration: the node generates step by step, then completes with a thumbnail and a take', async () => {
    const { url, gateway } = await backend();
    const store = await readyClient(url);
    expect(store.getState().connection).toMatchObject({ instanceId: gateway.instanceId });
    expect([...store.getState().connection.capabilities].sort()).toEqual(['ack', 'replay', 'seq', 'snapshot', 'task_status']);
    const seen = watch(store, 'node-1');

    store.dispatch(
      startGeneration({
        nodeId: 'node-1',
        projectId: 'proj-1',
        params: { prompt: 'A lone rider at dusk', steps: 8, width: 1024, height: 576 },
        context: { scene_id: 'scene-1', shot_id: 'shot-1', emotional_beat: 'Resolve', character_refs: ['char-1'] },
      }),
    );
    await waitForState(store, (s) => /^Step \d+ of \d+/.test(selectNodeVisual(s, 'node-1').stepText ?? ''), 'a step text');
    expect(selectNodeVisual(store.getState(), 'node-1').status).toBe('generating');
    // SUCCESS (task.progress) completes the node; generation.completed brings the output and take.
    const done = await waitForState(
      store,
      (s) => getEntity(s.nodes, 'node-1')?.status === 'completed' && getEntity(s.nodes, 'node-1')!.take_ids.length > 0,
      'completed with its take',
    );

    // Generating, step by step ("Step k of N: ..."), then completed.
    expect(seen.statuses).toContain('generating');
    expect(seen.statuses[seen.statuses.length - 1]).toBe('completed');
    expect(seen.statuses.slice(seen.statuses.indexOf('generating'))).toEqual(['generating', 'completed']);
    const steps = seen.stepTexts.map((text) => /^Step (\d+) of (\d+)/.exec(text)).filter((m): m is RegExpExecArray => m !== null);
    expect(steps.length).toBeGreaterThanOrEqual(6);
    expect(new Set(steps.map((m) => m[2]))).toEqual(new Set(['8'])); // the 8 steps asked for
    const numbers = steps.map((m) => Number(m[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(seen.stepTexts.some((text) => text.includes('Denoising'))).toBe(true);

    // Completed, with its thumbnail and take.
    const node = getEntity(done.nodes, 'node-1')!;
    const visual = selectNodeVisual(done, 'node-1');
    expect(visual).toMatchObject({ status: 'completed', progress: 100 });
    expect(visual.thumbnail).toMatch(/^data:image\/png;base64,/);
    expect(node.take_ids).toHaveLength(1);
    const takes = selectTakesByNode(done, 'node-1');
    expect(takes).toHaveLength(1);
    expect(takes[0]).toMatchObject({ id: node.take_ids[0], take_number: 1, thumbnail: visual.thumbnail, scene_id: 'scene-1', shot_id: 'shot-1' });
    expect(node.pending).toBeUndefined();
    expect(done.outbox.entries).toEqual([]);

    // The whole crew worked on it: all seven agents were active.
    const final = await waitForState(store, (s) => AGENT_TYPES.every((agent) => getEntity(s.agents, agent)?.status === 'completed'), 'all agents done');
    expect([...seen.activeAgents].sort()).toEqual([...AGENT_TYPES].sort());

    // Nothing was rejected, nothing was out of sequence.
    expect(final.frames.rejected.total).toBe(0);
    expect(final.frames.unknown.total).toBe(0);
    expect(final.sync.gaps).toEqual([]);
    expect(final.frames.applied).toBeGreaterThan(40);
  });

  it('a failing generation ends in error, with no rejected frames', async () => {
    const { url } = await backend({ failureRate: 1 });
    const store = await readyClient(url);
    store.dispatch(startGeneration({ nodeId: 'node-f', projectId: 'proj-1', params: { prompt: 'A storm', steps: 8 } }));
    const state = await waitForState(store, (s) => getEntity(s.nodes, 'node-f')?.status === 'error', 'error');
    expect(selectNodeVisual(state, 'node-f').error).toMatch(/CUDA out of memory/);
    expect(state.frames.rejected.total).toBe(0);
  });

  it('cancelGeneration mid-run: the node is cancelled and the run stops', async () => {
    const { url, simulator } = await backend({ speed: 5 });
    const store = await readyClient(url);
    store.dispatch(startGeneration({ nodeId: 'node-c', projectId: 'proj-1', params: { prompt: 'A long take', steps: 30 } }));
    await waitForState(store, (s) => (getEntity(s.nodes, 'node-c')?.step ?? '').startsWith('Denoising'), 'denoising');
    store.dispatch(cancelGeneration({ nodeId: 'node-c', projectId: 'proj-1' }));
    const state = await waitForState(store, (s) => getEntity(s.nodes, 'node-c')?.status !== 'generating', 'not generating');
    expect(getEntity(state.nodes, 'node-c')!.status).toBe('cancelled');
    expect(simulator.activeRuns()).toEqual([]);
    expect(state.frames.rejected.total).toBe(0);
    await waitForState(store, (s) => s.outbox.entries.length === 0, 'the cancel acked');
  });

  it('the gateway dies mid-run; a new one on the same bus and port: the client resumes and misses nothing', async () => {
    const bus = createMemoryBus();
    const simulator = createSimulator({ bus, seed: 9, speed: 10, failureRate: 0, ambientEveryMs: 0 });
    cleanups.add(() => bus.close());
    cleanups.add(() => simulator.stop());
    const first = createGateway({ bus, host: '127.0.0.1', port: 0, instanceId: 'gw-1', onCommand: simulator.handleCommand });
    cleanups.add(() => first.terminate());
    await first.ready;
    const port = first.port();
    const store = client(`ws://127.0.0.1:${port}`, { backoff: { initialMs: 20, maxMs: 100 } });
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(startGeneration({ nodeId: 'node-r', projectId: 'proj-1', params: { prompt: 'A chase', steps: 10 } }));
    await waitForState(store, (s) => (getEntity(s.nodes, 'node-r')?.step ?? '').startsWith('Denoising'), 'denoising');

    await first.terminate();
    await waitForState(store, (s) => s.connection.status === 'reconnecting', 'reconnecting');
    // The run goes on on the bus while no gateway is up: the client misses some events.
    const whileDown = collectBus(bus);
    cleanups.add(whileDown.unsubscribe);
    await whileDown.until((events) => (events.length >= 3 ? true : undefined), 'events while the gateway is down');
    whileDown.unsubscribe();
    const missedFrom = store.getState().sync.lastSeq['proj-1']!;
    expect(whileDown.events[0]!.seq).toBeGreaterThan(missedFrom);
    const second = createGateway({ bus, host: '127.0.0.1', port, instanceId: 'gw-2', onCommand: simulator.handleCommand });
    cleanups.add(() => second.terminate());
    await second.ready;

    const done = await waitForState(
      store,
      (s) => getEntity(s.nodes, 'node-r')?.status === 'completed' && getEntity(s.nodes, 'node-r')!.take_ids.length === 1,
      'completed after the restart',
    );
    expect(done.connection).toMatchObject({ status: 'connected', instanceId: 'gw-2' });
    // The Editor reviewing the take is the last event of a successful run.
    const final = await waitForState(store, (s) => getEntity(s.agents, 'Editor')?.status === 'completed', 'the end of the run');
    expect(final.narrative.current_shot).toBeDefined();
    await eventually(() => simulator.activeRuns().length === 0, 'the run to end');
    expect(final.sync.lastSeq['proj-1']).toBe(await bus.lastSeq('proj-1'));
    expect(final.frames.rejected.total).toBe(0);
    expect(final.sync.gaps).toEqual([]);
    expect(selectTakesByNode(final, 'node-r')).toHaveLength(1);
  });
});
