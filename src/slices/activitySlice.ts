/**
 * Project-wide events fanned out by the backend over Redis pub/sub: project and file changes,
 * long-running processes, structure changes and Git operations. Kept as a bounded feed (newest
 * last) with a per-project summary a file tree or Git panel can watch.
 */
import type { InboundFrameOf } from '../protocol/index.js';
import { appendBounded } from './bounded.js';
import { frameReceived, type FramePayload } from './frameEvents.js';
import { freezeDeep, passReducer, settle, type PassCase } from './cow.js';

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

const initialState: ActivityState = freezeDeep({ feed: [], next_id: 1, projects: {}, processes: {} });

/** One pass of activity frames (a frame, or a burst): plain copies made on write. */
class ActivityPass {
  readonly next: ActivityState;
  /** Copied on the pass's first item (most bursts carry none). */
  feed?: ActivityItem[];
  private readonly projectsWritten = new Set<string>();
  private processesCopied = false;

  constructor(private readonly base: ActivityState) {
    this.next = { ...base };
  }

  project(projectId: string): ProjectActivity {
    if (!this.projectsWritten.has(projectId)) {
      if (this.projectsWritten.size === 0) this.next.projects = { ...this.base.projects };
      this.projectsWritten.add(projectId);
      const existing = this.next.projects[projectId];
      this.next.projects[projectId] = existing ? { ...existing } : { structure_version: 0, deleted: false };
    }
    return this.next.projects[projectId]!;
  }

  processes(): Record<string, ProcessRecord> {
    if (!this.processesCopied) {
      this.processesCopied = true;
      this.next.processes = { ...this.base.processes };
    }
    return this.next.processes;
  }

  commit(): ActivityState {
    const { base, next } = this;
    next.feed = this.feed ?? base.feed;
    // A frame that leaves its project's summary as it was keeps the summary (and the table).
    let projectsChanged = false;
    for (const id of this.projectsWritten) {
      const before = base.projects[id];
      const after = before ? settle(next.projects[id]!, before) : next.projects[id]!;
      next.projects[id] = after;
      if (after !== before) projectsChanged = true;
    }
    if (this.projectsWritten.size > 0 && !projectsChanged) next.projects = base.projects;
    return freezeDeep(next);
  }
}

function record(pass: ActivityPass, frame: ActivityFrame, at: number) {
  const state = pass.next;
  pass.feed = appendBounded((pass.feed ??= [...pass.next.feed]), [{ id: state.next_id, at, frame }], MAX_ACTIVITY_ITEMS).list;
  state.next_id += 1;
  const summary = pass.project(frame.project_id);
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
    case 'process.progress': {
      const processes = pass.processes();
      processes[frame.process_id] = {
        process_id: frame.process_id,
        project_id: frame.project_id,
        status: 'running',
        progress: Math.max(processes[frame.process_id]?.progress ?? 0, frame.progress ?? 0),
        message: frame.message,
        updatedAt: at,
      };
      break;
    }
    case 'process.completed':
      if (Object.prototype.hasOwnProperty.call(pass.next.processes, frame.process_id)) delete pass.processes()[frame.process_id];
      break;
  }
}

const recordCase: PassCase<ActivityPass> = (pass, action) => {
  const { payload } = action as ActivityAction;
  record(pass, payload.frame, payload.receivedAt);
};

/** Every action the activity slice handles is a frame: one plain pass per frame or burst. */
export const activityReducer = passReducer<ActivityState, ActivityPass>({
  initialState,
  open: (state) => new ActivityPass(state),
  commit: (pass) => pass.commit(),
  cases: new Map(ACTIVITY_TYPES.map((type): [string, PassCase<ActivityPass>] => [frameReceived[type].type, recordCase])),
});
