/**
 * Latency in a real browser, from the gateway's send to the DOM update, at 1,000 frames per
 * second (`npx tsx bench/browserLatency.ts`; a section of `npm run bench`).
 *
 * - The page (bench/browser/page.ts) is bundled with esbuild as an app would ship it (NODE_ENV
 *   production, Svelte compiled for the client) into a temporary directory, and served by the
 *   reference server (server/main.ts startServer, role gateway, in-memory bus) in this process,
 *   on a free loopback port, next to its /ws gateway.
 * - Headless Debian Chromium (playwright-core, fresh profile) opens it: the real store connects
 *   to the gateway, subscribes to the project, and one TaskProgress component shows the task.
 * - This process publishes task.progress frames on the bus, each on its timer tick at `rate`
 *   frames per second: the bus hands each to the gateway synchronously, which writes it to the
 *   page's socket (ws.send) in the same call. The send time is taken just before publishing,
 *   with performance.timeOrigin + performance.now(). Frame k's message reads "frame k".
 * - The page records, on its own clock of the same kind (performance.timeOrigin +
 *   performance.now(), same machine), when the WebSocket message event of frame k fires, and when
 *   the DOM first shows frame k or a later one (MutationObserver): frames arriving within one
 *   tick are reduced as one action, so the DOM skips frames by design.
 * - Each run opens a fresh page, warms up (`warmupFrames` at the same rate, until the DOM shows
 *   the last one), then measures `frames` frames. Three runs; the median run (by DOM p99) is
 *   the one to judge. A clock check (WebSocket round trips to the page, before the warm-up)
 *   estimates how far the two timeOrigin clocks disagree; the figures are not corrected by it.
 *
 * Three rows per run: send to DOM update; send to the message event (what loopback, Chromium's
 * network service and the renderer's queue add); message event to DOM update (the page's clock
 * only: the library's part, parse to DOM, plus the wait for its end-of-tick timer).
 *
 * Options: --runs N (3), --frames N (5000), --warmup N (1000), --rate N (1000), --quick (one run
 * of 2,000 frames), --json (print the result as JSON on the last stdout line, for bench/run.ts),
 * --dump FILE (each run's raw send, arrival and DOM times, as JSON). Without Chromium it prints
 * why and exits 0 (with --json: `{"skipped": "..."}`).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { startServer } from '../server/main.js';
// @ts-expect-error: a plain .mjs script without types
import * as demoScripts from '../scripts/demo-screenshot.mjs';
import { clockOffset, matchLatencies, progressFrame } from './browser/frames.js';
import type { BrowserLatencyOptions, BrowserLatencyResult, BrowserLatencyRun } from './browser/report.js';
import { browserLatencyLines } from './browser/report.js';
import { percentiles } from './latency.js';
import { svelteCompile } from './sveltePlugin.js';

export { browserLatencyLines, type BrowserLatencyOptions, type BrowserLatencyResult, type BrowserLatencyRun };

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');

const scripts = demoScripts as {
  MISSING_CHROMIUM: string;
  findChromium(): string | undefined;
  launchBrowser(options?: { executablePath?: string; viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; close(): Promise<void> }>;
};

export const DEFAULT_OPTIONS: BrowserLatencyOptions = { runs: 3, warmupFrames: 1_000, frames: 5_000, rate: 1_000 };
export const QUICK_OPTIONS: BrowserLatencyOptions = { runs: 1, warmupFrames: 500, frames: 2_000, rate: 1_000 };

const PROJECT = 'bench';
const NODE = 'bench-node';
const nowMs = () => performance.timeOrigin + performance.now();

/** Bundles the page into a fresh temporary directory (index.html + page.js); returns it. */
export async function buildPage(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'canvas-bench-page-'));
  try {
    await build({
      entryPoints: [join(benchDir, 'browser/page.ts')],
      outfile: join(dir, 'page.js'),
      absWorkingDir: root,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      conditions: ['production'],
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [svelteCompile],
      logLevel: 'warning',
    });
    copyFileSync(join(benchDir, 'browser/index.html'), join(dir, 'index.html'));
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Calls `send(i)` for i = 0..count-1 at `rate` per second, each frame on the first timer tick at
 * or after its due time (1 ms timers: one frame per tick at 1,000/s, sometimes two), and
 * records each send time just before the call.
 */
function pace(count: number, rate: number, send: (i: number) => void): Promise<{ sentAt: Float64Array; achievedRate: number }> {
  const sentAt = new Float64Array(count);
  return new Promise((resolvePace, reject) => {
    const start = performance.now();
    let sent = 0;
    const tick = () => {
      try {
        const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000));
        while (sent < due) {
          sentAt[sent] = nowMs();
          send(sent);
          sent += 1;
        }
        if (sent < count) {
          setTimeout(tick, 1);
          return;
        }
        const elapsed = sentAt[count - 1]! - (performance.timeOrigin + start);
        resolvePace({ sentAt, achievedRate: Math.round((count / elapsed) * 1000) });
      } catch (error) {
        reject(error);
      }
    };
    setTimeout(tick, 1);
  });
}

