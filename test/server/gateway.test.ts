/**
 * The reference gateway (server/gateway.ts) on the memory bus, spoken to by raw `ws` clients on
 * 127.0.0.1: sessions, subscriptions and replay, command acks and dedupe, heartbeats, bad input,
 * limits, shutdown and termination. No client library: these tests check the wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus } from '../../server/bus/types.js';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import type { CommandContext } from '../../server/gateway.js';
import { classifyClose, parseFrame } from '../../src/protocol/index.js';
import { cleanupStack, RawClient, startGateway, withTimeout, type Frame } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

const publish = (bus: EventBus, projectId: string, n: number) =>
  bus.publish(projectId, { type: 'project.updated', project_id: projectId, data: { n } });

async function publishMany(bus: EventBus, projectId: string, count: number) {
  for (let i = 0; i < count; i++) await publish(bus, projectId, i);
}

const seqs = (frames: Frame[]) => frames.map((f) => f.seq as number);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Every frame the gateway sends is one the client library accepts as an event. */
function expectValidEvents(frames: Frame[]) {
  for (const frame of frames) {
    const parsed = parseFrame(JSON.stringify(frame));
    expect(parsed, JSON.stringify(frame).slice(0, 200)).toMatchObject({ ok: true, kind: 'event' });
  }
}

describe('gateway: sessions', () => {
  it('answers session.init with a new session: instance id, capabilities ack/seq/replay/snapshot/task_status, resume token', async () => {
    const gw = await startGateway(cleanups, { instanceId: 'gw-test-1' });
    const { client, reply } = await gw.session({ session_id: 'sess-a', reconnect: false });
    expect(reply).toMatchObject({
      type: 'session.init',
      reconnect: false,
      instance_id: 'gw-test-1',
      capabilities: ['ack', 'seq', 'replay', 'snapshot', 'task_status'],
      subscriptions: [],
    });
    expect(reply.session_id).toEqual(expect.any(String));
    expect(reply.resume_token).toEqual(expect.any(String));
    expect(reply.resume_token.length).toBeGreaterThanOrEqual(16);
    expect(gw.gateway.instanceId).toBe('gw-test-1');
    expectValidEvents(client.frames);
  });

  it('restores a session from its id and resume token, with its subscriptions', async () => {
    const gw = await startGateway(cleanups);
    const first = await gw.session();
    first.client.send({ type: 'subscribe', project_id: 'proj-1' });
    first.client.send({ type: 'subscribe', project_id: 'proj-2' });
    await first.client.barrier();
    first.client.close();
    await first.client.waitForClose();

    const { client, reply } = await gw.session({
      session_id: first.reply.session_id,
      reconnect: true,
      resume_token: first.reply.resume_token,
    });
    expect(reply).toMatchObject({
      type: 'session.restored',
      session_id: first.reply.session_id,
      reconnect: true,
      resume_token: first.reply.resume_token,
      capabilities: ['ack', 'seq', 'replay', 'snapshot', 'task_status'],
      instance_id: gw.gateway.instanceId,
    });
    expect(reply.subscriptions).toEqual(['proj-1', 'proj-2']);
    expectValidEvents(client.frames);
  });

  it.each([
    ['a forged token', (_: Frame, __: Frame) => 'forged-token'],
    ['no token', () => undefined],
    ["another session's token", (_: Frame, other: Frame) => other.resume_token as string],
  ])('gives a NEW session for a known session id with %s', async (_, token) => {
    const gw = await startGateway(cleanups);
    const victim = await gw.session();
    victim.client.send({ type: 'subscribe', project_id: 'secret-project' });
    await victim.client.barrier();
    const other = await gw.session();

    const resume_token = token(victim.reply, other.reply);
    const { reply } = await gw.session({
      session_id: victim.reply.session_id,
      reconnect: true,
      ...(resume_token !== undefined && { resume_token }),
    });
    expect(reply.type).toBe('session.init');
    expect(reply.reconnect).toBe(false);
    expect(reply.session_id).not.toBe(victim.reply.session_id);
    expect(reply.session_id).not.toBe(other.reply.session_id);
    expect(reply.resume_token).not.toBe(victim.reply.resume_token);
    expect(reply.subscriptions).toEqual([]);

    // The victim's session is still intact.
    const back = await gw.session({ session_id: victim.reply.session_id, reconnect: true, resume_token: victim.reply.resume_token });
    expect(back.reply).toMatchObject({ type: 'session.restored', subscriptions: ['secret-project'] });
  });

  it('gives a new session for an unknown session id, even with a token', async () => {
    const gw = await startGateway(cleanups);
    const { reply } = await gw.session({ session_id: 'never-seen', reconnect: true, resume_token: 'tok' });
    expect(reply).toMatchObject({ type: 'session.init', reconnect: false });
  });
});

