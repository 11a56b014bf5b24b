/**
 * The connection state machine. Statuses are the story's six; every transition is listed in
 * docs/ARCHITECTURE.md and has a test. The reducer decides the next status (including what a
 * close code means, via classifyClose); the middleware performs the effects the status asks for.
 */
import { classifyClose, type Capability } from '../protocol/index.js';
import { connect, disconnect } from './commands.js';
import {
  connectionStabilized,
  networkCameOnline,
  networkWentOffline,
  reconnectScheduled,
  shutdownOutlived,
  socketClosed,
  socketFailed,
  socketOpened,
  socketOpening,
  storageFailed,
} from './connectionEvents.js';
import { sessionAssumed, sessionLoaded } from './deliveryEvents.js';
import { heartbeatReceived, sessionInitialized, sessionRestored, shutdownAnnounced } from './frameEvents.js';
import { freezeDeep } from './cow.js';
import { copyCaseFor, copyReducer } from './ingestCases.js';

export const CONNECTION_STATUSES = [
  'connecting',
  'connected',
  'reconnecting',
  'disconnected',
  'error',
  'suspended',
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export interface ConnectionState {
  status: ConnectionStatus;
  /** Whether the application wants a connection (connect() minus disconnect()). */
  wanted: boolean;
  url?: string;
  /** Reconnect attempts since the connection was last stable (the story's reconnectAttempts). */
  reconnectAttempts: number;
  error?: string;
  lastClose?: { code: number; reason: string; at: number };
  /**
   * Why the last socket failed, as the runtime said it (refused, the upgrade's HTTP status, name
   * resolution), when it said anything: a browser never does. Cleared once a socket opens.
   */
  lastError?: string;
  /** Set once session.init / session.restored arrived on the current socket. */
  sessionReady: boolean;
  sessionId?: string;
  instanceId?: string;
  /** Set when the backend's instance id changed across a reconnect: it restarted. */
  restartDetectedAt?: number;
  capabilities: Capability[];
  connectedAt?: number;
  lastHeartbeatAt?: number;
  nextRetryAt?: number;
  offline: boolean;
  /** Why the connection is suspended (container restart), for the status line. */
  suspendedReason?: string;
  /** Calls to the session storage that threw since the store started; the store carried on. */
  storageErrors: number;
  lastStorageError?: { operation: 'read' | 'write' | 'remove'; error: string; at: number };
}

export const initialConnectionState: ConnectionState = freezeDeep({
  status: 'disconnected',
  wanted: false,
  reconnectAttempts: 0,
  sessionReady: false,
  capabilities: [],
  offline: false,
  storageErrors: 0,
});

const on = copyCaseFor<ConnectionState>();

function sessionEstablished(
  state: ConnectionState,
  frame: { session_id: string; instance_id?: string; capabilities: Capability[] },
  receivedAt: number,
) {
  if (state.instanceId && frame.instance_id && frame.instance_id !== state.instanceId) {
    state.restartDetectedAt = receivedAt;
  }
  state.sessionReady = true;
  state.sessionId = frame.session_id;
  if (frame.instance_id) state.instanceId = frame.instance_id;
  state.capabilities = frame.capabilities;
}

/**
 * Each case writes the fields of a shallow copy of the state (see ./ingestCases.ts): the copy
 * is kept only when a field changed.
 */
export const connectionReducer = copyReducer<ConnectionState>({
  initialState: initialConnectionState,
  cases: [
    on(connect, (state, action) => {
      state.wanted = true;
      if (action.payload.url) state.url = action.payload.url;
      if (state.status === 'disconnected' || state.status === 'error') {
        state.status = 'connecting';
        state.error = undefined;
        state.reconnectAttempts = 0;
      }
    }),
    on(disconnect, (state) => {
      state.wanted = false;
      state.status = 'disconnected';
      state.sessionReady = false;
      state.nextRetryAt = undefined;
      state.suspendedReason = undefined;
      state.error = undefined;
      state.lastError = undefined;
    }),
    on(socketOpening, (state, action) => {
      state.url = action.payload.url;
      state.nextRetryAt = undefined;
      // A retry keeps saying "reconnecting" (or "suspended"): no flicker through "connecting".
      if (state.status === 'disconnected' || state.status === 'error') state.status = 'connecting';
    }),
    on(socketOpened, (state, action) => {
      state.status = 'connected';
      state.connectedAt = action.payload.at;
      state.lastHeartbeatAt = action.payload.at;
      state.error = undefined;
      state.lastError = undefined;
      state.suspendedReason = undefined;
      state.sessionReady = false;
    }),
    on(socketClosed, (state, action) => {
      const { code, reason, at } = action.payload;
      state.lastClose = { code, reason, at };
      state.lastError = action.payload.error;
      state.sessionReady = false;
      state.connectedAt = undefined;
      if (!state.wanted) {
        state.status = 'disconnected';
        return;
      }
      const outcome = classifyClose(code);
      if (outcome === 'fatal') {
        state.status = 'error';
        state.wanted = false;
        state.error = reason || `connection refused (close code ${code})`;
      } else if (outcome === 'restart') {
        state.status = 'suspended';
        state.suspendedReason = reason || 'server restarting';
      } else if (state.status !== 'suspended') {
        // A failed attempt while suspended stays suspended until the backend is back.
        state.status = 'reconnecting';
      }
    }),
    on(socketFailed, (state, action) => {
      state.status = 'error';
      state.wanted = false;
      state.error = action.payload.error;
      state.sessionReady = false;
    }),
    on(reconnectScheduled, (state, action) => {
      state.reconnectAttempts += 1;
      state.nextRetryAt = action.payload.at + action.payload.delayMs;
    }),
    on(connectionStabilized, (state) => {
      state.reconnectAttempts = 0;
    }),
    on(sessionAssumed, (state) => {
      // A backend that speaks only the story's frames: no capabilities, nothing to wait for.
      state.sessionReady = true;
      state.capabilities = [];
    }),
    on(sessionLoaded, (state, { payload }) => {
      state.capabilities = payload.capabilities;
    }),
    on(networkWentOffline, (state) => {
      state.offline = true;
    }),
    on(networkCameOnline, (state) => {
      state.offline = false;
    }),
    on(shutdownOutlived, (state) => {
      // Only a suspension announced on a socket still open (connectedAt is cleared on close): a
      // close 1012 stays suspended until the retry opens a new socket.
      if (state.status !== 'suspended' || state.connectedAt === undefined) return;
      state.status = 'connected';
      state.suspendedReason = undefined;
    }),
    on(storageFailed, (state, { payload }) => {
      state.storageErrors += 1;
      state.lastStorageError = payload;
    }),
  ],
  frameCases: [
    on(heartbeatReceived, (state, action) => {
      state.lastHeartbeatAt = action.payload.receivedAt;
    }),
    on(shutdownAnnounced, (state, action) => {
      if (!state.wanted) return;
      state.status = 'suspended';
      state.suspendedReason = action.payload.frame.reason ?? 'server restarting';
    }),
    on(sessionInitialized, (state, action) => {
      sessionEstablished(state, action.payload.frame, action.payload.receivedAt);
    }),
    on(sessionRestored, (state, action) => {
      sessionEstablished(state, action.payload.frame, action.payload.receivedAt);
    }),
  ],
});
