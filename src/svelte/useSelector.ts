/**
 * Reading a selector from a Svelte 5 component with runes:
 *
 *   const visual = useSelector(store, selectNodeVisual, nodeId);
 *   // in markup: {visual.current.progressText}
 *
 * `current` is reactive when read in an effect or template: the component re-renders when the
 * selector's result changes (by identity), and the Redux subscription lives exactly as long as
 * something reads it. Read outside an effect, it returns the value of the moment.
 */
import { createSubscriber } from 'svelte/reactivity';
import type { StateSource } from './fromSelector.js';
import { selectorReader } from './selectorReader.js';

export interface SelectorState<T> {
  readonly current: T;
}

export function useSelector<S, T, A extends unknown[]>(
  source: StateSource<S>,
  selector: (state: S, ...args: A) => T,
  ...args: A
): SelectorState<T> {
  const read = selectorReader(selector, args);
  let value = read(source.getState());
  let active = false;
  const subscribe = createSubscriber((update) => {
    active = true;
    value = read(source.getState());
    const stop = source.subscribe(() => {
      const next = read(source.getState());
      if (next === value) return;
      value = next;
      update();
    });
    return () => {
      active = false;
      stop();
    };
  });
  return {
    get current() {
      subscribe();
      return active ? value : (value = read(source.getState()));
    },
  };
}
