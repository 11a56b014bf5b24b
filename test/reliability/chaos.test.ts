/**
 * Chaos against the reference gateway (server/gateway.ts), loopback only.
 *
 * A generation flow (the long-session traffic mix, test/reliability/traffic.ts) is published
 * onto the bus by the test, so the expected set of events is known exactly, while the client
 * (createRealtimeStore with the `ws` WebSocket) follows it through a TCP proxy and sends
 * start_generation commands. Meanwhile the link is broken at random, in every way a deployment
 * breaks it:
 *
 * - drop:      every connection reset at the proxy (the client sees 1006);
 * - kill:      the gateway, in a child process, killed with SIGKILL and restarted on its port;
 * - crash:     the in-process gateway terminated (every socket cut, server closed), restarted;
 * - graceful:  the gateway restarted gracefully (system.shutdown, close 1012);
 * - half-open: the connection goes silent both ways but stays open (heartbeat timeout, 4000);
 * - slow:      every chunk delayed 50-250 ms for a while.
 *
 * The bus (here in memory, in the test process) outlives every gateway, as Redis and the workers
 * would. Figures: events lost, applied twice, commands lost / executed twice, final state versus
 * the fault-free run (the same events replayed through replayFrames), faults by kind.
 */
import type { Middleware } from '@reduxjs/toolkit';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { seededRandom } from '../../server/simulator/random.js';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  replayFrames,
  socketClosed,
  socketOpened,
  startGeneration,
  subscribeProject,
  type RealtimeState,
} from '../../src/index.js';
import { waitForState } from '../support/miniGateway.js';
import { ChaosProxy } from './chaosProxy.js';
import { startChild, startInProcess, type HostedGateway, type HostOptions } from './gatewayHost.js';
import { report, sized } from './scale.js';
import { traffic } from './traffic.js';
import { domain } from '../support/domainState.js';
import { getEntity } from '../../src/slices/table.js';

const SIZE = {
  events: sized(10_000, 10_000),
  faults: sized(24, 30),
  commands: sized(120, 300),
  /** How long publishing lasts: the faults are spread over it. */
  durationMs: sized(25_000, 40_000),
};

const PROJECT = 'proj-chaos';
const KINDS = ['drop', 'kill', 'crash', 'graceful', 'half-open', 'slow'] as const;
type FaultKind = (typeof KINDS)[number];

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Drops receive times (they differ between the live and the replayed run) and `stale`. */

