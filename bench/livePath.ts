/**
 * The full live path: raw frame text delivered by a (fake) WebSocket in bursts, through the
 * socket middleware (ingest: parseFrame/valibot, dedupe, one action per burst), the reducers,
 * the store notification, and 50 Svelte bridge subscribers (fromSelector) reading what a mounted
 * canvas reads.
 *
 * Compiled twice by bench/run.ts: once with process.env.NODE_ENV = "production" (what a user's
 * bundler ships) and once with "development" (Redux Toolkit's immutability and serializability
 * checks on).
 */
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  selectAgentActivities,
  selectBeatGenerations,
  selectConnection,
  selectHandoffs,
  selectNarrativeProgress,
  selectNodeById,
  selectNodeVisual,
  selectTakesByNode,
  selectTaskById,
  subscribeProject,
  type RealtimeState,
  type RealtimeStore,
  type WebSocketConstructor,
} from '../src/index.js';
import { fromSelector } from '../src/svelte/fromSelector.js';
import { FakeWebSocket } from '../test/support/fakeWebSocket.js';

export const MODE: string = process.env.NODE_ENV ?? 'development';

export interface ViewPlan {
  /** Nodes whose card is mounted (NodeStateVisuals: visual + stale flag). */
  visibleNodes: string[];
  /** Nodes whose takes gallery is mounted (takes + current take). */
  galleryNodes: string[];
  /** Tasks with a TaskProgress mounted. */
  taskIds: string[];
  /** A node card for a node no frame mentions: it must never be woken. */
  unrelatedNode: string;
}

/** 50 subscribers for the default plan (16 visible nodes, 4 galleries, 3 tasks). */
export function defaultViewPlan(nodeIds: readonly string[], taskIds: readonly string[]): ViewPlan {
  return {
    visibleNodes: nodeIds.slice(0, 16),
    galleryNodes: nodeIds.slice(0, 4),
    taskIds: taskIds.slice(0, 3),
    unrelatedNode: 'node-not-on-this-canvas',
  };
}

const selectStale = (s: RealtimeState, id: string): boolean => selectNodeById(s, id)?.stale === true;
const selectCurrentTake = (s: RealtimeState, id: string): number | undefined => selectNodeById(s, id)?.current_take;

export interface Rig {
  store: RealtimeStore;
  socket: FakeWebSocket;
  subscribers: number;
  /** Notifications the bridge subscribers received (the first, synchronous call excluded). */
  wakes(): number;
  /** Wakes of the subscriber no frame concerns. */
  unrelatedWakes(): number;
  storeNotifications(): number;
  /** Called after the bridge subscribers on every store notification. */
  onNotify(listener: (() => void) | undefined): void;
  dispose(): void;
}

