/**
 * Helpers of the real-browser tests (Debian Chromium driven by playwright-core): the reference
 * server in this process (server/main.ts's startServer) or as child processes, a fresh browser
 * profile per file, an in-page recorder of what the canvas shows, the client state summary that
 * faulted and fault-free runs are compared on, and screenshots in test-results/browser/.
 *
 * Everything waits on page conditions (waitForFunction on the DOM or on
 * window.__canvasStore.getState()); nothing sleeps for a fixed time.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/main.js';
// @ts-expect-error: a plain .mjs script without types
import * as demo from '../../scripts/demo-screenshot.mjs';

export interface DemoScripts {
  ROOT: string;
  MISSING_CHROMIUM: string;
  buildDemo(): void;
  findChromium(): string | undefined;
  findRedisServer(): string | undefined;
  launchBrowser(options?: { executablePath?: string; viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; close(): Promise<void> }>;
  openDemo(context: BrowserContext, url: string, options?: { timeoutMs?: number; fresh?: boolean }): Promise<{ page: Page; problems: string[] }>;
  runGeneration(
    page: Page,
    nodeId: string,
    options?: { prompt?: string; timeoutMs?: number },
  ): Promise<{ taskId: string; waitForProgress(percent: number): Promise<unknown>; waitForEnd(): Promise<string> }>;
  waitForQuiet(page: Page, options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  startDemoServer(options?: { env?: Record<string, string>; timeoutMs?: number; log?: boolean }): Promise<ChildServer>;
}

export interface ChildServer {
  url?: string;
  wsUrl?: string;
  port?: number;
  pid: number;
  output(): string;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const scripts = demo as DemoScripts;
export const ROOT = scripts.ROOT;
export const SHOT_DIR = join(ROOT, 'test-results/browser');

/** The shots of the demo page (demo/src/lib/shots.ts), in canvas order. */
export const SHOTS = ['shot-s001-p001', 'shot-s001-p002', 'shot-s002-p003', 'shot-s002-p004'] as const;
export const PIPELINE = ['Producer', 'Screenwriter', 'CastingDirector', 'ArtDirector', 'Cinematographer'] as const;
export const POST = ['SoundDesigner', 'Editor'] as const;

/** The Chromium to drive, or an error naming the Debian packages to install. */
export function requireChromium(): string {
  const path = scripts.findChromium();
  if (!path) throw new Error(scripts.MISSING_CHROMIUM);
  return path;
}

/** redis-server, or an error naming the Debian package to install. */
export function requireRedisServer(): string {
  const path = scripts.findRedisServer();
  if (!path) {
    throw new Error(
      'redis-server is not installed (or not on PATH, nor $REDIS_SERVER_BIN): the two-gateway browser scenario needs a real Redis. ' +
        'Install the Debian package redis-server (apt-get install -y --no-install-recommends redis-server).',
    );
  }
  return path;
}

/** demo/dist, built when missing (`npm run test:browser` always builds it first). */
export function ensureDemoBuilt() {
  if (!existsSync(join(ROOT, 'demo/dist/index.html'))) scripts.buildDemo();
}

const PINNED_BOOT = 'b00700';

export interface AppOptions {
  seed?: number;
  /**
   * Random task and take ids per server process, as in production. Default false: the scenarios
   * compare a faulted run with a fault-free run on another server, so the boot nonce is pinned.
   */
  randomBoot?: boolean;
  speed?: number;
  /** Receives the simulator's log lines ("simulator: NODE run N -> success ..."). */
  log?: (line: string) => void;
}

/** ROLE=all in this process on a free loopback port: page, gateway, simulator on a memory bus. */
export function startApp(options: AppOptions = {}): Promise<RunningServer> {
  return startServer({
    role: 'all',
    port: 0,
    host: '127.0.0.1',
    demoDir: join(ROOT, 'demo/dist'),
    seed: options.seed ?? 2026,
    ...(!options.randomBoot && { boot: PINNED_BOOT }),
    speed: options.speed ?? 2,
    failureRate: 0,
    ambientEveryMs: 0,
    log: options.log,
  });
}

