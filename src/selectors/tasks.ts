import { getEntity, type RealtimeState, type TaskRecord } from '../slices/index.js';

export const selectTaskById = (state: RealtimeState, taskId: string): TaskRecord | undefined => getEntity(state.tasks, taskId);
