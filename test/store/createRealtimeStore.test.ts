/**
 * The store as the application builds it: it must build in Node, its development checks
 * (serializability, immutability) must stay silent for realistic traffic, and the devTools
 * option must decide whether the Redux DevTools extension is used.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { getEntity } from '../../src/slices/table.js';

// Redux Toolkit picks the DevTools extension's compose when its module loads, so a stand-in
// extension goes on `window` before anything imports it, and `window` is removed again once the
// imports are done: everything else below runs as plain Node.
const devtools = vi.hoisted(() => {
  const calls: unknown[] = [];
  type Fn = (...args: unknown[]) => unknown;
  const compose = (...fns: Fn[]) =>
    fns.length === 0 ? (arg: unknown) => arg : fns.reduce((a, b) => (...args: unknown[]) => a(b(...args)));
  const hadWindow = 'window' in globalThis;
  if (!hadWindow) {
    (globalThis as { window?: unknown }).window = {
      __REDUX_DEVTOOLS_EXTENSION_COMPOSE__: (options: unknown) => {
        calls.push(options);
        return compose;
      },
    };
  }
  return { calls, hadWindow };
});

import { framesToActions } from '../../src/replay/index.js';
import {
  cancelGeneration,
  framesBatched,
  startGeneration,
  subscribeProject,
  type IngestAction,
  type RealtimeState,
} from '../../src/slices/index.js';
import { selectNodeVisual, selectTakesByNode } from '../../src/selectors/index.js';
import { createRealtimeStore, type RealtimeStore } from '../../src/store/createRealtimeStore.js';
import type { UnknownAction } from '@reduxjs/toolkit';

beforeAll(() => {
  if (!devtools.hadWindow) delete (globalThis as { window?: unknown }).window;
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixtureNames = existsSync(FIXTURE_DIR)
  ? readdirSync(FIXTURE_DIR).filter((name) => name.endsWith('.jsonl')).sort()
  : [];

const TS = (ms: number) => new Date(Date.UTC(2026, 2, 2, 14, 0, 0) + ms).toISOString();

/**
 * A long working session: many nodes generating in turn, each with agents, a composite prompt, a
 * beat, granular progress and takes; project traffic, heartbeats, failures and cancels between.
 */
