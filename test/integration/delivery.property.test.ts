/**
 * Property: whatever the faults (sockets terminated -> 1006, closed with 1012, the backend
 * restarted on the same port, an ack lost to a dying socket), every startGeneration /
 * cancelGeneration is executed exactly once by an acking backend, in the order dispatched.
 *
 * Runs against the real loopback backend (test/support/miniGateway.ts, `ws` on 127.0.0.1), not a
 * fake socket pair. Half the runs use a coarse clock (25 ms steps, like a browser with reduced
 * timer precision): ordering must not depend on two events having distinct timestamps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancelGeneration, connect, startGeneration, systemTimers } from '../../src/index.js';
import { createTestStore, MiniGateway, waitForState, type GatewayState } from '../support/miniGateway.js';

type Op =
  | { kind: 'start'; node: number }
  | { kind: 'cancel'; node: number }
  | { kind: 'terminate' }
  | { kind: 'close1012' }
  | { kind: 'restart'; graceful: boolean; downMs: number }
  | { kind: 'loseNextAck' }
  | { kind: 'settle' }
  | { kind: 'pause'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('start' as const), node: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), node: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'terminate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close1012' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('restart' as const), graceful: fc.boolean(), downMs: fc.integer({ min: 0, max: 30 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'loseNextAck' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 15 }) }) },
);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(ops: Op[], clockStepMs: number): Promise<void> {
  const faults = { loseNextAck: false };
  let state: GatewayState | undefined;
  const start = (port?: number) =>
    MiniGateway.start({
      port,
      state,
      heartbeatMs: 50,
      onCommand: (_command, connection) => {
        if (!faults.loseNextAck) return;
        faults.loseNextAck = false;
        connection.terminate();
        return 'no-ack';
      },
    });
  let gw = await start();
  state = gw.state;
  const store = createTestStore(gw.url, {
    backoff: { initialMs: 5, maxMs: 20 },
    timers: { ...systemTimers, now: () => Math.floor(Date.now() / clockStepMs) * clockStepMs },
  });
  const dispatched: string[] = [];
  try {
    store.dispatch(connect());
    for (const op of ops) {
      switch (op.kind) {
        case 'start':
          dispatched.push(store.dispatch(startGeneration({ nodeId: `n${op.node}`, params: { prompt: `shot ${dispatched.length}` } })).payload.commandId);
          break;
        case 'cancel':
          dispatched.push(store.dispatch(cancelGeneration({ nodeId: `n${op.node}` })).payload.commandId);
          break;
        case 'terminate':
          gw.terminate();
          break;
        case 'close1012':
          gw.close(1012);
          break;
        case 'restart': {
          const { port } = gw;
          await gw.stop(op.graceful ? 'restart' : 'terminate');
          if (op.downMs > 0) await delay(op.downMs);
          gw = await start(port);
          break;
        }
        case 'loseNextAck':
          faults.loseNextAck = true;
          break;
        case 'settle':
          await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
          break;
        case 'pause':
          await delay(op.ms);
          break;
      }
    }
    faults.loseNextAck = false;
    await waitForState(
      store,
      (s) => s.connection.sessionReady && s.outbox.entries.length === 0,
      `outbox drained (${store.getState().outbox.entries.length} left)`,
      5_000,
    );
    const executed = gw.state.executed.map((command) => command.command_id);
    expect(executed).toEqual(dispatched);
    expect(store.getState().outbox.delivered).toBe(dispatched.length);
    expect(store.getState().outbox.dropped).toEqual({ overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 });
  } finally {
    store.dispose();
    await gw.stop();
  }
}

describe('delivery under faults (property, real loopback backend)', () => {
  it('every command is executed exactly once, in dispatch order', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.constantFrom(1, 25), run),
      { numRuns: 50 },
    );
  });
});
