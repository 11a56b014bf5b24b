import { describe, expect, it } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import { replayFrames } from '../../src/replay/index.js';
import {
  connect,
  connectionStabilized,
  disconnect,
  ingestFrame,
  initialConnectionState,
  networkCameOnline,
  networkWentOffline,
  realtimeReducer,
  reconnectScheduled,
  shutdownOutlived,
  socketClosed,
  socketFailed,
  socketOpened,
  socketOpening,
  type ConnectionState,
  type ConnectionStatus,
  type RealtimeState,
} from '../../src/slices/index.js';
import { fixtureFrames, initialState, readFixture } from '../support/fixtures.js';

const URL = 'wss://canvas.example.com/ws';
const T = Date.parse('2026-03-02T14:00:00.000Z');

/** A frame as the socket middleware would dispatch it, received at `at`. */
function frame(value: object, at: number): UnknownAction {
  return ingestFrame(value, at).action as UnknownAction;
}

const sessionInit = (instance_id: string | undefined, at: number, type = 'session.init') =>
  frame({ type, session_id: 'sess-1', ...(instance_id ? { instance_id } : {}), capabilities: ['ack', 'seq'] }, at);

const closed = (code: number, at: number, reason = '', byClient = false) => socketClosed({ code, reason, byClient, at });

function run(actions: UnknownAction[], state: RealtimeState = initialState()): { state: RealtimeState; statuses: ConnectionStatus[] } {
  const statuses: ConnectionStatus[] = [];
  for (const action of actions) {
    state = realtimeReducer(state, action);
    statuses.push(state.connection.status);
  }
  return { state, statuses };
}

/** An open connection with a ready session, as after a normal start. */
function connected(): RealtimeState {
  return run([connect({ url: URL }), socketOpening({ url: URL, at: T }), socketOpened({ at: T + 50 }), sessionInit('backend-a', T + 80)]).state;
}

function conn(state: RealtimeState): ConnectionState {
  return state.connection;
}

