/**
 * Time travel for real: the store runs under @redux-devtools/instrument, the engine behind the
 * Redux DevTools extension, which keeps every action and recomputes states when actions are
 * skipped. Jumping, skipping and restoring must give the same states as replaying the action
 * log through realtimeReducer, and every such state must be one the UI can draw.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActionCreators, instrument, INIT_ACTION, type LiftedState } from '@redux-devtools/instrument';
import {
  configureStore,
  findNonSerializableValue,
  legacy_createStore as createStore,
  type UnknownAction,
} from '@reduxjs/toolkit';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { isTerminalCeleryState } from '../../src/protocol/index.js';
import { framesToActions, replayFrames } from '../../src/replay/index.js';
import {
  cancelGeneration,
  framesBatched,
  realtimeReducer,
  startGeneration,
  taskProgressReceived,
  generationCompleted,
  type IngestAction,
  type RealtimeState,
} from '../../src/slices/index.js';
import { selectNodeVisual, selectTakesByNode } from '../../src/selectors/index.js';
import { getEntity } from '../../src/slices/table.js';

// -----------------------------------------------------------------------------------------------
// A recorded generation flow, inline: the user starts a generation, the agents prepare it,
// Celery reports granular progress, the backend completes it with takes (out of order), and
// unrelated project traffic, a duplicate (replayed seq) and a late frame arrive in between.

const NODE = 'node-t2i-1';
const TASK = 'celery-task-1';
const t = (second: number) => new Date(Date.UTC(2026, 2, 2, 14, 5, second)).toISOString();

function inlineFlow(): UnknownAction[] {
  const start = startGeneration({
    nodeId: NODE,
    params: { prompt: 'A lone rider at dusk', width: 1024, height: 576, steps: 30, cfg_scale: 7, seed: 42 },
    context: { scene_id: 'S001', shot_id: 'P003', emotional_beat: 'inciting-incident', character_refs: ['char-rider'] },
    projectId: 'proj-1',
  });
  const progress = (seq: number, second: number, state: string, value: number, step?: [number, string]) => ({
    type: 'task.progress',
    timestamp: t(second),
    project_id: 'proj-1',
    seq,
    task_id: TASK,
    node_id: NODE,
    state,
    progress: value,
    ...(step ? { current_step: step[0], total_steps: 30, step: step[1] } : {}),
  });
  const take = (n: number) => ({
    id: `take-${n}`,
    take_number: n,
    path: `/media/proj-1/${NODE}/take-${n}.png`,
    thumbnail: `/media/proj-1/${NODE}/take-${n}.thumb.png`,
    created_at: t(40),
    scene_id: 'S001',
    shot_id: 'P003',
    quality_preset: 'standard',
  });
  const before = [
    { type: 'session.init', timestamp: t(0), session_id: 'sess-1', instance_id: 'backend-1', capabilities: ['ack', 'seq'] },
  ];
  const frames = [
    { type: 'ack', timestamp: t(1), command_id: start.payload.commandId, status: 'accepted' },
    { type: 'generation.started', timestamp: t(2), project_id: 'proj-1', seq: 1, node_id: NODE, task_id: TASK, command_id: start.payload.commandId, emotional_beat: 'inciting-incident' },
    { type: 'node.state_changed', timestamp: t(3), project_id: 'proj-1', seq: 2, node_id: NODE, status: 'generating', progress: 0, message: 'Queued', task_id: TASK },
    { type: 'agent.assigned', timestamp: t(4), project_id: 'proj-1', seq: 3, agent_type: 'Cinematographer', task_id: TASK, node_id: NODE, task_description: 'Frame the shot' },
    { type: 'prompt.composite', timestamp: t(5), project_id: 'proj-1', seq: 4, node_id: NODE, task_id: TASK, composite_prompt: { base_prompt: 'A lone rider at dusk', character_refs: ['char-rider'], emotional_keywords: ['resolve'] } },
    { type: 'narrative.beat', timestamp: t(6), project_id: 'proj-1', seq: 5, beat_name: 'inciting-incident', scene_id: 'S001', task_id: TASK, node_id: NODE },
    progress(6, 7, 'PENDING', 0),
    progress(7, 8, 'STARTED', 2),
    progress(8, 10, 'PROGRESS', 10, [3, 'Denoising']),
    progress(9, 12, 'PROGRESS', 42, [13, 'Denoising']),
    { type: 'system.heartbeat', timestamp: t(13), instance_id: 'backend-1' },
    progress(10, 14, 'PROGRESS', 70, [21, 'Denoising']),
    // A replayed frame (seq already applied): dropped as a duplicate.
    progress(9, 15, 'PROGRESS', 42, [13, 'Denoising']),
    { type: 'git.commit', timestamp: t(16), project_id: 'proj-2', ref: 'main', message: 'Unrelated project' },
    progress(11, 18, 'PROGRESS', 96, [29, 'Decoding']),
    progress(12, 20, 'SUCCESS', 100),
    { type: 'generation.completed', timestamp: t(21), project_id: 'proj-1', seq: 13, node_id: NODE, task_id: TASK, output_path: `/media/proj-1/${NODE}/take-2.png`, takes: [take(2), take(1)] },
    { type: 'node.state_changed', timestamp: t(22), project_id: 'proj-1', seq: 14, node_id: NODE, status: 'completed', progress: 100, takes: [take(3)], current_take: 3, task_id: TASK },
    // A late frame of the finished task (no seq, e.g. from a worker that lagged).
    { type: 'task.progress', timestamp: t(23), task_id: TASK, node_id: NODE, state: 'PROGRESS', progress: 98 },
    { type: 'agent.completed', timestamp: t(24), project_id: 'proj-1', seq: 15, agent_type: 'Cinematographer', task_id: TASK, node_id: NODE },
  ];
  const [init] = framesToActions(before);
  const actions = framesToActions(frames) as UnknownAction[];
  // Two frames that arrived in one tick go in as one batched action, as the middleware sends them.
  const burst = framesBatched({ actions: actions.slice(3, 5) as IngestAction[] });
  return [init as UnknownAction, start, ...actions.slice(0, 3), burst, ...actions.slice(5)];
}

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixtureNames = existsSync(FIXTURE_DIR)
  ? readdirSync(FIXTURE_DIR).filter((name) => name.endsWith('.jsonl')).sort()
  : [];
const fixtureActions = (name: string) => framesToActions(readFileSync(FIXTURE_DIR + name, 'utf8')) as UnknownAction[];

const flows: [string, () => UnknownAction[]][] = [
  ['inline generation flow', inlineFlow],
  ...fixtureNames.map((name): [string, () => UnknownAction[]] => [`fixture ${name}`, () => fixtureActions(name)]),
];

// -----------------------------------------------------------------------------------------------
// Helpers

/** The state instrument computes at staged index k: its own INIT, then the first k actions. */
function replay(actions: readonly UnknownAction[]): RealtimeState {
  return actions.reduce(realtimeReducer, realtimeReducer(undefined, INIT_ACTION as UnknownAction));
}

