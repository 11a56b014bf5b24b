import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import { selectTakeById, selectTakesByNode } from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';
import { getEntity } from '../../src/slices/table.js';

const take = (nodeId: string, n: number, extra: object = {}) => ({
  id: `${nodeId}-take-${n}`,
  take_number: n,
  path: `/media/${nodeId}/take-${n}.png`,
  created_at: TS,
  scene_id: 'S001',
  shot_id: 'P001',
  quality_preset: 'standard',
  ...extra,
});
const completed = (nodeId: string, taskId: string, takes: object[]) => ({
  type: 'generation.completed',
  timestamp: TS,
  node_id: nodeId,
  task_id: taskId,
  output_path: `/media/${nodeId}/out.png`,
  takes,
});
const heartbeat = { type: 'system.heartbeat', timestamp: TS };
const gitCommit = { type: 'git.commit', timestamp: TS, project_id: 'proj-1', ref: 'main', message: 'wip' };
const progress = (nodeId: string, taskId: string, value: number) => ({
  type: 'task.progress',
  timestamp: TS,
  task_id: taskId,
  node_id: nodeId,
  state: 'PROGRESS',
  progress: value,
});

const numbers = (state: RealtimeState, nodeId: string) => selectTakesByNode(state, nodeId).map((t) => t.take_number);

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  expect(warn).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('selectTakesByNode: contents and order', () => {
  it('is empty for a node without takes, and for an unknown node', () => {
    const state = apply(initial(), { type: 'generation.started', timestamp: TS, node_id: 'n1', task_id: 't1' });
    expect(selectTakesByNode(state, 'n1')).toEqual([]);
    expect(selectTakesByNode(state, 'unknown')).toEqual([]);
  });

  it('orders by take_number when takes arrive out of order, across frames', () => {
    const state = apply(
      initial(),
      completed('n1', 't3', [take('n1', 3)]),
      completed('n1', 't1', [take('n1', 1)]),
      { type: 'node.state_changed', timestamp: TS, node_id: 'n1', status: 'completed', takes: [take('n1', 4), take('n1', 2)] },
    );
    expect(numbers(state, 'n1')).toEqual([1, 2, 3, 4]);
    expect(selectTakesByNode(state, 'n1').map((t) => t.id)).toEqual(['n1-take-1', 'n1-take-2', 'n1-take-3', 'n1-take-4']);
    // The node keeps arrival order; only the selector sorts.
    expect(getEntity(state.nodes, 'n1')?.take_ids).toEqual(['n1-take-3', 'n1-take-1', 'n1-take-4', 'n1-take-2']);
  });

  it('orders by take_number within one frame and numbers above 9 sort numerically', () => {
    const state = apply(initial(), completed('n1', 't1', [take('n1', 10), take('n1', 2), take('n1', 9)]));
    expect(numbers(state, 'n1')).toEqual([2, 9, 10]);
  });

  it('stores a take delivered twice once, with the later fields', () => {
    const state = apply(
      initial(),
      completed('n1', 't1', [take('n1', 1)]),
      {
        type: 'node.state_changed',
        timestamp: TS,
        node_id: 'n1',
        status: 'completed',
        takes: [take('n1', 1, { thumbnail: '/media/n1/take-1.thumb.png' })],
      },
    );
    const takes = selectTakesByNode(state, 'n1');
    expect(takes).toHaveLength(1);
    expect(takes[0]).toMatchObject({ id: 'n1-take-1', node_id: 'n1', task_id: 't1', thumbnail: '/media/n1/take-1.thumb.png' });
    expect(selectTakeById(state, 'n1-take-1')).toBe(takes[0]);
  });

  it('keeps each node\'s takes apart', () => {
    const state = apply(initial(), completed('n1', 't1', [take('n1', 1)]), completed('n2', 't2', [take('n2', 1), take('n2', 2)]));
    expect(selectTakesByNode(state, 'n1').map((t) => t.id)).toEqual(['n1-take-1']);
    expect(selectTakesByNode(state, 'n2').map((t) => t.id)).toEqual(['n2-take-1', 'n2-take-2']);
  });
});

describe('selectTakesByNode: memoization', () => {
  const base = () =>
    apply(initial(), completed('n1', 't1', [take('n1', 2), take('n1', 1)]), completed('n2', 't2', [take('n2', 1)]));

  it.each([
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a task.progress frame for another node', progress('n2', 't9', 40)],
    ['a task.progress frame for the same node (a new run, no new take)', progress('n1', 't5', 40)],
    ['takes arriving for another node', completed('n2', 't3', [take('n2', 2)])],
    ['takes arriving for a new node', completed('n3', 't4', [take('n3', 1)])],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = base();
    const takes = selectTakesByNode(before, 'n1');
    const after = apply(before, frame);
    expect(selectTakesByNode(after, 'n1')).toBe(takes);
  });

  it('stays stable for every node when several nodes are read in turn (a gallery per node card)', () => {
    const before = base();
    const t1 = selectTakesByNode(before, 'n1');
    const t2 = selectTakesByNode(before, 'n2');
    const none = selectTakesByNode(before, 'n9');
    // Another node's new take changes the takes table, which both selections read.
    const after = apply(before, completed('n3', 't3', [take('n3', 1)]));
    expect(selectTakesByNode(after, 'n1')).toBe(t1);
    expect(selectTakesByNode(after, 'n2')).toBe(t2);
    expect(selectTakesByNode(after, 'n9')).toBe(none);
    const later = apply(after, heartbeat, completed('n3', 't5', [take('n3', 2)]));
    expect(selectTakesByNode(later, 'n2')).toBe(t2);
    expect(selectTakesByNode(later, 'n1')).toBe(t1);
  });

  it('returns a new, ordered array when the node gets a new take', () => {
    const before = base();
    const takes = selectTakesByNode(before, 'n1');
    const after = apply(before, completed('n1', 't6', [take('n1', 3)]));
    const next = selectTakesByNode(after, 'n1');
    expect(next).not.toBe(takes);
    expect(next.map((t) => t.take_number)).toEqual([1, 2, 3]);
    // Unchanged takes keep their identity.
    expect(next[0]).toBe(takes[0]);
    expect(next[1]).toBe(takes[1]);
  });

  it('returns a new array when one of the node\'s takes is updated', () => {
    const before = base();
    const takes = selectTakesByNode(before, 'n1');
    const after = apply(before, {
      type: 'node.state_changed',
      timestamp: TS,
      node_id: 'n1',
      status: 'completed',
      takes: [take('n1', 1, { thumbnail: '/media/n1/take-1.thumb.png' })],
    });
    const next = selectTakesByNode(after, 'n1');
    expect(next).not.toBe(takes);
    expect(next[0]?.thumbnail).toBe('/media/n1/take-1.thumb.png');
    expect(next[1]).toBe(takes[1]);
  });
});
