/**
 * Chaos with two reference gateways on one Redis (a real redis-server on loopback): the client
 * follows a generation flow through a TCP proxy that moves it from one gateway to the other, and
 * Redis itself is killed and restarted empty (no persistence, as a container without a volume).
 *
 * - Moves: nothing lost, nothing applied twice, every command executed once (the dedupe record
 *   is in Redis, so a command resent to the other gateway is acked `duplicate`), and the final
 *   state equals the fault-free run.
 * - Redis restart: the history, the numbering, the sessions and the command records are gone.
 *   What the client missed must surface as a gap (replay.gap -> sync.gaps) and the client must
 *   resync onto the new numbering: every event published after the restart is applied, once.
 *   What was lost is reported.
 *
 * Sizes: RELIABILITY_SCALE (test/reliability/scale.ts); `npm run test:redis` runs the ci size.
 */
import type { Middleware } from '@reduxjs/toolkit';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRedisBus } from '../../server/bus/redisBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { createGateway, type Gateway } from '../../server/gateway.js';
import { seededRandom } from '../../server/simulator/random.js';
import {
  connect,
  createMemoryStorage,
  disconnect,
  createRealtimeStore,
  replayFrames,
  socketClosed,
  startGeneration,
  subscribeProject,
  type RealtimeState,
} from '../../src/index.js';
import { waitForState } from '../support/miniGateway.js';
import { ChaosProxy } from '../reliability/chaosProxy.js';
import { report, sized } from '../reliability/scale.js';
import { traffic } from '../reliability/traffic.js';
import { RestartableRedis } from './restartableRedis.js';
import { domain } from '../support/domainState.js';

const PROJECT = 'proj-redis';
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning
    }
  }
});


let prefixCount = 0;

/** Redis, a worker bus, two gateways A and B on their own buses, a proxy, a client. */
/**
 * `snapshot: false`: these scenarios count what each client applied of every numbering and check
 * the reset surfaces as a replay.gap, the path of a backend without the snapshot extension. A
 * position a snapshot-serving gateway cannot replay is answered with project.snapshot instead:
 * test/redis/snapshot.test.ts and test/redis/redisBus.test.ts.
 */
async function world() {
  const redis = await RestartableRedis.start();
  cleanups.push(() => redis.dispose());
  const prefix = `chaos${++prefixCount}-${process.pid}:`;
  const bus = async () => {
    const created = await createRedisBus({ url: redis.url, prefix, historyLimit: 1_000_000 });
    cleanups.push(() => created.close());
    return created;
  };
  const worker = await bus();
  const executed = new Map<string, number>();
  const gateways: Gateway[] = [];
  for (const name of ['a', 'b']) {
    const gateway = createGateway({
      bus: await bus(),
      host: '127.0.0.1',
      port: 0,
      instanceId: `gw-${name}`,
      heartbeatMs: 250,
      clientTimeoutMs: 1_500,
      snapshot: false,
      onCommand: (frame) => {
        if (frame.command_id) executed.set(frame.command_id, (executed.get(frame.command_id) ?? 0) + 1);
      },
    });
    await gateway.ready;
    cleanups.push(() => gateway.terminate());
    gateways.push(gateway);
  }
  let target = 0;
  const proxy = await ChaosProxy.start(() => gateways[target]!.port());
  cleanups.push(() => proxy.close());

  const closes: Record<string, number> = {};
  const observe: Middleware = () => (next) => (action) => {
    if (socketClosed.match(action)) closes[action.payload.code] = (closes[action.payload.code] ?? 0) + 1;
    return next(action);
  };
  /** A client on the proxy; its applied events are kept by numbering (a reset gap starts a new one). */
  const addClient = () => {
    const store = createRealtimeStore({
      url: proxy.url,
      WebSocket,
      storage: createMemoryStorage(),
      browser: null,
      autoConnect: false,
      devTools: false,
      backoff: { initialMs: 25, maxMs: 250 },
      heartbeat: { intervalMs: 150, timeoutMs: 1_000 },
      connectTimeoutMs: 2_000,
      sessionReplyTimeoutMs: 5_000,
      queue: { max: 1_000 },
      middleware: [observe],
    });
    cleanups.push(() => store.dispose());
    const epochs: Array<Map<number, number>> = [new Map()];
    const gapFrames: unknown[] = [];
    store.on('*', (frame) => {
      const { seq, project_id: projectId, type } = frame as { seq?: unknown; project_id?: unknown; type: string };
      if (projectId !== PROJECT) return;
      if (type === 'replay.gap') {
        gapFrames.push(frame);
        // Every gap here is a reset (the history is never trimmed): a new numbering from to_seq on.
        epochs.push(new Map());
        return;
      }
      if (typeof seq === 'number') {
        const current = epochs[epochs.length - 1]!;
        current.set(seq, (current.get(seq) ?? 0) + 1);
      }
    });
    const start = async () => {
      store.dispatch(subscribeProject(PROJECT));
      store.dispatch(connect());
      await waitForState(store, (s) => s.connection.sessionReady, 'first session', 20_000);
      for (let i = 0; i < 500; i++) {
        const session = await worker.getSession(store.getState().sync.sessionId ?? '');
        if (session?.subscriptions.includes(PROJECT)) return;
        await delay(10);
      }
      throw new Error('the gateway never recorded the subscription');
    };
    return { store, epochs, gapFrames, start };
  };
  const main = addClient();

  /** Moves the client to the other gateway: the proxy's target changes and the link drops. */
  const move = () => {
    target = 1 - target;
    proxy.dropAll();
    return gateways[target]!.instanceId;
  };
  return { redis, worker, gateways, proxy, executed, closes, addClient, store: main.store, epochs: main.epochs, gapFrames: main.gapFrames, start: main.start, move };
}

