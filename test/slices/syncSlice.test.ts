import { describe, expect, it } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import { framesToActions, replayFrames } from '../../src/replay/index.js';
import {
  disconnect,
  framesBatched,
  ingestFrame,
  realtimeReducer,
  subscribeProject,
  unsubscribeProject,
  type RealtimeState,
} from '../../src/slices/index.js';
import { MAX_GAPS } from '../../src/slices/syncSlice.js';
import { fixtureFrames, initialState, readFixture, reduceAll, stamped, timeOf } from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';

const A = 'proj-aurora';
const H = 'proj-harbor-lights';
const N = 'proj-nightfall';

const SLICES_BUT_FRAMES = ['connection', 'tasks', 'nodes', 'takes', 'agents', 'narrative', 'prompts', 'activity', 'sync'] as const;

function feed(state: RealtimeState, frame: object, at: number): RealtimeState {
  return realtimeReducer(state, ingestFrame(frame, at).action as UnknownAction);
}

const session = (type: 'session.init' | 'session.restored', session_id = 'sess-1') => ({
  type,
  session_id,
  capabilities: ['seq', 'replay'],
  resume_token: `rt-${session_id}`,
});
const progress = (seq: number, value: number, project_id = 'p1') => ({
  type: 'task.progress',
  project_id,
  seq,
  task_id: 't1',
  node_id: 'n1',
  state: 'PROGRESS',
  progress: value,
});