/** Which fault comes next, shuffled so that each kind comes up as often as the others. */
function planFaults(count: number, random: () => number): FaultKind[] {
  const plan: FaultKind[] = [];
  for (let i = 0; i < count; i++) plan.push(KINDS[i % KINDS.length]!);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('chaos: a generation flow through a broken link, reference gateway on a memory bus', () => {
  it(`${SIZE.events} events, ${SIZE.faults} faults: nothing lost, nothing applied twice, every command executed once, the fault-free state`, async () => {
    const random = seededRandom(0xc4a05);
    const events = traffic({ events: SIZE.events, seed: 7 });
    const bus = createMemoryBus({ historyLimit: 1_000_000 });

    // Command bookkeeping: claimed (dedupe record written) and executed (onCommand ran).
    const claimed = new Set<string>();
    const executed = new Map<string, number>();
    const trackedBus: EventBus = {
      ...bus,
      async claimCommand(commandId, ttlMs) {
        const first = await bus.claimCommand(commandId, ttlMs);
        if (first) claimed.add(commandId);
        return first;
      },
    };

    // The gateway: in this process, or in a child process when the next restart fault is a kill.
    const faults = planFaults(SIZE.faults, random);
    let gatewayNumber = 0;
    let port = 0;
    const hostOptions = (): HostOptions => ({
      bus: trackedBus,
      port,
      instanceId: `gw-${++gatewayNumber}`,
      heartbeatMs: 250,
      clientTimeoutMs: 1_500,
      onCommand: (frame) => {
        if (frame.command_id) executed.set(frame.command_id, (executed.get(frame.command_id) ?? 0) + 1);
      },
    });
    const startGateway = async (faultIndex: number): Promise<HostedGateway> => {
      const nextRestart = faults.slice(faultIndex).find((kind) => kind === 'kill' || kind === 'crash' || kind === 'graceful');
      const started = nextRestart === 'kill' ? await startChild(hostOptions()) : await startInProcess(hostOptions());
      port = started.port;
      return started;
    };
    let gateway = await startGateway(0);
    cleanups.push(() => gateway.stop('kill'));
    const proxy = await ChaosProxy.start(() => port);
    cleanups.push(() => proxy.close());

    // The client, with short timers so that a half-open link is given up within a second.
    const closes: Record<string, number> = {};
    let opens = 0;
    const observe: Middleware = () => (next) => (action) => {
      if (socketClosed.match(action)) closes[action.payload.code] = (closes[action.payload.code] ?? 0) + 1;
      if (socketOpened.match(action)) opens++;
      return next(action);
    };
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
      stableAfterMs: 2_000,
      queue: { max: 1_000 },
      middleware: [observe],
    });
    cleanups.push(() => store.dispose());
    const applied = new Map<number, number>();
    store.on('*', (frame) => {
      const { seq, project_id: projectId } = frame as { seq?: unknown; project_id?: unknown };
      if (projectId === PROJECT && typeof seq === 'number') applied.set(seq, (applied.get(seq) ?? 0) + 1);
    });
    store.dispatch(subscribeProject(PROJECT));
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'first session', 20_000);
    // The first subscription starts "from now": publish once the gateway recorded it.
    for (let i = 0; i < 500; i++) {
      const session = await bus.getSession(store.getState().sync.sessionId ?? '');
      if (session?.subscriptions.includes(PROJECT)) break;
      await delay(10);
    }
    await bus.publish(PROJECT, events[0]!);
    await waitForState(store, (s) => s.sync.lastSeq[PROJECT] === 1, 'the first event', 20_000);

    const startedAt = Date.now();
    const done = { publishing: false };
    const faultLog: Array<{ kind: FaultKind; atMs: number; detail: string }> = [];

    // Publisher: the events spread evenly over the duration, in small bursts.
    const publisher = (async () => {
      const perTick = Math.max(1, Math.ceil(events.length / (SIZE.durationMs / 20)));
      for (let i = 1; i < events.length; i += perTick) {
        for (const event of events.slice(i, i + perTick)) await bus.publish(PROJECT, event);
        const due = startedAt + (i / events.length) * SIZE.durationMs;
        await delay(Math.max(0, due - Date.now()));
      }
      done.publishing = true;
    })();

    // The user: start_generation commands spread over the same time.
    const dispatched: string[] = [];
    const user = (async () => {
      for (let i = 0; i < SIZE.commands; i++) {
        const action = store.dispatch(startGeneration({ nodeId: `cmd-node-${i}`, params: { prompt: `take ${i}`, steps: 20 }, projectId: PROJECT }));
        dispatched.push(action.payload.commandId);
        await delay(SIZE.durationMs / SIZE.commands);
      }
    })();

    // Chaos monkey: faults at random times, one after another.
    const times = faults.map(() => random() * SIZE.durationMs * 0.95).sort((a, b) => a - b);
    for (let index = 0; index < faults.length; index++) {
      await delay(Math.max(0, startedAt + times[index]! - Date.now()));
      const kind = faults[index]!;
      // A link fault needs a link: wait (bounded) until the client is back on one.
      if (kind === 'drop' || kind === 'half-open' || kind === 'slow') {
        for (let i = 0; i < 250 && !(store.getState().connection.sessionReady && proxy.liveCount() > 0); i++) await delay(20);
      }
      const atMs = Date.now() - startedAt;
      let detail = '';
      switch (kind) {
        case 'drop':
          detail = `${proxy.dropAll()} connection(s) reset`;
          break;
        case 'half-open':
          detail = `${proxy.halfOpen()} connection(s) frozen`;
          break;
        case 'slow': {
          const ms = 50 + Math.floor(random() * 200);
          const forMs = 500 + Math.floor(random() * 1_000);
          proxy.slow(ms);
          await delay(forMs);
          proxy.fast();
          detail = `${ms} ms per chunk for ${forMs} ms`;
          break;
        }
        case 'kill':
        case 'crash':
        case 'graceful': {
          const old = gateway;
          await old.stop(kind === 'graceful' ? 'graceful' : 'kill');
          const downMs = Math.floor(random() * 300);
          await delay(downMs);
          gateway = await startGateway(index + 1);
          detail = `${old.kind} ${old.instanceId} ${kind === 'kill' ? 'SIGKILL' : kind === 'crash' ? 'terminated' : 'shutdown (1012)'}, down ${downMs} ms, back as ${gateway.kind} ${gateway.instanceId}`;
          break;
        }
      }
      faultLog.push({ kind, atMs, detail });
    }
    await publisher;
    await user;
    const publishedMs = Date.now() - startedAt;

    // Heal, then wait for the client to catch up (bounded).
    proxy.fast();
    const lastSeq = await bus.lastSeq(PROJECT);
    let caughtUp = true;
    try {
      await waitForState(
        store,
        (s) => s.sync.lastSeq[PROJECT] === lastSeq && s.outbox.entries.length === 0 && s.connection.sessionReady,
        'client caught up',
        60_000,
      );
    } catch {
      caughtUp = false;
    }
    // Half-open links left zombies on the gateway: it must find out and drop them (bounded wait).
    for (let i = 0; i < 250 && (gateway.clientCount() ?? 1) > 1; i++) await delay(20);
    // Commands acked may still be on their way to onCommand (a child's IPC): settle briefly.
    for (let i = 0; i < 50 && dispatched.some((id) => !executed.has(id) && claimed.has(id)); i++) await delay(20);

    const state = store.getState();
    const history = (await bus.history(PROJECT, 0, 1_000_000)).events.map((event) => event.frame);
    const faultFree = replayFrames(history);
    const sameState = JSON.stringify(domain(state)) === JSON.stringify(domain(faultFree));

    const lost: number[] = [];
    for (let seq = 1; seq <= lastSeq; seq++) if (!applied.has(seq)) lost.push(seq);
    const twice = Array.from(applied).filter(([, count]) => count > 1).map(([seq]) => seq);
    const executedTwice = dispatched.filter((id) => (executed.get(id) ?? 0) > 1);
    const commandsLost = dispatched.filter((id) => !executed.has(id));
    const claimedNotExecuted = dispatched.filter((id) => claimed.has(id) && !executed.has(id));
    const byKind: Record<string, number> = {};
    for (const fault of faultLog) byKind[fault.kind] = (byKind[fault.kind] ?? 0) + 1;

    const figures = {
      eventsPublished: lastSeq,
      eventsApplied: applied.size,
      eventsLost: lost.length,
      eventsAppliedTwice: twice.length,
      duplicatesDroppedByClient: state.frames.duplicatesDropped,
      gapsRecorded: state.sync.gaps.length,
      rejectedFrames: state.frames.rejected.total,
      commandsDispatched: dispatched.length,
      commandsExecutedOnce: dispatched.filter((id) => executed.get(id) === 1).length,
      commandsExecutedTwice: executedTwice.length,
      commandsLost: commandsLost.length,
      commandsClaimedButNotExecuted: claimedNotExecuted.length,
      outbox: { left: state.outbox.entries.length, delivered: state.outbox.delivered, dropped: state.outbox.dropped },
      finalStateEqualsFaultFree: sameState,
      staleNodesLeft: state.nodes.ids.filter((id) => getEntity(state.nodes, id)?.stale).length,
      faults: faultLog.length,
      faultsByKind: byKind,
      socketsOpened: opens,
      closeCodes: closes,
      gatewaysStarted: gatewayNumber,
      proxyConnections: proxy.accepted,
      gatewayClientsAtEnd: gateway.clientCount() ?? 'n/a (child process)',
      publishMs: publishedMs,
      caughtUp,
      faultLog,
    };
    report('chaos-memory-bus', figures);

    expect(caughtUp, 'the client caught up with the bus and drained its outbox').toBe(true);
    expect(faultLog.length).toBeGreaterThanOrEqual(SIZE.faults);
    for (const kind of KINDS) expect(byKind[kind], kind).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(state.sync.gaps).toEqual([]);
    expect(commandsLost).toEqual([]);
    expect(executedTwice).toEqual([]);
    expect(state.outbox.dropped).toEqual({ overflow: 0, expired: 0, invalid: 0, rejected: 0, discarded: 0 });
    expect(domain(state)).toEqual(domain(faultFree));
    // The gateway dropped the half-open links' zombies (in-process gateway only: it can count).
    if (gateway.kind === 'in-process') expect(gateway.clientCount()).toBe(1);
  });
});
