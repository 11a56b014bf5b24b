/**
 * Soak: a long session through the full live path (createRealtimeStore, the socket middleware,
 * a fake WebSocket delivering bursts, injected timers), with the long-session traffic mix
 * (test/reliability/traffic.ts) numbered per project, server heartbeats, and the user's commands
 * acked by the "server". Heap (after a full GC) and state size are sampled over time.
 *
 * Then 1,000 connect/disconnect cycles (some through a dropped link and a retry), with the
 * application adding and removing a frame listener each time: afterwards the store holds no
 * timer, no frame listener, no socket, and only the browser listeners it registered once; after
 * dispose(), none at all. The same with real sockets against the reference gateway, counting the
 * process's active handles.
 *
 * Run in production mode (Redux Toolkit's development checks off), as a deployed canvas runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { createGateway } from '../../server/gateway.js';
import { seededRandom } from '../../server/simulator/random.js';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  disconnect,
  MAX_TAKES,
  startGeneration,
  subscribeProject,
  type BrowserHooks,
  type RealtimeState,
  type WebSocketConstructor,
} from '../../src/index.js';
import { FakeWebSocket } from '../support/fakeWebSocket.js';
import { waitForState } from '../support/miniGateway.js';
import { ManualTimers } from './manualTimers.js';
import { asProduction, report, sized } from './scale.js';
import { trafficStream } from './traffic.js';

const FRAMES = sized(60_000, 1_000_000);
const SAMPLES = 20;
const CYCLES = sized(1_000, 1_000);
const REAL_CYCLES = sized(200, 1_000);
const PROJECT = 'proj-soak';

const gc = (globalThis as { gc?: () => void }).gc;
const figures: Record<string, unknown> = {};
afterAll(() => report('soak', figures));

function heapMb(): number {
  gc?.();
  gc?.();
  return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10;
}

/** window/document stand-ins that count their listeners. */
function countingBrowser() {
  const listeners = new Map<string, Set<() => void>>();
  const target: BrowserHooks = {
    addEventListener: (type, listener) => void (listeners.get(type) ?? listeners.set(type, new Set()).get(type)!).add(listener),
    removeEventListener: (type, listener) => void listeners.get(type)?.delete(listener),
    visibilityState: () => 'visible',
  };
  const count = () => Array.from(listeners.values()).reduce((total, set) => total + set.size, 0);
  return { hooks: { window: target, document: target }, count };
}