async function publishAll(worker: EventBus, events: Array<Record<string, unknown> & { type: string }>, durationMs: number, onTick?: (i: number) => Promise<void> | void) {
  const startedAt = Date.now();
  const perTick = Math.max(1, Math.ceil(events.length / (durationMs / 20)));
  let failed = 0;
  const seqs: number[] = [];
  for (let i = 0; i < events.length; i += perTick) {
    const results = await Promise.allSettled(events.slice(i, i + perTick).map((event) => worker.publish(PROJECT, event)));
    for (const result of results) {
      if (result.status === 'fulfilled') seqs.push(result.value.seq);
      else failed++;
    }
    await onTick?.(i);
    await delay(Math.max(0, startedAt + ((i + perTick) / events.length) * durationMs - Date.now()));
  }
  return { failed, seqs };
}

describe('chaos on Redis: two gateways, the client moved between them, Redis restarted', () => {
  it('moves between gateways: nothing lost or applied twice, commands executed once, the fault-free state', { timeout: 300_000 }, async () => {
    const SIZE = { events: sized(3_000, 10_000), moves: sized(12, 30), commands: sized(60, 200), durationMs: sized(12_000, 30_000) };
    const w = await world();
    const random = seededRandom(0x4ed15);
    const events = traffic({ events: SIZE.events, seed: 11 });
    await w.start();

    const moveAt = Array.from({ length: SIZE.moves }, () => Math.floor(random() * SIZE.events)).sort((a, b) => a - b);
    const moves: string[] = [];
    const dispatched: string[] = [];
    const user = (async () => {
      for (let i = 0; i < SIZE.commands; i++) {
        dispatched.push(w.store.dispatch(startGeneration({ nodeId: `cmd-node-${i}`, params: { prompt: `take ${i}` }, projectId: PROJECT })).payload.commandId);
        await delay(SIZE.durationMs / SIZE.commands);
      }
    })();
    await publishAll(w.worker, events, SIZE.durationMs, async (i) => {
      while (moveAt.length > 0 && moveAt[0]! <= i) {
        moveAt.shift();
        // A move needs a link to move: wait (bounded) until the client is on one.
        for (let k = 0; k < 250 && !(w.store.getState().connection.sessionReady && w.proxy.liveCount() > 0); k++) await delay(20);
        moves.push(w.move());
      }
    });
    await user;
    const lastSeq = await w.worker.lastSeq(PROJECT);
    await waitForState(w.store, (s) => s.sync.lastSeq[PROJECT] === lastSeq && s.outbox.entries.length === 0 && s.connection.sessionReady, 'caught up', 60_000);

    const state = w.store.getState();
    const applied = w.epochs[0]!;
    const lost = Array.from({ length: lastSeq }, (_, i) => i + 1).filter((seq) => !applied.has(seq));
    const twice = Array.from(applied).filter(([, n]) => n > 1).map(([seq]) => seq);
    const history = (await w.worker.history(PROJECT, 0, 1_000_000)).events.map((event) => event.frame);
    const sameState = JSON.stringify(domain(state)) === JSON.stringify(domain(replayFrames(history)));
    const figures = {
      eventsPublished: lastSeq,
      eventsApplied: applied.size,
      eventsLost: lost.length,
      eventsAppliedTwice: twice.length,
      gaps: state.sync.gaps.length,
      moves: moves.length,
      movesTo: { 'gw-a': moves.filter((m) => m === 'gw-a').length, 'gw-b': moves.filter((m) => m === 'gw-b').length },
      commandsDispatched: dispatched.length,
      commandsExecutedOnce: dispatched.filter((id) => w.executed.get(id) === 1).length,
      commandsExecutedTwice: dispatched.filter((id) => (w.executed.get(id) ?? 0) > 1).length,
      commandsLost: dispatched.filter((id) => !w.executed.has(id)).length,
      outboxDropped: state.outbox.dropped,
      finalStateEqualsFaultFree: sameState,
      closeCodes: w.closes,
    };
    report('chaos-redis-moves', figures);
    expect(moves.length).toBe(SIZE.moves);
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(state.sync.gaps).toEqual([]);
    expect(figures.commandsLost).toBe(0);
    expect(figures.commandsExecutedTwice).toBe(0);
    expect(domain(state)).toEqual(domain(replayFrames(history)));
  });

  it('Redis killed and restarted empty: the loss surfaces as a gap, the clients resync onto the new numbering, nothing after it is lost or doubled', { timeout: 300_000 }, async () => {
    const SIZE = { before: sized(1_500, 5_000), after: sized(2_500, 8_000), durationMs: sized(5_000, 15_000) };
    const w = await world();
    const events = traffic({ events: SIZE.before + SIZE.after, seed: 13 });
    await w.start();
    // A second canvas, closed (tab asleep, laptop lid shut) while Redis restarts.
    const away = w.addClient();
    await away.start();

    // The old numbering: the first events, both clients on gateway A.
    const first = await publishAll(w.worker, events.slice(0, SIZE.before), SIZE.durationMs);
    const oldLast = await w.worker.lastSeq(PROJECT);
    await waitForState(w.store, (s) => s.sync.lastSeq[PROJECT] === oldLast, 'the old numbering applied', 30_000);
    await waitForState(away.store, (s) => s.sync.lastSeq[PROJECT] === oldLast, 'the old numbering applied (away)', 30_000);
    away.store.dispatch(disconnect({ forgetSession: false }));

    // Redis dies while the worker keeps publishing (node-redis queues what it cannot send yet), and
    // comes back empty.
    const crashAt = Date.now();
    const during = publishAll(w.worker, events.slice(SIZE.before, SIZE.before + 100), 1_000);
    await delay(50);
    await w.redis.stop('SIGKILL');
    await delay(500);
    await w.redis.run();
    const crash = await during;
    // The rest of the flow on the new numbering, with the first client moved to the other gateway;
    // the second client comes back once the new numbering is past where it was.
    const rest = await publishAll(w.worker, events.slice(SIZE.before + 100), SIZE.durationMs, async (i) => {
      if (i === 0) w.move();
    });
    const seqs = [...first.seqs, ...crash.seqs, ...rest.seqs];
    const restartIndex = seqs.findIndex((seq, i) => i > 0 && seq < seqs[i - 1]!);
    const oldPublished = Math.max(...seqs.slice(0, restartIndex));
    away.store.dispatch(connect());
    const newLast = await w.worker.lastSeq(PROJECT);
    expect(newLast).toBeGreaterThan(oldPublished);
    // Events after the away client's return.
    const tail = traffic({ events: 200, seed: 17 });
    await publishAll(w.worker, tail, 500);
    const finalLast = await w.worker.lastSeq(PROJECT);

    let caughtUp = true;
    try {
      await waitForState(w.store, (s) => s.sync.lastSeq[PROJECT] === finalLast && s.connection.sessionReady, 'resynced onto the new numbering', 30_000);
      await waitForState(away.store, (s) => s.sync.lastSeq[PROJECT] === finalLast && s.connection.sessionReady, 'the away client resynced', 30_000);
    } catch {
      caughtUp = false;
    }
    const summarize = (client: { store: typeof w.store; epochs: Array<Map<number, number>>; gapFrames: unknown[] }, expectedNew: number[]) => {
      const oldApplied = client.epochs[0]!;
      const newApplied = client.epochs.length > 1 ? client.epochs[client.epochs.length - 1]! : new Map<number, number>();
      return {
        oldNumbering: { published: oldPublished, applied: oldApplied.size, lost: oldPublished - oldApplied.size },
        newNumbering: {
          published: finalLast,
          applied: newApplied.size,
          // Published on the new numbering before this client was moved onto it: inside the reported gap.
          insideTheGap: finalLast - expectedNew.length,
          lostAfterTheGap: expectedNew.filter((seq) => !newApplied.has(seq)).length,
        },
        appliedTwice: client.epochs.flatMap((epoch) => Array.from(epoch).filter(([, n]) => n > 1)).length,
        numberings: client.epochs.length,
        gaps: client.store.getState().sync.gaps.map(({ from, to, detectedBy }) => ({ from, to, detectedBy })),
      };
    };
    const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
    // Each client gets every event after its gap. The reset gap moves a client to the new
    // numbering's current seq (docs/PROTOCOL.md, replay.gap): what was published on it before
    // is inside the gap, reported, not replayed.
    const after = (client: { store: typeof w.store }) => range((client.store.getState().sync.gaps.at(-1)?.to ?? 0) + 1, finalLast);
    const connectedFigures = summarize(w, after(w));
    const awayFigures = summarize(away, after(away));
    const figures = {
      publishesFailedDuringOutage: crash.failed,
      redisDownMs: 500,
      connectedClient: connectedFigures,
      awayClient: awayFigures,
      caughtUp,
      redisStarts: w.redis.starts,
      elapsedSinceCrashMs: Date.now() - crashAt,
      closeCodes: w.closes,
    };
    report('chaos-redis-restart', figures);
    expect(caughtUp, 'both clients resynced onto the new numbering').toBe(true);
    for (const client of [connectedFigures, awayFigures]) {
      expect(client.gaps.length, 'the reset is reported as a gap').toBeGreaterThan(0);
      expect(client.gaps.every((gap) => gap.detectedBy === 'server')).toBe(true);
      expect(client.newNumbering.lostAfterTheGap).toBe(0);
      expect(client.appliedTwice).toBe(0);
    }
  });
});
