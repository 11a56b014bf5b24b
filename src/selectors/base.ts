import { createSelectorCreator, lruMemoize, weakMapMemoize } from 'reselect';
import type { RealtimeState } from '../slices/index.js';

/** reselect's argument cache, turned off: see createRealtimeSelector. */
const noArgsMemo = <F extends (...args: never[]) => unknown>(func: F) => func;

/**
 * createSelector typed for this store's state, for selectors that take arguments (a node id, a
 * task id). Results are memoized on the input selectors' results (weakMapMemoize, reselect's
 * default), so one selector serves every component that reads it, each with its own id. The
 * arguments themselves are not: every input selector here is a property read, cheaper than
 * reselect's argument cache, which built a new cache branch for every new state object (one per
 * store notification, for every mounted component).
 */
export const createRealtimeSelector = createSelectorCreator({
  memoize: weakMapMemoize,
  argsMemoize: noArgsMemo,
}).withTypes<RealtimeState>();

/**
 * createSelector typed for this store's state, for selectors without arguments (the agents'
 * list, the narrative view): they remember the results of their last 4 inputs only (lruMemoize),
 * enough for a few stores read in turn.
 *
 * Why not weakMapMemoize here: its cache holds an entry for every input it was given (a table's
 * shard array, 1 kB for 128 shards), and an entry goes only once the garbage collector proves
 * the input dead. Inputs replaced on nearly every burst (the agents' shards) then outlived the
 * young generation and were promoted: in the benchmark's reference run, selectAgentActivities
 * and selectBeatGenerations alone made the live path promote 212 instead of 138 bytes per frame,
 * and the forced full collection between runs made that costly. See docs/BENCHMARKS.md.
 */
export const createLatestSelector = createSelectorCreator({
  memoize: lruMemoize,
  memoizeOptions: { maxSize: 4 },
  argsMemoize: noArgsMemo,
}).withTypes<RealtimeState>();