function instrumentedStore() {
  const store = createStore(realtimeReducer, instrument(undefined, { shouldCatchErrors: true }));
  return store;
}

type Lifted = LiftedState<RealtimeState, UnknownAction, null>;
const lifted = (store: ReturnType<typeof instrumentedStore>) => store.liftedStore.getState() as Lifted;

function dispatchAll(store: ReturnType<typeof instrumentedStore>, actions: readonly UnknownAction[]) {
  for (const action of actions) store.dispatch(action);
}

/** What every state, however reached, must satisfy for the UI to draw it. */
function checkInvariants(state: RealtimeState, label: string) {
  const generating = state.nodes.ids.filter((id) => getEntity(state.nodes, id)!.status === 'generating');
  expect([...state.nodes.generating_ids].sort(), `${label}: generating_ids`).toEqual([...generating].sort());
  expect(new Set(state.nodes.generating_ids).size, `${label}: generating_ids has duplicates`).toBe(
    state.nodes.generating_ids.length,
  );
  for (const id of state.tasks.ids) {
    const task = getEntity(state.tasks, id)!;
    expect(task.progress, `${label}: task ${id} progress`).toBeGreaterThanOrEqual(0);
    expect(task.progress, `${label}: task ${id} progress`).toBeLessThanOrEqual(100);
  }
  for (const id of state.nodes.ids) {
    const node = getEntity(state.nodes, id)!;
    expect(node.progress, `${label}: node ${id} progress`).toBeGreaterThanOrEqual(0);
    expect(node.progress, `${label}: node ${id} progress`).toBeLessThanOrEqual(100);
    // A spinner for a task Celery has finished would spin forever.
    if (node.status === 'generating' && node.task_id !== undefined) {
      const task = getEntity(state.tasks, node.task_id);
      if (task) expect(isTerminalCeleryState(task.state), `${label}: node ${id} generating for finished task ${task.task_id}`).toBe(false);
    }
  }
  expect(findNonSerializableValue(state), `${label}: non-serializable value`).toBe(false);
  expect(JSON.parse(JSON.stringify(state)), `${label}: JSON round trip`).toEqual(state);
}

