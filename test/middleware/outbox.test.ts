/**
 * The outbox against msw backends: queued while down, delivered in order after the session and
 * the subscriptions, bounded and expiring visibly, at most once to a backend that does not ack,
 * until acked to one that does, and only story frames to a backend that speaks only the story.
 */
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cancelGeneration, connect, startGeneration, subscribeProject } from '../../src/index.js';
import { FakeClock, fakeWebSocket, makeStore, mswBackend, settle, until, WS_URL } from './helpers.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

const STORY_TYPES = ['session.init', 'subscribe', 'unsubscribe', 'ping', 'start_generation', 'cancel_generation'];
const backoff = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };

/** A clock that also moves Date.now(), which stamps commands when they are asked for. */
function dateClock() {
  vi.useFakeTimers({ toFake: ['Date'] });
  const clock = new FakeClock();
  clock.syncDate = true;
  vi.setSystemTime(clock.nowMs);
  return clock;
}

const commandsOn = (frames: Array<Record<string, unknown>>) =>
  frames.filter((frame) => frame.type === 'start_generation' || frame.type === 'cancel_generation');

describe('queued while disconnected', () => {
  it('delivered in order once the session is ready and the subscriptions restored', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: ['ack'], ack: true });
    const t = makeStore();
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a cat' }, projectId: 'p1' }));
    t.store.dispatch(subscribeProject('p2'));
    t.store.dispatch(cancelGeneration({ nodeId: 'n0', taskId: 't0' }));
    t.store.dispatch(startGeneration({ nodeId: 'n2', params: { prompt: 'a dog' } }));
    expect(t.store.getState().outbox.entries).toHaveLength(3);
    t.store.dispatch(connect());
    await until(() => t.store.getState().outbox.entries.length === 0, 'the outbox to drain', t.clock);
    expect(backend.wire().map((f) => [f.type, f.node_id ?? f.project_id ?? null])).toEqual([
      ['session.init', null],
      ['subscribe', 'p1'],
      ['subscribe', 'p2'],
      ['start_generation', 'n1'],
      ['cancel_generation', 'n0'],
      ['start_generation', 'n2'],
    ]);
    expect(t.store.getState().outbox.delivered).toBe(3);
    t.store.dispose();
  });

  it('commands asked for while the session is not ready yet wait for it', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'none' });
    const t = makeStore({ sessionReplyTimeoutMs: 1_000 });
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(connect());
    await until(() => backend.types().length === 1, 'session.init', t.clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    await settle(t.clock);
    expect(backend.types()).toEqual(['session.init']);
    t.clock.advance(1_000);
    await until(() => backend.types().length === 3, 'the rest', t.clock);
    expect(backend.types()).toEqual(['session.init', 'subscribe', 'start_generation']);
    t.store.dispose();
  });

  it('queue.max: overflow drops the oldest, visibly', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore({ queue: { max: 3 } });
    for (let i = 1; i <= 5; i++) t.store.dispatch(startGeneration({ nodeId: `n${i}`, params: {} }));
    const { outbox } = t.store.getState();
    expect(outbox.entries.map((e) => e.frame.node_id)).toEqual(['n3', 'n4', 'n5']);
    expect(outbox.dropped.overflow).toBe(2);
    expect(outbox.recentDrops.map((d) => [d.node_id, d.why, d.type])).toEqual([
      ['n1', 'overflow', 'start_generation'],
      ['n2', 'overflow', 'start_generation'],
    ]);
    t.store.dispatch(connect());
    await until(() => t.store.getState().outbox.entries.length === 0, 'the outbox to drain', t.clock);
    expect(commandsOn(backend.wire()).map((f) => f.node_id)).toEqual(['n3', 'n4', 'n5']);
    t.store.dispose();
  });

  it('queue.ttlMs: a command that waited too long is not sent, visibly', async () => {
    const clock = dateClock();
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore({ clock, queue: { ttlMs: 60_000 } });
    t.store.dispatch(startGeneration({ nodeId: 'old', params: {} }));
    clock.advance(30_000);
    t.store.dispatch(startGeneration({ nodeId: 'young', params: {} }));
    clock.advance(30_000);
    t.store.dispatch(connect());
    await until(() => t.store.getState().outbox.entries.length === 0, 'the outbox to drain', t.clock);
    expect(commandsOn(backend.wire()).map((f) => f.node_id)).toEqual(['young']);
    const { outbox } = t.store.getState();
    expect(outbox.dropped.expired).toBe(1);
    expect(outbox.recentDrops).toEqual([expect.objectContaining({ node_id: 'old', why: 'expired' })]);
    t.store.dispose();
  });

  it('queue.ttlMs: a command waiting for an ack that never comes expires at a heartbeat', async () => {
    const clock = dateClock();
    mswBackend(server, WS_URL, { reply: 'init', capabilities: ['ack'], ack: false });
    const t = makeStore({ clock, queue: { ttlMs: 60_000 }, heartbeat: { intervalMs: 10_000, timeoutMs: 1_000_000 } });
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    await settle(clock);
    expect(t.store.getState().outbox.entries).toHaveLength(1);
    clock.advance(50_000);
    expect(t.store.getState().outbox.entries).toHaveLength(1);
    clock.advance(10_000);
    expect(t.store.getState().outbox.entries).toHaveLength(0);
    expect(t.store.getState().outbox.dropped.expired).toBe(1);
    t.store.dispose();
  });
});

