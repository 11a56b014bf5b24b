/**
 * The gateway restarts mid-generation while the page watches (Debian Chromium, the reference
 * server in this process on a memory bus): server/main.ts stops the gateway alone — gracefully
 * (system.shutdown, close 1012) or abruptly (sockets terminated, 1006) — and starts a new one on
 * the same port while the bus and the simulator ("the Celery workers") keep running. The page
 * shows suspended / reconnecting, then Connected; the node completes, and the final client
 * state equals a fault-free run of the same seed. Screenshots: test-results/browser/
 * {suspended,reconnecting,recovered,recovered-abrupt}.png.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main.js';
import {
  appProblems,
  cleanupStack,
  comparable,
  connectionStatuses,
  ensureDemoBuilt,
  expectEachEventOnce,
  generationRun,
  requireChromium,
  saveJson,
  screenshot,
  scripts,
  SHOTS,
  startApp,
  waitForConnection,
} from './support.js';

const SPEED = 2;
const NODE = SHOTS[0];
const cleanups = cleanupStack();
let context: BrowserContext;

beforeAll(async () => {
  const executablePath = requireChromium();
  ensureDemoBuilt();
  const browser = await scripts.launchBrowser({ executablePath });
  cleanups.add(() => browser.close());
  context = browser.context;
  await context.addInitScript(recordWire);
});

interface WireFrame {
  type?: unknown;
  project_id?: unknown;
  seq?: unknown;
  to_seq?: unknown;
}

/**
 * Runs in the page before the demo: every frame the page's sockets receive, as the wire had it
 * (window.__wire), to count the duplicates independently of the store's own counter.
 */
function recordWire() {
  const w = window as unknown as { __wire: WireFrame[]; WebSocket: typeof WebSocket };
  const Native = w.WebSocket;
  w.__wire = [];
  w.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => {
        try {
          const { type, project_id, seq, to_seq } = JSON.parse(String(event.data)) as WireFrame;
          w.__wire.push({ type, project_id, seq, to_seq });
        } catch {
          w.__wire.push({});
        }
      });
    }
  };
}

/**
 * Frames whose seq the page's position had already reached when they arrived: the client's rule
 * (docs/PROTOCOL.md), where a new session (session.init) starts the numbering again and a
 * replay.gap moves the position.
 */
function wireDuplicates(wire: WireFrame[]): number {
  const position = new Map<unknown, number>();
  let duplicates = 0;
  for (const { type, project_id, seq, to_seq } of wire) {
    if (type === 'session.init') position.clear();
    else if (type === 'replay.gap' && typeof to_seq === 'number') position.set(project_id, to_seq);
    else if (typeof seq === 'number' && project_id !== undefined) {
      const last = position.get(project_id);
      if (last !== undefined && seq <= last) duplicates += 1;
      else position.set(project_id, seq);
    }
  }
  return duplicates;
}

afterAll(() => cleanups.run());

/** A fresh server (same seed every time), one generation of NODE, the server stopped after. */
async function runOnFreshServer(fault?: (server: RunningServer, page: Page) => Promise<void>) {
  const lines: string[] = [];
  let wire: WireFrame[] = [];
  const server = await startApp({ speed: SPEED, log: (line) => lines.push(line) });
  try {
    const result = await generationRun(context, server.url!, NODE, {
      ...(fault && { fault: (page: Page) => fault(server, page), faultAt: 15 }),
      atEnd: async (page) => {
        wire = await page.evaluate(() => (window as unknown as { __wire: WireFrame[] }).__wire);
      },
    });
    return { ...result, wire, simulatorLog: lines, instances: server.gateway()?.instanceId };
  } finally {
    await server.stop();
  }
}

let baseline: Awaited<ReturnType<typeof runOnFreshServer>>;

describe('the gateway restarts mid-generation (memory bus, the simulator keeps running)', () => {
  beforeAll(async () => {
    baseline = await runOnFreshServer();
    expect(baseline.status).toBe('completed');
  });

  it('fault-free run of the seed: completed, one take, each event applied once', () => {
    expect(baseline.summary.nodes[NODE]).toEqual({ status: 'completed', takes: 1 });
    expect(baseline.summary.rejected).toBe(0);
    expect(baseline.summary.duplicatesDropped).toBe(0);
    expect(wireDuplicates(baseline.wire)).toBe(0);
    expect(baseline.wire.length).toBeGreaterThan(20);
    const { sorted, expected } = expectEachEventOnce(baseline.applied, baseline.summary.lastSeq.demo!);
    expect(sorted).toEqual(expected);
    expect(connectionStatuses(baseline.timeline)).toEqual(['connected']);
  });

  for (const mode of ['graceful', 'abrupt'] as const) {
    it(`${mode} restart (${mode === 'graceful' ? '1012' : 'terminate, 1006'}): suspended/reconnecting, then Connected; the final state equals the fault-free run`, async () => {
      let shown = '';
      let before = '';
      let after = '';
      const result = await runOnFreshServer(async (server, page) => {
        before = server.gateway()!.instanceId;
        await server.stopGateway(mode);
        shown = await waitForConnection(page, ['suspended', 'reconnecting']);
        await screenshot(page, mode === 'graceful' ? 'suspended' : 'reconnecting');
        // The node keeps its run while the link is down.
        expect(await page.locator(`[data-node="${NODE}"] .cr-node`).getAttribute('data-status')).toBe('generating');
        after = server.startGateway().instanceId;
        await waitForConnection(page, ['connected']);
        await page.waitForFunction(() => window.__canvasStore!.getState().connection.sessionReady);
        await screenshot(page, mode === 'graceful' ? 'recovered' : 'recovered-abrupt');
      });

      saveJson(`restart-${mode}`, { baseline, result });
      expect(shown).toBe(mode === 'graceful' ? 'suspended' : 'reconnecting');
      expect(after).not.toBe(before);
      expect(result.summary.instanceId).toBe(after);
      // The status went down and came back, and never to error or disconnected.
      const statuses = connectionStatuses(result.timeline);
      expect(statuses[0]).toBe('connected');
      expect(statuses.at(-1)).toBe('connected');
      expect(statuses).toContain(shown);
      expect(statuses.filter((s) => s !== 'connected' && s !== 'suspended' && s !== 'reconnecting')).toEqual([]);
      // The node finished, and the state equals the fault-free run's: same node status and take
      // count, same tasks and final states, same takes, agents, hand-offs, narrative, seqs.
      expect(result.status).toBe('completed');
      expect(comparable(result.summary)).toEqual(comparable(baseline.summary));
      // No event applied twice, none missing (a replay may have brought duplicates: dropped).
      const { sorted, expected } = expectEachEventOnce(result.applied, result.summary.lastSeq.demo!);
      expect(sorted).toEqual(expected);
      // Exactly the frames that arrived at or below the page's position (counted off the wire).
      expect(result.wire.length).toBeGreaterThan(20);
      expect(result.summary.duplicatesDropped).toBe(wireDuplicates(result.wire));
      // The simulator ran the generation once.
      expect(result.simulatorLog.filter((line) => line.includes(`${NODE} run`))).toEqual(baseline.simulatorLog.filter((line) => line.includes(`${NODE} run`)));
      expect(appProblems(result.problems)).toEqual([]);
    });
  }
});
