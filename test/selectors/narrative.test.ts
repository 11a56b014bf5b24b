import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, startGeneration, type RealtimeState } from '../../src/slices/index.js';
import {
  selectBeat,
  selectBeatForTake,
  selectBeatGenerations,
  selectNarrativeProgress,
} from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';

const beat = (beat_name: string, scene_id: string, extra: object = {}) => ({
  type: 'narrative.beat',
  timestamp: TS,
  beat_name,
  scene_id,
  keywords: ['tension'],
  ...extra,
});
const structure = {
  type: 'narrative.progress',
  timestamp: TS,
  structure_type: 'three-act',
  current_chapter: 1,
  total_chapters: 3,
  current_scene: 'S001',
  total_scenes: 12,
  current_shot: 'P001',
  total_shots: 40,
};
const started = (node_id: string, task_id: string, extra: object = {}) => ({
  type: 'generation.started',
  timestamp: TS,
  node_id,
  task_id,
  ...extra,
});
const take = (id: string, n: number, extra: object = {}) => ({ id, take_number: n, path: `/media/${id}.png`, created_at: TS, ...extra });
const completed = (node_id: string, task_id: string, takes: object[]) => ({
  type: 'generation.completed',
  timestamp: TS,
  node_id,
  task_id,
  output_path: `/media/${node_id}.png`,
  takes,
});
const heartbeat = { type: 'system.heartbeat', timestamp: TS };
const gitCommit = { type: 'git.commit', timestamp: TS, project_id: 'proj-1', message: 'Beat sheet' };
const otherProgress = { type: 'task.progress', timestamp: TS, task_id: 'tx', node_id: 'nx', state: 'PROGRESS', progress: 33 };

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  expect(warn).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('selectNarrativeProgress', () => {
  it('starts with no beats', () => {
    const view = selectNarrativeProgress(initial());
    expect(view.completed_beats).toEqual([]);
    expect(view.current_beat).toBeUndefined();
    expect(view.current_scene).toBeUndefined();
  });

  it('shows Chapter/Scene/Shot and the beats reached, each once, in order', () => {
    const state = apply(
      initial(),
      structure,
      beat('Opening Image', 'S001'),
      beat('Call to Adventure', 'S002', { shot_id: 'P004', chapter: 1 }),
      beat('Opening Image', 'S001'),
      { type: 'narrative.progress', timestamp: TS, current_shot: 'P005' },
    );
    expect(selectNarrativeProgress(state)).toEqual({
      structure_type: 'three-act',
      current_chapter: 1,
      total_chapters: 3,
      current_scene: 'S001',
      total_scenes: 12,
      current_shot: 'P005',
      total_shots: 40,
      current_beat: 'Opening Image',
      completed_beats: ['Opening Image', 'Call to Adventure'],
    });
  });

  it.each([
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a task.progress frame', otherProgress],
    ['an agent.progress frame', { type: 'agent.progress', timestamp: TS, agent_type: 'Editor', task_id: 'e1', progress: 5 }],
    // Linking a generation to a beat changes the beat table, not the progress the view shows.
    ['a generation.started that names a beat', started('n1', 't1', { emotional_beat: 'Call to Adventure' })],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = apply(initial(), structure, beat('Call to Adventure', 'S002'));
    const view = selectNarrativeProgress(before);
    const after = apply(before, frame);
    expect(selectNarrativeProgress(after)).toBe(view);
  });

  it('returns a new, correct view when a beat is reached or the structure moves', () => {
    const before = apply(initial(), structure);
    const view = selectNarrativeProgress(before);
    const afterBeat = apply(before, beat('Midpoint', 'S006', { shot_id: 'P020', chapter: 2 }));
    const next = selectNarrativeProgress(afterBeat);
    expect(next).not.toBe(view);
    expect(next).toMatchObject({ current_beat: 'Midpoint', current_scene: 'S006', current_shot: 'P020', current_chapter: 2 });
    expect(next.completed_beats).toEqual(['Midpoint']);

    const afterMove = apply(afterBeat, { type: 'narrative.progress', timestamp: TS, current_scene: 'S007' });
    expect(selectNarrativeProgress(afterMove)).not.toBe(next);
    expect(selectNarrativeProgress(afterMove).current_scene).toBe('S007');
  });
});

