/**
 * Project-wide events fanned out by the backend over Redis pub/sub: project and file changes,
 * long-running processes, structure changes and Git operations. Kept as a bounded feed (newest
 * last) with a per-project summary a file tree or Git panel can watch.
 */
import { createSlice } from '@reduxjs/toolkit';
import type { InboundFrameOf } from '../protocol/index.js';
import { appendBounded } from './bounded.js';
import { frameReceived, type FramePayload } from './frameEvents.js';
import { addIngestCases, caseFor, type MatchableCreator } from './ingestCases.js';

export const ACTIVITY_TYPES = [
  'project.created',
  'project.updated',
  'project.deleted',
  'file.uploaded',
  'file.deleted',
  'process.started',
  'process.progress',
  'process.completed',
  'structure.changed',
  'git.commit',
  'git.push',
  'git.pull',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
export type ActivityFrame = InboundFrameOf<ActivityType>;
type ActivityAction = { type: string; payload: FramePayload<ActivityFrame> };

export interface ActivityItem {
  /** Position in this client's feed (1, 2, ...), stable across replays. */
  id: number;
  at: number;
  frame: ActivityFrame;
}

export interface ProjectActivity {
  /** Bumped on every structure.changed: watch it to refetch a file tree. */
  structure_version: number;
  last_git?: { type: 'git.commit' | 'git.push' | 'git.pull'; ref?: string; message?: string; author?: string; at: number };
  deleted: boolean;
}

export interface ProcessRecord {
  process_id: string;
  project_id: string;
  status: 'running' | 'completed';
  progress: number;
  message?: string;
  updatedAt: number;
}

export interface ActivityState {
  feed: ActivityItem[];
  next_id: number;
  projects: Record<string, ProjectActivity>;
  /** Processes still running; completed ones leave the table (they stay in the feed). */
  processes: Record<string, ProcessRecord>;
}

export const MAX_ACTIVITY_ITEMS = 200;

const initialState: ActivityState = { feed: [], next_id: 1, projects: {}, processes: {} };

function project(state: ActivityState, projectId: string): ProjectActivity {
  return (state.projects[projectId] ??= { structure_version: 0, deleted: false });
}

function record(state: ActivityState, frame: ActivityFrame, at: number) {
  const { list } = appendBounded(state.feed, [{ id: state.next_id, at, frame }], MAX_ACTIVITY_ITEMS);
  if (list !== state.feed) state.feed = list;
  state.next_id += 1;
  const summary = project(state, frame.project_id);
  switch (frame.type) {
    case 'structure.changed':
      summary.structure_version += 1;
      break;
    case 'git.commit':
    case 'git.push':
    case 'git.pull':
      summary.last_git = { type: frame.type, ref: frame.ref, message: frame.message, author: frame.author, at };
      break;
    case 'project.deleted':
      summary.deleted = true;
      break;
    case 'project.created':
      summary.deleted = false;
      break;
    case 'process.started':
    case 'process.progress':
      state.processes[frame.process_id] = {
        process_id: frame.process_id,
        project_id: frame.project_id,
        status: 'running',
        progress: Math.max(state.processes[frame.process_id]?.progress ?? 0, frame.progress ?? 0),
        message: frame.message,
        updatedAt: at,
      };
      break;
    case 'process.completed':
      delete state.processes[frame.process_id];
      break;
  }
}

const on = caseFor<ActivityState>();

const activitySlice = createSlice({
  name: 'activity',
  initialState,
  reducers: {},
  extraReducers: (builder) =>
    addIngestCases(
      builder,
      ACTIVITY_TYPES.map((type) =>
        on(frameReceived[type] as MatchableCreator<ActivityAction>, (state, { payload }) =>
          record(state, payload.frame, payload.receivedAt),
        ),
      ),
    ),
});

export const activityReducer = activitySlice.reducer;