function sessionFrames(generations: number): object[] {
  const frames: object[] = [
    { type: 'session.init', timestamp: TS(0), session_id: 'sess-1', instance_id: 'backend-1', capabilities: ['ack', 'seq', 'replay'] },
    { type: 'narrative.progress', timestamp: TS(1), structure_type: 'three-act', current_chapter: 1, total_chapters: 3, total_scenes: 40 },
  ];
  let seq = 0;
  let ms = 10;
  const push = (frame: Record<string, unknown>) => {
    ms += 50;
    frames.push({ timestamp: TS(ms), project_id: 'proj-1', seq: ++seq, ...frame });
  };
  for (let g = 1; g <= generations; g++) {
    const node_id = `node-${g % 25}`;
    const task_id = `celery-${g}`;
    const scene = `S${String(1 + (g % 40)).padStart(3, '0')}`;
    push({ type: 'generation.started', node_id, task_id, scene_id: scene, shot_id: 'P001', emotional_beat: `beat-${g % 12}` });
    push({ type: 'agent.assigned', agent_type: 'Cinematographer', task_id, node_id, task_description: `Frame ${scene}` });
    push({ type: 'prompt.composite', node_id, task_id, composite_prompt: { base_prompt: `Shot ${g}`, character_refs: ['char-1'], style_refs: ['style-noir'], emotional_keywords: ['dread'], agent_notes: { Cinematographer: 'low angle' } } });
    push({ type: 'narrative.beat', beat_name: `beat-${g % 12}`, scene_id: scene, task_id, node_id, keywords: ['tension'] });
    for (const [i, p] of [5, 30, 60, 90].entries()) {
      push({ type: 'task.progress', task_id, node_id, state: 'PROGRESS', progress: p, step: 'Denoising', current_step: i * 8 + 1, total_steps: 30, result: { preview: { step: i } } });
    }
    if (g % 10 === 0) {
      push({ type: 'task.progress', task_id, node_id, state: 'FAILURE', message: 'CUDA out of memory', result: { exc_type: 'OutOfMemoryError' } });
      push({ type: 'generation.error', node_id, task_id, error: 'CUDA out of memory' });
    } else if (g % 7 === 0) {
      push({ type: 'task.progress', task_id, node_id, state: 'REVOKED' });
      push({ type: 'node.state_changed', node_id, status: 'idle', progress: 0, task_id });
    } else {
      push({ type: 'task.progress', task_id, node_id, state: 'SUCCESS', progress: 100, result: { output_path: `/media/${task_id}.png` } });
      push({
        type: 'generation.completed',
        node_id,
        task_id,
        output_path: `/media/${task_id}.png`,
        thumbnail: `/media/${task_id}.thumb.png`,
        takes: [
          { id: `${task_id}-b`, take_number: 2 * g + 1, path: `/media/${task_id}-b.png`, created_at: TS(ms), metadata: { seed: g, sampler: 'dpmpp' } },
          { id: `${task_id}-a`, take_number: 2 * g, path: `/media/${task_id}-a.png`, created_at: TS(ms), quality_preset: 'high' },
        ],
      });
      push({ type: 'agent.completed', agent_type: 'Cinematographer', task_id, node_id, output: { shots: [1, 2, 3] }, handoff_to: 'Editor' });
      push({ type: 'agent.handoff', from_agent: 'Cinematographer', to_agent: 'Editor', task_id, node_id });
    }
    if (g % 5 === 0) {
      push({ type: 'git.commit', ref: 'main', message: `Take ${g}`, author: 'ana' });
      push({ type: 'structure.changed', changes: { added: [`scenes/${scene}/shots/P00${g % 9}.json`] } });
      push({ type: 'process.started', process_id: `export-${g}`, message: 'Exporting' });
      push({ type: 'process.completed', process_id: `export-${g}` });
      frames.push({ type: 'system.heartbeat', timestamp: TS(ms), server_time: ms, instance_id: 'backend-1' });
    }
  }
  return frames;
}

