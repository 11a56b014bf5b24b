import { getEntity, type RealtimeState, type TakeRecord } from '../slices/index.js';
import { createRealtimeSelector } from './base.js';

const EMPTY: readonly TakeRecord[] = Object.freeze([]);

export const selectTakeById = (state: RealtimeState, takeId: string): TakeRecord | undefined => getEntity(state.takes, takeId);

const selectTakeIdsOfNode = (state: RealtimeState, nodeId: string) => getEntity(state.nodes, nodeId)?.take_ids;

/**
 * Last result per take-id list. reselect's `resultEqualityCheck` keeps a single last result for
 * the whole selector, so with several nodes read in turn (one gallery per node card) it compared
 * a node's takes with another node's and handed out a new array on every unrelated change. A
 * node's `take_ids` array keeps its identity until that node's takes change (the pass keeps it),
 * so it is a per-node key that needs no cleanup (WeakMap).
 */
const lastByIds = new WeakMap<readonly string[], readonly TakeRecord[]>();

/** A node's takes ordered by take number; the same array until that node's takes change. */
export const selectTakesByNode = createRealtimeSelector(
  [selectTakeIdsOfNode, (state: RealtimeState) => state.takes],
  (ids, table): readonly TakeRecord[] => {
    if (!ids || ids.length === 0) return EMPTY;
    const takes: TakeRecord[] = [];
    for (const id of ids) {
      const take = getEntity(table, id);
      if (take) takes.push(take);
    }
    takes.sort((a, b) => a.take_number - b.take_number || a.id.localeCompare(b.id));
    // Unrelated takes arriving change `entities`; reuse this node's previous array when equal.
    const previous = lastByIds.get(ids);
    if (previous && shallowEqualArrays(previous, takes)) return previous;
    lastByIds.set(ids, takes);
    return takes;
  },
);

function shallowEqualArrays(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
