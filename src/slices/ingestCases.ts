/**
 * Slice reducers made of plain cases, without immer, for the small slices whose state is a
 * handful of fields (connection, outbox, sync). A case writes the top-level fields of a shallow
 * copy of the slice's state; nested objects and arrays are replaced, never written into (they
 * are the previous state's, frozen in development). Frame cases run the same way whether the
 * frames arrive one by one or as a `frames/batchReceived` burst: the burst's cases run in order
 * on one copy (a pass of ./cow.ts), and a burst with nothing for the slice leaves it untouched.
 *
 * A copy whose fields all came out the same is dropped and the state itself returned, so an
 * action that changes nothing leaves the slice (and every memoized selector) as it was;
 * otherwise the copy is deep-frozen in development (see ./cow.ts), a no-op in production.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { freezeDeep, passReducer, type PassCase } from './cow.js';

export interface MatchableCreator<A> {
  type: string;
  match(action: unknown): action is A;
}

/** A case: writes the top-level fields of `state`, a shallow copy made for this action (or burst). */
export type CopyCase<S> = (state: S, action: UnknownAction) => void;

/** `const on = copyCaseFor<MyState>()`, then `on(actionCreator, (state, action) => { state.x = ... })`. */
export function copyCaseFor<S>() {
  return function on<A extends UnknownAction>(creator: MatchableCreator<A>, run: (state: S, action: A) => void): [string, CopyCase<S>] {
    return [creator.type, run as CopyCase<S>];
  };
}

/**
 * `copy` (a shallow copy of `base`, written by cases) deep-frozen in development, or `base`
 * itself when every field is the same (a field set to undefined where `base` had none counts
 * as the same).
 */
export function settleCopy<S extends object>(copy: S, base: S): S {
  for (const key in copy) if (!Object.is(copy[key], base[key])) return freezeDeep(copy);
  return base;
}

/** Runs the case of `action`, if any, on a shallow copy of `state`; see settleCopy. */
export function copyCases<S extends object>(cases: Iterable<[string, CopyCase<S>]>): (state: S, action: UnknownAction) => S {
  const byType = new Map(cases);
  return (state, action) => {
    const run = byType.get(action.type);
    if (!run) return state;
    const copy = { ...state };
    run(copy, action);
    return settleCopy(copy, state);
  };
}

interface CopyPass<S> {
  base: S;
  copy: S;
}

/**
 * A slice reducer: `frameCases` for frame actions (alone, or a burst's, in order, on one copy),
 * `cases` for the others (one copy per action).
 */
export function copyReducer<S extends object>(options: {
  initialState: S;
  cases: Iterable<[string, CopyCase<S>]>;
  frameCases: Iterable<[string, CopyCase<S>]>;
}): (state: S | undefined, action: UnknownAction) => S {
  const frameCases = new Map<string, PassCase<CopyPass<S>>>();
  for (const [type, run] of options.frameCases) frameCases.set(type, (pass, action) => run(pass.copy, action));
  return passReducer<S, CopyPass<S>>({
    initialState: options.initialState,
    cases: frameCases,
    open: (state) => ({ base: state, copy: { ...state } }),
    commit: (pass) => settleCopy(pass.copy, pass.base),
    otherwise: copyCases(options.cases),
  });
}