describe('connection slice', () => {
  it('starts disconnected, not wanted, with no session', () => {
    expect(conn(initialState())).toEqual(initialConnectionState);
    expect(initialConnectionState).toMatchObject({ status: 'disconnected', wanted: false, reconnectAttempts: 0, sessionReady: false, capabilities: [], offline: false });
  });

  describe('connecting', () => {
    it('connect(): disconnected -> connecting, wanted, with the URL', () => {
      const state = realtimeReducer(initialState(), connect({ url: URL }));
      expect(conn(state)).toMatchObject({ status: 'connecting', wanted: true, url: URL, reconnectAttempts: 0 });
    });

    it('connect() from error clears the error and the attempts', () => {
      const { state } = run([connect(), socketOpening({ url: URL, at: T }), reconnectScheduled({ delayMs: 500, at: T }), socketFailed({ error: 'bad URL', at: T + 1 }), connect()]);
      expect(conn(state)).toMatchObject({ status: 'connecting', wanted: true, reconnectAttempts: 0 });
      expect(conn(state).error).toBeUndefined();
    });

    it('connect() while connected changes nothing but wanting it', () => {
      const before = connected();
      const after = realtimeReducer(before, connect());
      expect(conn(after)).toEqual(conn(before));
    });

    it('socketOpening: disconnected -> connecting, and records the URL', () => {
      const state = realtimeReducer(initialState(), socketOpening({ url: URL, at: T }));
      expect(conn(state)).toMatchObject({ status: 'connecting', url: URL });
    });

    it('socketOpened: connecting -> connected, the session not ready until the backend answers', () => {
      const { state } = run([connect({ url: URL }), socketOpening({ url: URL, at: T }), socketOpened({ at: T + 50 })]);
      expect(conn(state)).toMatchObject({ status: 'connected', connectedAt: T + 50, lastHeartbeatAt: T + 50, sessionReady: false });
    });

    it('session.init makes the session ready with its id, instance and capabilities', () => {
      const state = connected();
      expect(conn(state)).toMatchObject({ status: 'connected', sessionReady: true, sessionId: 'sess-1', instanceId: 'backend-a', capabilities: ['ack', 'seq'] });
      expect(conn(state).restartDetectedAt).toBeUndefined();
    });

    it('a heartbeat records its receive time', () => {
      const state = realtimeReducer(connected(), frame({ type: 'system.heartbeat', server_time: T + 900 }, T + 1000));
      expect(conn(state).lastHeartbeatAt).toBe(T + 1000);
    });
  });

  describe('socket closed', () => {
    it.each([
      [1000, 'reconnecting', true],
      [1001, 'suspended', true],
      [1006, 'reconnecting', true],
      [1008, 'error', false],
      [1012, 'suspended', true],
      [4401, 'error', false],
      [4429, 'reconnecting', true],
    ] as const)('close %i while connected -> %s', (code, status, wanted) => {
      const state = realtimeReducer(connected(), closed(code, T + 5000, code === 4401 ? 'unauthorized' : ''));
      expect(conn(state)).toMatchObject({ status, wanted, sessionReady: false, lastClose: { code, reason: code === 4401 ? 'unauthorized' : '', at: T + 5000 } });
      expect(conn(state).connectedAt).toBeUndefined();
    });

    it('a fatal close explains itself: the reason, else the code', () => {
      expect(conn(realtimeReducer(connected(), closed(4401, T, 'token expired'))).error).toBe('token expired');
      expect(conn(realtimeReducer(connected(), closed(1008, T))).error).toBe('connection refused (close code 1008)');
    });

    it('a restart close records why the connection is suspended', () => {
      expect(conn(realtimeReducer(connected(), closed(1012, T, 'deploy'))).suspendedReason).toBe('deploy');
      expect(conn(realtimeReducer(connected(), closed(1001, T))).suspendedReason).toBe('server restarting');
    });

    it('a retry keeps saying reconnecting: no flicker through connecting', () => {
      const { state, statuses } = run(
        [
          closed(1006, T + 1000),
          reconnectScheduled({ delayMs: 500, at: T + 1000 }),
          socketOpening({ url: URL, at: T + 1500 }),
          closed(1006, T + 1600),
          reconnectScheduled({ delayMs: 1000, at: T + 1600 }),
          socketOpening({ url: URL, at: T + 2600 }),
          socketOpened({ at: T + 2700 }),
        ],
        connected(),
      );
      expect(statuses).toEqual(['reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'connected']);
      expect(conn(state)).toMatchObject({ status: 'connected', reconnectAttempts: 2, connectedAt: T + 2700 });
      expect(conn(state).nextRetryAt).toBeUndefined();
    });

    it('a failed attempt while suspended stays suspended until the backend is back', () => {
      const { statuses, state } = run(
        [
          frame({ type: 'system.shutdown', reason: 'deploy', restart_in_ms: 3000 }, T + 1000),
          closed(1001, T + 1100, 'going away'),
          reconnectScheduled({ delayMs: 200, at: T + 1100 }),
          socketOpening({ url: URL, at: T + 1300 }),
          closed(1006, T + 1350),
          reconnectScheduled({ delayMs: 400, at: T + 1350 }),
          socketOpening({ url: URL, at: T + 1750 }),
          socketOpened({ at: T + 1800 }),
        ],
        connected(),
      );
      expect(statuses).toEqual(['suspended', 'suspended', 'suspended', 'suspended', 'suspended', 'suspended', 'suspended', 'connected']);
      expect(conn(state).suspendedReason).toBeUndefined();
    });
  });

  describe('disconnect', () => {
    it('disconnect(): any -> disconnected, not wanted, no retry pending', () => {
      const { state } = run([closed(1006, T + 1000), reconnectScheduled({ delayMs: 500, at: T + 1000 }), disconnect()], connected());
      expect(conn(state)).toMatchObject({ status: 'disconnected', wanted: false, sessionReady: false });
      expect(conn(state).nextRetryAt).toBeUndefined();
      expect(conn(state).error).toBeUndefined();
    });

    it.each([1000, 1001, 1006, 1008, 1012, 4401, 4429])('an explicit disconnect stays disconnected when the socket then closes with %i', (code) => {
      const { statuses, state } = run([disconnect(), closed(code, T + 2000, '', code === 1000)], connected());
      expect(statuses).toEqual(['disconnected', 'disconnected']);
      expect(conn(state)).toMatchObject({ wanted: false, lastClose: { code } });
      expect(conn(state).error).toBeUndefined();
    });

    it('a shutdown announcement does not suspend a connection nobody wants', () => {
      const { state } = run([disconnect(), frame({ type: 'system.shutdown', reason: 'deploy' }, T + 3000)], connected());
      expect(conn(state).status).toBe('disconnected');
    });
  });

  describe('errors and retries', () => {
    it('socketFailed: -> error, not wanted, with the error', () => {
      const state = realtimeReducer(realtimeReducer(initialState(), connect({ url: 'ws://bad host' })), socketFailed({ error: 'Invalid URL', at: T }));
      expect(conn(state)).toMatchObject({ status: 'error', wanted: false, error: 'Invalid URL', sessionReady: false });
    });

    it('reconnectScheduled counts the attempt and when it will happen', () => {
      const { state } = run([closed(1006, T), reconnectScheduled({ delayMs: 750, at: T + 10 }), reconnectScheduled({ delayMs: 1500, at: T + 800 })], connected());
      expect(conn(state)).toMatchObject({ status: 'reconnecting', reconnectAttempts: 2, nextRetryAt: T + 2300 });
    });

    it('connectionStabilized resets the attempts', () => {
      const { state } = run([closed(1006, T), reconnectScheduled({ delayMs: 500, at: T }), socketOpening({ url: URL, at: T + 500 }), socketOpened({ at: T + 600 }), connectionStabilized({ at: T + 10_600 })], connected());
      expect(conn(state)).toMatchObject({ status: 'connected', reconnectAttempts: 0 });
    });

    it('shutdownAnnounced: connected -> suspended with the reason', () => {
      const state = realtimeReducer(connected(), frame({ type: 'system.shutdown', reason: 'container restart', restart_in_ms: 5000 }, T + 100));
      expect(conn(state)).toMatchObject({ status: 'suspended', suspendedReason: 'container restart', wanted: true });
    });

    it('shutdownOutlived: suspended on a socket still open -> connected; after the close it changes nothing', () => {
      const announced = realtimeReducer(connected(), frame({ type: 'system.shutdown', reason: 'deploy' }, T + 100));
      expect(conn(realtimeReducer(announced, shutdownOutlived({ at: T + 200, after: 'frame' })))).toMatchObject({ status: 'connected', suspendedReason: undefined });
      const closedAfter = realtimeReducer(announced, closed(1012, T + 150, 'restart'));
      expect(realtimeReducer(closedAfter, shutdownOutlived({ at: T + 200, after: 'grace' }))).toBe(closedAfter);
      expect(realtimeReducer(connected(), shutdownOutlived({ at: T + 200, after: 'grace' })).connection.status).toBe('connected');
    });

    it('offline and online are recorded', () => {
      const offline = realtimeReducer(connected(), networkWentOffline({ at: T }));
      expect(conn(offline).offline).toBe(true);
      expect(conn(realtimeReducer(offline, networkCameOnline({ at: T + 1 }))).offline).toBe(false);
    });
  });

  describe('backend restarts', () => {
    it('session.init with a changed instance_id after a reconnect sets restartDetectedAt', () => {
      const { state } = run(
        [closed(1012, T + 1000, 'restart'), socketOpening({ url: URL, at: T + 1200 }), socketOpened({ at: T + 1300 }), sessionInit('backend-b', T + 1350)],
        connected(),
      );
      expect(conn(state)).toMatchObject({ status: 'connected', sessionReady: true, instanceId: 'backend-b', restartDetectedAt: T + 1350 });
    });

    it('the same instance_id, or none, is not a restart', () => {
      const same = run([closed(1006, T + 1000), socketOpened({ at: T + 1300 }), sessionInit('backend-a', T + 1350)], connected()).state;
      expect(conn(same).restartDetectedAt).toBeUndefined();
      const none = run([closed(1006, T + 1000), socketOpened({ at: T + 1300 }), sessionInit(undefined, T + 1350)], connected()).state;
      expect(conn(none).restartDetectedAt).toBeUndefined();
      expect(conn(none).instanceId).toBe('backend-a');
    });

    it('session.restored with a changed instance_id is a restart too', () => {
      const { state } = run([closed(1006, T + 1000), socketOpened({ at: T + 1300 }), sessionInit('backend-c', T + 1400, 'session.restored')], connected());
      expect(conn(state)).toMatchObject({ instanceId: 'backend-c', restartDetectedAt: T + 1400, sessionReady: true });
    });

    it('the first instance id seen is not a restart', () => {
      expect(conn(connected()).restartDetectedAt).toBeUndefined();
    });
  });

  it('fixtures: session and heartbeat times come from the frame timestamps', () => {
    const state = replayFrames(readFixture('generation-success'));
    const beats = fixtureFrames('generation-success').filter((f) => f.type === 'system.heartbeat');
    expect(conn(state)).toMatchObject({ sessionReady: true, sessionId: 'ws-1772460300000-k3j9x2m1q', instanceId: 'backend-3f9c2a1b', capabilities: ['ack', 'seq', 'replay'] });
    expect(conn(state).lastHeartbeatAt).toBe(Date.parse(beats[beats.length - 1]!.timestamp!));
  });

  it('is pure: the same actions give deep-equal states', () => {
    const actions = [connect({ url: URL }), socketOpening({ url: URL, at: T }), socketOpened({ at: T + 1 }), sessionInit('backend-a', T + 2), closed(1012, T + 3), reconnectScheduled({ delayMs: 100, at: T + 3 })];
    expect(run(actions).state.connection).toEqual(run(actions).state.connection);
  });
});
