/**
 * What the application asks for. The socket middleware turns these into outbound frames; the
 * slices record them (a node shows it is waiting for its generation to start).
 *
 * Prepare callbacks stamp each command with a command id and the time it was asked for, so
 * that reducers stay pure and a replayed action log gives the same state. In a store, the
 * socket middleware sets that time again from the store's clock (`timers.now()`), on which the
 * outbox expires commands.
 */
import { createAction } from '@reduxjs/toolkit';
import type { GenerationContext, GenerationParams } from '../protocol/index.js';

function randomHex(bytes: number): string {
  const values = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(values);
  return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A unique command id. crypto.randomUUID exists only in secure contexts (a canvas served over
 * plain http on a LAN address is not one); getRandomValues exists everywhere.
 */
export function newCommandId(): string {
  return `cmd-${randomHex(12)}`;
}

export interface ConnectOptions {
  /** Overrides the URL the store was created with. */
  url?: string;
}

export const connect = createAction('connection/connectRequested', (options: ConnectOptions = {}) => ({
  payload: { url: options.url, requestedAt: Date.now() },
}));

export interface DisconnectOptions {
  /** Also forget the stored session (logout). Default true, as in the story. */
  forgetSession?: boolean;
}

export const disconnect = createAction(
  'connection/disconnectRequested',
  (options: DisconnectOptions = {}) => ({
    payload: { forgetSession: options.forgetSession ?? true, requestedAt: Date.now() },
  }),
);

export const subscribeProject = createAction('projects/subscribeRequested', (projectId: string) => ({
  payload: { projectId, requestedAt: Date.now() },
}));

export const unsubscribeProject = createAction('projects/unsubscribeRequested', (projectId: string) => ({
  payload: { projectId, requestedAt: Date.now() },
}));

export interface StartGenerationRequest {
  nodeId: string;
  params: GenerationParams;
  context?: GenerationContext;
  projectId?: string;
}

export const startGeneration = createAction(
  'generations/startRequested',
  (request: StartGenerationRequest) => ({
    payload: { ...request, commandId: newCommandId(), requestedAt: Date.now() },
  }),
);

export interface CancelGenerationRequest {
  nodeId: string;
  /** The task to revoke; defaults to the node's current task on the backend. */
  taskId?: string;
  projectId?: string;
}

export const cancelGeneration = createAction(
  'generations/cancelRequested',
  (request: CancelGenerationRequest) => ({
    payload: { ...request, commandId: newCommandId(), requestedAt: Date.now() },
  }),
);