describe('gateway: subscriptions and replay', () => {
  it('delivers events of subscribed projects only, with project_id and increasing seq', async () => {
    const gw = await startGateway(cleanups);
    const { client } = await gw.session();
    await publishMany(gw.bus, 'proj-1', 2); // before the subscription: not delivered
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();

    await publishMany(gw.bus, 'proj-1', 3);
    await publishMany(gw.bus, 'proj-2', 2);
    await gw.bus.publish('proj-1', { type: 'task.progress', task_id: 't-1', state: 'PROGRESS', progress: 10 });
    await client.waitUntil(() => (client.events('proj-1').length === 4 ? true : undefined), '4 events');
    await client.barrier();

    const events = client.events('proj-1');
    expect(seqs(events)).toEqual([3, 4, 5, 6]);
    expect(events.every((e) => e.project_id === 'proj-1')).toBe(true);
    expect(events[3]).toMatchObject({ type: 'task.progress', task_id: 't-1', seq: 6 });
    expect(client.frames.some((f) => f.project_id === 'proj-2')).toBe(false);
    expectValidEvents(client.frames);
  });

  it('subscribing twice without last_seq does not duplicate events', async () => {
    const gw = await startGateway(cleanups);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();
    await publishMany(gw.bus, 'proj-1', 3);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([1, 2, 3]);
  });

  it('replays exactly the missed events after last_seq, then live ones', async () => {
    const gw = await startGateway(cleanups);
    await publishMany(gw.bus, 'proj-1', 7);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 4 });
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([5, 6, 7]);
    await publishMany(gw.bus, 'proj-1', 2);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([5, 6, 7, 8, 9]);
    expect(client.ofType('replay.gap')).toEqual([]);
    expectValidEvents(client.frames);
  });

  it('last_seq equal to the current seq replays nothing and then delivers live events', async () => {
    const gw = await startGateway(cleanups);
    await publishMany(gw.bus, 'proj-1', 3);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 3 });
    await client.barrier();
    expect(client.events('proj-1')).toEqual([]);
    await publish(gw.bus, 'proj-1', 99);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([4]);
    expect(client.ofType('replay.gap')).toEqual([]);
  });

  it('no gap and no duplicate when events are published during the replay (several history pages)', async () => {
    // The gateway reads history in pages of 5,000; events are published while each page is read
    // (before and after the read), and while the current seq is read.
    const inner = createMemoryBus({ historyLimit: 50_000 });
    const published: number[] = [];
    let replaying = false;
    const pub = async (n: number) => published.push((await inner.publish('proj-1', { type: 'project.updated', data: { n } })).seq);
    const bus: EventBus = {
      ...inner,
      async lastSeq(projectId) {
        if (replaying) await pub(-1);
        const seq = await inner.lastSeq(projectId);
        if (replaying) await pub(-2);
        return seq;
      },
      async history(projectId, afterSeq, limit) {
        if (replaying) await pub(-3);
        const page = await inner.history(projectId, afterSeq, limit);
        if (replaying) {
          await pub(-4);
          await pub(-5);
        }
        return page;
      },
    };
    cleanups.add(() => inner.close());
    const gw = await startGateway(cleanups, { bus });
    for (let i = 0; i < 11_000; i++) await pub(i);
    const { client } = await gw.session();
    replaying = true;
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 100 });
    await client.barrier();
    replaying = false;
    for (let i = 0; i < 3; i++) await pub(i);
    await client.barrier();

    const last = published[published.length - 1]!;
    expect(last).toBeGreaterThan(11_000 + 6); // events were published during the replay
    expect(seqs(client.events('proj-1'))).toEqual(range(101, last));
    expect(client.ofType('replay.gap')).toEqual([]);
  });

  it('without the snapshot extension: reports a replay.gap when the history was trimmed, then replays what is left', async () => {
    const gw = await startGateway(cleanups, { memory: { historyLimit: 5 }, snapshot: false });
    await publishMany(gw.bus, 'proj-1', 12); // history keeps 8..12
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 2 });
    await client.barrier();
    const gap = client.ofType('replay.gap');
    expect(gap).toHaveLength(1);
    expect(gap[0]).toMatchObject({ type: 'replay.gap', project_id: 'proj-1', from_seq: 3, to_seq: 7 });
    // The gap comes before the replayed events.
    expect(client.frames.indexOf(gap[0]!)).toBeLessThan(client.frames.indexOf(client.events('proj-1')[0]!));
    expect(seqs(client.events('proj-1'))).toEqual([8, 9, 10, 11, 12]);
    await publish(gw.bus, 'proj-1', 0);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([8, 9, 10, 11, 12, 13]);
    expectValidEvents(client.frames);
  });

  it('without the snapshot extension: reports a replay.gap from seq 1 for last_seq 0 on a trimmed history', async () => {
    const gw = await startGateway(cleanups, { memory: { historyLimit: 3 }, snapshot: false });
    await publishMany(gw.bus, 'proj-1', 10);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 0 });
    await client.barrier();
    expect(client.ofType('replay.gap')).toEqual([expect.objectContaining({ project_id: 'proj-1', from_seq: 1, to_seq: 7 })]);
    expect(seqs(client.events('proj-1'))).toEqual([8, 9, 10]);
  });

  it.each([
    ['a bus with events', 3],
    ['an empty (restarted) bus', 0],
  ])('without the snapshot extension: a reset stream (last_seq beyond the last seq, %s) -> replay.gap with to_seq = current, then live events', async (_, current) => {
    const gw = await startGateway(cleanups, { snapshot: false });
    await publishMany(gw.bus, 'proj-1', current);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 40 });
    await client.barrier();
    expect(client.ofType('replay.gap')).toEqual([
      expect.objectContaining({ type: 'replay.gap', project_id: 'proj-1', from_seq: current + 1, to_seq: current }),
    ]);
    expect(client.events('proj-1')).toEqual([]);
    await publishMany(gw.bus, 'proj-1', 2);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([current + 1, current + 2]);
    expectValidEvents(client.frames);
  });

  it('unsubscribe stops the events of that project only', async () => {
    const gw = await startGateway(cleanups);
    const { client, reply } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    client.send({ type: 'subscribe', project_id: 'proj-2' });
    await client.barrier();
    await publish(gw.bus, 'proj-1', 1);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([1]);

    client.send({ type: 'unsubscribe', project_id: 'proj-1' });
    await client.barrier();
    await publishMany(gw.bus, 'proj-1', 3);
    await publish(gw.bus, 'proj-2', 1);
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([1]);
    expect(seqs(client.events('proj-2'))).toEqual([1]);

    // The session forgot the subscription too.
    const back = await gw.session({ session_id: reply.session_id, reconnect: true, resume_token: reply.resume_token });
    expect(back.reply.subscriptions).toEqual(['proj-2']);
  });
});

