/**
 * The Redis bus (server/bus/redisBus.ts) against a real redis-server started for this file on a
 * free loopback port, persistence off. Nothing is skipped: without redis-server the file fails
 * and says which Debian package to install.
 */
import { describe, expect, it } from 'vitest';
import { useFileRedis } from './fileRedis.js';
import { startRedisServer } from '../support/redis.js';
import type { BusEvent, EventBus } from '../../server/bus/types.js';
import { collectBus, RawClient, startGateway, type Frame } from '../server/helpers.js';
import { startServer } from '../../server/main.js';

const world = useFileRedis('t');
const { cleanups, newPrefix, bus } = world;

const event = (n: number, extra: Record<string, unknown> = {}) => ({ type: 'project.updated', data: { n, ...extra } });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const seqsOf = (events: Array<{ seq: number }>) => events.map((e) => e.seq);

describe('the redis-server helper', () => {
  it('fails with a message naming the Debian package when redis-server is missing', async () => {
    await expect(startRedisServer({ bin: '/nonexistent/redis-server' })).rejects.toThrow(/Debian package redis-server/);
  });
});

describe('Redis bus: numbering and history', () => {
  it('numbers events per project from 1 and stamps project_id and seq on the frame', async () => {
    const a = await bus(newPrefix());
    const first = await a.publish('proj-1', event(1));
    const second = await a.publish('proj-1', { ...event(2), seq: 999, project_id: 'spoofed' });
    const other = await a.publish('proj-2', event(3));
    expect(first).toEqual({ project_id: 'proj-1', seq: 1, frame: { type: 'project.updated', data: { n: 1 }, project_id: 'proj-1', seq: 1 } });
    expect(second).toMatchObject({ project_id: 'proj-1', seq: 2, frame: { project_id: 'proj-1', seq: 2 } });
    expect(other).toMatchObject({ project_id: 'proj-2', seq: 1 });
    expect(await a.lastSeq('proj-1')).toBe(2);
    expect(await a.lastSeq('proj-2')).toBe(1);
    expect(await a.lastSeq('never')).toBe(0);
    // The stored frame is the one returned.
    const { events } = await a.history('proj-1', 0, 10);
    expect(events).toEqual([first, second]);
  });

  it('concurrent publishes from two bus instances get unique, consecutive seqs', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    const b = await bus(prefix);
    const results = await Promise.all(
      range(1, 200).map((n) => (n % 2 === 0 ? a : b).publish('proj-1', event(n, { from: n % 2 === 0 ? 'a' : 'b' }))),
    );
    expect(seqsOf(results).sort((x, y) => x - y)).toEqual(range(1, 200));
    expect(await b.lastSeq('proj-1')).toBe(200);

    const { events, oldestAvailable } = await b.history('proj-1', 0, 1_000);
    expect(oldestAvailable).toBeUndefined();
    expect(seqsOf(events)).toEqual(range(1, 200));
    // Each stored frame carries the seq it was numbered with, and is the one its publisher got back.
    const bySeq = new Map(results.map((r) => [r.seq, r]));
    for (const stored of events) {
      expect(stored.frame.seq).toBe(stored.seq);
      expect(stored.frame).toEqual(bySeq.get(stored.seq)!.frame);
    }
  });

  it('reads history after a seq, bounded by a limit', async () => {
    const a = await bus(newPrefix());
    for (const n of range(1, 10)) await a.publish('proj-1', event(n));
    expect(seqsOf((await a.history('proj-1', 4, 100)).events)).toEqual(range(5, 10));
    expect(seqsOf((await a.history('proj-1', 4, 3)).events)).toEqual([5, 6, 7]);
    expect(await a.history('proj-1', 10, 100)).toEqual({ events: [] });
    expect((await a.history('proj-1', 0, 100)).oldestAvailable).toBeUndefined();
    expect(await a.history('unknown', 0, 100)).toEqual({ events: [] });
    const [third] = (await a.history('proj-1', 2, 1)).events;
    expect(third).toMatchObject({ project_id: 'proj-1', seq: 3, frame: { type: 'project.updated', data: { n: 3 }, seq: 3 } });
  });

  it('reports oldestAvailable when the stream was trimmed', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix, { historyLimit: 10 });
    for (const n of range(1, 300)) await a.publish('proj-1', event(n));
    const page = await a.history('proj-1', 0, 1_000);
    // MAXLEN ~ trims whole stream nodes: some history is gone, what is left is consecutive.
    expect(page.oldestAvailable).toBeGreaterThan(1);
    expect(page.oldestAvailable).toBeLessThanOrEqual(291);
    expect(seqsOf(page.events)).toEqual(range(page.oldestAvailable!, 300));
    // Asking from just before the oldest kept event is no gap.
    expect((await a.history('proj-1', page.oldestAvailable! - 1, 1_000)).oldestAvailable).toBeUndefined();
    expect((await a.history('proj-1', page.oldestAvailable! - 2, 1_000)).oldestAvailable).toBe(page.oldestAvailable);
  });

  it('reports everything after the asked seq as lost when the whole stream is gone', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    for (const n of range(1, 5)) await a.publish('proj-1', event(n));
    await world.admin.del(`${prefix}stream:proj-1`);
    expect(await a.history('proj-1', 2, 100)).toEqual({ events: [], oldestAvailable: 6 });
    expect(await a.history('proj-1', 5, 100)).toEqual({ events: [] });
    // Numbering goes on after the lost stream.
    expect((await a.publish('proj-1', event(6))).seq).toBe(6);
    expect(seqsOf((await a.history('proj-1', 5, 100)).events)).toEqual([6]);
  });
});