/** A finished Celery task never goes back to a running state from one state to the next. */
function checkNoTaskReopened(previous: RealtimeState, next: RealtimeState, label: string) {
  for (const id of previous.tasks.ids) {
    const before = getEntity(previous.tasks, id)!;
    const after = getEntity(next.tasks, id);
    if (!isTerminalCeleryState(before.state) || !after) continue;
    expect(after.state, `${label}: task ${id} reopened`).toBe(before.state);
    expect(after.progress, `${label}: task ${id} progress moved after it finished`).toBe(before.progress);
  }
}

/** Every computed state of the lifted store equals replaying its active staged actions. */
function checkAgainstReplay(store: ReturnType<typeof instrumentedStore>, label: string) {
  const { stagedActionIds, skippedActionIds, actionsById, computedStates } = lifted(store);
  expect(computedStates).toHaveLength(stagedActionIds.length);
  const active: UnknownAction[] = [];
  let expected = replay([]);
  for (let index = 0; index < stagedActionIds.length; index++) {
    const id = stagedActionIds[index]!;
    if (index > 0 && !skippedActionIds.includes(id)) {
      active.push(actionsById[id]!.action);
      expected = realtimeReducer(expected, actionsById[id]!.action);
    }
    const computed = computedStates[index]!;
    expect(computed.error, `${label}: reducer error at ${index}`).toBeUndefined();
    expect(computed.state, `${label}: state at ${index}`).toEqual(expected);
    checkInvariants(computed.state, `${label} @${index}`);
    if (index > 0) checkNoTaskReopened(computedStates[index - 1]!.state, computed.state, `${label} @${index}`);
  }
  expect(replay(active)).toEqual(computedStates.at(-1)!.state);
}

let errorSpy: MockInstance;
let warnSpy: MockInstance;
beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error');
  warnSpy = vi.spyOn(console, 'warn');
});
/** RTK's "check took longer than 32 ms" measures a loaded machine, not the state: left out. */
const SLOW_CHECK = /took \d+ms, which is more than the warning threshold/;
const complaints = (spy: MockInstance) => spy.mock.calls.filter((args) => !SLOW_CHECK.test(String(args[0])));
afterEach(() => {
  // instrument logs reducer exceptions with console.error (shouldCatchErrors) and warns about
  // mismatched Symbol.observable; neither may happen.
  expect(complaints(errorSpy)).toEqual([]);
  expect(complaints(warnSpy)).toEqual([]);
  vi.restoreAllMocks();
});

