/**
 * Takes (generated outputs), normalized by take id; nodes hold the ids. The same take delivered
 * twice (in generation.completed and again in node.state_changed, or replayed) is stored once:
 * a later copy updates the fields it carries.
 *
 * Bounded: beyond MAX_TAKES the oldest takes (by arrival) are let go and counted in `evicted`,
 * so a session that generates for hours holds a fixed amount (a take can carry a data-URL
 * thumbnail of several kB). The backend keeps every take: an application that shows a node's
 * whole history fetches the older ones from it.
 */
import type { Take } from '../protocol/index.js';
import { generationCompleted, nodeStateChanged, snapshotReceived } from './frameEvents.js';
import { freeze, freezeDeep, passCaseFor, passReducer, TableWork } from './cow.js';
import { emptyTable, type Table } from './table.js';

export interface TakeRecord extends Take {
  node_id: string;
  /** Task that produced the take, when known. */
  task_id?: string;
  receivedAt: number;
}

export interface TakesState extends Table<TakeRecord> {
  /** Takes let go (oldest first) to stay within MAX_TAKES. */
  evicted: number;
}

export const MAX_TAKES = 500;

class TakesPass extends TableWork<TakeRecord> {
  constructor(readonly state: TakesState) {
    super(state, (take) => ({ ...take }));
  }
}

function upsertTakes(
  table: TakesPass,
  takes: readonly Take[] | undefined,
  nodeId: string,
  taskId: string | undefined,
  receivedAt: number,
) {
  if (!takes) return;
  for (const take of takes) {
    const existing = table.edit(take.id);
    if (existing) {
      // Only the fields this copy carries: an unsafe URL was turned into `undefined` at the wire
      // and must not erase the safe value already stored.
      for (const [key, value] of Object.entries(take)) {
        if (value !== undefined) (existing as unknown as Record<string, unknown>)[key] = value;
      }
      if (taskId !== undefined) existing.task_id ??= taskId;
    } else {
      table.add(take.id, { ...take, node_id: nodeId, task_id: taskId, receivedAt });
    }
  }
}

const on = passCaseFor<TakesPass>();

/** Frames (alone or in a burst) in one copy-on-write pass over the table (see ./cow.ts). */
export const takesReducer = passReducer<TakesState, TakesPass>({
  initialState: freezeDeep({ ...emptyTable<TakeRecord>(), evicted: 0 }),
  open: (state) => new TakesPass(state),
  commit: (pass) => {
    const ids = pass.currentIds();
    const excess = ids.length - MAX_TAKES;
    if (excess > 0) pass.remove([...ids].slice(0, excess));
    const next = pass.commit();
    return next ? freeze({ ...pass.state, ...next, evicted: pass.state.evicted + Math.max(0, excess) }) : pass.state;
  },
  cases: new Map([
    on(generationCompleted, (table, { payload: { frame, receivedAt } }) => {
      upsertTakes(table, frame.takes, frame.node_id, frame.task_id, receivedAt);
    }),
    on(nodeStateChanged, (table, { payload: { frame, receivedAt } }) => {
      upsertTakes(table, frame.takes, frame.node_id, frame.task_id, receivedAt);
    }),
    on(snapshotReceived, (table, { payload: { frame, receivedAt } }) => {
      for (const take of frame.takes) upsertTakes(table, [take], take.node_id, undefined, receivedAt);
    }),
  ]),
});