describe('Redis bus: fan-out, sessions, command ids', () => {
  it('fans every event out to every bus instance, in publish order', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    const b = await bus(prefix);
    const seenByB = collectBus(b);
    const seenByA = collectBus(a);
    cleanups.add(() => (seenByA.unsubscribe(), seenByB.unsubscribe()));
    const published: BusEvent[] = [];
    for (const n of range(1, 20)) published.push(await a.publish(n % 3 === 0 ? 'proj-2' : 'proj-1', event(n)));
    await seenByB.until((events) => (events.length === 20 ? true : undefined), '20 events on B');
    await seenByA.until((events) => (events.length === 20 ? true : undefined), '20 events on A');
    expect(seenByB.events).toEqual(published);
    expect(seenByA.events).toEqual(published);

    // Another prefix is another world.
    const stranger = collectBus(await bus(newPrefix()));
    cleanups.add(() => stranger.unsubscribe());
    await a.publish('proj-1', event(21));
    await seenByB.until((events) => (events.length === 21 ? true : undefined), 'event 21 on B');
    expect(stranger.events).toEqual([]);
  });

  it('stops delivering to a listener once it unsubscribed', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    const b = await bus(prefix);
    const kept = collectBus(b);
    const dropped = collectBus(b);
    cleanups.add(() => kept.unsubscribe());
    dropped.unsubscribe();
    await a.publish('proj-1', event(1));
    await kept.until((events) => (events.length === 1 ? true : undefined), 'the event');
    expect(dropped.events).toEqual([]);
  });

  it('keeps sessions with a TTL, readable from another instance', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    const b = await bus(prefix);
    const record = { session_id: 'sess-1', resume_token: 'tok-1', subscriptions: ['proj-1'], created_at: 1 };
    await a.putSession(record, 60_000);
    expect(await b.getSession('sess-1')).toEqual(record);
    expect(await b.getSession('sess-2')).toBeUndefined();
    const ttl = await world.admin.pTTL(`${prefix}session:sess-1`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    // A short TTL expires.
    await b.putSession({ ...record, subscriptions: ['proj-1', 'proj-2'] }, 150);
    expect(await a.getSession('sess-1')).toMatchObject({ subscriptions: ['proj-1', 'proj-2'] });
    const ttlAfter = await world.admin.pTTL(`${prefix}session:sess-1`);
    expect(ttlAfter).toBeGreaterThan(0);
    expect(ttlAfter).toBeLessThanOrEqual(150);
    let gone = false;
    const deadline = Date.now() + 3_000;
    while (!gone && Date.now() < deadline) gone = (await a.getSession('sess-1')) === undefined;
    expect(gone).toBe(true);
  });

  it('claims a command id once across instances, with a TTL', async () => {
    const prefix = newPrefix();
    const a = await bus(prefix);
    const b = await bus(prefix);
    expect(await a.claimCommand('cmd-1', 60_000)).toBe(true);
    expect(await b.claimCommand('cmd-1', 60_000)).toBe(false);
    expect(await a.claimCommand('cmd-1', 60_000)).toBe(false);
    const ttl = await world.admin.pTTL(`${prefix}cmd:cmd-1`);
    expect(ttl).toBeGreaterThan(50_000);

    // Concurrent claims of one id: exactly one wins.
    const claims = await Promise.all(range(1, 20).map((n) => (n % 2 ? a : b).claimCommand('cmd-race', 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);

    // Once expired, the id can be claimed again.
    expect(await a.claimCommand('cmd-short', 50)).toBe(true);
    const deadline = Date.now() + 3_000;
    let again = false;
    while (!again && Date.now() < deadline) again = await b.claimCommand('cmd-short', 60_000);
    expect(again).toBe(true);
  });
});

