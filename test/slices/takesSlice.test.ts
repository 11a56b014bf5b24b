import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';
import { MAX_TAKES, MAX_TAKES_PER_NODE } from '../../src/slices/index.js';
import { selectTakesByNode } from '../../src/selectors/index.js';

const NODE = 'node-t2i-7f3a';
const TASK = 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b';
const TAKE_IDS = ['take-S001-P003-001', 'take-S001-P003-002', 'take-S001-P003-003'];

function take(id: string, take_number: number, extra: Record<string, unknown> = {}) {
  return { id, take_number, path: `/media/p/${id}.png`, thumbnail: `/media/p/${id}.thumb.webp`, created_at: '2026-01-01T00:00:00Z', ...extra };
}

describe('takes slice', () => {
  it('generation-success fixture: the takes are normalized by id; the node holds their ids', () => {
    const state = replayFrames(readFixture('generation-success'));
    expect(state.takes.ids).toEqual(TAKE_IDS);
    expect(getEntity(state.nodes, NODE)?.take_ids).toEqual(TAKE_IDS);
    const completed = fixtureFrames('generation-success').find((f) => f.type === 'generation.completed')!;
    expect(getEntity(state.takes, 'take-S001-P003-003')).toEqual({
      id: 'take-S001-P003-003',
      take_number: 3,
      path: '/media/proj-aurora/S001/P003/take-003.png',
      thumbnail: '/media/proj-aurora/S001/P003/take-003.thumb.webp',
      created_at: '2026-03-02T14:05:31.000Z',
      scene_id: 'S001',
      shot_id: 'P003',
      quality_preset: 'high',
      emotional_beat: 'inciting-incident',
      metadata: { seed: 1234567, steps: 30, cfg_scale: 7, sampler: 'dpmpp_2m' },
      composite_prompt: {
        base_prompt: 'Mara waits on the harbor wall at night, rain on the cobbles',
        character_refs: ['char-mara'],
        style_refs: ['style-noir-01'],
        location_ref: 'loc-harbor',
        emotional_keywords: ['dread', 'anticipation'],
      },
      node_id: NODE,
      task_id: TASK,
      receivedAt: Date.parse(completed.timestamp!),
    });
  });

  it('the same takes in generation.completed and then node.state_changed are stored once', () => {
    const timeline = replayTimeline(readFixture('generation-success'));
    const completedAt = timeline.findIndex(({ raw }) => (raw as string).includes('"generation.completed"'));
    const afterCompleted = timeline[completedAt]!.state;
    const afterNodeState = timeline[completedAt + 1]!.state;
    expect(JSON.parse(timeline[completedAt + 1]!.raw as string).type).toBe('node.state_changed');
    expect(afterNodeState.takes.ids).toEqual(TAKE_IDS);
    expect(afterNodeState.takes).toEqual(afterCompleted.takes);
    expect(getEntity(afterNodeState.nodes, NODE)?.take_ids).toEqual(TAKE_IDS);
  });

  it('replaying the whole log again (a new session replays history) stores every take once', () => {
    const once = replayFrames(readFixture('generation-success'));
    const twice = replayFrames(readFixture('generation-success'), { initialState: once });
    // session.init restarts the seq numbering, so the second pass is applied, not dropped.
    expect(twice.frames.duplicatesDropped).toBe(0);
    expect(twice.takes.ids).toEqual(TAKE_IDS);
    expect(getEntity(twice.nodes, NODE)?.take_ids).toEqual(TAKE_IDS);
    expect(getEntity(twice.takes, 'take-S001-P003-001')).toEqual(getEntity(once.takes, 'take-S001-P003-001'));
  });

  it('a take repeated within one frame and across frames is stored once, first receive time kept', () => {
    const log = stamped([
      { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/p/k1.png', takes: [take('k1', 1), take('k1', 1)] },
      { type: 'node.state_changed', node_id: 'n1', status: 'completed', takes: [take('k1', 1), take('k2', 2)] },
      { type: 'node.state_changed', node_id: 'n1', status: 'completed', takes: [take('k2', 2), take('k1', 1)] },
    ]);
    const state = replayFrames(log);
    expect(state.takes.ids).toEqual(['k1', 'k2']);
    expect(getEntity(state.nodes, 'n1')?.take_ids).toEqual(['k1', 'k2']);
    expect(getEntity(state.takes, 'k1')?.receivedAt).toBe(timeOf(log, 0));
    expect(getEntity(state.takes, 'k2')?.receivedAt).toBe(timeOf(log, 1));
    expect(getEntity(state.takes, 'k1')?.task_id).toBe('t1');
  });

  it(`keeps at most MAX_TAKES (${MAX_TAKES}) takes: the oldest go first, counted in evicted`, () => {
    // Two takes per frame, over 20 nodes, in two bursts' worth of frames.
    const frames = Array.from({ length: MAX_TAKES / 2 + 30 }, (_, i) => ({
      type: 'generation.completed',
      node_id: `n${i % 20}`,
      task_id: `t${i}`,
      output_path: `/media/p/k${2 * i}.png`,
      takes: [take(`k${2 * i}`, 2 * i + 1), take(`k${2 * i + 1}`, 2 * i + 2)],
    }));
    const state = replayFrames(stamped(frames));
    expect(state.takes.ids).toHaveLength(MAX_TAKES);
    expect(state.takes.evicted).toBe(60);
    expect(state.takes.ids[0]).toBe('k60');
    expect(getEntity(state.takes, 'k59')).toBeUndefined();
    expect(getEntity(state.takes, 'k60')).toMatchObject({ node_id: 'n10' });
    // Node 0 still lists its evicted take ids; its gallery shows the takes still held.
    expect(getEntity(state.nodes, 'n0')?.take_ids).toContain('k0');
    const gallery = selectTakesByNode(state, 'n0');
    expect(gallery.length).toBeGreaterThan(0);
    expect(gallery.every((t) => Number(t.id.slice(1)) >= 60)).toBe(true);
  });

  it(`a node keeps the ids of its newest MAX_TAKES_PER_NODE (${MAX_TAKES_PER_NODE}) takes`, () => {
    const frames = Array.from({ length: MAX_TAKES_PER_NODE + 5 }, (_, i) => ({
      type: 'generation.completed',
      node_id: 'n1',
      task_id: `t${i}`,
      output_path: `/media/p/k${i}.png`,
      takes: [take(`k${i}`, i + 1)],
    }));
    const ids = getEntity(replayFrames(stamped(frames)).nodes, 'n1')!.take_ids;
    expect(ids).toHaveLength(MAX_TAKES_PER_NODE);
    expect(ids[0]).toBe('k5');
    expect(ids[ids.length - 1]).toBe(`k${MAX_TAKES_PER_NODE + 4}`);
  });

  it('a later copy of a take updates the fields it carries', () => {
    const log = stamped([
      { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/p/k1.png', takes: [take('k1', 1)] },
      { type: 'node.state_changed', node_id: 'n1', status: 'completed', takes: [take('k1', 1, { thumbnail: '/media/p/k1.v2.thumb.webp', quality_preset: 'standard' })] },
    ]);
    const stored = getEntity(replayFrames(log).takes, 'k1');
    expect(stored).toMatchObject({ thumbnail: '/media/p/k1.v2.thumb.webp', quality_preset: 'standard', node_id: 'n1', task_id: 't1' });
  });

  it('a later copy with unsafe URLs does not erase the safe ones already stored', () => {
    const log = stamped([
      { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/p/k1.png', takes: [take('k1', 1)] },
      {
        type: 'node.state_changed',
        node_id: 'n1',
        status: 'completed',
        takes: [take('k1', 1, { path: 'javascript:alert(1)', thumbnail: 'java\tscript:alert(2)' })],
      },
    ]);
    const state = replayFrames(log);
    expect(getEntity(state.takes, 'k1')).toMatchObject({ path: '/media/p/k1.png', thumbnail: '/media/p/k1.thumb.webp' });
    expect(JSON.stringify(state).toLowerCase()).not.toContain('script:');
  });

  it('unsafe take URLs never reach state; safe ones beside them are kept (bad-frames fixture)', () => {
    const state = replayFrames(readFixture('bad-frames'));
    expect(state.takes.ids).toEqual(['take-S009-P030-001', 'take-S009-P030-002']);
    expect(getEntity(state.takes, 'take-S009-P030-001')).toMatchObject({
      path: '/media/proj-aurora/S009/P030/take-001.png',
      thumbnail: '/media/proj-aurora/S009/P030/take-001.thumb.webp',
    });
    expect(getEntity(state.takes, 'take-S009-P030-002')?.path).toBeUndefined();
    expect(getEntity(state.takes, 'take-S009-P030-002')?.thumbnail).toBeUndefined();
    expect(JSON.stringify(state.takes).toLowerCase()).not.toContain('javascript');
  });
});
