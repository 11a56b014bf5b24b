/**
 * The root reducer: every slice, plus the one rule that spans them all. A frame whose seq is at
 * or below the last seq applied for its project is a duplicate or a stale replay: it is turned
 * into `frames/duplicateDropped` before any slice sees it, so an event is applied at most once
 * however often the backend (or a reconnect's replay) delivers it.
 */
import { combineReducers, type UnknownAction } from '@reduxjs/toolkit';
import { activityReducer } from './activitySlice.js';
import { agentsReducer } from './agentsSlice.js';
import { connectionReducer } from './connectionSlice.js';
import {
  duplicateFrameDropped,
  framesBatched,
  isFrameAction,
  replayGapReported,
  sessionInitialized,
  snapshotReceived,
  type IngestAction,
} from './frameEvents.js';
import { framesReducer } from './framesSlice.js';
import { narrativeReducer } from './narrativeSlice.js';
import { nodesReducer } from './nodesSlice.js';
import { outboxReducer } from './outboxSlice.js';
import { promptsReducer } from './promptsSlice.js';
import { syncReducer } from './syncSlice.js';
import { takesReducer } from './takesSlice.js';
import { tasksReducer } from './tasksSlice.js';

const combined = combineReducers({
  connection: connectionReducer,
  tasks: tasksReducer,
  nodes: nodesReducer,
  takes: takesReducer,
  agents: agentsReducer,
  narrative: narrativeReducer,
  prompts: promptsReducer,
  activity: activityReducer,
  frames: framesReducer,
  sync: syncReducer,
  outbox: outboxReducer,
});

export type RealtimeState = ReturnType<typeof combined>;

/**
 * Replaces duplicates in a run of ingest actions. `lastSeq` is only read; a local overlay
 * tracks positions advanced within the run. Returns the input array when nothing changed.
 * Exported for the socket middleware, which must not hand a dropped duplicate to listeners.
 */
export function dropDuplicates(lastSeq: Readonly<Record<string, number>>, actions: IngestAction[]): IngestAction[] {
  let overlay: Record<string, number> | undefined;
  let out: IngestAction[] | undefined;
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i]!;
    let duplicate: IngestAction | undefined;
    if (isFrameAction(action)) {
      if (sessionInitialized.match(action)) {
        // A new session restarts numbering: forget positions for the rest of the run.
        overlay = Object.create(null) as Record<string, number>;
        lastSeq = overlay;
      } else if (replayGapReported.match(action)) {
        // The server moved this project's position (trimmed history, or a reset stream).
        const gap = action.payload.frame;
        (overlay ??= Object.create(null) as Record<string, number>)[gap.project_id] = gap.to_seq;
      } else if (snapshotReceived.match(action)) {
        // The snapshot includes the events up to at_seq: later copies of them are duplicates.
        const snapshot = action.payload.frame;
        (overlay ??= Object.create(null) as Record<string, number>)[snapshot.project_id] = snapshot.at_seq;
      } else {
        const { seq, project_id: projectId, type } = action.payload.frame;
        if (seq !== undefined && projectId !== undefined) {
          const last = overlay && projectId in overlay ? overlay[projectId] : lastSeq[projectId];
          if (last !== undefined && seq <= last) {
            duplicate = duplicateFrameDropped({ type, project_id: projectId, seq, receivedAt: action.payload.receivedAt });
          } else {
            (overlay ??= Object.create(null) as Record<string, number>)[projectId] = seq;
          }
        }
      }
    }
    if (duplicate) {
      out ??= actions.slice(0, i);
      out.push(duplicate);
    } else {
      out?.push(action);
    }
  }
  return out ?? actions;
}

export function realtimeReducer(state: RealtimeState | undefined, action: UnknownAction): RealtimeState {
  if (state !== undefined) {
    if (framesBatched.match(action)) {
      const actions = dropDuplicates(state.sync.lastSeq, action.payload.actions);
      if (actions !== action.payload.actions) return combined(state, framesBatched({ actions }));
    } else if (isFrameAction(action)) {
      const [only] = dropDuplicates(state.sync.lastSeq, [action]);
      if (only !== action) return combined(state, only as UnknownAction);
    }
  }
  return combined(state, action);
}
