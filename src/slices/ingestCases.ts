/**
 * Registers a slice's reducers for inbound events so that they run the same way whether the
 * events arrive one by one or as a `frames/batchReceived` burst. In a burst the slice's case
 * reducers run in order on one immer draft: one copy-on-write pass per slice per burst instead
 * of one per frame, and a state identical to dispatching the events one at a time.
 */
import type { ActionReducerMapBuilder, Draft, UnknownAction } from '@reduxjs/toolkit';
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

export function addIngestCases<S>(builder: ActionReducerMapBuilder<S>, cases: IngestCase<S>[]): void {
  const byType = new Map<string, IngestCase<S>['reducer']>();
  for (const entry of cases) {
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
