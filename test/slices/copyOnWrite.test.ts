/**
 * The tasks and nodes tables are written by copy-on-write passes (src/slices/cow.ts), not
 * immer, for frames. What immer guaranteed must still hold: bursts and single frames give the
 * same state, the state is deeply frozen, and a frame that changes nothing leaves every object
 * (and so every memoized selector) as it was.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { burstSizes, generateTraffic } from '../../bench/traffic.js';
import { framesBatched, ingestFrame, realtimeReducer, type IngestAction, type RealtimeState } from '../../src/slices/index.js';
import { TableWork } from '../../src/slices/cow.js';
import { getEntity, shardOf, tableFrom } from '../../src/slices/table.js';

const init = () => realtimeReducer(undefined, { type: '@@test/init' });

function actionsOf(frames: readonly string[]): IngestAction[] {
  return frames.map((raw, i) => ingestFrame(raw, 1_736_935_200_000 + i).action);
}

function notFrozen(value: unknown, path = 'state', seen = new Set<unknown>()): string | undefined {
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (!Object.isFrozen(value)) return path;
  for (const [key, child] of Object.entries(value)) {
    const found = notFrozen(child, `${path}.${key}`, seen);
    if (found) return found;
  }
  return undefined;
}

describe('copy-on-write passes (tasks, nodes)', () => {
  const traffic = generateTraffic({ frames: 6_000, nodes: 120, seed: 5 });
  const actions = actionsOf(traffic.frames);

  it('bursts and one frame at a time give the same state', () => {
    let one = init();
    for (const action of actions) one = realtimeReducer(one, action as UnknownAction);
    let burst = init();
    let at = 0;
    for (const size of burstSizes(actions.length, [], 11)) {
      burst = realtimeReducer(burst, framesBatched({ actions: actions.slice(at, at + size) }));
      at += size;
    }
    expect(burst).toEqual(one);
    expect(one.frames.applied).toBe(actions.length);
    expect(one.tasks.ids.length).toBeGreaterThan(100);
    expect(one.nodes.ids.length).toBe(120);
  });

  it('leaves the whole state deeply frozen', () => {
    let state = init();
    let at = 0;
    for (const size of burstSizes(2_000)) {
      state = realtimeReducer(state, framesBatched({ actions: actions.slice(at, at + size) }));
      at += size;
      expect(notFrozen(state.tasks, 'tasks') ?? notFrozen(state.nodes, 'nodes')).toBeUndefined();
    }
    // Every slice (the combined root is combineReducers' own plain object, as before).
    for (const [name, slice] of Object.entries(state)) expect(notFrozen(slice, name)).toBeUndefined();
  });

  it('a frame that changes nothing returns the same tables and records', () => {
    let state = init();
    for (const action of actionsOf(traffic.frames.slice(0, 3_000))) state = realtimeReducer(state, action as UnknownAction);
    const finished = getEntity(state.tasks, state.tasks.finishedOrder[0]!)!;
    const nodeId = finished.node_id!;
    // A late PROGRESS for a finished task: counted, nothing else changes.
    const late = ingestFrame(JSON.stringify({ type: 'task.progress', task_id: finished.task_id, node_id: nodeId, state: 'PROGRESS', progress: 1 }), 1);
    const after = realtimeReducer(state, late.action as UnknownAction) as RealtimeState;
    expect(after.tasks.lateFramesIgnored).toBe(state.tasks.lateFramesIgnored + 1);
    expect(after.tasks.shards).toBe(state.tasks.shards);
    expect(after.tasks.ids).toBe(state.tasks.ids);
    expect(after.nodes).toBe(state.nodes);
    // A burst of frames about other nodes leaves this node's record and its arrays untouched.
    const node = getEntity(state.nodes, nodeId)!;
    const others = actionsOf(traffic.frames.slice(3_000, 3_200)).filter(
      (action) => (action.payload as { frame?: { node_id?: string } }).frame?.node_id !== nodeId,
    );
    const next = realtimeReducer(state, framesBatched({ actions: others }));
    expect(next.nodes).not.toBe(state.nodes);
    expect(getEntity(next.nodes, nodeId)).toBe(node);
    // Only the shards written to are new objects: a burst costs a shard, not the table.
    const shard = shardOf(nodeId);
    const changedShards = next.nodes.shards.filter((s, i) => s !== state.nodes.shards[i]).length;
    expect(changedShards).toBeGreaterThan(0);
    expect(changedShards).toBeLessThan(next.nodes.shards.length / 2);
    if (!others.some((action) => (action.payload as { frame?: { node_id?: string } }).frame?.node_id !== undefined && shardOf((action.payload as { frame: { node_id: string } }).frame.node_id) === shard)) {
      expect(next.nodes.shards[shard]).toBe(state.nodes.shards[shard]);
    }
  });

  it('TableWork: a record written back unchanged is the original object, with its original arrays', () => {
    const base = tableFrom(
      [
        Object.freeze({ id: 'a', n: 1, list: Object.freeze(['x']) as string[] }),
        Object.freeze({ id: 'b', n: 2, list: Object.freeze(['y']) as string[] }),
      ],
      (r) => r.id,
    );
    Object.freeze(base.ids);
    for (const shard of base.shards) Object.freeze(shard);
    const original = (id: string) => getEntity(base, id)!;
    const clone = (r: { id: string; n: number; list: string[] }) => ({ ...r, list: r.list.slice() });
    const same = new TableWork(base, clone);
    same.edit('a')!.n = 1;
    same.edit('b')!.list.push('z');
    same.edit('b')!.list.pop();
    expect(same.commit()).toBeUndefined();

    const changed = new TableWork(base, clone);
    changed.edit('a')!.n = 5;
    const b = changed.edit('b')!;
    b.n = 3;
    const out = changed.commit()!;
    expect(out.ids).toBe(base.ids);
    expect(getEntity(out, 'a')).toEqual({ id: 'a', n: 5, list: ['x'] });
    expect(getEntity(out, 'a')!.list).toBe(original('a').list);
    expect(Object.isFrozen(out.shards) && Object.isFrozen(out.shards[shardOf('a')]) && Object.isFrozen(getEntity(out, 'a'))).toBe(true);
    expect(Object.isFrozen(getEntity(out, 'b'))).toBe(true);
    // Shards nobody wrote to are the base's own.
    for (let i = 0; i < out.shards.length; i++) if (i !== shardOf('a') && i !== shardOf('b')) expect(out.shards[i]).toBe(base.shards[i]);

    const added = new TableWork(base, clone);
    added.add('c', { id: 'c', n: 0, list: [] });
    added.remove(['a']);
    const result = added.commit()!;
    expect(result.ids).toEqual(['b', 'c']);
    expect(result.shards.flatMap((shard) => Object.keys(shard)).sort()).toEqual(['b', 'c']);
    expect(getEntity(result, 'a')).toBeUndefined();
    expect(getEntity(result, 'b')).toBe(original('b'));
    expect(Object.isFrozen(getEntity(result, 'c')!.list)).toBe(true);
  });
});

describe('freezing', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('freezes what a pass makes outside production, and nothing in production', async () => {
    for (const [mode, frozen] of [['development', true], ['test', true], ['production', false]] as const) {
      vi.stubEnv('NODE_ENV', mode);
      vi.resetModules();
      const slices = await import('../../src/slices/index.js');
      const table = await import('../../src/slices/table.js');
      let state = slices.realtimeReducer(undefined, { type: '@@test/init' });
      const frame = JSON.stringify({ type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 5 });
      state = slices.realtimeReducer(state, slices.ingestFrame(frame, 1).action as UnknownAction);
      const node = table.getEntity(state.nodes, 'n1')!;
      expect([Object.isFrozen(state.nodes), Object.isFrozen(node), Object.isFrozen(node.past_task_ids)], mode).toEqual([frozen, frozen, frozen]);
    }
  });
});