/** A store on a fake socket, connected, with the canvas's 50 subscribers mounted. */
export function createRig(view: ViewPlan): Rig {
  FakeWebSocket.reset();
  const store = createRealtimeStore({
    url: 'ws://bench.local/ws',
    WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
    storage: createMemoryStorage(),
    autoConnect: false,
    browser: null,
    // The "connection stable" timer dispatches once, 10 s after the open; pushed out so that the
    // notification count is the frames' own.
    stableAfterMs: 24 * 60 * 60_000,
  });
  let notifications = 0;
  store.subscribe(() => {
    notifications += 1;
  });
  let wakes = 0;
  let unrelated = 0;
  const stops: Array<() => void> = [];
  const mount = <A extends unknown[]>(selector: (state: RealtimeState, ...args: A) => unknown, ...args: A) => {
    let first = true;
    stops.push(
      fromSelector(store, selector, ...args).subscribe(() => {
        if (first) first = false;
        else wakes += 1;
      }),
    );
  };
  // ConnectionStatus
  mount(selectConnection);
  // AgentActivityMonitor
  mount(selectAgentActivities);
  mount(selectHandoffs);
  mount(selectNarrativeProgress);
  // NarrativeProgress
  mount(selectNarrativeProgress);
  mount(selectBeatGenerations);
  // NodeStateVisuals per visible node
  for (const id of view.visibleNodes) {
    mount(selectNodeVisual, id);
    mount(selectStale, id);
  }
  // TakesGallery
  for (const id of view.galleryNodes) {
    mount(selectTakesByNode, id);
    mount(selectCurrentTake, id);
  }
  // TaskProgress
  for (const id of view.taskIds) mount(selectTaskById, id);
  // A card for a node no frame mentions.
  let firstUnrelated = true;
  stops.push(
    fromSelector(store, selectNodeVisual, view.unrelatedNode).subscribe(() => {
      if (firstUnrelated) firstUnrelated = false;
      else unrelated += 1;
    }),
  );
  let notifyListener: (() => void) | undefined;
  // Subscribed last: runs after every bridge subscriber has read its selector.
  store.subscribe(() => notifyListener?.());

  store.dispatch(subscribeProject('proj-1'));
  store.dispatch(connect());
  const socket = FakeWebSocket.last();
  socket.open();
  return {
    store,
    socket,
    subscribers: stops.length,
    wakes: () => wakes,
    unrelatedWakes: () => unrelated,
    storeNotifications: () => notifications,
    onNotify(listener) {
      notifyListener = listener;
    },
    dispose() {
      for (const stop of stops) stop();
      store.dispose();
      // The fake keeps every socket it made; a detached socket's no-op onerror still closes over
      // the middleware (and so the store): forget them, or the store is never collected.
      FakeWebSocket.reset();
    },
  };
}

/** Resolves after the middleware's end-of-tick flush (setImmediate, queued before this one). */
export const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface LiveRun {
  totalMs: number;
  /** Process CPU time (user + system) over the whole log, in ms: less sensitive to a busy machine. */
  cpuMs: number;
  /** Time spent on frames from `segmentStart` to the end. */
  segmentMs: number;
  /** CPU time spent on them. */
  segmentCpuMs: number;
  bursts: number;
  storeNotifications: number;
  /** Store notifications while delivering the bursts (excludes the connection set-up). */
  notificationsDuringBursts: number;
  /** Most store notifications any one burst caused. */
  maxNotificationsPerBurst: number;
  wakes: number;
  unrelatedWakes: number;
  rig: Rig;
}

/** Delivers `frames` in bursts of `bursts[i]` frames, each reduced at the end of its tick. */
export async function runLivePath(
  frames: readonly string[],
  bursts: readonly number[],
  view: ViewPlan,
  segmentStart = Math.max(0, frames.length - 5_000),
): Promise<LiveRun> {
  const rig = createRig(view);
  const { socket } = rig;
  const before = rig.storeNotifications();
  const wakesBefore = rig.wakes();
  let i = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t1 = t0;
  let c1 = c0;
  let maxPerBurst = 0;
  for (const size of bursts) {
    if (i === segmentStart) {
      t1 = performance.now();
      c1 = process.cpuUsage();
    }
    const n = rig.storeNotifications();
    for (const end = i + size; i < end; i++) socket.receive(frames[i]!);
    await nextTick();
    if (rig.storeNotifications() - n > maxPerBurst) maxPerBurst = rig.storeNotifications() - n;
  }
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  const segmentCpu = process.cpuUsage(c1);
  if (segmentStart >= frames.length) t1 = t2;
  return {
    totalMs: t2 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    segmentMs: t2 - t1,
    segmentCpuMs: segmentStart >= frames.length ? 0 : (segmentCpu.user + segmentCpu.system) / 1000,
    bursts: bursts.length,
    storeNotifications: rig.storeNotifications(),
    notificationsDuringBursts: rig.storeNotifications() - before,
    maxNotificationsPerBurst: maxPerBurst,
    wakes: rig.wakes() - wakesBefore,
    unrelatedWakes: rig.unrelatedWakes(),
    rig,
  };
}
