/**
 * One benchmark scenario, run in a child process by bench/run.ts (compiled by esbuild with
 * process.env.NODE_ENV = "production"; the development-mode live path is a second bundle,
 * harness.dev.mjs, loaded beside it). Prints one JSON line on stdout.
 *
 *   node --expose-gc scenario.mjs throughput FRAMES NODES REPS SEGMENT [dev]
 *   node --expose-gc scenario.mjs latency FRAMES NODES [quick]
 *   node scenario.mjs profile FRAMES NODES FILE.cpuprofile
 *   node scenario.mjs stages FRAMES NODES        (parse and reducers timed apart: ./stages.ts)
 *   node --expose-gc scenario.mjs heapstate FRAMES NODES REPS   (see heapState below)
 */
import v8 from 'node:v8';
import { runFloor } from './floor.js';
import { measureLatency } from './latency.js';
import { MODE, defaultViewPlan, runLivePath, type LiveRun, type ViewPlan } from './livePath.js';
import { measureStages } from './stages.js';
import { burstSizes, fingerprint, generateTraffic, type Traffic } from './traffic.js';

type LiveModule = { runLivePath: typeof runLivePath; MODE: string };

const gc = (globalThis as { gc?: () => void }).gc;
function collect() {
  if (!gc) return;
  gc();
  gc();
}
const heapUsed = () => process.memoryUsage().heapUsed;
/**
 * Bytes in the old generation (old, large-object and code spaces). Its growth over a run that
 * starts right after a full collection is what the run promoted (or allocated there directly):
 * objects that outlived the young generation, to be found dead only by a full collection.
 */
const oldGeneration = () =>
  v8.getHeapSpaceStatistics().reduce((sum, space) => (space.space_name === 'new_space' ? sum : sum + space.space_used_size), 0);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function viewFor(traffic: Traffic, segmentStart: number): ViewPlan {
  // TaskProgress components for three tasks running in the measured segment.
  const tasks = traffic.tasks.filter((task) => task.index >= segmentStart - 1_500).map((task) => task.taskId);
  return defaultViewPlan(traffic.nodeIds, tasks.length > 0 ? tasks : traffic.tasks.slice(-3).map((t) => t.taskId));
}

function tableSizes(run: LiveRun) {
  const state = run.rig.store.getState();
  return {
    nodes: state.nodes.ids.length,
    tasks: state.tasks.ids.length,
    takes: state.takes.ids.length,
    applied: state.frames.applied,
    rejected: state.frames.rejected.total,
    duplicates: state.frames.duplicatesDropped,
  };
}

function summarize(run: LiveRun) {
  return {
    bursts: run.bursts,
    notificationsDuringBursts: run.notificationsDuringBursts,
    maxNotificationsPerBurst: run.maxNotificationsPerBurst,
    wakes: run.wakes,
    unrelatedWakes: run.unrelatedWakes,
  };
}

