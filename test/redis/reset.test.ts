/**
 * Regressions found by test/redis/chaos.test.ts:
 *
 * - Redis restarted empty under a connected client: the gateway dropped the new numbering as
 *   "already sent" (seq <= what it had sent) and the client heard nothing, with no gap, until the
 *   new numbering passed the old one. Now the Redis bus notices the lost data set (onReset,
 *   incarnation) and the gateway moves the client onto the new numbering with a replay.gap.
 * - The gateway's pub/sub connection dropped and came back (Redis up all along): what was
 *   published meanwhile never reached its clients (pub/sub keeps nothing). Now the bus says so
 *   (onReconnect) and the gateway catches every subscription up from the stream.
 * - bus.close() while Redis was down never returned (quit() waits for a server).
 */
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRedisBus } from '../../server/bus/redisBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { createGateway } from '../../server/gateway.js';
import { connect, createMemoryStorage, createRealtimeStore, subscribeProject } from '../../src/index.js';
import { waitForState } from '../support/miniGateway.js';
import { RestartableRedis } from './restartableRedis.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning
    }
  }
});
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A gateway on `gatewayBus` and a store connected to it and subscribed to p1, returned once the
 * gateway has recorded the subscription in the session (seen through `worker`, the same Redis).
 */
async function subscribedClient(gatewayBus: EventBus, worker: EventBus) {
  const gateway = createGateway({ bus: gatewayBus, host: '127.0.0.1', port: 0, heartbeatMs: 60_000 });
  await gateway.ready;
  cleanups.push(() => gateway.terminate());
  const store = createRealtimeStore({
    url: `ws://127.0.0.1:${gateway.port()}/ws`,
    WebSocket,
    storage: createMemoryStorage(),
    browser: null,
    devTools: false,
    sessionReplyTimeoutMs: 5_000,
  });
  cleanups.push(() => store.dispose());
  store.dispatch(subscribeProject('p1'));
  store.dispatch(connect());
  await waitForState(store, (s) => s.connection.sessionReady, 'session');
  for (let i = 0; i < 500; i++) {
    if ((await worker.getSession(store.getState().sync.sessionId ?? ''))?.subscriptions.includes('p1')) break;
    await delay(10);
  }
  return store;
}

describe('Redis restarted empty', () => {
  it('the bus reports the lost data set once, with a new incarnation', { timeout: 60_000 }, async () => {
    const redis = await RestartableRedis.start();
    cleanups.push(() => redis.dispose());
    const bus = await createRedisBus({ url: redis.url, prefix: 'reset1:' });
    cleanups.push(() => bus.close());
    const before = await bus.incarnation!();
    let resets = 0;
    bus.onReset!(() => resets++);
    await bus.publish('p1', { type: 'project.updated', data: { n: 1 } });
    await redis.stop('SIGKILL');
    await redis.run();
    for (let i = 0; i < 300 && resets === 0; i++) await delay(10);
    expect(resets).toBe(1);
    const after = await bus.incarnation!();
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(before);
    expect(await bus.lastSeq('p1')).toBe(0);
  });

  it('a client connected through the restart gets a replay.gap and then the new numbering', { timeout: 60_000 }, async () => {
    const redis = await RestartableRedis.start();
    cleanups.push(() => redis.dispose());
    const gatewayBus = await createRedisBus({ url: redis.url, prefix: 'reset2:' });
    const worker = await createRedisBus({ url: redis.url, prefix: 'reset2:' });
    cleanups.push(() => gatewayBus.close(), () => worker.close());
    const store = await subscribedClient(gatewayBus, worker);
    for (let n = 1; n <= 5; n++) await worker.publish('p1', { type: 'project.updated', data: { n } });
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 5, 'the old numbering');

    await redis.stop('SIGKILL');
    await redis.run();
    // Wait until the gateway has moved the client onto the new numbering, then publish on it.
    const moved = await waitForState(store, (s) => s.sync.gaps.length > 0, 'the reset gap', 10_000);
    expect(moved.sync.gaps).toEqual([expect.objectContaining({ project_id: 'p1', from: 6, detectedBy: 'server' })]);
    const position = moved.sync.lastSeq.p1!;
    for (let n = 1; n <= 3; n++) await worker.publish('p1', { type: 'project.updated', data: { n: 100 + n } });
    const after = await waitForState(store, (s) => s.sync.lastSeq.p1 === position + 3, 'the new numbering', 10_000);
    expect(after.frames.duplicatesDropped).toBe(0);
    expect(store.getState().connection.status).toBe('connected');
  });

  it('events published while the gateway\'s pub/sub connection reconnects reach its clients (from history)', { timeout: 60_000 }, async () => {
    const redis = await RestartableRedis.start();
    cleanups.push(() => redis.dispose());
    const gatewayBus = await createRedisBus({ url: redis.url, prefix: 'reset3:' });
    const worker = await createRedisBus({ url: redis.url, prefix: 'reset3:' });
    const admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
    cleanups.push(() => gatewayBus.close(), () => worker.close(), () => admin.quit().catch(() => {}));
    const store = await subscribedClient(gatewayBus, worker);
    await worker.publish('p1', { type: 'project.updated', data: { n: 1 } });
    await waitForState(store, (s) => s.sync.lastSeq.p1 === 1, 'event 1');
    // Cut every pub/sub connection (the gateway's feed) and publish while it reconnects.
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    for (let n = 2; n <= 6; n++) await worker.publish('p1', { type: 'project.updated', data: { n } });
    const state = await waitForState(store, (s) => s.sync.lastSeq.p1 === 6, 'events 2-6', 10_000);
    expect(state.sync.gaps).toEqual([]);
    expect(state.frames.duplicatesDropped).toBe(0);
  });

  it('bus.close() returns while Redis is down', { timeout: 60_000 }, async () => {
    const redis = await RestartableRedis.start();
    cleanups.push(() => redis.dispose());
    const bus = await createRedisBus({ url: redis.url, prefix: 'reset4:' });
    await redis.stop('SIGKILL');
    await delay(100);
    const closed = await Promise.race([bus.close().then(() => 'closed'), delay(8_000).then(() => 'still waiting')]);
    expect(closed).toBe('closed');
  });
});
