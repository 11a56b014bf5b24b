import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { realtimeReducer, startGeneration } from '../../src/slices/index.js';
import { MAX_BEAT_LINKS, MAX_LINKS_PER_BEAT } from '../../src/slices/narrativeSlice.js';
import { expectPrototypeClean, FIXTURE_NAMES, fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';
import { entitiesOf, getEntity } from '../../src/slices/table.js';

const beat = (beat_name: string, scene_id: string, fields: Record<string, unknown> = {}) => ({ type: 'narrative.beat', beat_name, scene_id, ...fields });

describe('narrative slice', () => {
  describe('narrative-progression fixture', () => {
    it('tracks structure type and chapter/scene/shot progress', () => {
      const { narrative } = replayFrames(readFixture('narrative-progression'));
      expect(narrative).toMatchObject({
        structure_type: 'three-act',
        current_chapter: 2,
        total_chapters: 3,
        current_scene: 'S007',
        total_scenes: 12,
        current_shot: 'P025',
        total_shots: 48,
        current_beat: 'midpoint',
      });
    });

    it('moves chapter, scene and shot forward as the story progresses', () => {
      const positions = replayTimeline(readFixture('narrative-progression'))
        .map(({ state: { narrative: n } }) => `${n.current_chapter ?? '-'}/${n.current_scene ?? '-'}/${n.current_shot ?? '-'}`)
        .filter((p, i, all) => p !== all[i - 1]);
      expect(positions).toEqual(['-/-/-', '1/S001/P001', '1/S002/P004', '2/S006/P021', '2/S007/P025']);
    });

    it('lists each completed beat once, in the order first reached', () => {
      const { narrative } = replayFrames(readFixture('narrative-progression'));
      expect(narrative.completed_beats).toEqual(['opening-image', 'inciting-incident', 'midpoint']);
      expect(narrative.beats.ids).toEqual(['opening-image', 'inciting-incident', 'midpoint']);
    });

    it('a beat announced twice keeps its first receive time', () => {
      const frames = fixtureFrames('narrative-progression').filter((f) => f.type === 'narrative.beat' && f.beat_name === 'inciting-incident');
      expect(frames).toHaveLength(2);
      const { narrative } = replayFrames(readFixture('narrative-progression'));
      expect(getEntity(narrative.beats, 'inciting-incident')?.reachedAt).toBe(Date.parse(frames[0]!.timestamp!));
    });

    it('links each beat to its nodes, tasks and takes', () => {
      const { beats } = replayFrames(readFixture('narrative-progression')).narrative;
      // Linked by generation.started emotional_beat, and by the take's own emotional_beat.
      expect(getEntity(beats, 'opening-image')).toEqual({
        beat_name: 'opening-image',
        scene_id: 'S001',
        shot_id: 'P001',
        chapter: 1,
        keywords: ['stillness', 'fog'],
        reachedAt: expect.any(Number),
        node_ids: ['node-t2i-0001'],
        task_ids: ['celery-0001-opening'],
        take_ids: ['take-S001-P001-001'],
      });
      // Linked by the beat frame's node/task, then by generation.started; its take carries no
      // beat and is linked through its task.
      expect(getEntity(beats, 'inciting-incident')).toMatchObject({
        node_ids: ['node-t2i-0002'],
        task_ids: ['celery-0002-inciting'],
        take_ids: ['take-S002-P004-001'],
      });
      // generation.started names no beat: the take's emotional_beat links all three.
      expect(getEntity(beats, 'midpoint')).toMatchObject({
        node_ids: ['node-t2i-0003'],
        task_ids: ['celery-0003-midpoint'],
        take_ids: ['take-S006-P021-001'],
      });
    });

    it('beat links name nodes, tasks and takes that exist in state', () => {
      const state = replayFrames(readFixture('narrative-progression'));
      for (const id of state.narrative.beats.ids) {
        const record = getEntity(state.narrative.beats, id)!;
        for (const node of record.node_ids) expect(getEntity(state.nodes, node), `${id} -> node ${node}`).toBeDefined();
        for (const task of record.task_ids) expect(getEntity(state.tasks, task), `${id} -> task ${task}`).toBeDefined();
        for (const take of record.take_ids) expect(getEntity(state.takes, take), `${id} -> take ${take}`).toBeDefined();
      }
    });
  });

  it('generation-success fixture: the beat the generation serves is linked, though not reached', () => {
    const { narrative } = replayFrames(readFixture('generation-success'));
    expect(narrative.completed_beats).toEqual([]);
    expect(getEntity(narrative.beats, 'inciting-incident')).toMatchObject({
      node_ids: ['node-t2i-7f3a'],
      task_ids: ['celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b'],
      take_ids: ['take-S001-P003-001', 'take-S001-P003-002', 'take-S001-P003-003'],
    });
    expect(getEntity(narrative.beats, 'inciting-incident')?.reachedAt).toBeUndefined();
  });

  it.each(FIXTURE_NAMES)('completed beats and beat links have no duplicates at any step of %s', (name) => {
    for (const { state, index } of replayTimeline(readFixture(name))) {
      const { completed_beats, beats } = state.narrative;
      expect(new Set(completed_beats).size, `${name}#${index}`).toBe(completed_beats.length);
      for (const id of beats.ids) {
        const record = getEntity(beats, id)!;
        for (const list of [record.node_ids, record.task_ids, record.take_ids]) expect(new Set(list).size).toBe(list.length);
      }
    }
  });

  it('the same beat delivered many times is completed once; revisiting moves current_beat only', () => {
    const log = stamped([
      beat('call-to-adventure', 'S002'),
      beat('call-to-adventure', 'S002'),
      beat('refusal', 'S003'),
      beat('call-to-adventure', 'S002', { keywords: ['again'] }),
      beat('call-to-adventure', 'S002'),
    ]);
    const { narrative } = replayFrames(log);
    expect(narrative.completed_beats).toEqual(['call-to-adventure', 'refusal']);
    expect(narrative.current_beat).toBe('call-to-adventure');
    expect(narrative.current_scene).toBe('S002');
    expect(getEntity(narrative.beats, 'call-to-adventure')?.reachedAt).toBe(timeOf(log, 0));
  });

  it('narrative.progress updates only the fields it carries', () => {
    const log = stamped([
      { type: 'narrative.progress', structure_type: 'hero-journey', current_chapter: 1, total_chapters: 4, current_scene: 'S001', current_shot: 'P001' },
      { type: 'narrative.progress', current_shot: 'P002' },
    ]);
    expect(replayFrames(log).narrative).toMatchObject({ structure_type: 'hero-journey', current_chapter: 1, total_chapters: 4, current_scene: 'S001', current_shot: 'P002' });
  });

  it('startGeneration with an emotional beat links the node before the backend answers', () => {
    const state = realtimeReducer(undefined, startGeneration({ nodeId: 'n1', params: { prompt: 'x' }, context: { emotional_beat: 'midpoint' } }));
    expect(getEntity(state.narrative.beats, 'midpoint')?.node_ids).toEqual(['n1']);
    expect(state.narrative.completed_beats).toEqual([]);
  });

  it('beat names that are Object.prototype members never become keys', () => {
    const log = stamped([
      beat('__proto__', 'S001'),
      beat('constructor', 'S001'),
      { type: 'generation.started', node_id: 'n1', task_id: 't1', emotional_beat: 'constructor' },
      {
        type: 'generation.completed',
        node_id: 'n1',
        task_id: 't1',
        output_path: '/media/a.png',
        takes: [{ id: 'k1', take_number: 1, path: '/media/a.png', created_at: 'x', emotional_beat: '__proto__' }],
      },
    ]);
    const state = replayFrames(log);
    expect(state.frames.rejected.byReason.invalid_fields).toBe(2);
    expect(state.narrative.beats.ids).toEqual([]);
    expect(Object.keys(entitiesOf(state.narrative.beats))).toEqual([]);
    expect(state.narrative.beat_by_task.ids).toEqual([]);
    expect(state.narrative.completed_beats).toEqual([]);
    expect(state.takes.ids).toEqual(['k1']);
    expectPrototypeClean();
  });

  it(`links per beat are bounded (MAX_LINKS_PER_BEAT = ${MAX_LINKS_PER_BEAT})`, () => {
    const frames = Array.from({ length: MAX_LINKS_PER_BEAT + 30 }, (_, i) => ({ type: 'generation.started', node_id: `n${i}`, task_id: `t${i}`, emotional_beat: 'climax' }));
    const record = getEntity(replayFrames(stamped(frames)).narrative.beats, 'climax')!;
    expect(record.node_ids).toHaveLength(MAX_LINKS_PER_BEAT);
    expect(record.task_ids).toHaveLength(MAX_LINKS_PER_BEAT);
    expect(record.node_ids[0]).toBe('n0');
  });

  it(`the task -> beat map is bounded (MAX_BEAT_LINKS = ${MAX_BEAT_LINKS}), oldest dropped`, () => {
    const total = MAX_BEAT_LINKS + 25;
    const frames = Array.from({ length: total }, (_, i) => beat('climax', 'S010', { task_id: `t${i}` }));
    const { narrative } = replayFrames(stamped(frames));
    expect(narrative.beat_by_task.ids).toHaveLength(MAX_BEAT_LINKS);
    expect(narrative.beat_by_task.ids[0]).toBe('t25');
    expect(Object.keys(entitiesOf(narrative.beat_by_task))).toHaveLength(MAX_BEAT_LINKS);
    expect(getEntity(narrative.beat_by_task, 't24')).toBeUndefined();
    expect(getEntity(narrative.beat_by_task, 't25')?.beat_name).toBe('climax');
    expect(getEntity(narrative.beat_by_task, `t${total - 1}`)?.beat_name).toBe('climax');
  });
});
