/**
 * `queue.max` bounds the commands not yet sent, at dispatch and when a stored session is loaded.
 * A command written to a socket may have run: waiting for its ack (or for its resend after a
 * reconnect), it is never counted as dropped. Issue 15, items 2 and 3.
 */
import { describe, expect, it } from 'vitest';
import { connect, createMemoryStorage, startGeneration } from '../../src/index.js';
import { STORAGE_KEY, STORAGE_VERSION } from '../../src/middleware/storage.js';
import { FakeClock, fakeWebSocket, makeStore, settle } from './helpers.js';

const quietHeartbeat = { intervalMs: 60_000, timeoutMs: 600_000 };

describe('queue.max counts only commands not yet sent', () => {
  it('150 commands sent to a backend that has not acked yet: none counted as dropped', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, heartbeat: quietHeartbeat, send: { maxPerSecond: 1_000, burst: 1_000 } });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'session.init', session_id: 's1', reconnect: false, instance_id: 'i1', capabilities: ['ack'] });
    t.clock.advance(0);
    const ids = Array.from({ length: 150 }, (_, i) => t.store.dispatch(startGeneration({ nodeId: `n${i}`, params: {} })).payload.commandId);
    const sent = fake.last().frames().filter((f) => f.type === 'start_generation');
    expect(sent.map((f) => f.command_id)).toEqual(ids);
    const { outbox } = t.store.getState();
    expect(outbox.dropped.overflow).toBe(0);
    expect(outbox.recentDrops).toEqual([]);
    expect(outbox.entries).toHaveLength(150);

    // Acked: they leave as delivered.
    for (const id of ids) fake.last().receive({ type: 'ack', command_id: id, status: 'accepted' });
    t.clock.advance(0);
    expect(t.store.getState().outbox).toMatchObject({ entries: [], delivered: 150, dropped: { overflow: 0 } });
    t.store.dispose();
  });

  it('sent commands waiting for their resend after the link dropped do not count either; unsent ones beyond queue.max do (oldest first)', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket, heartbeat: quietHeartbeat, queue: { max: 3 }, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    t.store.dispatch(connect());
    fake.last().open();
    fake.last().receive({ type: 'session.init', session_id: 's1', reconnect: false, instance_id: 'i1', capabilities: ['ack'] });
    t.clock.advance(0);
    for (let i = 0; i < 4; i++) t.store.dispatch(startGeneration({ nodeId: `sent${i}`, params: {} }));
    fake.last().serverClose(1006);
    for (let i = 0; i < 5; i++) t.store.dispatch(startGeneration({ nodeId: `queued${i}`, params: {} }));
    const { outbox } = t.store.getState();
    expect(outbox.entries.map((entry) => entry.frame.node_id)).toEqual(['sent0', 'sent1', 'sent2', 'sent3', 'queued2', 'queued3', 'queued4']);
    expect(outbox.dropped.overflow).toBe(2);
    expect(outbox.recentDrops.map((drop) => [drop.node_id, drop.why])).toEqual([
      ['queued0', 'overflow'],
      ['queued1', 'overflow'],
    ]);
    t.store.dispose();
  });
});

describe('queue.max applies when a stored session is loaded', () => {
  it('a stored outbox of 20,000 commands: the newest queue.max are kept in order, the rest counted as overflow with the reason', async () => {
    const clock = new FakeClock(Date.now());
    const storage = createMemoryStorage();
    const outbox = Array.from({ length: 20_000 }, (_, i) => ({
      commandId: `cmd-${i}`,
      frame: { type: 'start_generation', node_id: `n${i}`, params: {}, command_id: `cmd-${i}`, timestamp: new Date(clock.now()).toISOString() },
      enqueuedAt: clock.now() - 1_000,
      sends: 0,
    }));
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({ version: STORAGE_VERSION, savedAt: clock.now(), sessionId: 'sess-stored', subscriptions: [], lastSeq: {}, capabilities: ['ack'], outbox }),
    );
    const t = makeStore({ clock, storage, queue: { max: 100 } });
    await settle(clock, 1);
    const state = t.store.getState().outbox;
    expect(state.entries.map((entry) => entry.commandId)).toEqual(outbox.slice(19_900).map((entry) => entry.commandId));
    expect(state.dropped.overflow).toBe(19_900);
    expect(state.recentDrops).toHaveLength(20);
    expect(state.recentDrops.at(-1)).toMatchObject({ commandId: 'cmd-19899', why: 'overflow', detail: 'over queue.max when the stored session was loaded' });
    t.store.dispose();
  });

  it('stored commands already sent (awaiting their ack) are kept beyond queue.max: they may have run', async () => {
    const clock = new FakeClock(Date.now());
    const storage = createMemoryStorage();
    const outbox = Array.from({ length: 5 }, (_, i) => ({
      commandId: `cmd-${i}`,
      frame: { type: 'start_generation', node_id: `n${i}`, params: {}, command_id: `cmd-${i}`, timestamp: new Date(clock.now()).toISOString() },
      enqueuedAt: clock.now() - 1_000,
      sentAt: i < 3 ? clock.now() - 500 : undefined,
      sends: i < 3 ? 1 : 0,
    }));
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify({ version: STORAGE_VERSION, savedAt: clock.now(), sessionId: 'sess-stored', subscriptions: [], lastSeq: {}, capabilities: ['ack'], outbox }),
    );
    const t = makeStore({ clock, storage, queue: { max: 1 } });
    await settle(clock, 1);
    const state = t.store.getState().outbox;
    expect(state.entries.map((entry) => entry.commandId)).toEqual(['cmd-0', 'cmd-1', 'cmd-2', 'cmd-4']);
    expect(state.recentDrops.map((drop) => drop.commandId)).toEqual(['cmd-3']);
    t.store.dispose();
  });
});