async function throughput(frames: number, nodes: number, reps: number, segment: number, withDev: boolean) {
  const traffic = generateTraffic({ frames, nodes });
  const segmentStart = frames - segment;
  const bursts = burstSizes(frames, [segmentStart]);
  const view = viewFor(traffic, segmentStart);
  const dev: LiveModule | undefined = withDev ? ((await import(new URL('./harness.dev.mjs', import.meta.url).href)) as LiveModule) : undefined;
  const rssAfterTraffic = process.memoryUsage().rss;

  // Warm the JIT on a small log (live path and floor).
  {
    const warm = generateTraffic({ frames: 5_000, nodes: 200, seed: 99 });
    (await runLivePath(warm.frames, burstSizes(5_000), defaultViewPlan(warm.nodeIds, []))).rig.dispose();
    runFloor(warm.frames);
    if (dev) (await dev.runLivePath(warm.frames, burstSizes(5_000), defaultViewPlan(warm.nodeIds, []))).rig.dispose();
  }
  // Retained heap: the heap with the store (and its subscribers) alive after the whole log,
  // minus the heap once it is released; everything else in the process is the same.
  let run: LiveRun | undefined = await runLivePath(traffic.frames, bursts, view, segmentStart);
  collect();
  const heapWithStore = heapUsed();
  const tables = tableSizes(run);
  const counts = summarize(run);
  run.rig.dispose();
  run = undefined;
  // Let the disposal's pending callbacks (socket close, timers) run before collecting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  collect();
  const retainedHeap = heapWithStore - heapUsed();

  const floorSegCpu: number[] = [];
  const liveSegCpu: number[] = [];
  const floorCpu: number[] = [];
  const liveCpu: number[] = [];
  const devCpu: number[] = [];
  const floorMs: number[] = [];
  const floorSegMs: number[] = [];
  const liveMs: number[] = [];
  const liveSegMs: number[] = [];
  const devMs: number[] = [];
  const devSegMs: number[] = [];
  const ratios: number[] = [];
  const floorPromoted: number[] = [];
  const livePromoted: number[] = [];
  for (let r = 0; r < reps; r++) {
    collect();
    let old = oldGeneration();
    const floor = runFloor(traffic.frames, segmentStart);
    floorPromoted.push(oldGeneration() - old);
    floorMs.push(floor.totalMs);
    floorCpu.push(floor.cpuMs);
    floorSegCpu.push(floor.segmentCpuMs);
    floorSegMs.push(floor.segmentMs);
    collect();
    old = oldGeneration();
    const live = await runLivePath(traffic.frames, bursts, view, segmentStart);
    livePromoted.push(oldGeneration() - old);
    live.rig.dispose();
    liveMs.push(live.totalMs);
    liveCpu.push(live.cpuMs);
    liveSegCpu.push(live.segmentCpuMs);
    liveSegMs.push(live.segmentMs);
    ratios.push(live.totalMs / floor.totalMs);
    if (dev) {
      collect();
      const d = await dev.runLivePath(traffic.frames, bursts, view, segmentStart);
      d.rig.dispose();
      devMs.push(d.totalMs);
      devCpu.push(d.cpuMs);
      devSegMs.push(d.segmentMs);
    }
  }
  const perFrame = (ms: number[], n: number) => (median(ms) * 1000) / n;
  return {
    kind: 'throughput',
    mode: MODE,
    devMode: dev?.MODE,
    frames,
    nodes,
    reps,
    segment,
    fingerprint: fingerprint(traffic.frames),
    bytesPerFrame: Math.round(traffic.bytes / frames),
    counts,
    tables,
    floorUs: perFrame(floorMs, frames),
    liveUs: perFrame(liveMs, frames),
    devUs: dev ? perFrame(devMs, frames) : undefined,
    floorSegmentUs: perFrame(floorSegMs, segment),
    liveSegmentUs: perFrame(liveSegMs, segment),
    floorSegmentCpuUs: perFrame(floorSegCpu, segment),
    liveSegmentCpuUs: perFrame(liveSegCpu, segment),
    devSegmentUs: dev ? perFrame(devSegMs, segment) : undefined,
    ratio: median(liveMs) / median(floorMs),
    floorCpuUs: perFrame(floorCpu, frames),
    liveCpuUs: perFrame(liveCpu, frames),
    devCpuUs: dev ? perFrame(devCpu, frames) : undefined,
    cpuRatio: median(liveCpu) / median(floorCpu),
    devCpuRatio: dev ? median(devCpu) / median(liveCpu) : undefined,
    ratioPerRep: ratios,
    devRatio: dev ? median(devMs) / median(liveMs) : undefined,
    raw: { floorMs, liveMs, devMs, floorSegMs, liveSegMs, devSegMs, floorCpu, liveCpu, devCpu },
    retainedHeap,
    /** Median bytes per frame promoted to the old generation over a run (see oldGeneration). */
    promotedPerFrame: { floor: median(floorPromoted) / frames, live: median(livePromoted) / frames },
    rssAfterTraffic,
    peakRss: process.resourceUsage().maxRSS * 1024,
  };
}