describe('sync slice', () => {
  describe('distributed-events fixture', () => {
    it('tracks the last seq applied per project', () => {
      const { sync } = replayFrames(readFixture('distributed-events'));
      const frames = fixtureFrames('distributed-events');
      const last = (project: string) => Math.max(...frames.filter((f) => f.project_id === project).map((f) => f.seq as number));
      expect(sync.lastSeq).toEqual({ [A]: last(A), [H]: last(H), [N]: last(N) });
      expect(sync.lastSeq).toEqual({ [A]: 9, [H]: 8, [N]: 4 });
    });

    it('records the hole in the Harbor Lights stream', () => {
      const { sync } = replayFrames(readFixture('distributed-events'));
      const pull = fixtureFrames('distributed-events').find((f) => f.type === 'git.pull')!;
      expect(sync.gaps).toEqual([{ project_id: H, from: 5, to: 6, at: Date.parse(pull.timestamp!), detectedBy: 'client' }]);
    });

    it('keeps the session id and resume token of session.init', () => {
      const { sync } = replayFrames(readFixture('distributed-events'));
      expect(sync.sessionId).toBe('ws-1772704800000-c2d4f6h8j');
      expect(sync.resumeToken).toBe('rt.ws-1772704800000-c2d4f6h8j.v1');
    });
  });

  it('bad-frames fixture: the refused frame leaves a one-event hole; duplicates and the stale frame are dropped', () => {
    const state = replayFrames(readFixture('bad-frames'));
    expect(state.sync.gaps).toEqual([expect.objectContaining({ project_id: A, from: 5, to: 5, detectedBy: 'client' })]);
    expect(state.sync.lastSeq).toEqual({ [A]: 9 });
    expect(state.frames.duplicatesDropped).toBe(3);
  });

  describe('duplicates and stale frames', () => {
    const log = stamped([session('session.init'), progress(1, 10), progress(2, 40), progress(3, 55)]);

    it.each([
      ['a duplicate (same seq)', progress(3, 55)],
      ['a duplicate carrying other content', progress(3, 99)],
      ['a stale frame (lower seq)', progress(1, 90)],
    ])('%s is dropped: counted, every table unchanged', (_name, frame) => {
      const before = replayFrames(log);
      const after = feed(before, frame, timeOf(log, 3) + 1000);
      expect(after.frames.duplicatesDropped).toBe(before.frames.duplicatesDropped + 1);
      expect(after.frames.applied).toBe(before.frames.applied);
      expect(after.frames.recent).toBe(before.frames.recent);
      for (const slice of SLICES_BUT_FRAMES) expect(after[slice], slice).toBe(before[slice]);
      expect(getEntity(after.tasks, 't1')?.progress).toBe(55);
    });

    it('seq is per project: the same seq in another project is applied', () => {
      const state = replayFrames(stamped([progress(1, 10, 'p1'), progress(1, 20, 'p2'), { ...progress(1, 30, 'p2'), task_id: 't2' }]));
      expect(state.sync.lastSeq).toEqual({ p1: 1, p2: 1 });
      expect(state.frames.duplicatesDropped).toBe(1);
      expect(state.tasks.ids).toEqual(['t1']);
    });

    it('frames without seq are never dropped as duplicates', () => {
      const frame = { type: 'task.progress', project_id: 'p1', task_id: 't1', state: 'PROGRESS', progress: 10 };
      const state = replayFrames(stamped([frame, frame, frame]));
      expect(state.frames.duplicatesDropped).toBe(0);
      expect(state.frames.applied).toBe(3);
    });
  });

  describe('gaps', () => {
    it('a hole in the sequence is recorded; the frame after it is applied', () => {
      const log = stamped([progress(1, 10), progress(2, 20), progress(6, 60)]);
      const state = replayFrames(log);
      expect(state.sync.gaps).toEqual([{ project_id: 'p1', from: 3, to: 5, at: timeOf(log, 2), detectedBy: 'client' }]);
      expect(getEntity(state.tasks, 't1')?.progress).toBe(60);
      expect(state.sync.lastSeq.p1).toBe(6);
    });

    it('the first seq seen for a project is not a gap, whatever its value', () => {
      expect(replayFrames(stamped([progress(41, 10)])).sync.gaps).toEqual([]);
    });

    it('a replay.gap from the backend is recorded as detected by the server', () => {
      const log = stamped([{ type: 'replay.gap', project_id: 'p1', from_seq: 10, to_seq: 20 }]);
      expect(replayFrames(log).sync.gaps).toEqual([{ project_id: 'p1', from: 10, to: 20, at: timeOf(log, 0), detectedBy: 'server' }]);
    });

    it(`keeps at most MAX_GAPS (${MAX_GAPS}) gaps, oldest dropped`, () => {
      const frames = Array.from({ length: MAX_GAPS + 10 }, (_, i) => progress(1 + i * 3, i));
      const { gaps } = replayFrames(stamped(frames)).sync;
      expect(gaps).toHaveLength(MAX_GAPS);
      expect(gaps[0]).toMatchObject({ from: 29, to: 30 });
      expect(gaps[MAX_GAPS - 1]).toMatchObject({ from: 3 * (MAX_GAPS + 9) - 1, to: 3 * (MAX_GAPS + 9) });
    });
  });

  describe('sessions', () => {
    const before = [session('session.init'), progress(1, 10), progress(2, 20), progress(3, 30)];

    it('session.init resets positions: the new session numbers events afresh', () => {
      const log = stamped([...before, session('session.init', 'sess-2'), progress(1, 40)]);
      const state = replayFrames(log);
      expect(state.frames.duplicatesDropped).toBe(0);
      expect(state.sync.lastSeq).toEqual({ p1: 1 });
      expect(state.sync.sessionId).toBe('sess-2');
      expect(getEntity(state.tasks, 't1')?.progress).toBe(40);
    });

    it('session.restored keeps positions: a replay overlap is dropped, the rest applied', () => {
      const log = stamped([...before, session('session.restored'), progress(2, 20), progress(3, 30), progress(4, 45)]);
      const state = replayFrames(log);
      expect(state.frames.duplicatesDropped).toBe(2);
      expect(state.sync.lastSeq).toEqual({ p1: 4 });
      expect(state.sync.gaps).toEqual([]);
      expect(getEntity(state.tasks, 't1')?.progress).toBe(45);
    });

    it('the same holds in one framesBatched action, and equals dispatching one by one', () => {
      const log = stamped([
        ...before,
        progress(3, 30),
        session('session.restored'),
        progress(2, 20),
        progress(5, 50),
        session('session.init', 'sess-2'),
        progress(1, 60),
        progress(1, 60),
        progress(4, 70),
      ]);
      const actions = framesToActions(log) as UnknownAction[];
      const oneByOne = reduceAll(actions);
      const batched = realtimeReducer(initialState(), framesBatched({ actions: framesToActions(log) }));
      expect(batched).toEqual(oneByOne);
      expect(batched.frames.duplicatesDropped).toBe(3);
      expect(batched.sync.lastSeq).toEqual({ p1: 4 });
      expect(batched.sync.gaps).toEqual([
        expect.objectContaining({ from: 4, to: 4 }),
        expect.objectContaining({ from: 2, to: 3 }),
      ]);
    });

    it('a batch that follows earlier single actions dedupes against their positions', () => {
      const head = stamped([session('session.init'), progress(1, 10), progress(2, 20)]);
      const tail = stamped([progress(2, 20), progress(3, 30), progress(3, 30)], '2026-01-01T01:00:00.000Z');
      const start = replayFrames(head);
      const batched = realtimeReducer(start, framesBatched({ actions: framesToActions(tail) }));
      const single = reduceAll(framesToActions(tail) as UnknownAction[], start);
      expect(batched).toEqual(single);
      expect(batched.frames.duplicatesDropped).toBe(2);
      expect(batched.sync.lastSeq).toEqual({ p1: 3 });
    });
  });

  describe('subscriptions and logout', () => {
    it('subscriptions are kept in order, once each; reserved ids are refused', () => {
      let state = reduceAll([subscribeProject('p1'), subscribeProject('p2'), subscribeProject('p1'), subscribeProject('__proto__'), subscribeProject('constructor')]);
      expect(state.sync.subscriptions).toEqual(['p1', 'p2']);
      state = realtimeReducer(state, unsubscribeProject('p1'));
      expect(state.sync.subscriptions).toEqual(['p2']);
    });

    it('disconnect() forgets the session and positions; disconnect({ forgetSession: false }) keeps them', () => {
      const log = stamped([session('session.init'), progress(1, 10), { type: 'replay.gap', project_id: 'p1', from_seq: 1, to_seq: 1 }]);
      const base = realtimeReducer(replayFrames(log), subscribeProject('p1'));
      const kept = realtimeReducer(base, disconnect({ forgetSession: false }));
      expect(kept.sync).toBe(base.sync);
      const forgotten = realtimeReducer(base, disconnect());
      expect(forgotten.sync).toEqual({ subscriptions: [], lastSeq: {}, storedLastSeq: {}, gaps: [] });
    });
  });
});