describe('expiry during an outage', () => {
  it('a command expires at a retry while the link is down, before any reconnect succeeds', async () => {
    const clock = dateClock();
    const { WebSocket, sockets } = fakeWebSocket();
    const t = makeStore({ clock, WebSocket, queue: { ttlMs: 60_000 }, backoff: { initialMs: 40_000, maxMs: 40_000, factor: 1, jitter: 0 } });
    t.store.dispatch(startGeneration({ nodeId: 'waiting', params: {} }));
    t.store.dispatch(connect());
    // Every attempt fails: the socket closes without opening.
    for (let attempt = 0; attempt < 3; attempt++) {
      sockets.at(-1)!.serverClose(1006);
      await settle(clock);
      clock.advance(40_000);
      await settle(clock);
    }
    expect(t.store.getState().connection.status).toBe('reconnecting');
    expect(t.store.getState().outbox.dropped.expired).toBe(1);
    expect(t.store.getState().outbox.entries).toHaveLength(0);
    t.store.dispose();
  });
});

describe('delivery', () => {
  it('a backend that does not ack: written once is delivered, never sent twice', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: [] });
    const t = makeStore({ backoff });
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'x' } }));
    expect(t.store.getState().outbox.entries).toHaveLength(0);
    expect(t.store.getState().outbox.delivered).toBe(1);
    // reconnect twice: nothing is resent
    for (let i = 0; i < 2; i++) {
      backend.close(backend.last(), 1006);
      await until(() => t.status() === 'reconnecting', 'reconnecting', t.clock);
      t.clock.advance(t.connection().nextRetryAt! - t.clock.now());
      await until(() => t.connection().sessionReady, 'the session', t.clock);
    }
    t.store.dispatch(startGeneration({ nodeId: 'n2', params: {} }));
    await settle(t.clock);
    expect(backend.connections).toHaveLength(3);
    expect(commandsOn(backend.wire()).map((f) => f.node_id)).toEqual(['n1', 'n2']);
    t.store.dispose();
  });

  it('an acking backend: commands stay until acked and are resent after a reconnect', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: ['ack'], ack: false });
    // random 0: full jitter gives a zero delay, the retry happens within the same millisecond
    const t = makeStore({ random: () => 0 });
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    await settle(t.clock);
    expect(t.store.getState().outbox.entries).toEqual([expect.objectContaining({ sends: 1 })]);
    // another command on the same socket does not resend the first one
    t.store.dispatch(startGeneration({ nodeId: 'n2', params: {} }));
    await settle(t.clock);
    expect(commandsOn(backend.last().received).map((f) => f.node_id)).toEqual(['n1', 'n2']);
    // the link drops before any ack
    backend.close(backend.last(), 1006);
    await until(() => backend.connections.length === 2 && t.connection().sessionReady, 'the new session', t.clock);
    await until(() => commandsOn(backend.last().received).length === 2, 'the resend', t.clock);
    expect(commandsOn(backend.last().received).map((f) => f.node_id)).toEqual(['n1', 'n2']);
    // the resend carries the same command id, so the backend can dedupe
    expect(commandsOn(backend.connections[1]!.received).map((f) => f.command_id)).toEqual(
      commandsOn(backend.connections[0]!.received).map((f) => f.command_id),
    );
    expect(t.store.getState().outbox.entries.map((e) => e.sends)).toEqual([2, 2]);
    // acks clear them
    for (const frame of commandsOn(backend.last().received)) backend.last().push({ type: 'ack', command_id: frame.command_id, status: 'accepted' });
    await until(() => t.store.getState().outbox.entries.length === 0, 'the acks', t.clock);
    expect(t.store.getState().outbox.delivered).toBe(2);
    t.store.dispose();
  });

  it('an acking backend that rejects a command: dropped, visibly', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init', capabilities: ['ack'] });
    const t = makeStore();
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    await until(() => commandsOn(backend.wire()).length === 1, 'the command', t.clock);
    backend.last().push({ type: 'ack', command_id: commandsOn(backend.wire())[0]!.command_id, status: 'rejected', error: 'GPU busy' });
    await until(() => t.store.getState().outbox.entries.length === 0, 'the rejection', t.clock);
    expect(t.store.getState().outbox.dropped.rejected).toBe(1);
    expect(t.store.getState().outbox.recentDrops[0]).toMatchObject({ why: 'rejected', detail: 'GPU busy', node_id: 'n1' });
    t.store.dispose();
  });

  it('an invalid command is never sent, and says why', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'init' });
    const t = makeStore();
    t.store.dispatch(connect());
    await until(() => t.connection().sessionReady, 'the session', t.clock);
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: { width: -5 } }));
    t.store.dispatch(startGeneration({ nodeId: 'n2', params: {} }));
    await settle(t.clock);
    expect(commandsOn(backend.wire()).map((f) => f.node_id)).toEqual(['n2']);
    expect(t.store.getState().outbox.dropped.invalid).toBe(1);
    expect(t.store.getState().outbox.recentDrops[0]).toMatchObject({ node_id: 'n1', why: 'invalid', detail: expect.stringContaining('width') });
    t.store.dispose();
  });
});