describe('gateway: commands', () => {
  const start = (commandId: string | undefined, extra: Partial<Frame> = {}) => ({
    type: 'start_generation',
    node_id: 'node-1',
    params: { prompt: 'a lone rider at dusk', steps: 8 },
    project_id: 'proj-1',
    ...(commandId !== undefined && { command_id: commandId }),
    timestamp: new Date().toISOString(),
    ...extra,
  });

  function recorder() {
    const calls: Array<{ frame: Frame; context: CommandContext }> = [];
    return { calls, onCommand: (frame: Frame, context: CommandContext) => void calls.push({ frame, context }) };
  }

  it('acks start_generation as accepted and runs it once', async () => {
    const { calls, onCommand } = recorder();
    const gw = await startGateway(cleanups, { onCommand });
    const { client, reply } = await gw.session();
    client.send(start('cmd-1'));
    const ack = await client.next('ack');
    expect(ack).toMatchObject({ type: 'ack', command_id: 'cmd-1', status: 'accepted' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.frame).toMatchObject({ type: 'start_generation', node_id: 'node-1', command_id: 'cmd-1', params: { prompt: 'a lone rider at dusk' } });
    expect(calls[0]!.context).toEqual({ sessionId: reply.session_id, projectId: 'proj-1' });
    expectValidEvents(client.frames);
  });

  it('acks a resent command_id as duplicate and does not run it again, from any connection or session', async () => {
    const { calls, onCommand } = recorder();
    const gw = await startGateway(cleanups, { onCommand });
    const first = await gw.session();
    first.client.send(start('cmd-dup'));
    expect(await first.client.next('ack')).toMatchObject({ command_id: 'cmd-dup', status: 'accepted' });

    first.client.send(start('cmd-dup'));
    expect(await first.client.next('ack')).toMatchObject({ command_id: 'cmd-dup', status: 'duplicate' });

    // Same session on a new connection (a reconnect that resends its outbox).
    const resumed = await gw.session({ session_id: first.reply.session_id, reconnect: true, resume_token: first.reply.resume_token });
    resumed.client.send(start('cmd-dup'));
    expect(await resumed.client.next('ack')).toMatchObject({ command_id: 'cmd-dup', status: 'duplicate' });

    // Another session altogether.
    const other = await gw.session();
    other.client.send(start('cmd-dup'));
    expect(await other.client.next('ack')).toMatchObject({ command_id: 'cmd-dup', status: 'duplicate' });

    await other.client.barrier();
    expect(calls).toHaveLength(1);
  });

  it('acks and dedupes cancel_generation too; a command without command_id runs without an ack', async () => {
    const { calls, onCommand } = recorder();
    const gw = await startGateway(cleanups, { onCommand });
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-9' });
    const cancel = { type: 'cancel_generation', node_id: 'node-1', command_id: 'cmd-c', timestamp: new Date().toISOString() };
    client.send(cancel);
    client.send(cancel);
    client.send(start(undefined, { project_id: undefined }));
    await client.barrier();
    expect(client.ofType('ack').map((a) => a.status)).toEqual(['accepted', 'duplicate']);
    expect(calls.map((c) => c.frame.type)).toEqual(['cancel_generation', 'start_generation']);
    // Without a project_id, the command runs for the session's first subscription.
    expect(calls.map((c) => c.context.projectId)).toEqual(['proj-9', 'proj-9']);
  });
});

describe('gateway: heartbeats', () => {
  it('answers ping with system.heartbeat', async () => {
    const gw = await startGateway(cleanups, { instanceId: 'gw-hb' });
    const client = await gw.connect();
    const before = Date.now();
    client.send({ type: 'ping', timestamp: new Date().toISOString() });
    const heartbeat = await client.next('system.heartbeat');
    expect(heartbeat).toMatchObject({ type: 'system.heartbeat', instance_id: 'gw-hb' });
    expect(heartbeat.server_time).toBeGreaterThanOrEqual(before - 1);
    expectValidEvents([heartbeat]);
  });

  it('sends system.heartbeat to every client on its interval', async () => {
    const gw = await startGateway(cleanups, { heartbeatMs: 25 });
    const a = await gw.connect();
    const b = await gw.connect();
    for (const client of [a, b]) {
      await client.waitUntil(() => (client.ofType('system.heartbeat').length >= 3 ? true : undefined), '3 heartbeats');
    }
    const times = a.ofType('system.heartbeat').map((h) => h.server_time as number);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(gw.gateway.clientCount()).toBe(2);
  });
});

describe('gateway: bad input', () => {
  const cases: Array<[string, string | Buffer, string]> = [
    ['not JSON', 'this is {not json', 'bad_frame'],
    ['truncated JSON', '{"type":"ping"', 'bad_frame'],
    ['binary non-UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x80]), 'bad_frame'],
    ['a JSON array', '[1,2,3]', 'unknown_type'],
    ['JSON null', 'null', 'unknown_type'],
    ['a number', '42', 'unknown_type'],
    ['no type', '{"session_id":"x"}', 'unknown_type'],
    ['an unknown type', '{"type":"launch_missiles"}', 'unknown_type'],
    ['a server-only type', '{"type":"system.heartbeat"}', 'unknown_type'],
    ['a prototype type', '{"type":"__proto__"}', 'unknown_type'],
    ['a toString type', '{"type":"toString"}', 'unknown_type'],
    ['a non-string type', '{"type":7}', 'unknown_type'],
    ['an empty project id', '{"type":"subscribe","project_id":""}', 'invalid_frame'],
    ['a __proto__ project id', '{"type":"subscribe","project_id":"__proto__"}', 'invalid_frame'],
    ['a constructor project id', '{"type":"unsubscribe","project_id":"constructor"}', 'invalid_frame'],
    ['a too-long id', JSON.stringify({ type: 'subscribe', project_id: 'p'.repeat(257) }), 'invalid_frame'],
    ['a negative last_seq', '{"type":"subscribe","project_id":"p","last_seq":-1}', 'invalid_frame'],
    ['a fractional last_seq', '{"type":"subscribe","project_id":"p","last_seq":1.5}', 'invalid_frame'],
    ['a session.init without session_id', '{"type":"session.init","reconnect":false}', 'invalid_frame'],
    ['a __proto__ session id', '{"type":"session.init","session_id":"__proto__","reconnect":false}', 'invalid_frame'],
    ['a start_generation without timestamp', '{"type":"start_generation","node_id":"n","params":{}}', 'invalid_frame'],
    ['a start_generation with a bad width', '{"type":"start_generation","node_id":"n","params":{"width":-3},"timestamp":"t"}', 'invalid_frame'],
  ];

  it.each(cases)('%s -> an error frame with a code, and the connection stays usable', async (_, raw, code) => {
    const calls: unknown[] = [];
    const gw = await startGateway(cleanups, { onCommand: (frame) => void calls.push(frame) });
    const { client } = await gw.session();
    client.send(raw);
    const error = await client.next('error');
    expect(error).toMatchObject({ type: 'error', code });
    expect(error.message).toEqual(expect.any(String));
    expectValidEvents([error]);

    // Still served: a subscription works and events arrive.
    client.send({ type: 'subscribe', project_id: 'proj-ok' });
    await client.barrier();
    await publish(gw.bus, 'proj-ok', 1);
    await client.next((f) => f.project_id === 'proj-ok' && f.seq === 1, 'an event after the bad frame');
    expect(client.closeInfo).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('an invalid command with a command_id: the error names it, the command is not run nor claimed', async () => {
    const calls: unknown[] = [];
    const gw = await startGateway(cleanups, { onCommand: (frame) => void calls.push(frame) });
    const { client } = await gw.session();
    client.send({ type: 'start_generation', node_id: '__proto__', params: {}, command_id: 'cmd-bad', timestamp: 't' });
    expect(await client.next('error')).toMatchObject({ code: 'invalid_frame', command_id: 'cmd-bad' });
    expect(calls).toEqual([]);
    // The id was not burnt: the corrected command is accepted.
    client.send({ type: 'start_generation', node_id: 'node-1', params: {}, command_id: 'cmd-bad', timestamp: 't' });
    expect(await client.next('ack')).toMatchObject({ command_id: 'cmd-bad', status: 'accepted' });
    expect(calls).toHaveLength(1);
  });

  it('a __proto__ key in session.init last_seq pollutes nothing', async () => {
    const gw = await startGateway(cleanups);
    const client = await gw.connect();
    client.send('{"type":"session.init","session_id":"s-1","reconnect":true,"last_seq":{"__proto__":{"polluted":1},"proj-1":3}}');
    client.send('{"type":"session.init","session_id":"s-2","reconnect":true,"last_seq":{"__proto__":7,"proj-1":3}}');
    await client.barrier();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The __proto__ keys are dropped (docs/PROTOCOL.md): both sessions start.
    expect(client.ofType('session.init')).toHaveLength(2);
    expect(client.ofType('error')).toEqual([]);
    expect(client.closeInfo).toBeUndefined();
  });
});

describe('gateway: limits', () => {
  it('closes a client sending a frame over maxPayloadBytes with 1009; other clients are unaffected', async () => {
    const gw = await startGateway(cleanups, { maxPayloadBytes: 1024 });
    const bystander = await gw.session();
    bystander.client.send({ type: 'subscribe', project_id: 'proj-1' });
    await bystander.client.barrier();
    const { client } = await gw.session();
    client.send(JSON.stringify({ type: 'ping', timestamp: 'x'.repeat(2_000) }));
    expect((await client.waitForClose()).code).toBe(1009);

    await publish(gw.bus, 'proj-1', 1);
    await bystander.client.next((f) => f.seq === 1, 'the event');
    await bystander.client.barrier();
    expect(bystander.client.closeInfo).toBeUndefined();
    expect(gw.gateway.clientCount()).toBe(1);
  });

  it('a frame just under maxPayloadBytes is served', async () => {
    const gw = await startGateway(cleanups, { maxPayloadBytes: 1024 });
    const client = await gw.connect();
    const frame = JSON.stringify({ type: 'ping', timestamp: 'x' });
    client.send(frame.replace('"x"', `"${'x'.repeat(1024 - frame.length + 1 - 64)}"`));
    // The timestamp is over 64 characters: an error, but not a close.
    expect(await client.next('error')).toMatchObject({ code: 'invalid_frame' });
    expect(client.closeInfo).toBeUndefined();
  });

  it('closes a flooding client with 4429 (rate limited, retryable), never a policy code; other clients are unaffected', async () => {
    const gw = await startGateway(cleanups, { maxFramesPerSecond: 20 });
    const bystander = await gw.session();
    bystander.client.send({ type: 'subscribe', project_id: 'proj-1' });
    await bystander.client.barrier();
    const { client } = await gw.session();
    for (let i = 0; i < 60; i++) client.send({ type: 'ping' });
    const close = await client.waitForClose();
    expect(close).toEqual({ code: 4429, reason: 'rate limited: too many frames' });
    expect(classifyClose(close.code)).toBe('retry');
    expect(client.ofType('system.heartbeat').length).toBeLessThanOrEqual(20);

    await publish(gw.bus, 'proj-1', 1);
    await bystander.client.next((f) => f.seq === 1, 'the event');
    for (let i = 0; i < 5; i++) await bystander.client.barrier();
    expect(bystander.client.closeInfo).toBeUndefined();
  });

  it('counts frames as they arrive, not as they are handled: a flood is closed even when the bus is slow', async () => {
    const inner = createMemoryBus();
    cleanups.add(() => inner.close());
    // A slow bus (a Redis far away): each subscribe takes a while to handle.
    const bus: EventBus = {
      ...inner,
      lastSeq: (projectId) => new Promise((resolve) => setTimeout(() => resolve(inner.lastSeq(projectId)), 100)),
    };
    const gw = await startGateway(cleanups, { bus, maxFramesPerSecond: 20 });
    const { client } = await gw.session();
    const sentAt = Date.now();
    for (let i = 0; i < 40; i++) client.send({ type: 'subscribe', project_id: `proj-${i}` });
    expect((await client.waitForClose()).code).toBe(4429);
    expect(Date.now() - sentAt).toBeLessThan(1_000);
  });

  it('a client at the frame rate limit is not closed', async () => {
    const gw = await startGateway(cleanups, { maxFramesPerSecond: 20 });
    const client = await gw.connect();
    for (let i = 0; i < 20; i++) client.send({ type: 'ping' });
    await client.waitUntil(() => (client.ofType('system.heartbeat').length === 20 ? true : undefined), '20 replies');
    expect(client.closeInfo).toBeUndefined();
  });
});

describe('gateway: stopping', () => {
  it('shutdown(): system.shutdown to every client, then close 1012', async () => {
    const gw = await startGateway(cleanups, { instanceId: 'gw-stop' });
    const a = await gw.session();
    const b = await gw.connect(); // no session yet: told too
    await gw.gateway.shutdown('deploy');
    for (const client of [a.client, b]) {
      const { code } = await client.waitForClose();
      expect(code).toBe(1012);
      const last = client.frames[client.frames.length - 1]!;
      expect(last).toMatchObject({ type: 'system.shutdown', reason: 'deploy', instance_id: 'gw-stop' });
      expectValidEvents([last]);
    }
    expect(gw.gateway.clientCount()).toBe(0);
    // The port is closed.
    await expect(RawClient.open(gw.url)).rejects.toThrow();
  });

  it('terminate(): clients see 1006 and no close frame', async () => {
    const gw = await startGateway(cleanups);
    const a = await gw.session();
    const b = await gw.session();
    await gw.gateway.terminate();
    for (const client of [a.client, b.client]) expect((await client.waitForClose()).code).toBe(1006);
    expect(a.client.ofType('system.shutdown')).toEqual([]);
    await expect(RawClient.open(gw.url)).rejects.toThrow();
  });

  it('a new gateway on the same bus resumes the session and replays what was missed', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const first = await startGateway(cleanups, { bus, instanceId: 'gw-1' });
    const { client, reply } = await first.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();
    await publishMany(bus, 'proj-1', 2);
    await client.barrier();
    await first.gateway.terminate();
    await withTimeout(client.closed, 'close');

    await publishMany(bus, 'proj-1', 3); // missed while down
    const second = await startGateway(cleanups, { bus, instanceId: 'gw-2' });
    const back = await second.session({ session_id: reply.session_id, reconnect: true, resume_token: reply.resume_token });
    expect(back.reply).toMatchObject({ type: 'session.restored', instance_id: 'gw-2', subscriptions: ['proj-1'] });
    back.client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 2 });
    await back.client.barrier();
    expect(seqs(back.client.events('proj-1'))).toEqual([3, 4, 5]);
  });
});
