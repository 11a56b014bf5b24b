/**
 * Registers a slice's reducers for inbound events so that they run the same way whether the
 * events arrive one by one or as a `frames/batchReceived` burst. In a burst the slice's case
 * reducers run in order on one immer draft: one copy-on-write pass per slice per burst instead
 * of one per frame, and a state identical to dispatching the events one at a time.
 */
import type { ActionReducerMapBuilder, Draft, Reducer, UnknownAction } from '@reduxjs/toolkit';
import { framesBatched } from './frameEvents.js';

export interface MatchableCreator<A> {
  type: string;
  match(action: unknown): action is A;
}

export interface IngestCase<S> {
  type: string;
  creator: MatchableCreator<UnknownAction>;
  reducer: (state: Draft<S>, action: UnknownAction) => void;
}

/** `const on = caseFor<TasksState>()` then `on(taskProgressReceived, (state, action) => ...)`. */
export function caseFor<S>() {
  return function on<A extends UnknownAction>(
    creator: MatchableCreator<A>,
    reducer: (state: Draft<S>, action: A) => void,
  ): IngestCase<S> {
    return {
      type: creator.type,
      creator: creator as unknown as MatchableCreator<UnknownAction>,
      reducer: reducer as (state: Draft<S>, action: UnknownAction) => void,
    };
  };
}

/** `types`, when given, collects the action types registered (see withoutUnrelatedBursts). */
export function addIngestCases<S>(builder: ActionReducerMapBuilder<S>, cases: IngestCase<S>[], types?: Set<string>): void {
  const byType = new Map<string, IngestCase<S>['reducer']>();
  for (const entry of cases) {
    types?.add(entry.type);
    byType.set(entry.type, entry.reducer);
    builder.addCase(entry.creator as never, entry.reducer as never);
  }
  builder.addCase(framesBatched, (state, action) => {
    for (const inner of action.payload.actions) {
      const reducer = byType.get(inner.type);
      if (reducer) reducer(state as Draft<S>, inner as UnknownAction);
    }
  });
}

/**
 * A slice's reducer that returns the state as it is, without an immer draft, for a burst with
 * no action of `types` (the slice's ingest cases, collected by addIngestCases). Most bursts carry
 * nothing for the connection, activity or outbox slices, and a produce() per slice per burst is
 * not free.
 */
export function withoutUnrelatedBursts<S>(slice: { reducer: Reducer<S>; getInitialState(): S }, types: ReadonlySet<string>): Reducer<S> {
  // createSlice runs its builder (which fills `types`) lazily: make it run now.
  slice.getInitialState();
  return (state, action) => {
    if (state !== undefined && framesBatched.match(action) && !action.payload.actions.some((inner) => types.has(inner.type))) return state;
    return slice.reducer(state, action);
  };
}
