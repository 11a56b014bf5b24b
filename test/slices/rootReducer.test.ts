import { describe, expect, it } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import { framesToActions, replayFrames, replayTimeline } from '../../src/replay/index.js';
import { framesBatched, ingestFrame, realtimeReducer, type IngestAction, type RealtimeState } from '../../src/slices/index.js';
import {
  assertPlainData,
  expectPrototypeClean,
  expectSerializable,
  FIXTURE_NAMES,
  initialState,
  readFixture,
  reduceAll,
  stamped,
} from '../support/fixtures.js';
import { entitiesOf, getEntity } from '../../src/slices/table.js';

const SLICES = ['connection', 'tasks', 'nodes', 'takes', 'agents', 'narrative', 'prompts', 'activity', 'frames', 'sync'];

/** Every own key of every object in the value, with its path. */
function ownKeys(value: unknown, path = 'state', out: Array<[string, string]> = []): Array<[string, string]> {
  if (value === null || typeof value !== 'object') return out;
  for (const key of Object.getOwnPropertyNames(value)) {
    out.push([key, `${path}.${key}`]);
    ownKeys((value as Record<string, unknown>)[key], `${path}.${key}`, out);
  }
  return out;
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf']);

describe('root reducer', () => {
  it('combines every slice', () => {
    expect(Object.keys(initialState())).toEqual(expect.arrayContaining(SLICES));
  });

  it('returns the same state for an action no slice handles', () => {
    const state = replayFrames(readFixture('generation-success'));
    expect(realtimeReducer(state, { type: 'canvas/zoomed', payload: 2 })).toBe(state);
  });

  describe('one action per frame and one framesBatched action give the same state', () => {
    it.each(FIXTURE_NAMES)('%s', (name) => {
      const actions = framesToActions(readFixture(name));
      const oneByOne = reduceAll(actions as UnknownAction[]);
      const batched = realtimeReducer(initialState(), framesBatched({ actions }));
      expect(batched).toEqual(oneByOne);
      expect(oneByOne).toEqual(replayFrames(readFixture(name)));
    });

    it.each(FIXTURE_NAMES)('%s, in bursts of uneven size', (name) => {
      const actions = framesToActions(readFixture(name));
      let state = initialState();
      for (let i = 0, size = 1; i < actions.length; i += size, size = (size % 5) + 1) {
        state = realtimeReducer(state, framesBatched({ actions: actions.slice(i, i + size) }));
      }
      expect(state).toEqual(reduceAll(actions as UnknownAction[]));
    });

    it('all fixtures back to back, as one batch', () => {
      const actions: IngestAction[] = FIXTURE_NAMES.flatMap((name) => framesToActions(readFixture(name)));
      expect(realtimeReducer(initialState(), framesBatched({ actions }))).toEqual(reduceAll(actions as UnknownAction[]));
    });

    it('an empty batch changes nothing but may be dispatched', () => {
      const state = replayFrames(readFixture('generation-success'));
      expect(realtimeReducer(state, framesBatched({ actions: [] }))).toEqual(state);
    });
  });

  describe('state is plain, serializable JSON data', () => {
    it.each(FIXTURE_NAMES)('at every step of %s', (name) => {
      for (const { state, index } of replayTimeline(readFixture(name))) expectSerializable(state, `${name}#${index}`);
    });

    it('the checker itself refuses Set, Map, Date, class instances and functions', () => {
      class Run {
        id = 't1';
      }
      for (const bad of [new Set(['n1']), new Map([['n1', 1]]), new Date(0), new Run(), () => 1, Number.NaN, 10n]) {
        expect(() => assertPlainData({ nodes: { generating: bad } })).toThrow();
      }
      expect(() => assertPlainData({ a: [1, 'x', null, { b: true }], c: Object.create(null) })).not.toThrow();
    });
  });

  describe('javascript: never reaches state', () => {
    it.each(FIXTURE_NAMES)('at any step of %s', (name) => {
      for (const { state, index } of replayTimeline(readFixture(name))) {
        expect(JSON.stringify(state).toLowerCase(), `${name}#${index}`).not.toMatch(/java\s*script:/);
      }
    });

    it('bad-frames carries javascript: URLs in four places (and a data:text/html one): all dropped', () => {
      expect(readFixture('bad-frames').toLowerCase().match(/java(\\t)?script:/g)?.length).toBe(4);
      const state = replayFrames(readFixture('bad-frames'));
      expect(JSON.stringify(state).toLowerCase()).not.toMatch(/script:|data:text\/html/);
    });
  });

  describe('ids that are Object.prototype members', () => {
    it.each([
      ['node.state_changed node_id', { type: 'node.state_changed', node_id: '__proto__', status: 'generating', progress: 5 }],
      ['task.progress task_id', { type: 'task.progress', task_id: 'constructor', state: 'PROGRESS', progress: 5 }],
      ['task.progress node_id', { type: 'task.progress', task_id: 't1', node_id: 'toString', state: 'STARTED' }],
      ['generation.started node_id', { type: 'generation.started', node_id: 'hasOwnProperty', task_id: 't1' }],
      ['generation.completed take id', { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/a.png', takes: [{ id: '__proto__', take_number: 1, path: '/a.png', created_at: 'x' }] }],
      ['narrative.beat beat_name', { type: 'narrative.beat', beat_name: 'constructor', scene_id: 'S001' }],
      ['prompt.composite node_id', { type: 'prompt.composite', node_id: 'valueOf', composite_prompt: { base_prompt: 'x' } }],
      ['project_id', { type: 'git.commit', project_id: '__proto__', ref: 'x' }],
      ['seq project_id', { type: 'task.progress', project_id: 'constructor', seq: 1, task_id: 't1', state: 'PROGRESS' }],
      ['agent.progress task_id', { type: 'agent.progress', agent_type: 'Producer', task_id: 'isPrototypeOf', progress: 10 }],
    ])('%s: the frame is rejected as invalid_fields, the tables untouched', (_name, bad) => {
      const before = replayFrames(readFixture('generation-success'));
      const after = realtimeReducer(before, ingestFrame(bad, Date.parse('2026-03-02T15:00:00Z')).action as UnknownAction);
      expect(after.frames.rejected.byReason.invalid_fields).toBe(1);
      expect(after.frames.rejected.last?.type).toBe(bad.type);
      for (const slice of SLICES.filter((s) => s !== 'frames')) expect(after[slice as keyof RealtimeState], slice).toBe(before[slice as keyof RealtimeState]);
      expectPrototypeClean();
    });

    it('bad-frames: no table gains a reserved key, and Object.prototype is untouched', () => {
      const state = replayFrames(readFixture('bad-frames'));
      const reserved = ownKeys(state).filter(([key]) => RESERVED.has(key));
      expect(reserved).toEqual([]);
      expectPrototypeClean();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(entitiesOf(state.tasks))).toBe(Object.prototype);
    });

    it('a "__proto__" key (not value) in a frame or its free-form JSON pollutes nothing', () => {
      const raw = [
        '{"type":"task.progress","timestamp":"2026-01-01T00:00:01Z","task_id":"t1","state":"SUCCESS","__proto__":{"polluted":"top","state":"PENDING"},"result":{"ok":true,"__proto__":{"polluted":"result"},"nested":[{"__proto__":{"polluted":"deep"}}]}}',
        '{"type":"project.updated","timestamp":"2026-01-01T00:00:02Z","project_id":"p1","data":{"name":"x","__proto__":{"polluted":"data"}}}',
      ];
      const state = replayFrames(raw);
      expect(state.frames.applied).toBe(2);
      expect(getEntity(state.tasks, 't1')?.state).toBe('SUCCESS');
      expect(getEntity(state.tasks, 't1')?.result).toEqual({ ok: true, nested: [{}] });
      expect(ownKeys(state).filter(([key]) => key === '__proto__')).toEqual([]);
      expect(JSON.stringify(state)).not.toContain('polluted');
      expectPrototypeClean();
    });
  });

  it('frames for many projects interleave without crossing (distributed-events)', () => {
    const state = replayFrames(readFixture('distributed-events'));
    expect(state.tasks.ids).toEqual([]);
    expect(state.nodes.ids).toEqual([]);
    expect(state.activity.feed.every((item) => ['proj-aurora', 'proj-harbor-lights', 'proj-nightfall'].includes(item.frame.project_id))).toBe(true);
  });

  it('a log with every kind of trouble still ends with exact tables (bad-frames)', () => {
    const state = replayFrames(readFixture('bad-frames'));
    expect(state.tasks.ids).toEqual(['celery-bad1-0000']);
    expect(state.nodes.ids).toEqual(['node-t2i-bad1']);
    expect(getEntity(state.tasks, 'celery-bad1-0000')).toMatchObject({ state: 'SUCCESS', progress: 100, message: 'Take 1 saved', result: { take_id: 'take-S009-P030-001', seed: 99 } });
    expect(state.tasks.lateFramesIgnored).toBe(2);
    expect(getEntity(state.nodes, 'node-t2i-bad1')).toMatchObject({ status: 'completed', progress: 100 });
    expect(getEntity(state.agents, 'Editor')).toMatchObject({ status: 'completed', task_id: 'celery-proto-1' });
  });

  it('inline logs too: batched equals one by one with rejects, unknowns and duplicates mixed in', () => {
    const log = [
      ...stamped([{ type: 'session.init', session_id: 's1' }, { type: 'generation.started', project_id: 'p', seq: 1, node_id: 'n1', task_id: 't1' }]),
      'not json',
      '{"type":"preview.frame","timestamp":"2026-01-01T00:00:05Z"}',
      ...stamped([{ type: 'generation.started', project_id: 'p', seq: 1, node_id: 'n1', task_id: 't1' }, { type: 'task.progress', project_id: 'p', seq: 3, task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 20 }], '2026-01-01T00:00:05Z'),
    ];
    const actions = framesToActions(log);
    const batched = realtimeReducer(initialState(), framesBatched({ actions }));
    expect(batched).toEqual(reduceAll(actions as UnknownAction[]));
    expect(batched.frames).toMatchObject({ applied: 3, duplicatesDropped: 1, rejected: { total: 1 }, unknown: { total: 1 } });
    expect(batched.sync.gaps).toEqual([expect.objectContaining({ from: 2, to: 2 })]);
  });
});
