/**
 * Frame-to-notification latency on the live path: from the moment a frame is handed to the
 * socket's onmessage to the moment the store notification has reached every bridge subscriber
 * (the timing listener is subscribed after the 50 of them).
 *
 * - steady: frames arrive at a fixed rate (1,000 per second by default), each on its own timer
 *   tick, as WebSocket messages do;
 * - burst: 1,000 frames arrive at once (a reconnect replay), then the link is quiet;
 * - reduce: 100-frame bursts, from the last frame's arrival to the notification (parse,
 *   validation, reducers, selectors, subscribers).
 *
 * The store is warmed first with the start of the same log, so the tables have their working
 * size.
 */
import { createRig, nextTick, type ViewPlan } from './livePath.js';

export interface LatencyOptions {
  warmupFrames: number;
  steadyFrames: number;
  /** Frames per second of the steady phase. */
  rate: number;
  bigBursts: number;
  bigBurstSize: number;
  smallBursts: number;
  smallBurstSize: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  steady: Percentiles & { rate: number; achievedRate: number; notifications: number };
  burst: Percentiles & { size: number; bursts: number; maxNotificationsPerBurst: number };
  reduce: Percentiles & { size: number; bursts: number };
  framesUsed: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function measureLatency(frames: readonly string[], view: ViewPlan, options: LatencyOptions): Promise<LatencyResult> {
  const needed =
    options.warmupFrames + options.steadyFrames + options.bigBursts * options.bigBurstSize + options.smallBursts * options.smallBurstSize;
  if (needed > frames.length) throw new Error(`latency needs ${needed} frames, the log has ${frames.length}`);
  const rig = createRig(view);
  const { socket } = rig;
  let i = 0;

  // Warm-up: the start of the log in 16-frame bursts.
  while (i < options.warmupFrames) {
    const end = Math.min(options.warmupFrames, i + 16);
    for (; i < end; i++) socket.receive(frames[i]!);
    await nextTick();
  }
  await sleep(20);

  // Every store notification settles the frames that arrived before it.
  let arrivals: number[] = [];
  let latencies: number[] = [];
  let notifications = 0;
  rig.onNotify(() => {
    const now = performance.now();
    notifications += 1;
    for (const at of arrivals) latencies.push(now - at);
    arrivals = [];
  });

  // Steady rate: each timer tick delivers the frames due by then (one, at 1,000/s on a 1 ms timer).
  const steadyStart = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(options.steadyFrames, Math.floor(((performance.now() - steadyStart) * options.rate) / 1000));
      while (sent < due) {
        arrivals.push(performance.now());
        socket.receive(frames[i++]!);
        sent += 1;
      }
      if (sent >= options.steadyFrames) setTimeout(resolve, 10);
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
  const steadyElapsed = performance.now() - steadyStart;
  const steady = {
    ...percentiles(latencies),
    rate: options.rate,
    achievedRate: Math.round((options.steadyFrames / steadyElapsed) * 1000),
    notifications,
  };

  // Big bursts.
  latencies = [];
  let maxNotificationsPerBurst = 0;
  for (let b = 0; b < options.bigBursts; b++) {
    await sleep(20);
    const before = notifications;
    for (let k = 0; k < options.bigBurstSize; k++) {
      arrivals.push(performance.now());
      socket.receive(frames[i++]!);
    }
    await nextTick();
    maxNotificationsPerBurst = Math.max(maxNotificationsPerBurst, notifications - before);
  }
  const burst = { ...percentiles(latencies), size: options.bigBurstSize, bursts: options.bigBursts, maxNotificationsPerBurst };

  // Small bursts: time from the last arrival to the notification.
  const reduceTimes: number[] = [];
  rig.onNotify(() => {
    notifications += 1;
    reduceTimes.push(performance.now() - lastArrival);
  });
  let lastArrival = 0;
  for (let b = 0; b < options.smallBursts; b++) {
    if (b % 10 === 0) await sleep(2);
    for (let k = 0; k < options.smallBurstSize; k++) socket.receive(frames[i++]!);
    lastArrival = performance.now();
    await nextTick();
  }
  const reduce = { ...percentiles(reduceTimes), size: options.smallBurstSize, bursts: options.smallBursts };
  rig.dispose();
  return { steady, burst, reduce, framesUsed: i };
}
