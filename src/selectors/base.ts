import { createSelector } from 'reselect';
import type { RealtimeState } from '../slices/index.js';

/** createSelector typed for this store's state. */
export const createRealtimeSelector = createSelector.withTypes<RealtimeState>();
