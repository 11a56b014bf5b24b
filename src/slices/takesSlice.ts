/**
 * Takes (generated outputs), normalized by take id; nodes hold the ids. The same take delivered
 * twice (in generation.completed and again in node.state_changed, or replayed) is stored once:
 * a later copy updates the fields it carries.
 */
import { createEntityAdapter, type EntityState } from '@reduxjs/toolkit';
import type { Take } from '../protocol/index.js';
import { generationCompleted, nodeStateChanged } from './frameEvents.js';
import { freezeDeep, passCaseFor, passReducer, TableWork } from './cow.js';

export interface TakeRecord extends Take {
  node_id: string;
  /** Task that produced the take, when known. */
  task_id?: string;
  receivedAt: number;
}

export const takesAdapter = createEntityAdapter({ selectId: (take: TakeRecord) => take.id });
export type TakesState = EntityState<TakeRecord, string>;

function upsertTakes(
  table: TableWork<TakeRecord>,
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

const on = passCaseFor<TableWork<TakeRecord>>();

/** Frames (alone or in a burst) in one copy-on-write pass over the table (see ./cow.ts). */
export const takesReducer = passReducer<TakesState, TableWork<TakeRecord>>({
  initialState: freezeDeep(takesAdapter.getInitialState()),
  open: (state) => new TableWork(state, (take) => ({ ...take })),
  commit: (table) => {
    const next = table.commit();
    return next ? Object.freeze(next) : table.base;
  },
  cases: new Map([
    on(generationCompleted, (table, { payload: { frame, receivedAt } }) => {
      upsertTakes(table, frame.takes, frame.node_id, frame.task_id, receivedAt);
    }),
    on(nodeStateChanged, (table, { payload: { frame, receivedAt } }) => {
      upsertTakes(table, frame.takes, frame.node_id, frame.task_id, receivedAt);
    }),
  ]),
});