/** `promise`, or an error once `ms` passed (a deadline, not a wait). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Page clock minus this process's clock: the shortest of 40 round trips over a WebSocket to the
 * page, which answers each message with its clock (the frames' own path: loopback TCP, the
 * browser's network service, the renderer).
 */
async function measureClock(page: Page, timeoutMs: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('listening', resolveListen);
      server.once('error', reject);
    });
    const connected = new Promise<WebSocket>((resolveConnection) => server.once('connection', resolveConnection));
    const { port } = server.address() as AddressInfo;
    await page.evaluate((url) => window.__bench!.echo(url), `ws://127.0.0.1:${port}/`);
    const socket = await withTimeout(connected, timeoutMs, 'the clock-check socket did not connect');
    const samples: Array<{ before: number; remote: number; after: number }> = [];
    for (let i = 0; i < 40; i++) {
      const answer = new Promise<number>((resolveAnswer) => socket.once('message', (data) => resolveAnswer(Number(data.toString()))));
      const before = nowMs();
      socket.send('t');
      const remote = await withTimeout(answer, timeoutMs, 'the page did not answer the clock check');
      samples.push({ before, remote, after: nowMs() });
    }
    socket.terminate();
    return clockOffset(samples);
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  }
}

async function oneRun(context: BrowserContext, url: string, run: number, options: BrowserLatencyOptions, publish: (frame: Record<string, unknown> & { type: string }) => void): Promise<BrowserLatencyRun> {
  const timeout = options.timeoutMs ?? 20_000;
  const taskId = `bench-task-${run}`;
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  const failWith = (what: string, error: unknown) =>
    new Error(`${what}: ${(error as Error).message}${problems.length ? `\npage: ${problems.join('\npage: ')}` : ''}`);
  try {
    await page.goto(`${url}?project=${PROJECT}&task=${taskId}`, { waitUntil: 'load', timeout });
    await page.waitForFunction(() => window.__bench?.ready() === true, undefined, { timeout }).catch((error: unknown) => {
      throw failWith('the page did not connect', error);
    });
    const clock = await measureClock(page, timeout);

    const total = options.warmupFrames + options.frames;
    const frames = Array.from({ length: total }, (_, i) => progressFrame(taskId, NODE, i + 1, total));
    // Warm-up, until the DOM shows its last frame (which also proves the subscription is live).
    await pace(options.warmupFrames, options.rate, (i) => publish(frames[i]!));
    await page
      .waitForFunction((k) => window.__bench!.lastShown() >= k, options.warmupFrames, { timeout })
      .catch((error: unknown) => {
        throw failWith(`the page did not show warm-up frame ${options.warmupFrames}`, error);
      });
    await page.evaluate(() => window.__bench!.reset());

    const first = options.warmupFrames + 1;
    const { sentAt, achievedRate } = await pace(options.frames, options.rate, (i) => publish(frames[first - 1 + i]!));
    await page.waitForFunction((k) => window.__bench!.lastShown() >= k, total, { timeout }).catch((error: unknown) => {
      throw failWith(`the page did not show frame ${total}`, error);
    });
    const recorded = await page.evaluate(() => {
      const b = window.__bench!;
      return { arrivedK: b.arrivedK, arrivedAt: b.arrivedAt, shownK: b.shownK, shownAt: b.shownAt };
    });
    if (problems.length > 0) throw new Error(`the page reported problems:\n${problems.join('\n')}`);

    const matched = matchLatencies(first, sentAt, recorded.shownK, recorded.shownAt);
    // Send to message event (two clocks), and message event to DOM update (the page's clock only).
    const arrivedAt = new Map<number, number>();
    recorded.arrivedK.forEach((k, j) => arrivedAt.set(k, recorded.arrivedAt[j]!));
    const arrival: number[] = [];
    const inPage: number[] = [];
    for (let i = 0; i < options.frames; i++) {
      const at = arrivedAt.get(first + i);
      if (at === undefined) continue;
      arrival.push(at - sentAt[i]!);
      if (i < matched.shownAtOf.length) inPage.push(matched.shownAtOf[i]! - at);
    }
    options.dump?.push({ run, first, sentAt: Array.from(sentAt), ...recorded });
    return {
      rate: options.rate,
      achievedRate,
      frames: options.frames,
      dom: percentiles(matched.latencies),
      arrival: percentiles(arrival),
      inPage: percentiles(inPage),
      domUpdates: matched.updates,
      unmatched: matched.unmatched,
      clock,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

/** Cleanups of a measurement under way (run on SIGINT/SIGTERM by the CLI). */
const pending = new Set<Array<() => Promise<unknown>>>();

export async function measureBrowserLatency(options: BrowserLatencyOptions = DEFAULT_OPTIONS): Promise<BrowserLatencyResult> {
  const { log = () => {}, dump: _dump, ...recorded } = options;
  const executablePath = scripts.findChromium();
  if (!executablePath) return { skipped: scripts.MISSING_CHROMIUM, options: recorded, runs: [] };

  const cleanups: Array<() => Promise<unknown>> = [];
  pending.add(cleanups);
  try {
    const dir = await buildPage();
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const server = await startServer({ role: 'gateway', port: 0, host: '127.0.0.1', demoDir: dir });
    cleanups.push(() => server.stop());
    const browser = await scripts.launchBrowser({ executablePath, viewport: { width: 800, height: 600 } });
    cleanups.push(() => browser.close());
    const publish = (frame: Record<string, unknown> & { type: string }) => {
      // The memory bus fans out synchronously: the gateway's ws.send happens inside this call.
      server.bus.publish(PROJECT, frame).catch((error: unknown) => log(`publish failed: ${(error as Error).message}`));
    };

    const runs: BrowserLatencyRun[] = [];
    let version: string | undefined;
    for (let run = 1; run <= options.runs; run++) {
      const result = await oneRun(browser.context, server.url!, run, options, publish);
      version ??= await browserVersion(browser.context);
      runs.push(result);
      log(`  browser latency run ${run}: p50 ${result.dom.p50.toFixed(2)} ms, p99 ${result.dom.p99.toFixed(2)} ms (${result.achievedRate} frames/s)`);
    }
    const order = runs.map((_, i) => i).sort((a, b) => runs[a]!.dom.p99 - runs[b]!.dom.p99);
    return { browser: version, options: recorded, runs, median: order[order.length >> 1] };
  } finally {
    pending.delete(cleanups);
    await runCleanups(cleanups);
  }
}

/** "HeadlessChrome/<full version>" (the user agent string reports only the major version). */
async function browserVersion(context: BrowserContext): Promise<string | undefined> {
  const page = await context.newPage();
  try {
    const session = await context.newCDPSession(page);
    const { product } = (await session.send('Browser.getVersion')) as { product: string };
    return product;
  } catch {
    return undefined;
  } finally {
    await page.close().catch(() => {});
  }
}

async function runCleanups(cleanups: Array<() => Promise<unknown>>) {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

function parseArgs(argv: string[]): { options: BrowserLatencyOptions; json: boolean; dumpFile?: string } {
  const options = { ...(argv.includes('--quick') ? QUICK_OPTIONS : DEFAULT_OPTIONS) };
  let json = false;
  let dumpFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const number = () => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value <= 0) throw new Error(`${arg} needs a positive integer`);
      return value;
    };
    if (arg === '--runs') options.runs = number();
    else if (arg === '--frames') options.frames = number();
    else if (arg === '--warmup') options.warmupFrames = number();
    else if (arg === '--rate') options.rate = number();
    else if (arg === '--json') json = true;
    else if (arg === '--dump') dumpFile = argv[++i];
    else if (arg !== '--quick') throw new Error(`unknown option ${arg} (--runs N, --frames N, --warmup N, --rate N, --quick, --json, --dump FILE)`);
  }
  if (argv.includes('--dump') && !dumpFile) throw new Error('--dump needs a file');
  return { options, json, dumpFile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`browser latency: ${(error as Error).message}`);
    process.exit(2);
  }
  const { options, json, dumpFile } = parsed;
  const dump: unknown[] | undefined = dumpFile ? [] : undefined;
  const stop = (signal: NodeJS.Signals) => {
    void Promise.all(Array.from(pending, runCleanups)).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  measureBrowserLatency({ ...options, log, dump }).then(
    (result) => {
      if (dumpFile) writeFileSync(dumpFile, `${JSON.stringify(dump)}\n`);
      const report = browserLatencyLines(result).join('\n');
      if (json) {
        process.stderr.write(`${report}\n`);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        console.log(report);
      }
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`browser latency: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
