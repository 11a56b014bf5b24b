import { getEntity, type RealtimeState } from '../slices/index.js';
import { createLatestSelector } from './base.js';

export const selectActivityFeed = (state: RealtimeState) => state.activity.feed;
export const selectProjectActivity = (state: RealtimeState, projectId: string) => state.activity.projects[projectId];
export const selectRunningProcesses = createLatestSelector(
  [(state: RealtimeState) => state.activity.processes],
  (processes) => Object.values(processes),
);
export const selectCompositePrompt = (state: RealtimeState, nodeId: string) =>
  getEntity(state.prompts, nodeId)?.composite_prompt;
export const selectLatestCompositePrompt = (state: RealtimeState) => state.prompts.latest;