describe('two gateways on two buses sharing one Redis', () => {
  it('a client moving from gateway A to gateway B resumes its session and gets what it missed, nothing lost or doubled', async () => {
    const prefix = newPrefix();
    const busA = await bus(prefix);
    const busB = await bus(prefix);
    const worker = await bus(prefix); // a Celery worker publishing from elsewhere
    const gwA = await startGateway(cleanups, { bus: busA, instanceId: 'gw-a' });
    const gwB = await startGateway(cleanups, { bus: busB, instanceId: 'gw-b' });

    const { client, reply } = await gwA.session();
    expect(reply).toMatchObject({ type: 'session.init', instance_id: 'gw-a' });
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();
    for (const n of range(1, 3)) await worker.publish('proj-1', event(n));
    await client.next((f) => f.seq === 3, 'event 3 on A');
    const seen = client.events('proj-1').map((f) => f.seq as number);
    expect(seen).toEqual([1, 2, 3]);

    // The client loses gateway A; events go on.
    client.close();
    await client.waitForClose();
    for (const n of range(4, 8)) await worker.publish('proj-1', event(n));

    const moved = await gwB.session({ session_id: reply.session_id, reconnect: true, resume_token: reply.resume_token });
    expect(moved.reply).toMatchObject({
      type: 'session.restored',
      session_id: reply.session_id,
      instance_id: 'gw-b',
      subscriptions: ['proj-1'],
    });
    // Events keep coming from both sides while the replay runs.
    moved.client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 3 });
    const concurrent = Promise.all(range(9, 40).map((n) => (n % 2 ? worker : busA).publish('proj-1', event(n))));
    await concurrent;
    await moved.client.next((f) => f.seq === 40, 'event 40 on B');
    await busB.publish('proj-1', event(41));
    await moved.client.next((f) => f.seq === 41, 'event 41 on B');
    await moved.client.barrier();

    const events = moved.client.events('proj-1');
    expect(events.map((f) => f.seq)).toEqual(range(4, 41));
    expect(moved.client.ofType('replay.gap')).toEqual([]);
    // Concurrent publishers: numbering order is Redis's, but each published event arrived once.
    expect(events.map((f: Frame) => f.data.n as number).sort((x, y) => x - y)).toEqual(range(4, 41));

    // A command acked on A is a duplicate on B.
    const command = { type: 'start_generation', node_id: 'node-1', params: {}, command_id: 'cmd-move', timestamp: 't' };
    const onA = await gwA.session();
    onA.client.send(command);
    expect(await onA.client.next('ack')).toMatchObject({ status: 'accepted' });
    moved.client.send(command);
    expect(await moved.client.next('ack')).toMatchObject({ status: 'duplicate' });
  });

  it('without the snapshot extension, a client resuming on B after the stream was trimmed gets a replay.gap, then the rest', async () => {
    const prefix = newPrefix();
    const busA = await bus(prefix, { historyLimit: 10 });
    const busB = await bus(prefix, { historyLimit: 10 });
    const gwB = await startGateway(cleanups, { bus: busB, snapshot: false });
    for (const n of range(1, 300)) await busA.publish('proj-1', event(n));
    const { oldestAvailable } = await busB.history('proj-1', 0, 1);
    expect(oldestAvailable).toBeGreaterThan(3);

    const { client } = await gwB.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 2 });
    await client.next((f) => f.seq === 300, 'event 300');
    expect(client.ofType('replay.gap')).toEqual([expect.objectContaining({ from_seq: 3, to_seq: oldestAvailable! - 1 })]);
    expect(client.events('proj-1').map((f) => f.seq)).toEqual(range(oldestAvailable!, 300));
  });

  it('a client resuming on B after the stream was trimmed gets a project.snapshot (no replay.gap), then the events after it', async () => {
    const prefix = newPrefix();
    const busA = await bus(prefix, { historyLimit: 10 });
    const busB = await bus(prefix, { historyLimit: 10 });
    const gwB = await startGateway(cleanups, { bus: busB });
    for (const n of range(1, 300)) await busA.publish('proj-1', event(n));
    expect((await busB.history('proj-1', 0, 1)).oldestAvailable).toBeGreaterThan(3);

    const { client } = await gwB.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 2 });
    const snapshot = await client.next('project.snapshot');
    await busA.publish('proj-1', event(301));
    await client.next((f) => f.seq === 301, 'event 301');
    expect(client.ofType('replay.gap')).toEqual([]);
    expect(client.events('proj-1').map((f) => f.seq)).toEqual(range(snapshot.at_seq + 1, 301));
  });
});