describe('a story-only backend (never answers session.init)', () => {
  it('proceeds after sessionReplyTimeoutMs and sends only story frame types', async () => {
    const backend = mswBackend(server, WS_URL, { reply: 'none' });
    const t = makeStore({ sessionReplyTimeoutMs: 1_500, heartbeat: { intervalMs: 5_000, timeoutMs: 60_000 } });
    t.store.dispatch(subscribeProject('p1'));
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: { prompt: 'a cat', width: 512 }, context: { scene_id: 'S001', shot_id: 'P001' } }));
    t.store.dispatch(connect());
    await until(() => backend.types().length === 1, 'session.init', t.clock);
    t.clock.advance(1_499);
    await settle(t.clock);
    expect(t.connection().sessionReady).toBe(false);
    expect(backend.types()).toEqual(['session.init']);
    t.clock.advance(1);
    await until(() => t.store.getState().outbox.entries.length === 0, 'the outbox to drain', t.clock);
    expect(t.of('session/assumedWithoutReply')).toHaveLength(1);
    expect(t.connection().capabilities).toEqual([]);
    t.store.dispatch(cancelGeneration({ nodeId: 'n1' }));
    t.store.dispatch(subscribeProject('p2'));
    t.clock.advance(10_000); // heartbeats
    await settle(t.clock);
    expect(backend.types()).toEqual(['session.init', 'subscribe', 'start_generation', 'cancel_generation', 'subscribe', 'ping', 'ping']);
    expect(backend.types().every((type) => STORY_TYPES.includes(type))).toBe(true);
    expect(t.store.getState().outbox).toMatchObject({ entries: [], delivered: 2 });
    expect(t.status()).toBe('connected');
    t.store.dispose();
  });
});
