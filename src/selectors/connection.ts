import type { RealtimeState } from '../slices/index.js';

export const selectConnection = (state: RealtimeState) => state.connection;
export const selectConnectionStatus = (state: RealtimeState) => state.connection.status;
export const selectIsConnected = (state: RealtimeState) => state.connection.status === 'connected';
export const selectReconnectAttempts = (state: RealtimeState) => state.connection.reconnectAttempts;
export const selectSubscriptions = (state: RealtimeState) => state.sync.subscriptions;
export const selectSeqGaps = (state: RealtimeState) => state.sync.gaps;
