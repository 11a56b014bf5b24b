/**
 * The store's `recorder` option (createFrameRecorder): a bounded recording of the inbound frames, as they arrived, with
 * their receive times, that replayFrames replays into the state the live store had.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  createFrameRecorder,
  replayFrames,
  replayTimeline,
  withPlainTables,
  type FrameRecorderOptions,
  type RealtimeState,
} from '../../src/index.js';
import { fixtureLines } from '../support/fixtures.js';
import { fakeWebSocket, makeStore } from './helpers.js';

const stores: Array<{ dispose(): void }> = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.dispose();
});

function recordingStore(bounds: FrameRecorderOptions = {}) {
  const fake = fakeWebSocket();
  const test = makeStore({ WebSocket: fake.WebSocket, recorder: createFrameRecorder(bounds) });
  stores.push(test.store);
  test.store.dispatch(connect());
  fake.last().open();
  return { ...test, socket: () => fake.last() };
}

/** What inbound frames decide, receive times included (the connection and outbox are the client's). */
function framesPart(state: RealtimeState) {
  const plain = withPlainTables(state) as unknown as Record<string, unknown>;
  const { tasks, nodes, takes, agents, narrative, prompts, activity, frames } = plain;
  return { tasks, nodes, takes, agents, narrative, prompts, activity, frames, lastSeq: state.sync.lastSeq, gaps: state.sync.gaps };
}

describe('store.recorder', () => {
  it('refuses bounds that cannot hold a frame, naming the option', () => {
    expect(() => createFrameRecorder({ maxFrames: 0 })).toThrow(/maxFrames must be a positive integer \(got 0\)/);
    expect(() => createFrameRecorder({ maxFrames: 2.5 })).toThrow(RangeError);
    expect(() => createFrameRecorder({ maxChars: Number.NaN })).toThrow(/maxChars must/);
  });

  it('is there only when asked for', () => {
    const { store } = makeStore();
    stores.push(store);
    expect(store.recorder).toBeUndefined();
  });

  it('a recording replays into the state the live store has, receive times included', () => {
    const { store, clock, socket } = recordingStore();
    // Two logs, with bad frames, an unknown type and duplicate seqs; some frames share a tick
    // (one batched action), the others come 37 ms apart: receive times the timestamps do not say.
    const lines = [...fixtureLines('generation-success'), ...fixtureLines('bad-frames')];
    let lastAt = 0;
    lines.forEach((line, i) => {
      lastAt = clock.now();
      socket().receive(line);
      if (i % 3 !== 0) clock.advance(37);
    });
    clock.advance(0);
    const live = store.getState();
    expect(live.frames.rejected.total).toBeGreaterThan(5);
    expect(live.frames.duplicatesDropped).toBeGreaterThan(0);

    const jsonl = store.recorder!.toJSONL();
    expect(jsonl.trimEnd().split('\n')).toHaveLength(lines.length);
    expect(store.recorder!.size).toBe(lines.length);
    const replayed = replayFrames(jsonl);
    expect(framesPart(replayed)).toEqual(framesPart(live));
    // The clock's times, not the frames' timestamps.
    expect(replayed.frames.lastReceivedAt).toBe(lastAt);
    expect(framesPart(replayFrames(lines))).not.toEqual(framesPart(live));
  });

  it('records each frame as it arrived: JSON as a frame, anything else as its text or bytes', () => {
    const { store, clock, socket } = recordingStore();
    const start = clock.now();
    socket().receive({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: 10 });
    socket().receive('{"type": "task.progress", "task_id": "t1", "state": "PROGRESS", "progress": 20}');
    socket().receive('{"type":"task.prog');
    socket().onmessage!({ data: new TextEncoder().encode('{"type":"task.progress","task_id":"t1","state":"PROGRESS","progress":30}').buffer });
    socket().onmessage!({ data: new Uint8Array([0xff, 0xfe, 0x7b]).buffer });
    clock.advance(0);
    const lines = store.recorder!.toJSONL().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { received_at: start, frame: { type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: 10 } },
      { received_at: start, text: '{"type": "task.progress", "task_id": "t1", "state": "PROGRESS", "progress": 20}' },
      { received_at: start, text: '{"type":"task.prog' },
      { received_at: start, base64: expect.any(String) },
      { received_at: start, base64: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64') },
    ]);
    const timeline = replayTimeline(store.recorder!.toJSONL());
    expect(timeline.map(({ action }) => action.type)).toEqual([
      'tasks/progressReceived',
      'tasks/progressReceived',
      'frames/rejected',
      'tasks/progressReceived',
      'frames/rejected',
    ]);
    expect(timeline.map(({ action }) => (action.payload as { reason?: string }).reason)).toEqual([undefined, undefined, 'not_json', undefined, 'not_text']);
    expect(framesPart(timeline.at(-1)!.state)).toEqual(framesPart(store.getState()));
  });

  it('keeps at most maxFrames frames, the newest, and counts the others', () => {
    const { store, clock, socket } = recordingStore({ maxFrames: 5 });
    for (let i = 0; i < 12; i++) {
      socket().receive({ type: 'task.progress', task_id: `t${i}`, state: 'PROGRESS', progress: i });
      clock.advance(10);
    }
    expect(store.recorder!.size).toBe(5);
    expect(store.recorder!.evicted).toBe(7);
    const tasks = store.recorder!.toJSONL().trimEnd().split('\n').map((line) => (JSON.parse(line) as { frame: { task_id: string } }).frame.task_id);
    expect(tasks).toEqual(['t7', 't8', 't9', 't10', 't11']);
    store.recorder!.clear();
    expect(store.recorder!.toJSONL()).toBe('');
    expect([store.recorder!.size, store.recorder!.evicted]).toEqual([0, 0]);
  });

  it('keeps at most maxChars characters of frame data, but always the newest frame', () => {
    const { store, clock, socket } = recordingStore({ maxChars: 250 });
    const frame = (i: number) => JSON.stringify({ type: 'task.progress', task_id: `t${i}`, state: 'PROGRESS', message: 'm'.repeat(40) });
    for (let i = 0; i < 10; i++) {
      socket().receive(frame(i));
      clock.advance(10);
    }
    const kept = Math.floor(250 / frame(0).length);
    expect(store.recorder!.size).toBe(kept);
    expect(store.recorder!.evicted).toBe(10 - kept);
    socket().receive({ type: 'task.progress', task_id: 'big', state: 'PROGRESS', message: 'm'.repeat(1_000) });
    clock.advance(10);
    expect(store.recorder!.size).toBe(1);
    expect(store.recorder!.toJSONL()).toContain('"task_id":"big"');
  });

  it('records nothing for ingest actions no socket delivered (the app dispatching a replay)', () => {
    const { store, clock, socket } = recordingStore();
    socket().receive({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: 1 });
    const at = clock.now();
    clock.advance(5);
    for (const action of replayTimeline(fixtureLines('generation-success').slice(0, 3)).map((entry) => entry.action)) {
      store.dispatch(action);
    }
    socket().receive({ type: 'task.progress', task_id: 't2', state: 'PROGRESS', progress: 2 });
    // Reduced on the way out: the close flushes what arrived, and it is recorded.
    store.dispose();
    const lines = store.recorder!.toJSONL().trimEnd().split('\n').map((line) => JSON.parse(line) as { received_at: number; frame: { task_id: string } });
    expect(lines.map((line) => [line.received_at, line.frame.task_id])).toEqual([
      [at, 't1'],
      [at + 5, 't2'],
    ]);
  });
});
