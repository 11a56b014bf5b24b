/**
 * The demo canvas in Debian Chromium against the reference server (ROLE=all in this process, on
 * a free loopback port, memory bus, seeded simulator at SPEED 2): Generate, Cancel, and a run
 * that fails, as a user sees them. Screenshots: test-results/browser/{idle,generating,completed,
 * cancelled,error}.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main.js';
import {
  cleanupStack,
  ensureDemoBuilt,
  observeRisingProgress,
  PIPELINE,
  POST,
  recording,
  requireChromium,
  screenshot,
  scripts,
  SHOTS,
  startApp,
  startRecording,
  waitForBorder,
  type AppliedFrame,
  type Snapshot,
} from './support.js';

const cleanups = cleanupStack();
let server: RunningServer;
let page: Page;
let problems: string[];

beforeAll(async () => {
  const executablePath = requireChromium();
  ensureDemoBuilt();
  server = await startApp({ speed: 2 });
  cleanups.add(() => server.stop());
  const browser = await scripts.launchBrowser({ executablePath });
  cleanups.add(() => browser.close());
  ({ page, problems } = await scripts.openDemo(browser.context, server.url!));
});

afterAll(() => cleanups.run());

/** Index of the first snapshot matching `match`, -1 when none. */
const firstIndex = (timeline: Snapshot[], match: (s: Snapshot) => boolean) => timeline.findIndex(match);

