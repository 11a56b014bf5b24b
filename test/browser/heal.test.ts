/**
 * Issue 12 in Debian Chromium on the demo, served by `server/main.ts` as a child process on a
 * memory bus (what `npm start` runs): a reload after a take shows the take again, and a server
 * killed with SIGKILL mid-run and started again on the same port leaves nothing spinning; a
 * rerun then adds a new take; with the demo's data file (DATA_FILE), a page reloaded after the
 * kill and restart still shows its take, and the run cut off shows the worker-lost error.
 * Screenshots: test-results/browser/{heal-reloaded,heal-lost,heal-file}.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appProblems, childEnv, cleanupStack, ensureDemoBuilt, requireChromium, screenshot, scripts, SHOTS, type ChildServer } from './support.js';

const cleanups = cleanupStack();
let context: BrowserContext;

beforeAll(async () => {
  const executablePath = requireChromium();
  ensureDemoBuilt();
  const browser = await scripts.launchBrowser({ executablePath });
  cleanups.add(() => browser.close());
  context = browser.context;
});

afterAll(() => cleanups.run());

async function server(port = 0, dataFile?: string): Promise<ChildServer> {
  // Ids as in production (random per process): a restart must not reuse them.
  const child = await scripts.startDemoServer({ env: childEnv({ PORT: String(port), ...(dataFile && { DATA_FILE: dataFile }) }, { speed: 2, randomBoot: true }) });
  cleanups.add(() => child.stop().catch(() => {}));
  return child;
}

/** The node as the page's store has it (the sharded table searched by hand: no imports in the page). */
function nodeOf(page: Page, nodeId: string) {
  return page.evaluate((id) => {
    const state = window.__canvasStore!.getState();
    return state.nodes.shards.map((shard) => shard[id]).find(Boolean) as { status: string; take_ids: string[]; task_id?: string; error?: string } | undefined;
  }, nodeId);
}

function waitForNode(page: Page, nodeId: string, check: string, timeoutMs = 30_000) {
  return page.waitForFunction(
    ([id, body]) => {
      const node = window.__canvasStore!.getState().nodes.shards.map((shard) => shard[id!]).find(Boolean);
      return node !== undefined && (new Function('node', `return ${body}`) as (n: unknown) => boolean)(node);
    },
    [nodeId, check],
    { timeout: timeoutMs },
  );
}

describe('the demo heals', () => {
  it('a reload after a take shows the completed node and its take again', async () => {
    const srv = await server();
    const { page, problems } = await scripts.openDemo(context, srv.url!, { fresh: true });
    cleanups.add(() => page.close().catch(() => {}));
    const run = await scripts.runGeneration(page, SHOTS[0]);
    expect(await run.waitForEnd()).toBe('completed');
    await scripts.waitForQuiet(page);
    const before = await nodeOf(page, SHOTS[0]);
    expect(before!.take_ids).toHaveLength(1);

    await page.reload({ waitUntil: 'load' });
    await page.locator('.cr-connection-status[data-status="connected"]').waitFor({ timeout: 15_000 });
    await waitForNode(page, SHOTS[0], "node.status === 'completed' && node.take_ids.length === 1");
    await page.locator(`[data-node="${SHOTS[0]}"] .cr-node[data-status="completed"]`).waitFor({ timeout: 15_000 });
    expect((await nodeOf(page, SHOTS[0]))!.take_ids).toEqual(before!.take_ids);
    await screenshot(page, 'heal-reloaded', `[data-node="${SHOTS[0]}"]`);
    expect(appProblems(problems)).toEqual([]);
  });

  it('the server killed with SIGKILL mid-run and started again: nothing left spinning, a rerun adds a new take', async () => {
    const first = await server();
    const { page, problems } = await scripts.openDemo(context, first.url!, { fresh: true });
    cleanups.add(() => page.close().catch(() => {}));
    const done = await scripts.runGeneration(page, SHOTS[1]);
    expect(await done.waitForEnd()).toBe('completed');
    await scripts.waitForQuiet(page);
    const run = await scripts.runGeneration(page, SHOTS[1]);
    await run.waitForProgress(15);

    await first.kill('SIGKILL');
    const restartedAt = Date.now();
    const second = await server(first.port!);
    await page.locator('.cr-connection-status[data-status="connected"]').waitFor({ timeout: 30_000 });
    await waitForNode(page, SHOTS[1], "node.status !== 'generating'", 30_000);
    const leftAfterMs = Date.now() - restartedAt;
    const generating = await page.evaluate(() => window.__canvasStore!.getState().nodes.generating_ids);
    expect(generating).toEqual([]);
    await screenshot(page, 'heal-lost', `[data-node="${SHOTS[1]}"]`);

    const takesBefore = (await nodeOf(page, SHOTS[1]))!.take_ids;
    const rerun = await scripts.runGeneration(page, SHOTS[1]);
    expect(await rerun.waitForEnd()).toBe('completed');
    await waitForNode(page, SHOTS[1], `node.take_ids.length === ${takesBefore.length + 1}`);
    console.log(`[heal] demo, SIGKILL mid-run: the run left generating ${leftAfterMs} ms after the server was started again`);
    expect(appProblems(problems)).toEqual([]);
    await second.stop();
  });

  it('with its data file, a page reloaded after a SIGKILL and restart mid-run shows the take, and the cut run the worker-lost error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'i12-durable-browser-'));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'demo.jsonl');
    const first = await server(0, dataFile);
    const { page, problems } = await scripts.openDemo(context, first.url!, { fresh: true });
    cleanups.add(() => page.close().catch(() => {}));
    const done = await scripts.runGeneration(page, SHOTS[2]);
    expect(await done.waitForEnd()).toBe('completed');
    await scripts.waitForQuiet(page);
    const takes = (await nodeOf(page, SHOTS[2]))!.take_ids;
    const run = await scripts.runGeneration(page, SHOTS[3]);
    await run.waitForProgress(15);

    await first.kill('SIGKILL');
    const restartedAt = Date.now();
    const second = await server(first.port!, dataFile);
    await page.reload({ waitUntil: 'load' });
    await page.locator('.cr-connection-status[data-status="connected"]').waitFor({ timeout: 15_000 });
    await waitForNode(page, SHOTS[2], "node.status === 'completed'");
    await waitForNode(page, SHOTS[3], "node.status === 'error'");
    console.log(`[heal] demo with its data file, SIGKILL mid-run: a reload showed the take and the lost run ${Date.now() - restartedAt} ms after the server was started again`);
    expect((await nodeOf(page, SHOTS[2]))!.take_ids).toEqual(takes);
    expect((await nodeOf(page, SHOTS[3]))!.error).toBe('The worker was lost when the server restarted');
    expect(await page.evaluate(() => window.__canvasStore!.getState().nodes.generating_ids)).toEqual([]);
    await screenshot(page, 'heal-file', `[data-node="${SHOTS[3]}"]`);

    const rerun = await scripts.runGeneration(page, SHOTS[3]);
    expect(await rerun.waitForEnd()).toBe('completed');
    expect(appProblems(problems)).toEqual([]);
    await second.stop();
  });
});
