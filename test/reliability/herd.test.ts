/**
 * Thundering herd: thousands of canvases lose their gateway at the same instant (a deploy: close
 * 1012; a crash: 1006) and come back. Each client is a real store with the real socket
 * middleware (its reconnect logic and backoffDelay), driven by one shared injected clock and a
 * seeded random per client; the sockets are simulated (no network needed to count attempts).
 * While the gateway is down an attempt fails at once (1006, as a refused connection); once it is
 * back an attempt opens and gets its session reply.
 *
 * Figures: connection attempts per 100 ms and per second at the peak, total attempts, and how
 * long until every client is back, with the default full jitter (1) against no jitter (0).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../server/simulator/random.js';
import { connect, createMemoryStorage, createRealtimeStore, type SocketLike, type WebSocketConstructor } from '../../src/index.js';
import { ManualTimers } from './manualTimers.js';
import { asProduction, report, sized } from './scale.js';

const CLIENTS = sized(2_000, 5_000);
const DOWN_MS = 3_000;
const HORIZON_MS = 90_000;

interface World {
  timers: ManualTimers;
  up: boolean;
  attempts: number[];
  /** When each successful connection opened. */
  opened: number[];
  open: Set<HerdSocket>;
}

class HerdSocket implements SocketLike {
  readyState = 0;
  binaryType = 'arraybuffer';
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(private readonly world: World) {
    world.attempts.push(world.timers.now());
    const up = world.up;
    world.timers.setTimeout(() => (up && world.up ? this.accept() : this.end(1006, 'connection refused')), up ? 5 : 1);
  }

  private accept() {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.world.open.add(this);
    this.world.opened.push(this.world.timers.now());
    this.onopen?.({});
  }

  /** The server side ends the connection. */
  end(code: number, reason: string) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.world.open.delete(this);
    this.onclose?.({ code, reason });
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open');
    const type = (JSON.parse(data) as { type: string }).type;
    const reply =
      type === 'session.init'
        ? { type: 'session.init', session_id: `s-${Math.floor(Math.random() * 1e9)}`, instance_id: 'gw-2', capabilities: ['ack', 'seq', 'replay'] }
        : type === 'ping'
          ? { type: 'system.heartbeat', instance_id: 'gw-2' }
          : undefined;
    if (reply) this.world.timers.setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: JSON.stringify(reply) }), 1);
  }

  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.world.open.delete(this);
  }
}

interface Outcome {
  clients: number;
  jitter: number;
  closeCode: number;
  /** Connection attempts after the gateway went away (while down, and once back). */
  attempts: number;
  peakAttemptsPer1ms: number;
  peakAttemptsPer10ms: number;
  peakAttemptsPer100ms: number;
  peakAttemptsPerSecond: number;
  /** Connections the restarted gateway accepted in its busiest 100 ms / second. */
  peakOpensPer100ms: number;
  peakOpensPerSecond: number;
  allBackAfterMs: number;
  p50BackAfterMs: number;
  p95BackAfterMs: number;
}

/** The most events in one bucket of `ms` (buckets aligned on the clock). */
function peak(times: number[], ms: number): number {
  const buckets = new Map<number, number>();
  let most = 0;
  for (const at of times) {
    const key = Math.floor(at / ms);
    const count = (buckets.get(key) ?? 0) + 1;
    buckets.set(key, count);
    if (count > most) most = count;
  }
  return most;
}

function simulate(jitter: number, closeCode: 1012 | 1006): Outcome {
  return asProduction(() => simulateIn(jitter, closeCode));
}

function simulateIn(jitter: number, closeCode: 1012 | 1006): Outcome {
  const timers = new ManualTimers(0);
  const world: World = { timers, up: true, attempts: [], opened: [], open: new Set() };
  const Ctor = function (this: unknown) {
    return new HerdSocket(world);
  } as unknown as WebSocketConstructor;
  const stores = Array.from({ length: CLIENTS }, (_, i) =>
    createRealtimeStore({
      url: 'ws://herd.test/ws',
      WebSocket: Ctor,
      storage: createMemoryStorage(),
      timers,
      random: seededRandom(1_000 + i),
      browser: null,
      devTools: false,
      backoff: { jitter },
    }),
  );
  try {
    // Everyone connected and settled.
    for (const store of stores) store.dispatch(connect());
    timers.advance(20_000);
    expect(world.open.size).toBe(CLIENTS);
    // The gateway goes away at t0 and is back DOWN_MS later.
    const t0 = timers.now();
    world.attempts = [];
    world.opened = [];
    world.up = false;
    for (const socket of Array.from(world.open)) socket.end(closeCode, closeCode === 1012 ? 'service restart' : '');
    timers.advance(DOWN_MS);
    world.up = true;
    const backAt: number[] = [];
    const pending = new Set(stores);
    for (let elapsed = DOWN_MS; elapsed < HORIZON_MS && pending.size > 0; elapsed += 100) {
      timers.advance(100);
      for (const store of Array.from(pending)) {
        if (store.getState().connection.sessionReady) {
          backAt.push(timers.now() - t0);
          pending.delete(store);
        }
      }
    }
    expect(pending.size, 'clients still not back at the horizon').toBe(0);
    backAt.sort((a, b) => a - b);
    return {
      clients: CLIENTS,
      jitter,
      closeCode,
      attempts: world.attempts.length,
      peakAttemptsPer1ms: peak(world.attempts, 1),
      peakAttemptsPer10ms: peak(world.attempts, 10),
      peakAttemptsPer100ms: peak(world.attempts, 100),
      peakAttemptsPerSecond: peak(world.attempts, 1_000),
      peakOpensPer100ms: peak(world.opened, 100),
      peakOpensPerSecond: peak(world.opened, 1_000),
      allBackAfterMs: backAt[backAt.length - 1]!,
      p50BackAfterMs: backAt[Math.floor(backAt.length / 2)]!,
      p95BackAfterMs: backAt[Math.floor(backAt.length * 0.95)]!,
    };
  } finally {
    for (const store of stores) store.dispose();
  }
}

const outcomes: Outcome[] = [];
afterAll(() => report('thundering-herd', { clients: CLIENTS, gatewayDownMs: DOWN_MS, outcomes }));

describe(`thundering herd: ${CLIENTS} clients reconnecting after the gateway went away`, () => {
  it.each([1012, 1006] as const)('close %i: full jitter spreads the reconnects that no jitter stacks up', (code) => {
    const jittered = simulate(1, code);
    const lockstep = simulate(0, code);
    outcomes.push(jittered, lockstep);
    // Without jitter every client retries in the same millisecond, and the restarted gateway
    // takes them all at once; with full jitter both are spread out.
    expect(lockstep.peakAttemptsPer1ms).toBe(CLIENTS);
    expect(lockstep.peakOpensPer100ms).toBe(CLIENTS);
    expect(jittered.peakAttemptsPer10ms).toBeLessThan(CLIENTS / 10);
    expect(jittered.peakOpensPer100ms).toBeLessThan(CLIENTS / 10);
  });
});
