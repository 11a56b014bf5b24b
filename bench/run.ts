/**
 * The benchmark suite: `npm run bench` (full sizes) or `npm run bench:quick` (small, < 1 min).
 *
 * 1. Compiles the scenarios with esbuild, as a user's bundler would: scenario.mjs with
 *    process.env.NODE_ENV = "production" and harness.dev.mjs (the live path again) with
 *    "development", so that both modes run side by side in one process.
 * 2. Runs each scenario in its own child process (node --expose-gc), one after the other:
 *    throughput and memory for each log size and node count (floor, live path and, for the
 *    reference size, the development-mode live path, interleaved repetition by repetition),
 *    latency, and CPU profiles of the live path (reference size, and 5,000 nodes).
 *    Then the latency in headless Chromium, gateway send to DOM update (bench/browserLatency.ts,
 *    its own child process; skipped, with the reason printed, when Chromium is missing).
 * 3. Measures the bundles, prints the results table and the targets, writes bench/results.json
 *    and bench/results.md.
 *
 * Options: --quick, --no-profile, --no-latency, --no-browser, --no-bundle, --build-only (compile bench/.build/
 * and stop: `node --expose-gc bench/.build/scenario.mjs throughput 50000 500 3 5000 dev`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserLatencyLines, type BrowserLatencyResult } from './browser/report.js';
import { measureBundles, type BundleResult } from './bundle.js';
import { summarizeProfile } from './profile.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');
const out = join(benchDir, '.build');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

const SIZES = quick
  ? { frames: [5_000, 10_000, 20_000], nodesAt: 10_000, nodeCounts: [50, 200, 5_000], nodes: 500, segment: 2_000, reps: 3, bigReps: 3 }
  : { frames: [10_000, 50_000, 200_000], nodesAt: 50_000, nodeCounts: [50, 200, 5_000], nodes: 500, segment: 5_000, reps: 5, bigReps: 3 };
const REFERENCE = SIZES.nodesAt;

async function compile() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    sourcemap: 'linked' as const,
    logLevel: 'warning' as const,
    absWorkingDir: root,
  };
  await build({
    ...common,
    entryPoints: [join(benchDir, 'scenario.ts')],
    outfile: join(out, 'scenario.mjs'),
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await build({
    ...common,
    entryPoints: [join(benchDir, 'livePath.ts')],
    outfile: join(out, 'harness.dev.mjs'),
    define: { 'process.env.NODE_ENV': '"development"' },
  });
}

function runScenario(scenarioArgs: string[], nodeFlags: string[] = ['--expose-gc']): Record<string, unknown> {
  const started = Date.now();
  const child = spawnSync(process.execPath, [...nodeFlags, join(out, 'scenario.mjs'), ...scenarioArgs], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) {
    process.stderr.write(child.stderr);
    throw new Error(`scenario ${scenarioArgs.join(' ')} failed (${child.status})`);
  }
  const lines = child.stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  const warnings = child.stderr.split('\n').filter((line) => line.trim()).length;
  process.stderr.write(`  ${scenarioArgs.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s${warnings ? ` (${warnings} stderr lines)` : ''}\n`);
  return result;
}

/**
 * bench/browserLatency.ts in its own process (3 runs, or 1 short one with --quick). A failure is
 * reported, with the child's output, without losing the rest of the results.
 */
