/**
 * The bridge from the Redux store to Svelte: a readable store per selector.
 *
 * It honours the Svelte store contract (the subscriber is called at once with the current
 * value), subscribes to the Redux store only while it has subscribers, and notifies only when
 * the selector's result changes by identity. Svelte's own `writable().set` treats every object
 * as changed, which would wake every component on every frame; memoized selectors plus the
 * identity check here mean a task.progress frame wakes only the components that read that task.
 */
import type { RealtimeState } from '../slices/index.js';
import { selectorReader } from './selectorReader.js';

/** The part of a Redux store the bridge needs. */
export interface StateSource<S = RealtimeState> {
  getState(): S;
  subscribe(listener: () => void): () => void;
}

/** Svelte's store contract (what `$store` needs). */
export interface ReadableStore<T> {
  subscribe(run: (value: T) => void, invalidate?: () => void): () => void;
}

export function fromSelector<S, T, A extends unknown[]>(
  source: StateSource<S>,
  selector: (state: S, ...args: A) => T,
  ...args: A
): ReadableStore<T> {
  const subscribers = new Set<{ run: (value: T) => void; invalidate?: () => void }>();
  let value: T;
  let stop: (() => void) | undefined;
  const read = selectorReader(selector, args);

  function check() {
    const next = read(source.getState());
    if (next === value) return;
    value = next;
    // Copy: a subscriber may unsubscribe (itself or another) while being notified.
    for (const subscriber of Array.from(subscribers)) subscriber.invalidate?.();
    for (const subscriber of Array.from(subscribers)) if (subscribers.has(subscriber)) subscriber.run(value);
  }

  return {
    subscribe(run, invalidate) {
      const subscriber = { run, invalidate };
      if (subscribers.size === 0) {
        value = read(source.getState());
        stop = source.subscribe(check);
      }
      subscribers.add(subscriber);
      run(value);
      return () => {
        if (!subscribers.delete(subscriber)) return;
        if (subscribers.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
  };
}
