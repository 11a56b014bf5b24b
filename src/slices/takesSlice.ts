/**
 * Takes (generated outputs), normalized by take id; nodes hold the ids. The same take delivered
 * twice (in generation.completed and again in node.state_changed, or replayed) is stored once:
 * a later copy updates the fields it carries.
 */
import { createEntityAdapter, createSlice, type EntityState } from '@reduxjs/toolkit';
import type { Take } from '../protocol/index.js';
import { generationCompleted, nodeStateChanged } from './frameEvents.js';
import { addIngestCases, caseFor } from './ingestCases.js';

export interface TakeRecord extends Take {
  node_id: string;
  /** Task that produced the take, when known. */
  task_id?: string;
  receivedAt: number;
}

export const takesAdapter = createEntityAdapter({ selectId: (take: TakeRecord) => take.id });
export type TakesState = EntityState<TakeRecord, string>;

function upsertTakes(
  state: TakesState,
  takes: readonly Take[] | undefined,
  nodeId: string,
  taskId: string | undefined,
  receivedAt: number,
) {
  if (!takes) return;
  for (const take of takes) {
    const existing = state.entities[take.id];
    if (existing) {
      // Only the fields this copy carries: an unsafe URL was turned into `undefined` at the wire
      // and must not erase the safe value already stored.
      for (const [key, value] of Object.entries(take)) {
        if (value !== undefined) (existing as unknown as Record<string, unknown>)[key] = value;
      }
      if (taskId !== undefined) existing.task_id ??= taskId;
    } else {
      takesAdapter.addOne(state, { ...take, node_id: nodeId, task_id: taskId, receivedAt });
    }
  }
}

const on = caseFor<TakesState>();

const takesSlice = createSlice({
  name: 'takes',
  initialState: takesAdapter.getInitialState(),
  reducers: {},
  extraReducers: (builder) =>
    addIngestCases(builder, [
      on(generationCompleted, (state, { payload: { frame, receivedAt } }) => {
        upsertTakes(state, frame.takes, frame.node_id, frame.task_id, receivedAt);
      }),
      on(nodeStateChanged, (state, { payload: { frame, receivedAt } }) => {
        upsertTakes(state, frame.takes, frame.node_id, frame.task_id, receivedAt);
      }),
    ]),
});

export const takesReducer = takesSlice.reducer;
