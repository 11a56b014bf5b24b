/**
 * What the bridge runs on every store notification, for one mounted view: `read(state)` is
 * `selector(state, ...args)`, skipped when nothing the selector reads has changed.
 *
 * A store notification runs the selector of every mounted view (50 on the benchmark's canvas),
 * and most of them find their inputs as they were. A reselect selector then still gathers its
 * inputs into a new array and walks its cache (one WeakMap or Map lookup per input) to hand back
 * the result it gave last time. The reader keeps this one view's last inputs instead: when every
 * input selector returns what it returned on the last read, the selector would return its last
 * result too (it is memoized on exactly those inputs), so the call is skipped. Otherwise the
 * selector itself runs, and its shared cache decides what the view gets.
 *
 * Plain functions (no `dependencies`) are called directly; arguments are bound without a spread
 * for the usual arities.
 */

type Input<S> = (state: S, ...args: unknown[]) => unknown;

/** The field reselect puts on the selectors it makes (its OutputSelectorFields). */
interface ComposedSelector<S> {
  dependencies?: readonly Input<S>[];
}

export function selectorReader<S, T, A extends unknown[]>(selector: (state: S, ...args: A) => T, args: A): (state: S) => T {
  const call = bind(selector, args);
  const inputs = (selector as ComposedSelector<S>).dependencies;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'function')) return call;
  const readInputs = inputs.map((input) => bind(input, args as unknown[]));
  const last: unknown[] = [];
  let value: T;
  let primed = false;
  return (state) => {
    let same = primed;
    for (let i = 0; i < readInputs.length; i++) {
      const next = readInputs[i]!(state);
      if (next !== last[i]) {
        last[i] = next;
        same = false;
      }
    }
    if (same) return value;
    primed = true;
    return (value = call(state));
  };
}

function bind<S, T, A extends unknown[]>(selector: (state: S, ...args: A) => T, args: A): (state: S) => T {
  const f = selector as unknown as (state: S, ...rest: unknown[]) => T;
  switch (args.length) {
    case 0:
      return (state) => f(state);
    case 1: {
      const [a] = args;
      return (state) => f(state, a);
    }
    case 2: {
      const [a, b] = args;
      return (state) => f(state, a, b);
    }
    default:
      return (state) => f(state, ...args);
  }
}
