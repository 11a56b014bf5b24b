import type { RealtimeState, TaskRecord } from '../slices/index.js';

export const selectTaskById = (state: RealtimeState, taskId: string): TaskRecord | undefined =>
  state.tasks.entities[taskId];
export const selectTaskEntities = (state: RealtimeState) => state.tasks.entities;
