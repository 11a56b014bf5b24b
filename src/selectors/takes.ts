import type { RealtimeState, TakeRecord } from '../slices/index.js';
import { createRealtimeSelector } from './base.js';

const EMPTY: readonly TakeRecord[] = Object.freeze([]);

export const selectTakeById = (state: RealtimeState, takeId: string): TakeRecord | undefined =>
  state.takes.entities[takeId];

const selectTakeIdsOfNode = (state: RealtimeState, nodeId: string) => state.nodes.entities[nodeId]?.take_ids;

/** A node's takes ordered by take number; the same array until that node's takes change. */
export const selectTakesByNode = createRealtimeSelector(
  [selectTakeIdsOfNode, (state: RealtimeState) => state.takes.entities],
  (ids, entities): readonly TakeRecord[] => {
    if (!ids || ids.length === 0) return EMPTY;
    const takes: TakeRecord[] = [];
    for (const id of ids) {
      const take = entities[id];
      if (take) takes.push(take);
    }
    return takes.sort((a, b) => a.take_number - b.take_number || a.id.localeCompare(b.id));
  },
  // Unrelated takes arriving change `entities`; compare the result so subscribers see no change.
  { memoizeOptions: { resultEqualityCheck: shallowEqualArrays } },
);

function shallowEqualArrays(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
