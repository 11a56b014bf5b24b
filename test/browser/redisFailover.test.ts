/**
 * Two gateways on one Redis, in Debian Chromium: a real redis-server (free loopback port,
 * persistence off), the pipeline simulator as its own process (ROLE=worker) and two gateway
 * processes (ROLE=gateway) A and B. The page is served by A and opened with
 * `?ws=wsA,wsB`: its first socket goes to A, every reconnect to the next URL in the list
 * (demo/src/lib/socketUrl.ts). A is killed (SIGKILL) mid-generation; the page reconnects to B,
 * restores its session from Redis, replays what it missed, and the node finishes with nothing
 * lost or doubled: the final client state equals a fault-free run of the same seed.
 * Screenshots: test-results/browser/failover-{recovered,completed}.png.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import {
  appProblems,
  childEnv,
  cleanupStack,
  comparable,
  connectionStatuses,
  ensureDemoBuilt,
  expectEachEventOnce,
  generationRun,
  requireChromium,
  requireRedisServer,
  saveJson,
  screenshot,
  scripts,
  SHOTS,
  startApp,
  timelineLength,
  waitForConnection,
  waitForConnectionShown,
  type ChildServer,
  type RunResult,
} from './support.js';

const SPEED = 2;
const NODE = SHOTS[3];
const cleanups = cleanupStack();
let context: BrowserContext;
let redis: RedisServer;
let worker: ChildServer;
let gatewayA: ChildServer;
let gatewayB: ChildServer;

beforeAll(async () => {
  const executablePath = requireChromium();
  requireRedisServer();
  ensureDemoBuilt();
  redis = await startRedisServer();
  cleanups.add(() => redis.stop());
  const env = (role: string) => childEnv({ ROLE: role, REDIS_URL: redis.url }, { speed: SPEED });
  worker = await scripts.startDemoServer({ env: env('worker') });
  cleanups.add(() => worker.stop());
  [gatewayA, gatewayB] = await Promise.all([scripts.startDemoServer({ env: env('gateway') }), scripts.startDemoServer({ env: env('gateway') })]);
  cleanups.add(() => gatewayA.stop());
  cleanups.add(() => gatewayB.stop());
  const browser = await scripts.launchBrowser({ executablePath });
  cleanups.add(() => browser.close());
  context = browser.context;
});

afterAll(() => cleanups.run());

describe('two gateways on Redis: the page loses its gateway mid-flow and resumes on the other', () => {
  let baseline: RunResult;

  beforeAll(async () => {
    // The fault-free run of the same seed (same plan: seed, node and run number), in one process.
    const server = await startApp({ speed: SPEED });
    try {
      baseline = await generationRun(context, server.url!, NODE);
    } finally {
      await server.stop();
    }
    expect(baseline.status).toBe('completed');
  });

  it('gateway A killed (SIGKILL) mid-generation: reconnecting, then Connected on B; the node completes; nothing lost or doubled', async () => {
    const pageUrl = `${gatewayA.url}?ws=${encodeURIComponent(`${gatewayA.wsUrl},${gatewayB.wsUrl}`)}`;
    let instanceA = '';
    let shown = '';
    const result = await generationRun(context, pageUrl, NODE, {
      faultAt: 15,
      fault: async (page) => {
        instanceA = await page.evaluate(() => window.__canvasStore!.getState().connection.instanceId ?? '');
        const since = await timelineLength(page);
        await gatewayA.kill('SIGKILL');
        // B is up: the page may be back within milliseconds, so read the recorded timeline.
        shown = await waitForConnectionShown(page, ['reconnecting', 'suspended'], since);
        await waitForConnection(page, ['connected']);
        await page.waitForFunction(() => window.__canvasStore!.getState().connection.sessionReady);
        await screenshot(page, 'failover-recovered');
      },
      atEnd: (page) => screenshot(page, 'failover-completed', `[data-node="${NODE}"]`),
    });

    saveJson('failover', { baseline, result });
    // A died without a close frame: 1006, reconnect with backoff; the next socket went to B.
    expect(shown).toBe('reconnecting');
    expect(result.sockets[0]).toBe(gatewayA.wsUrl);
    expect(result.sockets.at(-1)).toBe(gatewayB.wsUrl);
    expect(result.summary.instanceId).not.toBe(instanceA);
    expect(instanceA).toMatch(/^gw-/);
    const statuses = connectionStatuses(result.timeline);
    expect(statuses[0]).toBe('connected');
    expect(statuses.at(-1)).toBe('connected');
    expect(statuses.filter((s) => s !== 'connected' && s !== 'suspended' && s !== 'reconnecting')).toEqual([]);

    expect(result.status).toBe('completed');
    expect(comparable(result.summary)).toEqual(comparable(baseline.summary));
    const { sorted, expected } = expectEachEventOnce(result.applied, result.summary.lastSeq.demo!);
    expect(sorted).toEqual(expected);
    expect(appProblems(result.problems)).toEqual([]);
    // The worker ran the generation once: run 1, never a second run of the node.
    const runs = worker.output().split('\n').filter((line) => line.includes(`simulator: ${NODE} run`));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(new RegExp(`${NODE} run 1 -> success`));
  });
});