describe('Redis bus: command channel', () => {
  const command = (n: number) => ({
    type: 'start_generation' as const,
    node_id: `node-${n}`,
    params: { prompt: `shot ${n}` },
    command_id: `cmd-${n}`,
    timestamp: '2026-01-01T00:00:00.000Z',
  });

  it('delivers a command published on one instance to the listeners of the others, once each, on ${prefix}commands', async () => {
    const prefix = newPrefix();
    const gateway = await bus(prefix);
    const worker = await bus(prefix);
    const other = await bus(newPrefix());
    const seen: Array<{ frame: unknown; context: unknown }> = [];
    const elsewhere: unknown[] = [];
    worker.onCommand((frame, context) => seen.push({ frame, context }));
    other.onCommand((frame) => elsewhere.push(frame));
    await worker.commandsReady();
    await other.commandsReady();
    // A bus without command listeners does not subscribe: only the worker counts.
    expect(await gateway.publishCommand(command(1), { sessionId: 's-1', projectId: 'proj-1' })).toBe(1);
    expect(await gateway.publishCommand(command(2), { sessionId: 's-1', projectId: 'proj-2' })).toBe(1);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([
      { frame: command(1), context: { sessionId: 's-1', projectId: 'proj-1' } },
      { frame: command(2), context: { sessionId: 's-1', projectId: 'proj-2' } },
    ]);
    expect(elsewhere).toEqual([]);
    // The channel is a plain pub/sub channel named after the prefix.
    const raw: string[] = [];
    const spy = world.admin.duplicate();
    spy.on('error', () => {});
    await spy.connect();
    cleanups.add(() => spy.quit().catch(() => {}));
    await spy.subscribe(`${prefix}commands`, (message) => raw.push(message));
    expect(await gateway.publishCommand(command(3), { sessionId: 's-2', projectId: 'proj-1' })).toBe(2);
    await waitFor(() => raw.length === 1 && seen.length === 3);
    expect(JSON.parse(raw[0]!)).toEqual({ frame: command(3), context: { sessionId: 's-2', projectId: 'proj-1' } });
  });

  it('says nobody received a command when no worker listens, and stops delivering after unsubscribe', async () => {
    const prefix = newPrefix();
    const gateway = await bus(prefix);
    const worker = await bus(prefix);
    expect(await gateway.publishCommand(command(1), { sessionId: 's', projectId: 'p' })).toBe(0);
    const seen: string[] = [];
    // A second listener that stays: it tells when the worker has processed a command, since
    // PUBLISH returns before the subscriber connection has read the message.
    const probe: string[] = [];
    worker.onCommand((frame) => probe.push(frame.node_id));
    const off = worker.onCommand((frame) => seen.push(frame.node_id));
    await worker.commandsReady();
    expect(await gateway.publishCommand(command(2), { sessionId: 's', projectId: 'p' })).toBe(1);
    await waitFor(() => seen.length === 1);
    off();
    await gateway.publishCommand(command(3), { sessionId: 's', projectId: 'p' });
    await waitFor(() => probe.includes('node-3'));
    expect(seen).toEqual(['node-2']);
  });

  it('two gateways (ROLE=gateway) and one worker (ROLE=worker) on one Redis: a command sent to either gateway runs once', async () => {
    const prefix = newPrefix();
    const worker = await startServer({ role: 'worker', redisUrl: world.url, redisPrefix: prefix, speed: 50, failureRate: 0, ambientEveryMs: 0 });
    cleanups.add(() => worker.stop());
    const gateways = await Promise.all(
      [0, 1].map(() => startServer({ role: 'gateway', port: 0, redisUrl: world.url, redisPrefix: prefix, demoDir: '/nonexistent' })),
    );
    for (const gw of gateways) cleanups.add(() => gw.stop());
    expect(gateways.map((gw) => gw.simulator)).toEqual([undefined, undefined]);
    const started: Frame[] = [];
    const watcher = await bus(prefix);
    watcher.subscribe((event) => {
      if (event.frame.type === 'generation.started') started.push(event.frame as Frame);
    });

    for (const [index, gw] of gateways.entries()) {
      const client = await RawClient.open(gw.wsUrl!);
      cleanups.add(() => client.close());
      client.send({ type: 'session.init', session_id: `client-${index}`, reconnect: false });
      await client.next('session.init');
      const frame = { ...command(index + 1), project_id: 'proj-1' };
      client.send(frame);
      expect(await client.next('ack')).toMatchObject({ command_id: frame.command_id, status: 'accepted' });
      // The same command through the other gateway: a duplicate, not run again.
      const twin = await RawClient.open(gateways[1 - index]!.wsUrl!);
      cleanups.add(() => twin.close());
      twin.send({ type: 'session.init', session_id: `twin-${index}`, reconnect: false });
      await twin.next('session.init');
      twin.send(frame);
      expect(await twin.next('ack')).toMatchObject({ command_id: frame.command_id, status: 'duplicate' });
    }
    await waitFor(() => started.length === 2);
    expect(started.map((f) => [f.node_id, f.command_id]).sort()).toEqual([
      ['node-1', 'cmd-1'],
      ['node-2', 'cmd-2'],
    ]);
  });
});

/** Polls until `check` holds (bounded): Redis delivers pub/sub messages asynchronously. */
async function waitFor(check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
