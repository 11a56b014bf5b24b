/**
 * The socket middleware paces what it writes (the `send` option): every frame takes a token,
 * commands wait in the outbox (state, stored) until theirs comes, control frames go first, and
 * fake timers drive it all.
 */
import { describe, expect, it } from 'vitest';
import { connect, startGeneration, subscribeProject } from '../../src/index.js';
import { resolveOptions } from '../../src/middleware/options.js';
import { STORAGE_KEY, type StoredSession } from '../../src/middleware/storage.js';
import { fakeWebSocket, makeStore, type TestStoreOptions } from './helpers.js';

/** A connected store on a fake socket whose backend acks, with the session ready. */
function ready(options: TestStoreOptions) {
  const fake = fakeWebSocket();
  const t = makeStore({ WebSocket: fake.WebSocket, heartbeat: { intervalMs: 60_000, timeoutMs: 600_000 }, ...options });
  t.store.dispatch(connect());
  fake.last().open();
  fake.last().receive({ type: 'session.init', session_id: 's1', reconnect: false, instance_id: 'i1', capabilities: ['ack'] });
  t.clock.advance(0);
  expect(t.connection().sessionReady).toBe(true);
  return { t, fake };
}

const commandsSent = (types: string[]) => types.filter((type) => type === 'start_generation').length;

describe('send pacing', () => {
  it('a burst goes out at `burst` frames, then `maxPerSecond`; the rest waits in the outbox, unsent', () => {
    const { t, fake } = ready({ send: { maxPerSecond: 10, burst: 5 } });
    // session.init took one token: four left.
    for (let i = 0; i < 10; i++) t.store.dispatch(startGeneration({ nodeId: `n${i}`, params: {} }));
    expect(commandsSent(fake.last().types())).toBe(4);
    const { entries } = t.store.getState().outbox;
    expect(entries.map((entry) => entry.sends)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(t.store.getState().outbox.dropped.overflow).toBe(0);

    t.clock.advance(99);
    expect(commandsSent(fake.last().types())).toBe(4);
    t.clock.advance(1);
    expect(commandsSent(fake.last().types())).toBe(5);
    t.clock.advance(500);
    expect(fake.last().frames().filter((f) => f.type === 'start_generation').map((f) => f.node_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `n${i}`),
    );
    expect(t.store.getState().outbox.entries.every((entry) => entry.sends === 1)).toBe(true);
    t.store.dispose();
  });

  it('what the pacer holds back is stored: a reload would find it', () => {
    const { t } = ready({ send: { maxPerSecond: 1, burst: 2 } });
    for (let i = 0; i < 4; i++) t.store.dispatch(startGeneration({ nodeId: `n${i}`, params: {} }));
    const stored = JSON.parse(t.storage.getItem(STORAGE_KEY)!) as StoredSession;
    expect(stored.outbox.map((entry) => [entry.frame.node_id, entry.sends])).toEqual([
      ['n0', 1],
      ['n1', 0],
      ['n2', 0],
      ['n3', 0],
    ]);
    t.store.dispose();
  });

  it('every frame counts, and control frames go first: subscriptions are restored before commands', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, send: { maxPerSecond: 10, burst: 2 }, heartbeat: { intervalMs: 60_000, timeoutMs: 600_000 } });
    for (const project of ['p1', 'p2', 'p3']) t.store.dispatch(subscribeProject(project));
    t.store.dispatch(startGeneration({ nodeId: 'n1', params: {} }));
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'session.init', session_id: 's1', reconnect: false, instance_id: 'i1', capabilities: ['ack'] });
    t.clock.advance(0);
    expect(fake.last().types()).toEqual(['session.init', 'subscribe']);
    t.clock.advance(100);
    expect(fake.last().types()).toEqual(['session.init', 'subscribe', 'subscribe']);
    t.clock.advance(200);
    expect(fake.last().frames().map((f) => f.project_id ?? f.node_id)).toEqual([undefined, 'p1', 'p2', 'p3', 'n1']);
    t.store.dispose();
  });

  it('a new socket does not inherit the old one’s waiting control frames, and the pace timer stops with the link', () => {
    const { t, fake } = ready({ send: { maxPerSecond: 1, burst: 1 }, random: () => 0 });
    t.store.dispatch(subscribeProject('p1'));
    expect(fake.last().types()).toEqual(['session.init']);
    expect(t.clock.pendingDelays()).toContain(1_000);
    fake.last().serverClose(1006);
    expect(t.clock.pendingDelays()).not.toContain(1_000);
    t.clock.advance(0); // the retry (full jitter, random 0)
    expect(fake.sockets).toHaveLength(2);
    fake.last().open();
    t.clock.advance(5_000);
    // One session.init, one subscribe: the first socket's subscribe was not carried over.
    expect(fake.last().types()).toEqual(['session.init', 'subscribe']);
    t.store.dispose();
  });
});

describe('send options', () => {
  it('default to bursts of 120 then 40 per second: at most 160 frames in any second, under the reference gateway\'s 200', () => {
    expect(resolveOptions({}).send).toEqual({ maxPerSecond: 40, burst: 120 });
    expect(resolveOptions({ send: { maxPerSecond: 5 } }).send).toEqual({ maxPerSecond: 5, burst: 120 });
    expect(resolveOptions({ send: { burst: 10.7 } }).send).toEqual({ maxPerSecond: 40, burst: 10 });
  });

  it.each([
    [{ maxPerSecond: 0 }, 'send.maxPerSecond must be a positive number (got 0)'],
    [{ maxPerSecond: Number.NaN }, 'send.maxPerSecond must be a positive number (got NaN)'],
    [{ maxPerSecond: Infinity }, 'send.maxPerSecond must be a positive number (got Infinity)'],
    [{ maxPerSecond: 1e-7 }, 'send.maxPerSecond must allow one frame per 2147483647 ms, the longest timer delay (got 1e-7)'],
    [{ burst: -1 }, 'send.burst must be a positive number (got -1)'],
    [{ burst: 0.5 }, 'send.burst must be at least 1 (got 0.5)'],
  ])('%j is refused', (send, message) => {
    expect(() => resolveOptions({ send })).toThrow(new RangeError(message));
  });
});
