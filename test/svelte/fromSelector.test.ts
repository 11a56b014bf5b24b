import { describe, expect, it, vi } from 'vitest';
import { configureStore } from '@reduxjs/toolkit';
import {
  framesToActions,
  realtimeReducer,
  selectAgentActivities,
  selectConnectionStatus,
  selectNarrativeProgress,
  selectNodeVisual,
  selectTakesByNode,
  selectTaskById,
  toFrameAction,
  type RealtimeState,
} from '../../src/index.js';
import { fromSelector } from '../../src/svelte/fromSelector.js';

function makeStore() {
  const store = configureStore({ reducer: realtimeReducer, devTools: false });
  let reduxSubscribers = 0;
  const subscribe = store.subscribe;
  const source = {
    getState: store.getState,
    dispatch: store.dispatch,
    subscribe(listener: () => void) {
      reduxSubscribers += 1;
      const off = subscribe(listener);
      return () => {
        reduxSubscribers -= 1;
        off();
      };
    },
    get reduxSubscribers() {
      return reduxSubscribers;
    },
  };
  return source;
}

const progress = (taskId: string, nodeId: string, value: number) =>
  toFrameAction({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'PROGRESS', progress: value }, value);

describe('fromSelector', () => {
  it('calls a new subscriber at once with the current value (store contract)', () => {
    const store = makeStore();
    store.dispatch(progress('t1', 'n1', 10));
    const seen: unknown[] = [];
    const unsubscribe = fromSelector(store, selectTaskById, 't1').subscribe((task) => seen.push(task?.progress));
    expect(seen).toEqual([10]);
    unsubscribe();
  });

  it('subscribes to Redux lazily on the first subscriber and lets go after the last', () => {
    const store = makeStore();
    const readable = fromSelector(store, selectConnectionStatus);
    expect(store.reduxSubscribers).toBe(0);
    const a = readable.subscribe(() => {});
    const b = readable.subscribe(() => {});
    expect(store.reduxSubscribers).toBe(1);
    a();
    expect(store.reduxSubscribers).toBe(1);
    b();
    expect(store.reduxSubscribers).toBe(0);
    b(); // a second call is harmless
    expect(store.reduxSubscribers).toBe(0);
  });

  it('notifies only when the selected value changes by identity', () => {
    const store = makeStore();
    const run = vi.fn();
    const unsubscribe = fromSelector(store, selectNodeVisual, 'n1').subscribe(run);
    expect(run).toHaveBeenCalledTimes(1);
    store.dispatch(progress('t1', 'n1', 10));
    expect(run).toHaveBeenCalledTimes(2);
    expect(run.mock.lastCall?.[0].progressText).toBe('10%');
    store.dispatch(progress('t2', 'other', 50));
    expect(run).toHaveBeenCalledTimes(2);
    unsubscribe();
  });

  it('does not wake 50 subscribers on unrelated slices when a task progress frame arrives', () => {
    const store = makeStore();
    for (const action of framesToActions([
      { type: 'narrative.beat', beat_name: 'Opening', scene_id: 'S001' },
      { type: 'agent.assigned', agent_type: 'Producer', task_id: 'a1', task_description: 'plan' },
    ])) store.dispatch(action);
    const selectors: Array<(state: RealtimeState) => unknown> = [
      selectConnectionStatus,
      selectAgentActivities,
      selectNarrativeProgress,
      (state) => selectNodeVisual(state, 'idle-node'),
      (state) => selectTakesByNode(state, 'n9'),
    ];
    const runs = Array.from({ length: 50 }, () => vi.fn());
    const offs = runs.map((run, i) => fromSelector(store, selectors[i % selectors.length]!).subscribe(run));
    for (const run of runs) run.mockClear();
    for (let p = 1; p <= 19; p++) store.dispatch(progress('t1', 'n1', p * 5));
    for (const run of runs) expect(run).not.toHaveBeenCalled();
    // ...while a subscriber of that node is woken each time.
    const nodeRun = vi.fn();
    const off = fromSelector(store, selectNodeVisual, 'n1').subscribe(nodeRun);
    store.dispatch(progress('t1', 'n1', 100));
    expect(nodeRun).toHaveBeenCalledTimes(2);
    off();
    offs.forEach((o) => o());
  });

  it('a subscriber that unsubscribes another during notification does not get it called', () => {
    const store = makeStore();
    const readable = fromSelector(store, selectNodeVisual, 'n1');
    const second = vi.fn();
    let offSecond: () => void = () => {};
    const offFirst = readable.subscribe((value) => {
      if (value.progress > 0) offSecond();
    });
    offSecond = readable.subscribe(second);
    second.mockClear();
    store.dispatch(progress('t1', 'n1', 30));
    expect(second).not.toHaveBeenCalled();
    offFirst();
  });
});