describe('the canvas in Chromium: generate, cancel, fail', () => {
  it('idle: four shots, connected, no run yet', async () => {
    expect(await page.locator('[data-node]').count()).toBe(SHOTS.length);
    for (const id of SHOTS) expect(await page.locator(`[data-node="${id}"] .cr-node`).getAttribute('data-status')).toBe('idle');
    expect(await page.locator('.cr-connection-status').getAttribute('data-status')).toBe('connected');
    await screenshot(page, 'idle');
  });

  it('Generate: border generating, "Step k of N" with rising progress, agents in pipeline order, then a thumbnail, a take and a completed border', async () => {
    const nodeId = SHOTS[0];
    const card = page.locator(`[data-node="${nodeId}"]`);
    await startRecording(page, nodeId);
    const run = await scripts.runGeneration(page, nodeId);
    await waitForBorder(page, nodeId, 'generating');

    const observations = await observeRisingProgress(page, nodeId, 3);
    expect(observations).toHaveLength(3);
    for (const { text } of observations) expect(text).toMatch(/^Step \d+ of \d+: /);
    const values = observations.map((o) => o.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(new Set(values).size).toBe(3);
    await screenshot(page, 'generating', `[data-node="${nodeId}"]`);

    expect(await run.waitForEnd()).toBe('completed');
    await waitForBorder(page, nodeId, 'completed');
    await card.locator('.cr-thumbnail img').waitFor();
    await card.locator('.cr-take').first().waitFor();
    await scripts.waitForQuiet(page);
    await screenshot(page, 'completed', `[data-node="${nodeId}"]`);

    const { timeline, frames } = await recording(page);
    // The border: idle -> generating -> completed, never anything else.
    const borders = timeline.map((s) => s.node).filter((s, i, all) => s !== all[i - 1]);
    expect(borders).toEqual(['idle', 'generating', 'completed']);

    // The pipeline, as the store applied it: each agent assigned in order, completing before the
    // next is assigned; the Celery task STARTED only after the Cinematographer completed; the
    // post-production agents after the take.
    const order = [...PIPELINE, ...POST];
    const at = (match: (f: AppliedFrame) => boolean) => frames.findIndex(match);
    const assigned = (agent: string) => at((f) => f.type === 'agent.assigned' && f.agent_type === agent);
    const finished = (agent: string) => at((f) => f.type === 'agent.completed' && f.agent_type === agent);
    expect(frames.filter((f) => f.type === 'agent.assigned').map((f) => f.agent_type)).toEqual(order);
    for (let i = 0; i < order.length; i++) {
      expect(finished(order[i]!), `${order[i]} completes after it is assigned`).toBeGreaterThan(assigned(order[i]!));
      if (i > 0) expect(assigned(order[i]!), `${order[i]} after ${order[i - 1]} completed`).toBeGreaterThan(finished(order[i - 1]!));
    }
    const taskStarted = at((f) => f.type === 'task.progress' && f.state === 'STARTED');
    expect(taskStarted).toBeGreaterThan(finished('Cinematographer'));
    expect(assigned('SoundDesigner')).toBeGreaterThan(at((f) => f.type === 'generation.completed'));

    // What the canvas showed: the cards light up in pipeline order (the first time each card
    // leaves idle; two may light up in one DOM update when frames arrive together), the Producer
    // first, and cards shown working along the way; all end completed.
    const lit = (agent: string) => firstIndex(timeline, (s) => (s.agents[agent] ?? 'idle') !== 'idle');
    const litAt = order.map(lit);
    expect(litAt.every((index) => index > -1)).toBe(true);
    expect([...litAt].sort((a, b) => a - b)).toEqual(litAt);
    expect(litAt[0]).toBeLessThan(litAt[1]!);
    const seenWorking = order.filter((agent) => timeline.some((s) => s.agents[agent] === 'working'));
    expect(seenWorking.length).toBeGreaterThanOrEqual(3);
    for (const agent of order) expect(timeline.at(-1)!.agents[agent]).toBe('completed');
    // The spinner's steps start once the Cinematographer's card shows completed.
    const doneInDom = firstIndex(timeline, (s) => s.agents.Cinematographer === 'completed');
    const firstStep = firstIndex(timeline, (s) => /^Step \d+ of \d+: /.test(s.step ?? ''));
    expect(firstStep).toBeGreaterThanOrEqual(doneInDom);
    // The take after the steps; SoundDesigner lights up after the take.
    const take = firstIndex(timeline, (s) => s.takes > 0);
    expect(take).toBeGreaterThan(firstStep);
    expect(lit('SoundDesigner')).toBeGreaterThanOrEqual(take);
    // The thumbnail comes with the completed border (Svelte may draw them in two DOM updates).
    const thumbnailAt = firstIndex(timeline, (s) => s.thumbnail);
    const completedAt = firstIndex(timeline, (s) => s.node === 'completed');
    expect(thumbnailAt).toBeGreaterThanOrEqual(completedAt);
    expect(timeline[thumbnailAt]!.t - timeline[completedAt]!.t).toBeLessThan(1_000);
    // Steps counted up and progress never went back.
    const steps = timeline.map((s) => /^Step (\d+) of (\d+): /.exec(s.step ?? '')).filter((m): m is RegExpExecArray => !!m);
    expect(steps.length).toBeGreaterThanOrEqual(3);
    const numbers = steps.map((m) => Number(m[1]));
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
    // "Step k of N": N is the Steps field of the card.
    const stepsField = await card.getByLabel('Steps', { exact: true }).inputValue();
    expect(new Set(steps.map((m) => m[2]))).toEqual(new Set([stepsField]));
    const progress = timeline.map((s) => s.progress).filter((p): p is number => p !== undefined);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    expect(await card.locator('.cr-take').count()).toBe(1);
    expect(await page.getByTestId('take-count').textContent()).toBe('1');
    // The Tasks panel shows the take, not Celery's raw result.
    const task = page.getByRole('region', { name: `Task ${run.taskId}` });
    await task.locator('.task-take img').waitFor();
    expect(await task.locator('.task-take').textContent()).toContain('Take 1');
    expect(await task.textContent()).not.toMatch(/output_path|take_id|[{}]/);
    // The story panel: the current beat and the position name this shot.
    const story = page.getByRole('region', { name: 'Narrative progress' });
    const field = (name: string) => story.locator(`[data-field="${name}"] dd`).textContent();
    expect([await field('scene'), await field('shot'), await field('beat')]).toEqual(['S001', 'P001', 'Wonder']);
    expect(await story.locator('[data-beat="Wonder"]').getAttribute('data-reached')).toBe('true');
    expect(await story.locator('[data-beat="Wonder"] .cr-beat-place').textContent()).toBe('Scene S001 · Shot P001');
    expect(problems).toEqual([]);
  });

  it('Cancel mid-run: the cancelled state is shown and the run stops', async () => {
    const nodeId = SHOTS[1];
    const card = page.locator(`[data-node="${nodeId}"]`);
    const run = await scripts.runGeneration(page, nodeId);
    await run.waitForProgress(10);
    await card.getByRole('button', { name: 'Cancel', exact: true }).click();
    expect(await run.waitForEnd()).toBe('cancelled');
    await waitForBorder(page, nodeId, 'cancelled');
    expect(await card.locator('.cr-cancelled').textContent()).toBe('Generation cancelled');
    expect(await card.locator('.cr-overlay').count()).toBe(0);
    expect(await card.locator('.cr-take').count()).toBe(0);
    const task = await page.evaluate((id) => {
      // In the page: no imports, so the sharded tables are searched by hand.
      const s = window.__canvasStore!.getState();
      const node = s.nodes.shards.map((shard) => shard[id]).find(Boolean)!;
      return s.tasks.shards.map((shard) => shard[node.task_id!]).find(Boolean)?.state;
    }, nodeId);
    expect(task).toBe('REVOKED');
    await scripts.waitForQuiet(page);
    await screenshot(page, 'cancelled', `[data-node="${nodeId}"]`);
    expect(server.simulator!.activeRuns()).not.toContain(nodeId);
    expect(problems).toEqual([]);
  });

  it('a prompt with the word "fail": the error indicator with the CUDA message', async () => {
    const nodeId = SHOTS[2];
    const card = page.locator(`[data-node="${nodeId}"]`);
    const run = await scripts.runGeneration(page, nodeId, { prompt: 'The generator coughs and the lamp is about to fail' });
    expect(await run.waitForEnd()).toBe('error');
    await waitForBorder(page, nodeId, 'error');
    const alert = card.locator('.cr-error[role="alert"]');
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.locator('.cr-error-text').textContent()).toContain('CUDA out of memory');
    expect(await card.locator('.cr-take').count()).toBe(0);
    await scripts.waitForQuiet(page);
    await screenshot(page, 'error', `[data-node="${nodeId}"]`);
    expect(problems).toEqual([]);
  });
});