/** Environment of a child server (startDemoServer): seeded, no random failures, no ambient activity. */
export function childEnv(extra: Record<string, string>, options: AppOptions = {}): Record<string, string> {
  return {
    SEED: String(options.seed ?? 2026),
    ...(!options.randomBoot && { BOOT: PINNED_BOOT }),
    SPEED: String(options.speed ?? 2),
    FAILURE_RATE: '0',
    AMBIENT_MS: '0',
    DEMO_DIR: join(ROOT, 'demo/dist'),
    ...extra,
  };
}

/**
 * Saves test-results/browser/NAME.png: the top of the page, or with `focus` (a CSS selector)
 * that element scrolled into view. The header with the connection status stays on top.
 */
export async function screenshot(page: Page, name: string, focus?: string): Promise<string> {
  mkdirSync(SHOT_DIR, { recursive: true });
  const path = join(SHOT_DIR, `${name}.png`);
  if (focus) await page.locator(focus).first().scrollIntoViewIfNeeded();
  else await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.screenshot({ path, animations: 'allow' });
  return path;
}

/** Saves test-results/browser/NAME.json (what a run recorded, for a look after a failure). */
export function saveJson(name: string, data: unknown) {
  mkdirSync(SHOT_DIR, { recursive: true });
  writeFileSync(join(SHOT_DIR, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** One picture of what the canvas shows, recorded on every DOM change. */
export interface Snapshot {
  t: number;
  conn?: string;
  node?: string;
  step?: string;
  progress?: number;
  takes: number;
  thumbnail: boolean;
  error?: string;
  agents: Record<string, string>;
}

/**
 * Starts recording in the page: a MutationObserver turns every DOM change into a Snapshot of
 * the connection status, the node's border, spinner text and progress, its takes and thumbnail,
 * and the agents' cards (kept when something changed); a '*' frame listener records the seq of
 * every event the store applied (window.__rec.applied) and the agent, task and generation frames
 * in the order they were applied (window.__rec.frames). The DOM may skip a short state (frames
 * arriving within one tick are reduced as one action); the applied frames never do.
 */
export async function startRecording(page: Page, nodeId: string) {
  await page.evaluate((id) => {
    const w = window as unknown as { __rec?: { timeline: unknown[]; applied: number[]; frames: unknown[]; stop(): void } };
    w.__rec?.stop();
    const timeline: Array<Record<string, unknown>> = [];
    const applied: number[] = [];
    const snap = () => {
      const node = document.querySelector(`[data-node="${id}"] .cr-node`) as HTMLElement | null;
      const agents: Record<string, string> = {};
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.cr-agent[data-agent]'))) {
        agents[el.dataset.agent!] = el.dataset.status ?? '';
      }
      const bar = node?.querySelector('.cr-progress-text[aria-valuenow]');
      return {
        conn: (document.querySelector('.cr-connection-status') as HTMLElement | null)?.dataset.status,
        node: node?.dataset.status,
        step: node?.querySelector('.cr-step')?.textContent?.trim() || undefined,
        progress: bar ? Number(bar.getAttribute('aria-valuenow')) : undefined,
        takes: node?.querySelectorAll('.cr-take').length ?? 0,
        thumbnail: !!node?.querySelector('.cr-thumbnail img'),
        error: node?.querySelector('.cr-error-text')?.textContent?.trim() || undefined,
        agents,
      };
    };
    let last = '';
    const record = () => {
      const s = snap();
      const key = JSON.stringify(s);
      if (key === last) return;
      last = key;
      timeline.push({ t: performance.now(), ...s });
    };
    record();
    const observer = new MutationObserver(record);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    const frames: Array<Record<string, unknown>> = [];
    const off = window.__canvasStore!.on('*', (frame) => {
      const f = frame as Record<string, unknown>;
      if (typeof f.seq === 'number') applied.push(f.seq);
      if (/^(agent\.|task\.progress|generation\.)/.test(String(f.type))) {
        frames.push({ type: f.type, agent_type: f.agent_type, state: f.state, current_step: f.current_step });
      }
    });
    w.__rec = {
      timeline,
      applied,
      frames,
      stop: () => {
        observer.disconnect();
        off();
      },
    };
  }, nodeId);
}

/** An applied agent.*, task.progress or generation.* frame, in the order the store applied it. */
export interface AppliedFrame {
  type: string;
  agent_type?: string;
  state?: string;
  current_step?: number;
}

export async function recording(page: Page): Promise<{ timeline: Snapshot[]; applied: number[]; frames: AppliedFrame[] }> {
  return page.evaluate(() => {
    const rec = (window as unknown as { __rec: { timeline: Snapshot[]; applied: number[]; frames: AppliedFrame[] } }).__rec;
    return { timeline: rec.timeline, applied: rec.applied, frames: rec.frames };
  });
}

/** Waits until the node's border (data-status) shows `status`. */
export async function waitForBorder(page: Page, nodeId: string, status: string, timeoutMs = 30_000) {
  await page.locator(`[data-node="${nodeId}"] .cr-node[data-status="${status}"]`).waitFor({ timeout: timeoutMs });
}

/** Waits until the ConnectionStatus shows one of `statuses`; returns the one it showed. */
export async function waitForConnection(page: Page, statuses: string[], timeoutMs = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted) => {
      const status = (document.querySelector('.cr-connection-status') as HTMLElement | null)?.dataset.status;
      return status !== undefined && wanted.includes(status) ? status : false;
    },
    statuses,
    { timeout: timeoutMs, polling: 'raf' },
  );
  return (await handle.jsonValue()) as string;
}