// -----------------------------------------------------------------------------------------------

it('finds the fixtures the other suites record (the time-travel checks run on each)', () => {
  // Not a hard requirement on which fixtures exist; the inline flow always runs.
  expect(flows.length).toBeGreaterThanOrEqual(1);
  for (const name of fixtureNames) expect(fixtureActions(name).length, name).toBeGreaterThan(0);
});

describe.each(flows)('%s', (_label, build) => {
  it('jumping to every action index gives the state of replaying the first k actions', () => {
    const actions = build();
    const store = instrumentedStore();
    dispatchAll(store, actions);
    const final = store.getState();
    expect(final).toEqual(replay(actions));

    let previous: RealtimeState | undefined;
    for (let k = 0; k <= actions.length; k++) {
      store.liftedStore.dispatch(ActionCreators.jumpToState(k));
      const state = store.getState();
      expect(lifted(store).currentStateIndex).toBe(k);
      expect(state, `jump to ${k}`).toEqual(replay(actions.slice(0, k)));
      checkInvariants(state, `jump to ${k}`);
      if (previous) checkNoTaskReopened(previous, state, `jump to ${k}`);
      previous = state;
    }

    // JUMP_TO_ACTION addresses the same states by action id (the k-th action has id k).
    for (const k of [1, Math.floor(actions.length / 2), actions.length]) {
      store.liftedStore.dispatch(ActionCreators.jumpToAction(k));
      expect(store.getState(), `jump to action ${k}`).toEqual(replay(actions.slice(0, k)));
    }

    // Back to the present: the very same final state object, nothing was recomputed.
    store.liftedStore.dispatch(ActionCreators.jumpToState(actions.length));
    expect(store.getState()).toBe(final);
  });

  it('skipping any single action recomputes a consistent state equal to replaying without it', () => {
    const actions = build();
    const store = instrumentedStore();
    dispatchAll(store, actions);
    const final = store.getState();
    for (let id = 1; id <= actions.length; id++) {
      store.liftedStore.dispatch(ActionCreators.toggleAction(id));
      const withoutIt = [...actions.slice(0, id - 1), ...actions.slice(id)];
      const label = `without action ${id} (${actions[id - 1]!.type})`;
      expect(store.getState(), label).toEqual(replay(withoutIt));
      checkInvariants(store.getState(), label);
      store.liftedStore.dispatch(ActionCreators.toggleAction(id));
      expect(store.getState(), `${label}, restored`).toEqual(final);
    }
  });

  it('dispatching the same actions into two fresh stores gives deep-equal states (determinism)', () => {
    const actions = build();
    const a = instrumentedStore();
    const b = instrumentedStore();
    dispatchAll(a, actions);
    dispatchAll(b, actions);
    expect(a.getState()).toEqual(b.getState());
    expect(lifted(a).computedStates.map((entry) => entry.state)).toEqual(lifted(b).computedStates.map((entry) => entry.state));
    // And a plain (uninstrumented) store agrees too.
    const plain = createStore(realtimeReducer);
    dispatchAll(plain as never, actions);
    expect(plain.getState()).toEqual(a.getState());
  });
});

