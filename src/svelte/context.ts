/**
 * The store travels through Svelte context, not a module singleton, so several canvases (or
 * tests) can live on one page.
 */
import { getContext, hasContext, setContext } from 'svelte';
import type { RealtimeStore } from '../store/createRealtimeStore.js';

const KEY = Symbol.for('canvas-realtime.store');

/** Call in a parent component's script: its children read this store. */
export function setRealtimeStore(store: RealtimeStore): RealtimeStore {
  return setContext(KEY, store);
}

/** The store set by an ancestor; throws a clear error when none was set. */
export function getRealtimeStore(): RealtimeStore {
  if (!hasContext(KEY)) {
    throw new Error(
      'canvas-realtime: no store in context. Call setRealtimeStore(createRealtimeStore(...)) in a parent component, or pass the store as a prop.',
    );
  }
  return getContext<RealtimeStore>(KEY);
}

/** The store from a prop when given, else from context. */
export function resolveRealtimeStore(explicit: RealtimeStore | undefined): RealtimeStore {
  return explicit ?? getRealtimeStore();
}