/**
 * Waits until the recorded timeline (startRecording) showed one of `statuses` in the
 * ConnectionStatus after snapshot `since`, however briefly (a reconnect to a live gateway can
 * take a few milliseconds); returns the status.
 */
export async function waitForConnectionShown(page: Page, statuses: string[], since: number, timeoutMs = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    ([wanted, from]) => {
      const timeline = (window as unknown as { __rec: { timeline: Array<{ conn?: string }> } }).__rec.timeline;
      for (let i = from as number; i < timeline.length; i++) {
        const conn = timeline[i]!.conn;
        if (conn !== undefined && (wanted as string[]).includes(conn)) return conn;
      }
      return false;
    },
    [statuses, since] as const,
    { timeout: timeoutMs },
  );
  return (await handle.jsonValue()) as string;
}

/** Snapshots recorded so far. */
export function timelineLength(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __rec: { timeline: unknown[] } }).__rec.timeline.length);
}

/**
 * Observes the spinner `count` times, each time waiting for a higher progress than the last
 * (aria-valuenow of the node's progress bar); returns the [progress, spinner text] pairs.
 */
export async function observeRisingProgress(page: Page, nodeId: string, count = 3, timeoutMs = 30_000) {
  const observations: Array<{ progress: number; text: string }> = [];
  let last = -1;
  for (let i = 0; i < count; i++) {
    const handle = await page.waitForFunction(
      ([id, previous]) => {
        const node = document.querySelector(`[data-node="${id}"] .cr-node[data-status="generating"]`);
        const bar = node?.querySelector('.cr-progress-text[aria-valuenow]');
        const text = node?.querySelector('.cr-step')?.textContent?.trim() ?? '';
        const progress = Number(bar?.getAttribute('aria-valuenow'));
        return bar && progress > (previous as number) && /^Step \d+ of \d+: /.test(text) ? { progress, text } : false;
      },
      [nodeId, last] as const,
      { timeout: timeoutMs, polling: 'raf' },
    );
    const seen = (await handle.jsonValue()) as { progress: number; text: string };
    observations.push(seen);
    last = seen.progress;
  }
  return observations;
}

/** What a faulted run must end with, the same as a fault-free run of the same seed. */
export interface ClientSummary {
  nodes: Record<string, { status: string; takes: number; error?: string }>;
  tasks: Record<string, string>;
  takes: string[];
  agents: Record<string, string>;
  handoffs: number;
  narrativeShot?: string;
  lastSeq: Record<string, number>;
  gaps: number;
  rejected: number;
  unknown: number;
  outbox: number;
}

