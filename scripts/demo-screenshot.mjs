#!/usr/bin/env node
/**
 * Screenshots of the demo canvas driven as a user would (`npm run demo:screenshot -- OUT_DIR`):
 *
 *   1. builds the demo (demo/dist) unless --no-build and it exists;
 *   2. starts the reference server (`server/main.ts`: page, gateway and pipeline simulator) on a
 *      free port (PORT=0) and reads its URL from stdout;
 *   3. opens the page in headless Debian Chromium (playwright-core, a fresh profile), waits for
 *      "Connected", and saves idle.png;
 *   4. presses Generate on a shot (--node, default the first; --all: every shot, one after
 *      another), saves generating.png mid-run (progress >= --mid percent) and, once every run
 *      ended, completed.png with the takes;
 *   5. stops the browser and the server and removes the profile, also on failure or Ctrl-C.
 *
 * Options: OUT_DIR (default .tmp/demo-screenshots), --node ID, --all, --prompt TEXT (type it
 * into the (first) shot's prompt first; a prompt with the word "fail" makes the run fail),
 * --fail ID (append "... as the lamp is about to fail" to that shot's prompt; repeatable), --mid N (progress
 * of the last run at the mid-run screenshot, default 45), --linger MS (wait before the final
 * screenshot, e.g. for the ambient Git/structure activity), --width W --height H (viewport, default 1440x900), --full-page, --speed S
 * (simulator speed, default 1), --seed N, --failure-rate R (chance of a random failure, default
 * the simulator's 0), --chromium PATH (default $CHROMIUM, /usr/bin/chromium or chromium on
 * PATH), --no-build, --timeout MS (per run, default 60000).
 *
 * The same steps are exported for browser tests: startDemoServer, launchBrowser, openDemo,
 * runGeneration, waitForQuiet, captureDemo, findChromium, findRedisServer.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `vite build` of the demo into demo/dist. */
export function buildDemo() {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'demo/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`demo build failed (exit ${result.status})`);
}

/** The Debian packages the browser tests and screenshots need. */
export const BROWSER_PACKAGES = ['chromium', 'fonts-liberation', 'fonts-noto-color-emoji'];

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The Chromium to drive: $CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH; undefined
 * when there is none.
 */
export function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : undefined;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return onPath('chromium');
}