let errorSpy: MockInstance;
let warnSpy: MockInstance;
const stores: RealtimeStore[] = [];
function build(options: Parameters<typeof createRealtimeStore>[0] = {}) {
  const store = createRealtimeStore({ autoConnect: false, browser: null, ...options });
  stores.push(store);
  return store;
}
beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error');
  warnSpy = vi.spyOn(console, 'warn');
  devtools.calls.length = 0;
});
afterEach(() => {
  for (const store of stores.splice(0)) store.dispose();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/**
 * RTK also warns when one check takes longer than 32 ms. That measures the machine, not the
 * state: under a loaded parallel test run it fires even for the 20-line fixtures, whose checks
 * take well under a millisecond alone. Those warnings are left out here; the long session test
 * bounds the checks' cost directly instead.
 */
const SLOW_CHECK = /took \d+ms, which is more than the warning threshold/;
const complaints = (spy: MockInstance) => spy.mock.calls.filter((args) => !SLOW_CHECK.test(String(args[0])));

function expectSilentChecks() {
  expect(complaints(errorSpy), 'console.error').toEqual([]);
  expect(complaints(warnSpy), 'console.warn').toEqual([]);
}

describe('createRealtimeStore', () => {
  it('builds in Node with the initial state, without connecting', () => {
    expect(typeof window).toBe('undefined');
    const store = build();
    const state = store.getState();
    expect(state.connection.status).toBe('disconnected');
    expect(state.nodes.ids).toEqual([]);
    expect(store.resources().socket).toBe(false);
    expectSilentChecks();
  });

  it('starts from a preloaded state', () => {
    const source = build();
    for (const action of framesToActions(sessionFrames(3))) source.dispatch(action);
    const saved = JSON.parse(JSON.stringify(source.getState())) as RealtimeState;
    const store = build({ preloadedState: saved });
    expect(store.getState()).toEqual(saved);
    expect(selectTakesByNode(store.getState(), 'node-1').length).toBeGreaterThan(0);
    expectSilentChecks();
  });

  it.each(fixtureNames)('its dev checks stay silent for the recorded flow %s', (name) => {
    const store = build();
    const actions = framesToActions(readFileSync(FIXTURE_DIR + name, 'utf8'));
    for (const action of actions) store.dispatch(action);
    expect(store.getState().frames.applied + store.getState().frames.rejected.total + store.getState().frames.unknown.total + store.getState().frames.duplicatesDropped).toBe(actions.length);
    expectSilentChecks();
  });

  it('its dev checks stay silent for a long session with commands, batches and every frame kind', () => {
    const store = build();
    store.dispatch(subscribeProject('proj-1'));
    const actions = framesToActions(sessionFrames(120));
    expect(actions.length).toBeGreaterThan(1_500);
    let dispatches = 0;
    const startedAt = performance.now();
    for (let i = 0; i < actions.length; i++, dispatches++) {
      if (i % 97 === 0) {
        // The user asks while frames arrive; offline, the commands wait in the outbox.
        store.dispatch(startGeneration({ nodeId: `node-${i % 25}`, params: { prompt: 'Again', steps: 30, seed: i }, context: { scene_id: 'S001', character_refs: ['char-1'] } }));
        store.dispatch(cancelGeneration({ nodeId: `node-${(i + 3) % 25}` }));
      }
      if (i % 13 === 0 && i + 4 < actions.length) {
        store.dispatch(framesBatched({ actions: actions.slice(i, i + 4) as IngestAction[] }));
        i += 3;
        continue;
      }
      store.dispatch(actions[i]!);
    }
    // Reducers plus both checks, per dispatch, on average: far below RTK's 32 ms per check.
    const perDispatchMs = (performance.now() - startedAt) / dispatches;
    expect(perDispatchMs).toBeLessThan(16);
    const state = store.getState();
    expect(state.frames.applied).toBeGreaterThan(1_500);
    expect(state.tasks.ids.length).toBeGreaterThan(100);
    expect(selectNodeVisual(state, 'node-1').status).not.toBe('idle');
    expect(state.outbox.entries.length).toBeGreaterThan(0);
    expectSilentChecks();
  });

  it('the serializability check is on: a non-serializable action is reported (the spy would see it)', () => {
    const store = build();
    store.dispatch({ type: 'test/notSerializable', payload: { when: new Map([[1, 2]]) } } as UnknownAction);
    expect(errorSpy).toHaveBeenCalledTimes(1);
    expect(String(errorSpy.mock.calls[0]?.[0])).toMatch(/non-serializable/i);
  });

  it('the immutability check is on: a state mutated between dispatches is caught', () => {
    const source = build();
    for (const action of framesToActions(sessionFrames(1))) source.dispatch(action);
    // A preloaded state is the caller's plain object (not frozen by immer): mutate it by hand.
    const preloaded = JSON.parse(JSON.stringify(source.getState())) as RealtimeState;
    const store = build({ preloadedState: preloaded });
    getEntity(preloaded.nodes, 'node-1')!.progress = 5;
    expect(() => store.dispatch({ type: 'test/anything' })).toThrow(/mutation/i);
    // The state the reducers produce is frozen, so it cannot be mutated in the first place.
    for (const action of framesToActions(sessionFrames(1))) source.dispatch(action);
    expect(Object.isFrozen(getEntity(source.getState().nodes, 'node-1'))).toBe(true);
    expectSilentChecks();
  });
});

describe('devTools option', () => {
  it('runs in plain Node (no window), with a stand-in extension captured by Redux Toolkit', () => {
    expect(devtools.hadWindow).toBe(false);
    expect(typeof window).toBe('undefined');
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('devTools: %s builds and works in Node, and uses the DevTools extension only when true', (devTools, calls) => {
    const store = build({ devTools });
    for (const action of framesToActions(sessionFrames(2))) store.dispatch(action);
    expect(store.getState().frames.applied).toBeGreaterThan(0);
    expect(selectNodeVisual(store.getState(), 'node-1').status).toBe('completed');
    expect(devtools.calls).toHaveLength(calls);
    expectSilentChecks();
  });

  it('defaults to on outside production and off in production', () => {
    vi.stubEnv('NODE_ENV', 'test');
    build();
    expect(devtools.calls).toHaveLength(1);
    vi.stubEnv('NODE_ENV', 'production');
    build();
    expect(devtools.calls).toHaveLength(1);
    expectSilentChecks();
  });
});