describe('selectBeatGenerations and selectBeatForTake', () => {
  /** Two beats: one reached with its task named, one named by the generation itself. */
  const flow = () =>
    apply(
      initial(),
      beat('Call to Adventure', 'S002', { node_id: 'n1', task_id: 't1' }),
      started('n1', 't1'),
      completed('n1', 't1', [take('k1', 1), take('k2', 2)]),
      started('n2', 't2', { emotional_beat: 'Midpoint' }),
      completed('n2', 't2', [take('k3', 1)]),
      // A take can carry its beat itself.
      completed('n3', 't3', [take('k4', 1, { emotional_beat: 'Call to Adventure' })]),
      completed('n4', 't4', [take('k5', 1)]),
    );

  it('lists beats in the order reached, with the nodes, tasks and takes each produced', () => {
    const beats = selectBeatGenerations(flow());
    expect(beats.map((b) => b.beat_name)).toEqual(['Call to Adventure', 'Midpoint']);
    expect(beats[0]).toMatchObject({ node_ids: ['n1', 'n3'], task_ids: ['t1', 't3'], take_ids: ['k1', 'k2', 'k4'], scene_id: 'S002' });
    expect(beats[1]).toMatchObject({ node_ids: ['n2'], task_ids: ['t2'], take_ids: ['k3'] });
  });

  it('finds the beat of a take, and none for a take without one', () => {
    const state = flow();
    expect(selectBeatForTake(state, 'k1')?.beat_name).toBe('Call to Adventure');
    expect(selectBeatForTake(state, 'k3')?.beat_name).toBe('Midpoint');
    expect(selectBeatForTake(state, 'k4')?.beat_name).toBe('Call to Adventure');
    expect(selectBeatForTake(state, 'k5')).toBeUndefined();
    expect(selectBeatForTake(state, 'nope')).toBeUndefined();
    expect(selectBeatForTake(state, 'k1')).toBe(selectBeat(state, 'Call to Adventure'));
  });

  it('links a start command\'s beat to its node', () => {
    const state = realtimeReducer(
      initial(),
      startGeneration({ nodeId: 'n7', params: { prompt: 'x' }, context: { emotional_beat: 'All Is Lost' } }),
    );
    expect(selectBeatGenerations(state).map((b) => [b.beat_name, b.node_ids])).toEqual([['All Is Lost', ['n7']]]);
  });

  it.each([
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a task.progress frame', otherProgress],
    ['a narrative.progress frame', { type: 'narrative.progress', timestamp: TS, current_shot: 'P009' }],
    ['a generation without a beat', completed('n8', 't8', [take('k8', 1)])],
  ])('both return the same reference after %s', (_label, frame) => {
    const before = flow();
    const beats = selectBeatGenerations(before);
    const k1 = selectBeatForTake(before, 'k1');
    const k3 = selectBeatForTake(before, 'k3');
    const after = apply(before, frame);
    expect(selectBeatGenerations(after)).toBe(beats);
    expect(selectBeatForTake(after, 'k1')).toBe(k1);
    expect(selectBeatForTake(after, 'k3')).toBe(k3);
    expect(selectBeatForTake(after, 'k8')).toBeUndefined();
  });

  it('return new, correct values when a take is linked to a beat', () => {
    const before = flow();
    const beats = selectBeatGenerations(before);
    expect(selectBeatForTake(before, 'k9')).toBeUndefined();
    const after = apply(before, started('n2', 't9', { emotional_beat: 'Midpoint' }), completed('n2', 't9', [take('k9', 2)]));
    const next = selectBeatGenerations(after);
    expect(next).not.toBe(beats);
    expect(next[1]?.take_ids).toEqual(['k3', 'k9']);
    expect(selectBeatForTake(after, 'k9')?.beat_name).toBe('Midpoint');
    // The beat that did not change keeps its identity.
    expect(next[0]).toBe(beats[0]);
    expect(selectBeatForTake(after, 'k1')).toBe(selectBeatForTake(before, 'k1'));
  });

  it('a new beat reached appears last', () => {
    const after = apply(flow(), beat('Climax', 'S011'));
    expect(selectBeatGenerations(after).map((b) => b.beat_name)).toEqual(['Call to Adventure', 'Midpoint', 'Climax']);
  });
});