/** redis-server: $REDIS_SERVER_BIN, else on PATH (or /usr/bin); undefined when there is none. */
export function findRedisServer() {
  if (process.env.REDIS_SERVER_BIN) return existsSync(process.env.REDIS_SERVER_BIN) ? process.env.REDIS_SERVER_BIN : undefined;
  return onPath('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
}

export const MISSING_CHROMIUM =
  `no Chromium at /usr/bin/chromium (or \`chromium\` on PATH, or $CHROMIUM): install the Debian packages ${BROWSER_PACKAGES.join(' ')} ` +
  `(apt-get install -y --no-install-recommends ${BROWSER_PACKAGES.join(' ')})`;

/**
 * Starts server/main.ts on a free port. Resolves with { url, wsUrl, port, pid, output(), stop(),
 * kill(signal) } once it printed its page URL (a worker, env ROLE=worker: once it printed
 * "worker ready"; it has no url). `env` adds to the environment (ROLE, REDIS_URL, SEED, SPEED,
 * FAILURE_RATE, AMBIENT_MS, ...).
 */
export function startDemoServer({ env = {}, timeoutMs = 20_000, log = false } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    // No data file unless asked (DATA_FILE): each server starts empty, tests stay independent.
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk) => {
    output += chunk;
    if (log) process.stderr.write(`[server] ${chunk}`);
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the demo server printed no URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const kill = async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    };
    const worker = env.ROLE === 'worker';
    const check = () => {
      const match = worker ? /worker ready/.exec(output) : /page:\s+(http:\/\/[^\s]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      if (worker) {
        resolveStart({ pid: child.pid, output: () => output, stop, kill, exited });
        return;
      }
      const url = match[1];
      const port = Number(new URL(url).port);
      resolveStart({ url, wsUrl: `ws://127.0.0.1:${port}/ws`, port, pid: child.pid, output: () => output, stop, kill, exited });
    };
    child.stdout.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the demo server exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}

/** Headless Chromium with a fresh profile; `close()` also removes the profile. */
export async function launchBrowser({ executablePath = findChromium(), viewport = { width: 1440, height: 900 } } = {}) {
  const { chromium } = await import('playwright-core');
  if (!executablePath || !existsSync(executablePath)) throw new Error(MISSING_CHROMIUM);
  const profile = mkdtempSync(join(tmpdir(), 'canvas-demo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
    colorScheme: 'dark',
    reducedMotion: 'no-preference',
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Opens the demo page and waits until the store is connected with its session ready. `fresh`:
 * in a new tab (else the context's first one).
 */
export async function openDemo(context, url, { timeoutMs = 15_000, fresh = false } = {}) {
  const page = (!fresh && context.pages()[0]) || (await context.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__canvasStore?.getState().connection.status === 'connected', undefined, { timeout: timeoutMs });
  await page.locator('.cr-connection-status[data-status="connected"]').waitFor({ timeout: timeoutMs });
  return { page, problems };
}

/** Node ids of the shots on the page, in canvas order. */
export async function shotIds(page) {
  return page.locator('[data-node]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-node')));
}

const nodeOf = (page, nodeId) => page.evaluate((id) => {
  // In the page: no imports, so the sharded table is searched by hand.
  const node = window.__canvasStore.getState().nodes.shards.map((shard) => shard[id]).find(Boolean);
  return node ? { status: node.status, progress: node.progress, task_id: node.task_id, takes: node.take_ids.length } : undefined;
}, nodeId);

/**
 * Presses Generate on a shot (after typing `prompt`, when given) and waits until its run is
 * under way. Returns { waitForProgress(percent), waitForEnd() } for that run.
 */
export async function runGeneration(page, nodeId, { prompt, timeoutMs = 60_000 } = {}) {
  const card = page.locator(`[data-node="${nodeId}"]`);
  if (prompt !== undefined) await card.getByLabel('Prompt', { exact: true }).fill(prompt);
  const before = await nodeOf(page, nodeId);
  await card.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction(
    ([id, previous]) => {
      // In the page: no imports, so the sharded table is searched by hand.
  const node = window.__canvasStore.getState().nodes.shards.map((shard) => shard[id]).find(Boolean);
      return node?.status === 'generating' && node.task_id !== undefined && node.task_id !== previous;
    },
    [nodeId, before?.task_id],
    { timeout: timeoutMs },
  );
  const { task_id: taskId } = await nodeOf(page, nodeId);
  return {
    taskId,
    waitForProgress: (percent) =>
      page.waitForFunction(
        ([id, task, p]) => {
          // In the page: no imports, so the sharded table is searched by hand.
  const node = window.__canvasStore.getState().nodes.shards.map((shard) => shard[id]).find(Boolean);
          return node?.task_id !== task || node.status !== 'generating' || node.progress >= p;
        },
        [nodeId, taskId, percent],
        { timeout: timeoutMs },
      ),
    /** Resolves with the node's final status ('completed', 'error', 'cancelled'). */
    waitForEnd: async () => {
      await page.waitForFunction(
        ([id, task]) => {
          // In the page: no imports, so the sharded table is searched by hand.
  const node = window.__canvasStore.getState().nodes.shards.map((shard) => shard[id]).find(Boolean);
          return node?.task_id === task && node.status !== 'generating' && node.status !== 'idle';
        },
        [nodeId, taskId],
        { timeout: timeoutMs },
      );
      return (await nodeOf(page, nodeId)).status;
    },
  };
}

/**
 * Waits until the canvas settles: no agent working and no frame applied for `quietMs` (the
 * post-production agents and the narrative update arrive after the take itself).
 */
export async function waitForQuiet(page, { quietMs = 1_200, timeoutMs = 15_000 } = {}) {
  await page.waitForFunction(
    (quiet) => {
      const state = window.__canvasStore.getState();
      const marker = (window.__quiet ??= { applied: -1, since: 0 });
      if (state.frames.applied !== marker.applied) {
        marker.applied = state.frames.applied;
        marker.since = Date.now();
        return false;
      }
      // In the page: no imports, so the sharded agents table is read by hand.
      const working = state.agents.shards.some((shard) => Object.values(shard).some((agent) => agent?.status === 'working'));
      return !working && Date.now() - marker.since >= quiet;
    },
    quietMs,
    { timeout: timeoutMs, polling: 100 },
  );
}

/**
 * The whole scenario: server, browser, idle / generating / completed screenshots in `outDir`.
 * Returns { files, statuses, problems, serverOutput }.
 */
export async function captureDemo({
  outDir,
  nodeId,
  all = false,
  prompt,
  fail = [],
  linger = 0,
  mid = 45,
  viewport = { width: 1440, height: 900 },
  fullPage = false,
  env = {},
  executablePath,
  build = true,
  timeoutMs = 60_000,
  log = false,
} = {}) {
  const t0 = Date.now();
  const timing = (label) => log && console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${label}`);
  mkdirSync(outDir, { recursive: true });
  if (build || !existsSync(join(ROOT, 'demo/dist/index.html'))) {
    buildDemo();
    timing('built demo/dist');
  }
  const cleanups = [];
  const release = trackCleanups(cleanups);
  try {
    const server = await startDemoServer({ env, log });
    cleanups.push(server.stop);
    timing(`server at ${server.url}`);
    const browser = await launchBrowser({ executablePath, viewport });
    cleanups.unshift(browser.close);
    const { page, problems } = await openDemo(browser.context, server.url);
    timing('page connected');
    const shot = async (name) => {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.mouse.move(0, 0);
      return page.screenshot({ path: join(outDir, name), fullPage, animations: 'allow' }).then(() => join(outDir, name));
    };
    const files = [];
    await page.waitForTimeout(300);
    files.push(await shot('idle.png'));
    timing('idle');

    const ids = await shotIds(page);
    const targets = all ? ids : [nodeId ?? ids[0]];
    if (targets.some((id) => !ids.includes(id))) throw new Error(`no shot ${targets.join(', ')} on the page (shots: ${ids.join(', ')})`);
    const runs = [];
    for (const [index, id] of targets.entries()) {
      let text = index === 0 ? prompt : undefined;
      if (fail.includes(id)) {
        const current = text ?? (await page.locator(`[data-node="${id}"]`).getByLabel('Prompt', { exact: true }).inputValue());
        text = `${current.replace(/[.\s]+$/, '')} as the lamp is about to fail`;
      }
      runs.push(await runGeneration(page, id, { prompt: text, timeoutMs }));
      if (all && index < targets.length - 1) await page.waitForTimeout(900);
    }
    await runs.at(-1).waitForProgress(mid);
    files.push(await shot('generating.png'));
    timing('generating');

    const statuses = {};
    for (const [index, run] of runs.entries()) statuses[targets[index]] = await run.waitForEnd();
    await waitForQuiet(page);
    if (linger > 0) await page.waitForTimeout(linger);
    files.push(await shot('completed.png'));
    timing('completed');
    return { files, statuses, problems, serverOutput: server.output() };
  } finally {
    release();
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

/** Cleanups of scenarios under way, run on SIGINT/SIGTERM before the CLI exits. */
const pending = new Set();
function trackCleanups(cleanups) {
  pending.add(cleanups);
  return () => pending.delete(cleanups);
}
async function cleanupAndExit(signal) {
  for (const cleanups of pending) for (const cleanup of cleanups) await cleanup().catch(() => {});
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function parseArgs(argv) {
  const options = { outDir: join(ROOT, '.tmp/demo-screenshots'), env: {}, viewport: { width: 1440, height: 900 } };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case '--node': options.nodeId = value(); break;
      case '--all': options.all = true; break;
      case '--prompt': options.prompt = value(); break;
      case '--fail': (options.fail ??= []).push(value()); break;
      case '--linger': options.linger = Number(value()); break;
      case '--mid': options.mid = Number(value()); break;
      case '--width': options.viewport.width = Number(value()); break;
      case '--height': options.viewport.height = Number(value()); break;
      case '--full-page': options.fullPage = true; break;
      case '--speed': options.env.SPEED = value(); break;
      case '--seed': options.env.SEED = value(); break;
      case '--failure-rate': options.env.FAILURE_RATE = value(); break;
      case '--chromium': options.executablePath = value(); break;
      case '--no-build': options.build = false; break;
      case '--timeout': options.timeoutMs = Number(value()); break;
      case '--verbose': options.log = true; break;
      case '-h':
      case '--help':
        options.help = true; break;
      default:
        if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
        options.outDir = resolve(arg);
    }
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`demo-screenshot: ${error.message}`);
    process.exit(2);
  }
  if (options.help) {
    console.log('usage: node scripts/demo-screenshot.mjs [OUT_DIR] [--node ID | --all] [--prompt TEXT] [--fail ID] [--linger MS] [--mid N] [--width W] [--height H] [--full-page] [--speed S] [--seed N] [--failure-rate R] [--chromium PATH] [--no-build] [--timeout MS] [--verbose]');
    process.exit(0);
  }
  const started = Date.now();
  process.once('SIGINT', () => void cleanupAndExit('SIGINT'));
  process.once('SIGTERM', () => void cleanupAndExit('SIGTERM'));
  captureDemo(options).then(
    (result) => {
      for (const file of result.files) console.log(`saved ${file}`);
      console.log(`runs: ${Object.entries(result.statuses).map(([id, status]) => `${id} ${status}`).join(', ')}`);
      for (const problem of result.problems) console.log(`page: ${problem}`);
      console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      process.exit(result.problems.length > 0 ? 1 : 0);
    },
    (error) => {
      console.error(`demo-screenshot: ${error.stack ?? error}`);
      process.exit(1);
    },
  );
}