describe('soak', () => {
  it(`${FRAMES.toLocaleString('en')} frames through the live path: heap and state size stay bounded`, () => {
    if (!gc) throw new Error('run with --expose-gc (the reliability project sets it)');
    const samples: Array<{ frames: number; heapMb: number; stateKb: number; takes: number; framesPerSecond: number }> = [];
    let listened = 0;
    asProduction(() => {
      FakeWebSocket.reset();
      const timers = new ManualTimers();
      const store = createRealtimeStore({
        url: 'ws://soak.test/ws',
        WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
        storage: createMemoryStorage(),
        timers,
        random: seededRandom(3),
        browser: null,
        devTools: false,
      });
      const off = store.on('*', () => listened++);
      store.dispatch(subscribeProject(PROJECT));
      store.dispatch(connect());
      const ws = FakeWebSocket.last();
      ws.open();
      ws.receive({ type: 'session.init', session_id: 'soak-1', instance_id: 'gw-soak', capabilities: ['ack', 'seq', 'replay'], resume_token: 'tok' });
      timers.advance(1);

      const random = seededRandom(11);
      const stream = trafficStream({ seed: 5, nodes: 40, concurrency: 8 });
      let seq = 0;
      let delivered = 0;
      let nextSample = 0;
      let acked = 0;
      let segmentStart = performance.now();
      let segmentFrames = 0;
      const sample = () => {
        const elapsed = performance.now() - segmentStart;
        const state = store.getState();
        samples.push({
          frames: delivered,
          framesPerSecond: elapsed > 0 ? Math.round(((delivered - segmentFrames) / elapsed) * 1_000) : 0,
          heapMb: heapMb(),
          stateKb: Math.round(JSON.stringify(state).length / 1024),
          takes: state.takes.ids.length,
        });
        nextSample += FRAMES / SAMPLES;
        segmentFrames = delivered;
        segmentStart = performance.now();
      };
      sample();
      while (delivered < FRAMES) {
        const burst = 1 + Math.floor(random() * 64);
        for (let i = 0; i < burst && delivered < FRAMES; i++) {
          let frame: Record<string, unknown>;
          if (delivered % 50 === 49) frame = { type: 'system.heartbeat', server_time: timers.now(), instance_id: 'gw-soak' };
          else frame = { ...stream.next().value!, project_id: PROJECT, seq: ++seq };
          ws.onmessage!({ data: JSON.stringify(frame) });
          delivered++;
        }
        // The user asks for a generation now and then; the server acks each command it got.
        if (delivered % 1_000 < burst) store.dispatch(startGeneration({ nodeId: `node-${1 + (delivered % 40)}`, params: { prompt: 'again' } }));
        for (const text of ws.sent.slice(acked)) {
          const sent = JSON.parse(text) as { type: string; command_id?: string };
          if (sent.type === 'start_generation') ws.onmessage!({ data: JSON.stringify({ type: 'ack', command_id: sent.command_id, status: 'accepted' }) });
        }
        acked = ws.sent.length;
        timers.advance(5);
        if (delivered >= nextSample) sample();
      }
      const state = store.getState();
      figures.live = {
        frames: delivered,
        events: seq,
        applied: state.frames.applied,
        rejected: state.frames.rejected.total,
        duplicates: state.frames.duplicatesDropped,
        gaps: state.sync.gaps.length,
        listenerCalls: listened,
        commandsDelivered: state.outbox.delivered,
        outboxLeft: state.outbox.entries.length,
        takes: state.takes.ids.length,
        tasks: state.tasks.ids.length,
        nodes: state.nodes.ids.length,
        mode: 'production (Redux Toolkit development checks off)',
        samples,
      };
      expect(state.frames.rejected.total).toBe(0);
      expect(state.sync.gaps).toEqual([]);
      expect(state.outbox.entries.length).toBeLessThan(5);
      off();
      store.dispose();
      expect(store.resources()).toEqual({ timers: 0, browserListeners: 0, frameListeners: 0, socket: false });
      expect(timers.count()).toBe(0);
    });
    // Bounded: past the first half (warm-up: every node, the 500 finished tasks, the 500 takes
    // and the other bounded windows filled), the whole state stays flat, and so does the heap.
    const half = samples[SAMPLES / 2]!;
    const last = samples[samples.length - 1]!;
    const flat = samples.slice(SAMPLES / 2).map((s) => s.stateKb);
    expect(Math.max(...flat)).toBeLessThanOrEqual(half.stateKb * 1.25 + 64);
    expect(last.takes).toBeLessThanOrEqual(MAX_TAKES);
    expect(last.heapMb - half.heapMb).toBeLessThanOrEqual(16);
  });

  it(`${CYCLES} connect/disconnect cycles: no timer, listener or socket left behind`, async () => {
    const browser = countingBrowser();
    const timers = new ManualTimers();
    FakeWebSocket.reset();
    const store = createRealtimeStore({
      url: 'ws://soak.test/ws',
      WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
      storage: createMemoryStorage(),
      timers,
      random: seededRandom(9),
      browser: browser.hooks,
      devTools: false,
    });
    const registered = browser.count();
    const after: Array<{ timers: number; pendingTimers: number; browserListeners: number; frameListeners: number; socket: boolean }> = [];
    let retries = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const off = store.on('*', () => {});
      store.on('task.progress', () => {})();
      store.dispatch(subscribeProject(`p-${cycle % 5}`));
      store.dispatch(connect());
      let ws = FakeWebSocket.last();
      ws.open();
      ws.receive({ type: 'session.init', session_id: `s-${cycle}`, capabilities: ['ack', 'seq', 'replay'] });
      ws.receive({ type: 'project.updated', project_id: `p-${cycle % 5}`, seq: cycle + 1, data: { cycle } });
      timers.advance(1);
      if (cycle % 3 === 0) {
        // The link drops; the client retries after its backoff and gets back on.
        ws.close(1006);
        await Promise.resolve(); // the close event (a microtask, as in a browser)
        timers.advance(31_000);
        ws = FakeWebSocket.last();
        if (ws.readyState === FakeWebSocket.CONNECTING) {
          ws.open();
          ws.receive({ type: 'session.restored', session_id: `s-${cycle}`, capabilities: ['ack', 'seq', 'replay'] });
          retries++;
        }
        timers.advance(1);
      }
      if (cycle % 7 === 0) store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'p' } }));
      store.dispatch(disconnect({ forgetSession: cycle % 2 === 0 }));
      off();
      timers.advance(1);
      if (FakeWebSocket.instances.length > 4) FakeWebSocket.instances.splice(0, FakeWebSocket.instances.length - 1);
      const resources = store.resources();
      after.push({ ...resources, pendingTimers: timers.count() });
    }
    const worst = {
      timers: Math.max(...after.map((a) => a.timers)),
      pendingTimers: Math.max(...after.map((a) => a.pendingTimers)),
      browserListeners: Math.max(...after.map((a) => a.browserListeners)),
      frameListeners: Math.max(...after.map((a) => a.frameListeners)),
      sockets: after.filter((a) => a.socket).length,
    };
    store.dispose();
    const disposed = { ...store.resources(), pendingTimers: timers.count(), browserListenersRegistered: browser.count() };
    figures.cycles = { cycles: CYCLES, retriesThroughADroppedLink: retries, browserListenersRegisteredOnce: registered, worstAfterACycle: worst, afterDispose: disposed };
    expect(worst).toEqual({ timers: 0, pendingTimers: 0, browserListeners: registered, frameListeners: 0, sockets: 0 });
    expect(disposed).toEqual({ timers: 0, browserListeners: 0, frameListeners: 0, socket: false, pendingTimers: 0, browserListenersRegistered: 0 });
  });

  it(`${REAL_CYCLES} connect/disconnect cycles over real sockets against the reference gateway: no handle left behind`, async () => {
    const bus = createMemoryBus();
    const gateway = createGateway({ bus, host: '127.0.0.1', port: 0, heartbeatMs: 60_000 });
    await gateway.ready;
    const handles = () => {
      const counts: Record<string, number> = {};
      for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    };
    const store = createRealtimeStore({
      url: `ws://127.0.0.1:${gateway.port()}/ws`,
      WebSocket,
      storage: createMemoryStorage(),
      browser: null,
      devTools: false,
      sessionReplyTimeoutMs: 5_000,
    });
    // Warm up once, so lazily created handles (DNS, timers of the ws library) exist before the baseline.
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'warm-up session');
    store.dispatch(disconnect());
    await waitForGateway(() => gateway.clientCount() === 0);
    const before = handles();
    for (let cycle = 0; cycle < REAL_CYCLES; cycle++) {
      const off = store.on('*', () => {});
      store.dispatch(subscribeProject('p1'));
      store.dispatch(connect());
      await waitForState(store, (s) => s.connection.sessionReady, `session ${cycle}`);
      store.dispatch(disconnect({ forgetSession: cycle % 2 === 0 }));
      off();
    }
    await waitForGateway(() => gateway.clientCount() === 0);
    const resources = store.resources();
    const afterCycles = handles();
    store.dispose();
    await gateway.terminate();
    await bus.close();
    figures.realCycles = { cycles: REAL_CYCLES, activeHandlesBefore: before, activeHandlesAfter: afterCycles, storeResources: resources, gatewayClientsAfter: gateway.clientCount() };
    expect(resources).toEqual({ timers: 0, browserListeners: 0, frameListeners: 0, socket: false });
    // Every kind of handle is back to where it was (within one: the test's own wait timer).
    for (const kind of new Set([...Object.keys(before), ...Object.keys(afterCycles)])) {
      expect(afterCycles[kind] ?? 0, kind).toBeLessThanOrEqual((before[kind] ?? 0) + 1);
    }
  });
});

async function waitForGateway(check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}