async function latency(frames: number, nodes: number, quick: boolean) {
  const traffic = generateTraffic({ frames, nodes });
  const view = defaultViewPlan(traffic.nodeIds, traffic.tasks.map((t) => t.taskId).slice(-3));
  const result = await measureLatency(
    traffic.frames,
    view,
    quick
      ? { warmupFrames: 2_000, steadyFrames: 1_000, rate: 1_000, bigBursts: 3, bigBurstSize: 1_000, smallBursts: 30, smallBurstSize: 100 }
      : { warmupFrames: 10_000, steadyFrames: 5_000, rate: 1_000, bigBursts: 10, bigBurstSize: 1_000, smallBursts: 150, smallBurstSize: 100 },
  );
  return { kind: 'latency', mode: MODE, frames, nodes, ...result };
}

/**
 * The live path and the floor in two heap states, in one process: first REPS repetitions with
 * no collection between runs (a warm heap), then REPS with two full collections before each run
 * (what `throughput` does). Prints "# rep N warm|collected" before each live run, so that a run
 * under `node --trace-opt` shows how many functions each live run had to optimize again.
 */
async function heapState(frames: number, nodes: number, reps: number) {
  const traffic = generateTraffic({ frames, nodes });
  const segmentStart = frames - 5_000;
  const bursts = burstSizes(frames, [segmentStart]);
  const view = viewFor(traffic, segmentStart);
  for (let k = 0; k < 2; k++) (await runLivePath(traffic.frames, bursts, view)).rig.dispose();
  const modes: Record<string, { floorMs: number[]; liveMs: number[] }> = {};
  for (const mode of ['warm', 'collected'] as const) {
    const out = (modes[mode] = { floorMs: [] as number[], liveMs: [] as number[] });
    for (let r = 0; r < reps; r++) {
      if (mode === 'collected') collect();
      out.floorMs.push(runFloor(traffic.frames, segmentStart).totalMs);
      if (mode === 'collected') collect();
      process.stdout.write(`# rep ${r} ${mode}\n`);
      const live = await runLivePath(traffic.frames, bursts, view, segmentStart);
      out.liveMs.push(live.totalMs);
      live.rig.dispose();
    }
  }
  const summary = (m: { floorMs: number[]; liveMs: number[] }) => ({
    floorUs: (median(m.floorMs) * 1000) / frames,
    liveUs: (median(m.liveMs) * 1000) / frames,
    ratio: median(m.liveMs) / median(m.floorMs),
  });
  return { kind: 'heapstate', mode: MODE, frames, nodes, reps, warm: summary(modes.warm!), collected: summary(modes.collected!) };
}

/** Profiles the live path only (not the traffic generation), with the inspector's profiler. */
async function profile(frames: number, nodes: number, file: string) {
  const traffic = generateTraffic({ frames, nodes });
  const segmentStart = frames - Math.min(5_000, frames >> 1);
  const bursts = burstSizes(frames, [segmentStart]);
  const view = viewFor(traffic, segmentStart);
  (await runLivePath(traffic.frames.slice(0, 5_000), burstSizes(5_000), view)).rig.dispose();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const run = await runLivePath(traffic.frames, bursts, view, segmentStart);
  const { profile: cpuProfile } = await session.post('Profiler.stop');
  session.disconnect();
  run.rig.dispose();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, JSON.stringify(cpuProfile));
  return { kind: 'profile', mode: MODE, frames, nodes, liveUs: (run.totalMs * 1000) / frames, file };
}

const [kind, a, b, c, d, e] = process.argv.slice(2);
let out: unknown;
if (kind === 'throughput') out = await throughput(Number(a), Number(b), Number(c), Number(d), e === 'dev');
else if (kind === 'latency') out = await latency(Number(a), Number(b), c === 'quick');
else if (kind === 'profile') out = await profile(Number(a), Number(b), c!);
else if (kind === 'stages') out = measureStages(Number(a), Number(b));
else if (kind === 'heapstate') out = await heapState(Number(a), Number(b), Number(c ?? 5));
else throw new Error(`unknown scenario ${kind}`);
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
