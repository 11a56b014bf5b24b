import { createSelectorCreator, weakMapMemoize } from 'reselect';
import type { RealtimeState } from '../slices/index.js';

/**
 * createSelector typed for this store's state. Results are memoized on the input selectors'
 * results (weakMapMemoize), as reselect does by default; the arguments themselves are not: every
 * input selector here is a property read, cheaper than reselect's argument cache, which built a
 * new cache branch for every new state object (one per store notification, for every mounted
 * component).
 */
export const createRealtimeSelector = createSelectorCreator({
  memoize: weakMapMemoize,
  argsMemoize: <F extends (...args: never[]) => unknown>(func: F) => func,
}).withTypes<RealtimeState>();