function runBrowserLatency(): BrowserLatencyResult {
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, 'browserLatency.ts'), '--json', ...(quick ? ['--quick'] : [])], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 5 * 60_000,
  });
  const lines = (child.stdout ?? '').trim().split('\n');
  let result: BrowserLatencyResult | undefined;
  try {
    result = child.status === 0 ? (JSON.parse(lines[lines.length - 1]!) as BrowserLatencyResult) : undefined;
  } catch {
    result = undefined;
  }
  if (!result) {
    process.stderr.write(child.stderr ?? '');
    const why = child.error ? child.error.message : child.signal ? `killed by ${child.signal}` : `exit ${child.status}`;
    return { failed: `bench/browserLatency.ts failed (${why}); its output is above`, options: {} as BrowserLatencyResult['options'], runs: [] };
  }
  process.stderr.write(`  browser latency: ${result.skipped ? `skipped: ${result.skipped}` : `${((Date.now() - started) / 1000).toFixed(1)} s`}\n`);
  return result;
}

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || String(cpus().length);
  return { nproc: Number(nproc), cpu: model.trim(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
}

type Throughput = {
  frames: number;
  nodes: number;
  reps: number;
  segment: number;
  floorUs: number;
  liveUs: number;
  devUs?: number;
  floorSegmentUs: number;
  liveSegmentUs: number;
  floorSegmentCpuUs: number;
  liveSegmentCpuUs: number;
  devSegmentUs?: number;
  ratio: number;
  devRatio?: number;
  floorCpuUs: number;
  liveCpuUs: number;
  devCpuUs?: number;
  cpuRatio: number;
  devCpuRatio?: number;
  retainedHeap: number;
  promotedPerFrame: { floor: number; live: number };
  peakRss: number;
  rssAfterTraffic: number;
  bytesPerFrame: number;
  counts: { bursts: number; notificationsDuringBursts: number; maxNotificationsPerBurst: number; wakes: number; unrelatedWakes: number };
  tables: { nodes: number; tasks: number; takes: number; applied: number; rejected: number };
};
type Percentiles = { p50: number; p90: number; p99: number; max: number; count: number };
type Latency = {
  steady: Percentiles & { rate: number; achievedRate: number };
  burst: Percentiles & { size: number; maxNotificationsPerBurst: number };
  reduce: Percentiles & { size: number };
};

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const us = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(2));
const x = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(2)}x`);
const ms = (value: number) => `${value.toFixed(2)} ms`;

async function main() {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const command = quick ? 'npm run bench:quick' : 'npm run bench';
  process.stderr.write(`${command}: compiling\n`);
  await compile();
  if (args.has('--build-only')) return;

  const throughput: Throughput[] = [];
  const configs: Array<[number, number]> = [
    ...SIZES.frames.map((frames) => [frames, SIZES.nodes] as [number, number]),
    ...SIZES.nodeCounts.map((nodes) => [REFERENCE, nodes] as [number, number]),
  ];
  for (const [frames, nodes] of configs) {
    const reference = frames === REFERENCE && nodes === SIZES.nodes;
    const reps = frames > REFERENCE ? SIZES.bigReps : SIZES.reps;
    throughput.push(
      runScenario(['throughput', String(frames), String(nodes), String(reps), String(SIZES.segment), reference ? 'dev' : '']) as unknown as Throughput,
    );
  }

  // Latency is wall-clock by nature, and its p99 is set by whatever else the machine runs: three
  // runs, each reported; the targets are judged on the median run (by steady p99).
  const latencyRuns = args.has('--no-latency')
    ? []
    : Array.from({ length: quick ? 1 : 3 }, () =>
        runScenario(['latency', String(quick ? 10_000 : 50_000), String(SIZES.nodes), quick ? 'quick' : ''], []) as unknown as Latency,
      );
  const latency = [...latencyRuns].sort((a, b) => a.steady.p99 - b.steady.p99)[latencyRuns.length >> 1];

  // The same steady rate in a real browser: gateway send to DOM update (no target; reported).
  const browserLatency = args.has('--no-browser') ? undefined : runBrowserLatency();

  // CPU profiles of the live path: the reference size, and the largest node count (where the
  // per-frame cost grows with the table).
  const profiles: Array<{ frames: number; nodes: number; summary: ReturnType<typeof summarizeProfile> }> = [];
  if (!args.has('--no-profile')) {
    for (const nodes of [SIZES.nodes, 5_000]) {
      const file = join(out, `live-${REFERENCE}-${nodes}.cpuprofile`);
      runScenario(['profile', String(REFERENCE), String(nodes), file], []);
      profiles.push({ frames: REFERENCE, nodes, summary: summarizeProfile(file, nodes === SIZES.nodes ? 25 : 12) });
    }
  }

  const bundle: BundleResult | undefined = args.has('--no-bundle') ? undefined : await measureBundles();

  // -------------------------------------------------------------------------------------------
  // Targets

  const find = (frames: number, nodes: number) => throughput.find((t) => t.frames === frames && t.nodes === nodes)!;
  const ref = find(REFERENCE, SIZES.nodes);
  const smallest = find(SIZES.frames[0]!, SIZES.nodes);
  const largest = find(SIZES.frames[SIZES.frames.length - 1]!, SIZES.nodes);
  const fewNodes = find(REFERENCE, 200);
  const manyNodes = find(REFERENCE, 5_000);
  const midSize = SIZES.frames[1]!;
  const mid = find(midSize, SIZES.nodes);
  const growthFrames = largest.liveSegmentUs / smallest.liveSegmentUs;
  const growthNodes = manyNodes.liveSegmentUs / fewNodes.liveSegmentUs;
  const growthFramesCpu = largest.liveSegmentCpuUs / smallest.liveSegmentCpuUs;
  const growthNodesCpu = manyNodes.liveSegmentCpuUs / fewNodes.liveSegmentCpuUs;
  const heapGrowth = largest.retainedHeap / mid.retainedHeap;
  const maxPerBurst = Math.max(...throughput.map((t) => t.counts.maxNotificationsPerBurst), ...latencyRuns.map((run) => run.burst.maxNotificationsPerBurst));
  const unrelated = throughput.reduce((sum, t) => sum + t.counts.unrelatedWakes, 0);
  const targets = [
    { target: `Live path / floor at ${REFERENCE / 1000}k frames <= 8x (stretch 5x)`, value: `${x(ref.ratio)} (CPU time ${x(ref.cpuRatio)})`, met: ref.ratio <= 8, stretch: ref.ratio <= 5 },
    {
      target: `Last-${SIZES.segment / 1000}k per-frame cost, ${largest.frames / 1000}k log / ${smallest.frames / 1000}k log <= 1.5x`,
      value: `${x(growthFrames)} (CPU time ${x(growthFramesCpu)})`,
      met: growthFrames <= 1.5,
    },
    { target: `Last-${SIZES.segment / 1000}k per-frame cost, 5,000 nodes / 200 nodes <= 2x`, value: `${x(growthNodes)} (CPU time ${x(growthNodesCpu)})`, met: growthNodes <= 2 },
    { target: 'At most one store notification per burst', value: `max ${maxPerBurst}`, met: maxPerBurst <= 1 },
    { target: 'An unrelated subscriber is never woken', value: `${unrelated} wakes`, met: unrelated === 0 },
    {
      target: `Retained heap, ${largest.frames / 1000}k frames / ${mid.frames / 1000}k frames <= 1.2x`,
      value: x(heapGrowth),
      met: heapGrowth <= 1.2,
    },
    ...(latency
      ? [
          { target: 'p99 frame-to-notification latency at 1,000 frames/s < 4 ms', value: ms(latency.steady.p99), met: latency.steady.p99 < 4 },
          { target: '100-frame burst reduced in < 2.5 ms (median)', value: `${ms(latency.reduce.p50)} (p99 ${ms(latency.reduce.p99)})`, met: latency.reduce.p50 < 2.5 },
        ]
      : []),
    { target: 'Development mode / production <= 2x', value: `${x(ref.devRatio)} (CPU time ${x(ref.devCpuRatio)})`, met: (ref.devRatio ?? Infinity) <= 2 },
    ...(bundle
      ? [
          { target: 'Core entry own code <= 10 kB min+gz', value: kB(bundle.core.realistic.own.gzipped), met: bundle.core.realistic.own.gzipped <= 10 * 1024 },
          { target: 'Core entry with dependencies <= 30 kB min+gz', value: kB(bundle.core.realistic.withDeps.gzipped), met: bundle.core.realistic.withDeps.gzipped <= 30 * 1024 },
        ]
      : []),
  ];

  // -------------------------------------------------------------------------------------------
  // Report

  const m = machine();
  const lines: string[] = [];
  lines.push(`Command: \`${command}\` (${startedAt.toISOString()})`);
  lines.push(`Machine: ${m.nproc} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average (1 min) ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`);
  lines.push('');
  const seg = `last ${SIZES.segment / 1000}k`;
  lines.push(`| frames | nodes | floor µs/frame | live µs/frame | live / floor | floor CPU µs | live CPU µs | CPU live / floor | dev µs/frame | dev / live | dev / live CPU | ${seg}: floor µs | ${seg}: live µs | ${seg}: floor CPU µs | ${seg}: live CPU µs |`);
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of throughput) {
    lines.push(
      `| ${t.frames.toLocaleString('en-US')} | ${t.nodes.toLocaleString('en-US')} | ${us(t.floorUs)} | ${us(t.liveUs)} | ${x(t.ratio)} | ${us(t.floorCpuUs)} | ${us(t.liveCpuUs)} | ${x(t.cpuRatio)} | ${us(t.devUs)} | ${x(t.devRatio)} | ${x(t.devCpuRatio)} | ${us(t.floorSegmentUs)} | ${us(t.liveSegmentUs)} | ${us(t.floorSegmentCpuUs)} | ${us(t.liveSegmentCpuUs)} |`,
    );
  }
  lines.push('');
  lines.push('| frames | nodes | retained heap | promoted B/frame: floor / live | peak RSS | bursts | store notifications | max per burst | bridge wakes (50 subscribers) | unrelated wakes | nodes / tasks / takes in state |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of throughput) {
    lines.push(
      `| ${t.frames.toLocaleString('en-US')} | ${t.nodes.toLocaleString('en-US')} | ${MB(t.retainedHeap)} | ${Math.round(t.promotedPerFrame.floor)} / ${Math.round(t.promotedPerFrame.live)} | ${MB(t.peakRss)} | ${t.counts.bursts} | ${t.counts.notificationsDuringBursts} | ${t.counts.maxNotificationsPerBurst} | ${t.counts.wakes} | ${t.counts.unrelatedWakes} | ${t.tables.nodes} / ${t.tables.tasks} / ${t.tables.takes} |`,
    );
  }
  lines.push('');
  lines.push(`Medians of ${SIZES.reps} repetitions (${SIZES.bigReps} for the largest log); floor, live and dev interleaved in one process per row. µs/frame is wall-clock time; CPU µs is the process's CPU time (user + system), less sensitive to other load on the machine. Promoted B/frame: growth of the old generation over a run that starts after a full collection, per frame (median).`);
  if (latency) {
    lines.push('');
    lines.push('| latency | run | p50 | p90 | p99 | max | samples |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    latencyRuns.forEach((run, i) => {
      const mark = run === latency ? ` ${i + 1} (median)` : ` ${i + 1}`;
      lines.push(`| steady ${run.steady.rate} frames/s (achieved ${run.steady.achievedRate}/s), arrival to notification |${mark} | ${ms(run.steady.p50)} | ${ms(run.steady.p90)} | ${ms(run.steady.p99)} | ${ms(run.steady.max)} | ${run.steady.count} |`);
      lines.push(`| ${run.burst.size}-frame burst, arrival to notification |${mark} | ${ms(run.burst.p50)} | ${ms(run.burst.p90)} | ${ms(run.burst.p99)} | ${ms(run.burst.max)} | ${run.burst.count} |`);
      lines.push(`| ${run.reduce.size}-frame burst, last arrival to notification |${mark} | ${ms(run.reduce.p50)} | ${ms(run.reduce.p90)} | ${ms(run.reduce.p99)} | ${ms(run.reduce.max)} | ${run.reduce.count} |`);
    });
  }
  if (browserLatency) {
    lines.push('');
    lines.push(...browserLatencyLines(browserLatency));
  }
  if (bundle) {
    lines.push('');
    lines.push('| bundle (esbuild, minified, gzip -9) | own code min | own code gz | with deps min | with deps gz |');
    lines.push('|---|---:|---:|---:|---:|');
    const row = (name: string, b: { own: { minified: number; gzipped: number }; withDeps: { minified: number; gzipped: number } }) =>
      lines.push(`| ${name} | ${kB(b.own.minified)} | ${kB(b.own.gzipped)} | ${kB(b.withDeps.minified)} | ${kB(b.withDeps.gzipped)} |`);
    row('core, realistic import', bundle.core.realistic);
    row('core, whole entry', bundle.core.whole);
    row('svelte, realistic import (with the core it uses)', bundle.svelte.realistic);
    row('svelte, whole entry', bundle.svelte.whole);
  }
  lines.push('');
  lines.push('| target | measured | met |');
  lines.push('|---|---:|:---:|');
  for (const t of targets) lines.push(`| ${t.target} | ${t.value} | ${t.met ? ('stretch' in t && t.stretch ? 'yes (stretch too)' : 'yes') : '**no**'} |`);
  for (const { frames, nodes, summary } of profiles) {
    lines.push('');
    lines.push(`Profile of the live path (${frames / 1000}k frames, ${nodes.toLocaleString('en-US')} nodes, production), self time, of ${summary.totalMs} ms sampled:`);
    lines.push('');
    lines.push('| self % | self ms | function | module |');
    lines.push('|---:|---:|---|---|');
    for (const f of summary.functions) lines.push(`| ${f.percent.toFixed(1)} | ${f.ms.toFixed(0)} | ${f.function} | ${f.where} |`);
    lines.push('');
    lines.push('The same samples by function of this library (src/), each with what it calls outside src/ (valibot, reselect, Redux):');
    lines.push('');
    lines.push('| % | ms | function | module |');
    lines.push('|---:|---:|---|---|');
    for (const f of summary.bySource) lines.push(`| ${f.percent.toFixed(1)} | ${f.ms.toFixed(0)} | ${f.function} | ${f.where} |`);
  }
  const report = lines.join('\n');
  console.log(report);
  const file = quick ? 'results.quick' : 'results';
  writeFileSync(join(benchDir, `${file}.md`), `${report}\n`);
  writeFileSync(
    join(benchDir, `${file}.json`),
    `${JSON.stringify({ command, startedAt: startedAt.toISOString(), machine: m, sizes: SIZES, throughput, latency: latencyRuns, browserLatency, bundle, profiles, targets }, null, 2)}\n`,
  );
}

await main();