export async function clientSummary(page: Page): Promise<ClientSummary & { duplicatesDropped: number; instanceId?: string }> {
  return page.evaluate(() => {
    const s = window.__canvasStore!.getState();
    const nodes: Record<string, { status: string; takes: number; error?: string }> = {};
    // In the page: no imports, so the sharded tables are read by hand (ids keep arrival order).
    const all = <T,>(table: { shards: Record<string, T>[] }): T[] => table.shards.flatMap((shard) => Object.values(shard));
    for (const node of all(s.nodes)) {
      if (node) nodes[node.node_id] = { status: node.status, takes: node.take_ids.length, ...(node.error !== undefined && { error: node.error }) };
    }
    const tasks: Record<string, string> = {};
    for (const task of all(s.tasks)) if (task) tasks[task.task_id] = task.state;
    const agents: Record<string, string> = {};
    for (const agent of all(s.agents)) if (agent) agents[agent.agent_type] = agent.status;
    return {
      nodes,
      tasks,
      takes: [...s.takes.ids].sort(),
      agents,
      handoffs: s.agents.handoffs.length,
      narrativeShot: s.narrative.current_shot,
      lastSeq: s.sync.lastSeq,
      gaps: s.sync.gaps.length,
      rejected: s.frames.rejected.total,
      unknown: s.frames.unknown.total,
      outbox: s.outbox.entries.length,
      duplicatesDropped: s.frames.duplicatesDropped,
      instanceId: s.connection.instanceId,
    };
  });
}

/** The comparable part of a summary (without what a fault may change: dropped duplicates, instance). */
export function comparable(summary: ClientSummary & { duplicatesDropped?: number; instanceId?: string }): ClientSummary {
  const { duplicatesDropped: _d, instanceId: _i, ...rest } = summary;
  return rest;
}

/** Cleanups run in reverse order, all of them even when one fails. */
export function cleanupStack() {
  const cleanups: Array<() => unknown> = [];
  return {
    add(cleanup: () => unknown) {
      cleanups.push(cleanup);
    },
    async run() {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

export interface RunResult {
  status: string;
  summary: Awaited<ReturnType<typeof clientSummary>>;
  timeline: Snapshot[];
  applied: number[];
  sockets: string[];
  problems: string[];
}

/**
 * One generation of `nodeId` on a fresh tab of `url`, as a user runs it: records what the
 * canvas shows, presses Generate, calls `fault(page)` once the run reached `faultAt` percent
 * (when given), waits for the run to end and the canvas to settle, calls `atEnd(page)`, and
 * returns the final client state. The tab is closed afterwards.
 */
export async function generationRun(
  context: BrowserContext,
  url: string,
  nodeId: string,
  options: {
    fault?: (page: Page) => Promise<void>;
    faultAt?: number;
    /** Runs once the canvas settled, before the state is read (screenshots). */
    atEnd?: (page: Page) => Promise<unknown>;
    timeoutMs?: number;
  } = {},
): Promise<RunResult> {
  const { page, problems } = await scripts.openDemo(context, url, { fresh: true });
  try {
    await startRecording(page, nodeId);
    const run = await scripts.runGeneration(page, nodeId, { timeoutMs: options.timeoutMs });
    if (options.fault) {
      await run.waitForProgress(options.faultAt ?? 20);
      await options.fault(page);
    }
    const status = await run.waitForEnd();
    await scripts.waitForQuiet(page);
    await options.atEnd?.(page);
    const summary = await clientSummary(page);
    const { timeline, applied } = await recording(page);
    const sockets = await page.evaluate(() => window.__canvasSockets ?? []);
    return { status, summary, timeline, applied, sockets, problems: [...problems] };
  } finally {
    await page.close().catch(() => {});
  }
}

/**
 * Page problems that are not the browser reporting a socket it could not open (Chromium logs a
 * refused or cut WebSocket as a console error by itself; expected while a gateway is down).
 */
export function appProblems(problems: string[]): string[] {
  return problems.filter((problem) => !/^console\.error: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed/.test(problem));
}

/** Each event of the project applied exactly once: seqs 1..last, none missing, none twice. */
export function expectEachEventOnce(applied: number[], lastSeq: number) {
  const sorted = [...applied].sort((a, b) => a - b);
  return { sorted, expected: Array.from({ length: lastSeq }, (_, i) => i + 1) };
}

/** The connection statuses the ConnectionStatus showed, in order, without repeats. */
export function connectionStatuses(timeline: Snapshot[]): string[] {
  return timeline.map((s) => s.conn ?? '').filter((status, i, all) => status !== all[i - 1]);
}