describe('toggling the actions that matter', () => {
  function setUp(actions: UnknownAction[]) {
    const store = instrumentedStore();
    dispatchAll(store, actions);
    return { store, final: store.getState() };
  }
  const idOf = (actions: UnknownAction[], predicate: (action: UnknownAction) => boolean) => {
    const index = actions.findIndex(predicate);
    expect(index, 'the flow must contain the action to toggle').toBeGreaterThanOrEqual(0);
    return index + 1;
  };
  const isCompleted = (action: UnknownAction) => generationCompleted.match(action);
  const progressIds = (actions: UnknownAction[]) =>
    actions
      .map((action, index) => [action, index + 1] as const)
      .filter(([action]) => taskProgressReceived.match(action) && action.payload.frame.state === 'PROGRESS' && action.payload.frame.seq !== undefined)
      .map(([, id]) => id);

  it('skipping generation.completed: the node still completes (SUCCESS and the backend say so), takes 1 and 2 vanish', () => {
    const actions = inlineFlow();
    const { store, final } = setUp(actions);
    expect(selectTakesByNode(final, NODE).map((take) => take.take_number)).toEqual([1, 2, 3]);
    const id = idOf(actions, isCompleted);
    store.liftedStore.dispatch(ActionCreators.toggleAction(id));
    expect(lifted(store).skippedActionIds).toEqual([id]);
    const skipped = store.getState();
    expect(skipped).toEqual(replay(actions.filter((_, index) => index !== id - 1)));
    checkInvariants(skipped, 'without generation.completed');
    checkAgainstReplay(store, 'without generation.completed');
    expect(selectNodeVisual(skipped, NODE)).toMatchObject({ status: 'completed', showSpinner: false, progress: 100 });
    expect(selectTakesByNode(skipped, NODE).map((take) => take.take_number)).toEqual([3]);
    expect(getEntity(skipped.tasks, TASK)?.state).toBe('SUCCESS');

    store.liftedStore.dispatch(ActionCreators.toggleAction(id));
    expect(lifted(store).skippedActionIds).toEqual([]);
    expect(store.getState()).toEqual(final);
    checkAgainstReplay(store, 'restored');
  });

  it('skipping the completion and everything after it leaves the node generating at its last progress', () => {
    const actions = inlineFlow();
    const { store, final } = setUp(actions);
    const successId = idOf(actions, (action) => taskProgressReceived.match(action) && action.payload.frame.state === 'SUCCESS');
    store.liftedStore.dispatch(ActionCreators.setActionsActive(successId, actions.length + 1, false));
    const state = store.getState();
    expect(state).toEqual(replay(actions.slice(0, successId - 1)));
    checkAgainstReplay(store, 'cut at SUCCESS');
    expect(selectNodeVisual(state, NODE)).toMatchObject({
      status: 'generating',
      showSpinner: true,
      progressText: '96%',
      stepText: 'Step 29 of 30: Decoding',
      canGenerate: false,
    });
    expect(state.nodes.generating_ids).toEqual([NODE]);
    store.liftedStore.dispatch(ActionCreators.setActionsActive(successId, actions.length + 1, true));
    expect(store.getState()).toEqual(final);
  });

  it('skipping a middle PROGRESS frame: progress still only rises, and the final state is unchanged', () => {
    const actions = inlineFlow();
    const { store, final } = setUp(actions);
    const ids = progressIds(actions);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const middle = ids[Math.floor(ids.length / 2)]!;
    store.liftedStore.dispatch(ActionCreators.toggleAction(middle));
    checkAgainstReplay(store, `without PROGRESS ${middle}`);
    const { computedStates } = lifted(store);
    // The skipped index repeats the state before it; the node's progress never decreases.
    expect(computedStates[middle]!.state).toBe(computedStates[middle - 1]!.state);
    const progress = computedStates.map((entry) => getEntity(entry.state.nodes, NODE)?.progress ?? 0);
    const completedAt = computedStates.findIndex((entry) => getEntity(entry.state.nodes, NODE)?.status === 'completed');
    for (let i = 1; i < completedAt; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
    // A completed run ends the same with or without one progress report...
    const skipped = store.getState();
    for (const slice of ['nodes', 'tasks', 'takes', 'agents', 'narrative', 'prompts'] as const) {
      expect(skipped[slice], slice).toEqual(final[slice]);
    }
    // ...but the stream knows one frame fewer arrived, and sees the hole in the sequence.
    expect(skipped.frames.applied).toBe(final.frames.applied - 1);
    const seq = (actions[middle - 1] as ReturnType<typeof taskProgressReceived>).payload.frame.seq!;
    expect(skipped.sync.gaps).toEqual([expect.objectContaining({ project_id: 'proj-1', from: seq, to: seq, detectedBy: 'client' })]);
    expect(final.sync.gaps).toEqual([]);
    store.liftedStore.dispatch(ActionCreators.toggleAction(middle));
    expect(store.getState()).toEqual(final);
  });

  it('skipping the start command and the ack, then a cancel inserted by import, stays consistent', () => {
    const actions = inlineFlow();
    const { store, final } = setUp(actions);
    const commandId = idOf(actions, (action) => startGeneration.match(action));
    store.liftedStore.dispatch(ActionCreators.toggleAction(commandId));
    checkAgainstReplay(store, 'without the start command');
    expect(getEntity(store.getState().nodes, NODE)?.pending).toBeUndefined();
    store.liftedStore.dispatch(ActionCreators.toggleAction(commandId));
    expect(store.getState()).toEqual(final);

    // Import a log with a cancel in the middle of the run (what DevTools does with a saved log).
    const cancelAt = progressIds(actions)[1]!;
    const withCancel = [
      ...actions.slice(0, cancelAt),
      cancelGeneration({ nodeId: NODE, taskId: TASK }),
      ...actions.slice(cancelAt),
    ];
    store.liftedStore.dispatch(ActionCreators.importState<RealtimeState, UnknownAction>(withCancel));
    checkAgainstReplay(store, 'imported with a cancel');
    const pendingCancel = lifted(store).computedStates[cancelAt + 1]!.state;
    expect(selectNodeVisual(pendingCancel, NODE)).toMatchObject({ pending: 'cancel', canCancel: false, showSpinner: true });
    // The run completed anyway: the cancel is no longer pending.
    expect(selectNodeVisual(store.getState(), NODE)).toMatchObject({ status: 'completed', pending: undefined });
  });

  it(
    'fixture generation-success: skipping generation.completed, then a middle PROGRESS, then restoring',
    () => {
      const actions = fixtureActions('generation-success.jsonl');
      const { store, final } = setUp(actions);
      const completedId = idOf(actions, isCompleted);
      const middle = progressIds(actions)[Math.floor(progressIds(actions).length / 2)]!;
      store.liftedStore.dispatch(ActionCreators.toggleAction(completedId));
      checkAgainstReplay(store, 'fixture without generation.completed');
      store.liftedStore.dispatch(ActionCreators.toggleAction(middle));
      expect(lifted(store).skippedActionIds.sort((a, b) => a - b)).toEqual([middle, completedId].sort((a, b) => a - b));
      checkAgainstReplay(store, 'fixture without generation.completed and a PROGRESS');
      expect(store.getState()).toEqual(
        replay(actions.filter((_, index) => index + 1 !== completedId && index + 1 !== middle)),
      );
      store.liftedStore.dispatch(ActionCreators.toggleAction(completedId));
      store.liftedStore.dispatch(ActionCreators.toggleAction(middle));
      expect(store.getState()).toEqual(final);
      expect(final).toEqual(replayFrames(readFileSync(FIXTURE_DIR + 'generation-success.jsonl', 'utf8')));
    },
  );
});

describe('instrument under configureStore (the DevTools arrangement)', () => {
  it('works behind the serializability and immutability checks, and time travel still matches the replay', () => {
    const actions = inlineFlow();
    const store = configureStore({
      reducer: realtimeReducer,
      devTools: false,
      enhancers: (getDefault) => getDefault().concat(instrument()),
    });
    for (const action of actions) store.dispatch(action);
    expect(store.getState()).toEqual(replay(actions));
    const liftedStore = (store as unknown as ReturnType<typeof instrumentedStore>).liftedStore;
    liftedStore.dispatch(ActionCreators.jumpToState(5));
    expect(store.getState()).toEqual(replay(actions.slice(0, 5)));
    liftedStore.dispatch(ActionCreators.jumpToState(actions.length));
    expect(store.getState()).toEqual(replay(actions));
  });
});
