/**
 * A/B of the live path: another checkout's against this one's, in one process, repetition by
 * repetition, with the floor, on the reference scenario. For judging a change of a few percent
 * on a shared machine, where two separate runs differ by more than that.
 *
 *   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   npx tsx bench/ab.ts --base /tmp/base [--reps 21] [--frames 50000] [--nodes 500] [--warm-heap]
 *
 * Both live paths are bundled into one script (esbuild, NODE_ENV production, as bench/run.ts
 * does) from their own sources; the traffic and the floor are this checkout's. Each repetition:
 * a full collection and the floor, then base and candidate, each after a full collection, in
 * alternating order. `--warm-heap` leaves out the collections (see docs/BENCHMARKS.md: the live
 * path is faster in a heap that has not just been compacted; the floor is not).
 *
 * Prints the medians of live / floor for both, and of candidate / base per repetition, in
 * wall-clock time and in the main thread's CPU time (Linux: /proc/thread-self/schedstat, which
 * leaves out the collector's helper threads and time the thread waited for a core).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');

function option(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const base = option('base');
if (!base || !existsSync(join(base, 'bench', 'livePath.ts'))) {
  console.error('usage: npx tsx bench/ab.ts --base DIR [--reps N] [--frames N] [--nodes N] [--warm-heap]');
  console.error('DIR: a checkout of the commit to compare with (git worktree add DIR COMMIT), with node_modules');
  process.exit(2);
}
const reps = Number(option('reps', '21'));
const frames = Number(option('frames', '50000'));
const nodes = Number(option('nodes', '500'));
const warmHeap = process.argv.includes('--warm-heap');

const entry = `
import { readFileSync } from 'node:fs';
import { generateTraffic, burstSizes } from ${JSON.stringify(join(root, 'bench/traffic.ts'))};
import { runFloor } from ${JSON.stringify(join(root, 'bench/floor.ts'))};
import * as A from ${JSON.stringify(join(resolve(base), 'bench/livePath.ts'))};
import * as B from ${JSON.stringify(join(root, 'bench/livePath.ts'))};

const frames = ${frames}, nodes = ${nodes}, reps = ${reps}, warmHeap = ${warmHeap};
const threadCpuMs = () => {
  try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6; } catch { return NaN; }
};
const collect = warmHeap ? () => {} : () => { globalThis.gc(); globalThis.gc(); };
const traffic = generateTraffic({ frames, nodes });
const segmentStart = frames - 5000;
const bursts = burstSizes(frames, [segmentStart]);
const tasks = traffic.tasks.filter((t) => t.index >= segmentStart - 1500).map((t) => t.taskId);
const view = B.defaultViewPlan(traffic.nodeIds, tasks.length > 0 ? tasks : traffic.tasks.slice(-3).map((t) => t.taskId));
for (const M of [A, B]) for (let k = 0; k < 2; k++) (await M.runLivePath(traffic.frames, bursts, view)).rig.dispose();
runFloor(traffic.frames);
const r = { floor: [], floorCpu: [], a: [], aCpu: [], b: [], bCpu: [], rel: [], relCpu: [] };
for (let k = 0; k < reps; k++) {
  collect();
  let c = threadCpuMs();
  r.floor.push(runFloor(traffic.frames).totalMs);
  r.floorCpu.push(threadCpuMs() - c);
  const t = new Map();
  for (const M of k % 2 ? [A, B] : [B, A]) {
    collect();
    c = threadCpuMs();
    const run = await M.runLivePath(traffic.frames, bursts, view);
    t.set(M, [run.totalMs, threadCpuMs() - c]);
    run.rig.dispose();
  }
  r.a.push(t.get(A)[0]); r.aCpu.push(t.get(A)[1]); r.b.push(t.get(B)[0]); r.bCpu.push(t.get(B)[1]);
  r.rel.push(t.get(B)[0] / t.get(A)[0]); r.relCpu.push(t.get(B)[1] / t.get(A)[1]);
}
const median = (v) => { const s = [...v].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const x = (v) => v.toFixed(2) + 'x';
console.log(JSON.stringify({ frames, nodes, reps, warmHeap,
  wall: { base: x(median(r.a) / median(r.floor)), candidate: x(median(r.b) / median(r.floor)), candidateOverBase: median(r.rel).toFixed(3) },
  mainThreadCpu: { base: x(median(r.aCpu) / median(r.floorCpu)), candidate: x(median(r.bCpu) / median(r.floorCpu)), candidateOverBase: median(r.relCpu).toFixed(3) },
  liveUs: { base: +(median(r.a) * 1000 / frames).toFixed(2), candidate: +(median(r.b) * 1000 / frames).toFixed(2), floor: +(median(r.floor) * 1000 / frames).toFixed(2) },
  perRep: r.rel.map((v) => +v.toFixed(3)) }));
process.exit(0);
`;

const out = join(benchDir, '.build');
mkdirSync(out, { recursive: true });
const entryFile = join(out, 'ab-entry.mjs');
writeFileSync(entryFile, entry);
await build({
  entryPoints: [entryFile],
  outfile: join(out, 'ab.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  absWorkingDir: root,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
const child = spawnSync(process.execPath, ['--expose-gc', join(out, 'ab.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
process.exit(child.status ?? 1);
