/**
 * The bus's command channel (publishCommand / onCommand) on the memory bus, the gateway handing
 * accepted commands to it, and server/main.ts's roles and in-process gateway restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import type { BusCommand } from '../../server/bus/types.js';
import { dataFileOf, startServer } from '../../server/main.js';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  startGeneration,
  subscribeProject,
  type RealtimeState,
} from '../../src/index.js';
import { cleanupStack, eventually, RawClient, startGateway } from './helpers.js';
import { getEntity } from '../../src/slices/table.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

const start = (n: number, extra: Record<string, unknown> = {}) => ({
  type: 'start_generation' as const,
  node_id: `node-${n}`,
  params: { prompt: `shot ${n}` },
  timestamp: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('memory bus: command channel', () => {
  it('calls every command listener directly, in order, and says how many received it', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const a: BusCommand[] = [];
    const b: BusCommand[] = [];
    expect(await bus.publishCommand(start(0), { sessionId: 's', projectId: 'p' })).toBe(0);
    const offA = bus.onCommand((frame, context) => a.push({ frame, context }));
    bus.onCommand((frame, context) => b.push({ frame, context }));
    await bus.commandsReady();
    expect(await bus.publishCommand(start(1), { sessionId: 's1', projectId: 'p1' })).toBe(2);
    // Direct call: delivered before publishCommand resolves.
    expect(a).toEqual([{ frame: start(1), context: { sessionId: 's1', projectId: 'p1' } }]);
    offA();
    expect(await bus.publishCommand(start(2), { sessionId: 's1', projectId: 'p1' })).toBe(1);
    expect(a).toHaveLength(1);
    expect(b.map((c) => c.frame.node_id)).toEqual(['node-1', 'node-2']);
  });

  it('close() drops the command listeners', async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    bus.onCommand((frame) => seen.push(frame.node_id));
    await bus.close();
    expect(await bus.publishCommand(start(1), { sessionId: 's', projectId: 'p' })).toBe(0);
    expect(seen).toEqual([]);
  });
});

describe('gateway: accepted commands go to the command channel', () => {
  it('publishes an accepted command once (with its context) before acking; a resend is acked duplicate and not published', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const order: string[] = [];
    const received: BusCommand[] = [];
    bus.onCommand((frame, context) => {
      order.push(`command ${String(frame.command_id)}`);
      received.push({ frame, context });
    });
    const gw = await startGateway(cleanups, { bus });
    const { client, reply } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();
    const frame = start(1, { command_id: 'cmd-1' });
    client.send(frame);
    const ack = await client.next('ack');
    order.push(`ack ${ack.command_id}`);
    expect(ack).toMatchObject({ command_id: 'cmd-1', status: 'accepted' });
    expect(order).toEqual(['command cmd-1', 'ack cmd-1']);
    expect(received).toEqual([{ frame, context: { sessionId: reply.session_id, projectId: 'proj-1' } }]);

    client.send(frame);
    expect(await client.next('ack')).toMatchObject({ command_id: 'cmd-1', status: 'duplicate' });
    client.send({ type: 'cancel_generation', node_id: 'node-1', command_id: 'cmd-2', project_id: 'proj-9', timestamp: '2026-01-01T00:00:00.000Z' });
    expect(await client.next('ack')).toMatchObject({ command_id: 'cmd-2', status: 'accepted' });
    expect(received.map((c) => [c.frame.type, c.context.projectId])).toEqual([
      ['start_generation', 'proj-1'],
      ['cancel_generation', 'proj-9'],
    ]);
  });

  it('keeps the onCommand option working next to the channel; publishCommands: false turns the channel off', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const viaBus: string[] = [];
    bus.onCommand((frame) => viaBus.push(frame.node_id));
    const viaOption: string[] = [];
    const both = await startGateway(cleanups, { bus, onCommand: (frame) => void viaOption.push(frame.node_id) });
    const only = await startGateway(cleanups, { bus, publishCommands: false, onCommand: (frame) => void viaOption.push(frame.node_id) });
    for (const [gw, n] of [[both, 1], [only, 2]] as const) {
      const { client } = await gw.session();
      client.send(start(n, { command_id: `cmd-${n}` }));
      await client.next('ack');
    }
    expect(viaOption).toEqual(['node-1', 'node-2']);
    expect(viaBus).toEqual(['node-1']);
  });
});

function storeFor(url: string) {
  const store = createRealtimeStore({
    url,
    WebSocket,
    storage: createMemoryStorage(),
    devTools: false,
    autoConnect: false,
    browser: null,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  cleanups.add(() => store.dispose());
  return store;
}

function waitForState(store: ReturnType<typeof storeFor>, predicate: (state: RealtimeState) => boolean, what: string, timeoutMs = 10_000) {
  return new Promise<RealtimeState>((resolve, reject) => {
    if (predicate(store.getState())) return resolve(store.getState());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}; status ${store.getState().connection.status}`));
    }, timeoutMs);
    const off = store.subscribe(() => {
      if (!predicate(store.getState())) return;
      clearTimeout(timer);
      off();
      resolve(store.getState());
    });
  });
}

describe('server/main.ts: roles and an in-process gateway restart', () => {
  it('ROLE=worker needs Redis; an unknown role is refused', async () => {
    await expect(startServer({ role: 'worker' })).rejects.toThrow(/REDIS_URL/);
    await expect(startServer({ role: 'bogus' as never })).rejects.toThrow(/ROLE must be one of all, gateway, worker/);
  });

  it('ROLE=gateway runs no simulator: a command reaches a worker on the same bus', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const gateway = await startServer({ role: 'gateway', port: 0, bus, demoDir: '/nonexistent' });
    cleanups.add(() => gateway.stop());
    expect(gateway.simulator).toBeUndefined();
    const worker = await startServer({ role: 'worker', bus, speed: 50, ambientEveryMs: 0 });
    cleanups.add(() => worker.stop());
    expect(worker.port).toBe(0);
    expect(worker.gateway()).toBeUndefined();

    const store = storeFor(gateway.wsUrl!);
    store.dispatch(connect());
    await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
    store.dispatch(subscribeProject('proj-1'));
    store.dispatch(startGeneration({ nodeId: 'node-1', projectId: 'proj-1', params: { prompt: 'a lighthouse', steps: 4 } }));
    const done = await waitForState(store, (s) => ['completed', 'error'].includes(getEntity(s.nodes, 'node-1')?.status ?? ''), 'the run to end');
    expect(getEntity(done.nodes, 'node-1')?.status).toMatch(/completed|error/);
  });

  it('DATA_FILE: the demo keeps its bus in a file per port under the temp directory by default; empty for none', () => {
    expect(dataFileOf(undefined, 8000)).toBe(join(tmpdir(), 'canvas-realtime-demo-8000.jsonl'));
    expect(dataFileOf('', 8000)).toBeUndefined();
    expect(dataFileOf(undefined, 0)).toBeUndefined();
    expect(dataFileOf('/data/demo.jsonl', 8000)).toBe('/data/demo.jsonl');
  });

  it('a server started again on its data file continues the projects where the last one stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'i12-durable-main-'));
    cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'demo.jsonl');
    const options = { role: 'all' as const, port: 0, demoDir: '/nonexistent', ambientEveryMs: 0, dataFile };
    const first = await startServer(options);
    expect(first.busLabel).toContain(dataFile);
    await first.bus.publish('proj-1', { type: 'git.commit', ref: 'main', message: 'before' });
    await first.stop();
    const second = await startServer(options);
    cleanups.add(() => second.stop());
    expect(await second.bus.lastSeq('proj-1')).toBe(1);
    expect((await second.bus.publish('proj-1', { type: 'git.push', ref: 'main' })).seq).toBe(2);
  });

  it('serves the page and /healthz, and refuses a socket while the gateway is stopped', async () => {
    const server = await startServer({ role: 'all', port: 0, demoDir: '/nonexistent', ambientEveryMs: 0 });
    cleanups.add(() => server.stop());
    expect(await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).text()).toBe('ok');
    expect((await fetch(server.url!)).status).toBe(503);
    await server.stopGateway('abrupt');
    await expect(RawClient.open(server.wsUrl!)).rejects.toThrow(/503/);
    expect(() => server.startGateway()).not.toThrow();
    expect(() => server.startGateway()).toThrow(/stopGateway\(\) first/);
    const client = await RawClient.open(server.wsUrl!);
    cleanups.add(() => client.close());
  });

  for (const mode of ['graceful', 'abrupt'] as const) {
    it(`the gateway restarts (${mode}) mid-run on the same port while the simulator runs on: the client completes the node once`, async () => {
      const server = await startServer({ role: 'all', port: 0, demoDir: '/nonexistent', speed: 8, failureRate: 0, ambientEveryMs: 0 });
      cleanups.add(() => server.stop());
      const firstInstance = server.gateway()!.instanceId;
      const store = storeFor(server.wsUrl!);
      store.dispatch(connect());
      await waitForState(store, (s) => s.connection.sessionReady, 'session ready');
      store.dispatch(subscribeProject('proj-1'));
      store.dispatch(startGeneration({ nodeId: 'node-1', projectId: 'proj-1', params: { prompt: 'a lighthouse', steps: 8 } }));
      await waitForState(store, (s) => (getEntity(s.nodes, 'node-1')?.progress ?? 0) > 0, 'progress');

      await server.stopGateway(mode);
      const down = await waitForState(store, (s) => s.connection.status !== 'connected', 'the client to notice');
      expect(down.connection.status).toBe(mode === 'graceful' ? 'suspended' : 'reconnecting');
      server.startGateway();
      const done = await waitForState(
        store,
        (s) => s.connection.status === 'connected' && getEntity(s.nodes, 'node-1')?.status === 'completed' && getEntity(s.agents, 'Editor')?.status === 'completed',
        'the node to complete after the restart',
      );
      expect(done.connection.instanceId).not.toBe(firstInstance);
      expect(getEntity(done.nodes, 'node-1')?.take_ids).toHaveLength(1);
      expect(done.takes.ids).toHaveLength(1);
      expect(done.frames.rejected.total).toBe(0);
      await eventually(() => server.simulator!.activeRuns().length === 0, 'the run to end in the simulator');
    });
  }
});
