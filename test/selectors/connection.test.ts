import { describe, expect, it } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import {
  connect,
  disconnect,
  realtimeReducer,
  reconnectScheduled,
  socketClosed,
  socketOpened,
  socketOpening,
  subscribeProject,
  unsubscribeProject,
  type RealtimeState,
} from '../../src/slices/index.js';
import {
  selectConnection,
  selectConnectionStatus,
  selectIsConnected,
  selectReconnectAttempts,
  selectSeqGaps,
  selectSubscriptions,
} from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';

const reduce = (state: RealtimeState, ...actions: { type: string }[]) => actions.reduce(realtimeReducer, state);

describe('connection selectors', () => {
  it('start disconnected, with no attempts', () => {
    const state = initial();
    expect(selectConnectionStatus(state)).toBe('disconnected');
    expect(selectIsConnected(state)).toBe(false);
    expect(selectReconnectAttempts(state)).toBe(0);
    expect(selectSubscriptions(state)).toEqual([]);
    expect(selectSeqGaps(state)).toEqual([]);
  });

  it('follow connect, open, drop and retry', () => {
    let state = reduce(initial(), connect({ url: 'ws://backend:8000/ws' }));
    expect(selectConnectionStatus(state)).toBe('connecting');
    state = reduce(state, socketOpening({ url: 'ws://backend:8000/ws', at: 1 }), socketOpened({ at: 2 }));
    expect(selectConnectionStatus(state)).toBe('connected');
    expect(selectIsConnected(state)).toBe(true);
    expect(selectConnection(state)).toMatchObject({ url: 'ws://backend:8000/ws', connectedAt: 2, wanted: true });

    state = reduce(state, socketClosed({ code: 1006, reason: '', byClient: false, at: 3 }), reconnectScheduled({ delayMs: 1000, at: 3 }));
    expect(selectConnectionStatus(state)).toBe('reconnecting');
    expect(selectIsConnected(state)).toBe(false);
    expect(selectReconnectAttempts(state)).toBe(1);
    expect(selectConnection(state).nextRetryAt).toBe(1003);

    state = reduce(state, socketClosed({ code: 1012, reason: 'restart', byClient: false, at: 4 }));
    expect(selectConnectionStatus(state)).toBe('suspended');

    state = reduce(state, disconnect());
    expect(selectConnectionStatus(state)).toBe('disconnected');
  });

  it('a refused connection is an error', () => {
    const state = reduce(initial(), connect(), socketOpened({ at: 1 }), socketClosed({ code: 4401, reason: 'unauthorized', byClient: false, at: 2 }));
    expect(selectConnectionStatus(state)).toBe('error');
    expect(selectConnection(state).error).toBe('unauthorized');
  });

  it('record the session, the heartbeat and the subscriptions', () => {
    let state = reduce(initial(), connect(), socketOpened({ at: 1 }), subscribeProject('proj-1'), subscribeProject('proj-2'), subscribeProject('proj-1'));
    state = apply(
      state,
      { type: 'session.init', timestamp: TS, session_id: 'sess-1', instance_id: 'backend-1', capabilities: ['seq', 'ack', 'telepathy'] },
      { type: 'system.heartbeat', timestamp: '2025-01-15T10:31:00.000Z' },
    );
    expect(selectConnection(state)).toMatchObject({ sessionReady: true, sessionId: 'sess-1', capabilities: ['seq', 'ack'] });
    expect(selectConnection(state).lastHeartbeatAt).toBe(Date.parse('2025-01-15T10:31:00.000Z'));
    expect(selectSubscriptions(state)).toEqual(['proj-1', 'proj-2']);
    state = reduce(state, unsubscribeProject('proj-1'));
    expect(selectSubscriptions(state)).toEqual(['proj-2']);
  });

  it('report the seq gaps the client saw', () => {
    const state = apply(
      initial(),
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1', seq: 1 },
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1', seq: 2 },
      { type: 'git.commit', timestamp: TS, project_id: 'proj-1', seq: 6 },
    );
    expect(selectSeqGaps(state)).toEqual([expect.objectContaining({ project_id: 'proj-1', from: 3, to: 5, detectedBy: 'client' })]);
  });

  it('the subscriptions array is the same until they change', () => {
    const state = reduce(initial(), subscribeProject('proj-1'));
    const subs = selectSubscriptions(state);
    const after = apply(state, { type: 'system.heartbeat', timestamp: TS }, { type: 'git.commit', timestamp: TS, project_id: 'proj-1' });
    expect(selectSubscriptions(after)).toBe(subs);
  });
});
