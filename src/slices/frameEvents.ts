/**
 * Actions for inbound frames: one past-tense action per frame type, declared once here and
 * handled by every slice that cares (a task.progress frame moves both the task and its node).
 *
 * Every payload carries the validated frame and `receivedAt`, the time the frame arrived, in
 * epoch milliseconds. It is stamped by the middleware (or taken from a recorded log), never read
 * from the clock inside a reducer, so replaying the same actions always gives the same state.
 */
import { createAction, type PayloadActionCreator } from '@reduxjs/toolkit';
import type { InboundFrame, InboundFrameOf, InboundType, RejectReason } from '../protocol/index.js';

export interface FramePayload<F = InboundFrame> {
  frame: F;
  receivedAt: number;
}

/** Action type for each inbound frame type. */
export const FRAME_ACTION_TYPES = {
  'system.heartbeat': 'connection/heartbeatReceived',
  'system.shutdown': 'connection/shutdownAnnounced',
  'session.init': 'session/initialized',
  'session.restored': 'session/restored',
  'project.created': 'projects/created',
  'project.updated': 'projects/updated',
  'project.deleted': 'projects/deleted',
  'file.uploaded': 'files/uploaded',
  'file.deleted': 'files/deleted',
  'process.started': 'processes/started',
  'process.progress': 'processes/progressed',
  'process.completed': 'processes/completed',
  'task.progress': 'tasks/progressReceived',
  'node.state_changed': 'nodes/stateChanged',
  'generation.started': 'generations/started',
  'generation.completed': 'generations/completed',
  'generation.error': 'generations/failed',
  'agent.assigned': 'agents/assigned',
  'agent.progress': 'agents/progressed',
  'agent.completed': 'agents/completed',
  'agent.handoff': 'agents/handedOff',
  'prompt.composite': 'prompts/compositeAssembled',
  'narrative.beat': 'narrative/beatReached',
  'narrative.progress': 'narrative/progressed',
  'structure.changed': 'projects/structureChanged',
  'git.commit': 'git/committed',
  'git.push': 'git/pushed',
  'git.pull': 'git/pulled',
  ack: 'commands/acknowledged',
  error: 'server/errorReported',
  'replay.gap': 'sync/replayGapReported',
  'project.snapshot': 'projects/snapshotReceived',
  'task.status': 'tasks/statusReceived',
} as const satisfies Record<InboundType, string>;

export type FrameActionCreators = {
  [T in InboundType]: PayloadActionCreator<FramePayload<InboundFrameOf<T>>, (typeof FRAME_ACTION_TYPES)[T]>;
};

export const frameReceived = Object.fromEntries(
  Object.entries(FRAME_ACTION_TYPES).map(([frameType, actionType]) => [frameType, createAction(actionType)]),
) as unknown as FrameActionCreators;

export type FrameAction = {
  [T in InboundType]: ReturnType<FrameActionCreators[T]>;
}[InboundType];

const FRAME_ACTION_TYPE_SET: ReadonlySet<string> = new Set(Object.values(FRAME_ACTION_TYPES));

export function isFrameAction(action: { type: string }): action is FrameAction {
  return FRAME_ACTION_TYPE_SET.has(action.type);
}

/** Builds the action for a validated frame. */
export function toFrameAction(frame: InboundFrame, receivedAt: number): FrameAction {
  const creator = frameReceived[frame.type] as (payload: FramePayload) => FrameAction;
  return creator({ frame, receivedAt });
}

// Named creators for the cases slices handle, so reducers read as events.
export const heartbeatReceived = frameReceived['system.heartbeat'];
export const shutdownAnnounced = frameReceived['system.shutdown'];
export const sessionInitialized = frameReceived['session.init'];
export const sessionRestored = frameReceived['session.restored'];
export const taskProgressReceived = frameReceived['task.progress'];
export const nodeStateChanged = frameReceived['node.state_changed'];
export const generationStarted = frameReceived['generation.started'];
export const generationCompleted = frameReceived['generation.completed'];
export const generationFailed = frameReceived['generation.error'];
export const agentAssigned = frameReceived['agent.assigned'];
export const agentProgressed = frameReceived['agent.progress'];
export const agentCompleted = frameReceived['agent.completed'];
export const agentHandedOff = frameReceived['agent.handoff'];
export const compositePromptAssembled = frameReceived['prompt.composite'];
export const beatReached = frameReceived['narrative.beat'];
export const narrativeProgressed = frameReceived['narrative.progress'];
export const commandAcknowledged = frameReceived.ack;
export const serverErrorReported = frameReceived.error;
export const replayGapReported = frameReceived['replay.gap'];
export const snapshotReceived = frameReceived['project.snapshot'];
export const taskStatusReceived = frameReceived['task.status'];

// ---------------------------------------------------------------------------------------------
// Frames that never reach the entity tables

export interface FrameRejectedPayload {
  reason: RejectReason;
  detail: string;
  /** The frame's type, when it had a readable one. */
  type?: string;
  receivedAt: number;
}
/** A frame that failed validation: counted and shown, never reduced into the tables. */
export const frameRejected = createAction<FrameRejectedPayload, 'frames/rejected'>('frames/rejected');

/** A well-formed frame of a type this client does not know (a newer backend). */
export const unknownFrameReceived = createAction<{ type: string; receivedAt: number }, 'frames/unknownReceived'>(
  'frames/unknownReceived',
);

/** A frame whose seq this client has already applied (a replay overlap, or a resend). */
export const duplicateFrameDropped = createAction<{
  type: string;
  project_id: string;
  seq: number;
  receivedAt: number;
}, 'frames/duplicateDropped'>('frames/duplicateDropped');

export type IngestAction =
  | FrameAction
  | ReturnType<typeof frameRejected>
  | ReturnType<typeof unknownFrameReceived>
  | ReturnType<typeof duplicateFrameDropped>;

/**
 * Frames that arrived within one tick, reduced as one action: one store notification for a
 * burst. The resulting state equals dispatching each action in `actions` in turn.
 */
export const framesBatched = createAction<{ actions: IngestAction[] }, 'frames/batchReceived'>('frames/batchReceived');
