/**
 * Narrative structure progress (Chapter/Scene/Shot, structure type), the emotional beats reached,
 * and which generations and takes each beat produced.
 *
 * A beat is linked to a generation when the beat frame names its node or task, when the
 * generation.started frame names the beat, or when a take carries the beat; the takes of a
 * completed generation are linked to the beat of its task.
 */

import type { StructureType } from '../protocol/index.js';
import { isSafeKey } from '../protocol/index.js';
import { appendBounded, pushUnique } from './bounded.js';
import { startGeneration } from './commands.js';
import { copyDictionary, freeze, freezeDeep, passCaseFor, passReducer, settleArray, TableWork } from './cow.js';
import { emptyTable, type Table } from './table.js';
import { beatReached, generationCompleted, generationStarted, narrativeProgressed } from './frameEvents.js';

export interface BeatRecord {
  beat_name: string;
  scene_id?: string;
  shot_id?: string;
  chapter?: number;
  keywords: string[];
  reachedAt?: number;
  node_ids: string[];
  task_ids: string[];
  take_ids: string[];
}

export interface NarrativeState {
  structure_type?: StructureType;
  current_chapter?: number;
  total_chapters?: number;
  current_scene?: string;
  total_scenes?: number;
  current_shot?: string;
  total_shots?: number;
  current_beat?: string;
  /** Beats reached, in order, each once. */
  completed_beats: string[];
  beats: Table<BeatRecord>;
  /** Which beat each recent generation task serves (bounded, oldest dropped). */
  beat_by_task: Record<string, string>;
  beat_task_order: string[];
}

export const MAX_BEAT_LINKS = 1_000;
/** Links per beat, so a beat reached in a long loop stays bounded. */
export const MAX_LINKS_PER_BEAT = 200;

const initialState: NarrativeState = {
  completed_beats: [],
  beats: emptyTable<BeatRecord>(),
  beat_by_task: {},
  beat_task_order: [],
};

function link(list: string[], id: string) {
  if (list.length < MAX_LINKS_PER_BEAT) pushUnique(list, id);
}

const cloneBeat = (beat: BeatRecord): BeatRecord => ({
  ...beat,
  node_ids: [...beat.node_ids],
  task_ids: [...beat.task_ids],
  take_ids: [...beat.take_ids],
});

/**
 * One copy-on-write pass of frames over the narrative (see ./cow.ts): plain copies made on
 * write, the task -> beat map (1,000 entries once full) copied at most once per pass.
 */
class NarrativePass {
  readonly next: NarrativeState;
  readonly beats: TableWork<BeatRecord>;
  readonly completed: string[];
  private byTask?: Record<string, string>;
  private order?: string[];

  constructor(private readonly base: NarrativeState) {
    this.next = { ...base };
    this.beats = new TableWork(base.beats, cloneBeat);
    this.completed = [...base.completed_beats];
  }

  ensureBeat(name: string): BeatRecord {
    return this.beats.edit(name) ?? this.beats.add(name, { beat_name: name, keywords: [], node_ids: [], task_ids: [], take_ids: [] });
  }

  beatOfTask(taskId: string): string | undefined {
    return (this.byTask ?? this.base.beat_by_task)[taskId];
  }

  rememberTaskBeat(taskId: string, beatName: string) {
    const current = this.beatOfTask(taskId);
    if (current === beatName) return;
    this.byTask ??= copyDictionary(this.base.beat_by_task);
    if (current === undefined) {
      const { list, dropped } = appendBounded((this.order ??= [...this.base.beat_task_order]), [taskId], MAX_BEAT_LINKS);
      this.order = list;
      for (const id of dropped) delete this.byTask[id];
    }
    this.byTask[taskId] = beatName;
  }

  commit(): NarrativeState {
    const { base, next } = this;
    const beats = this.beats.commit();
    if (beats) next.beats = freeze({ ...base.beats, ...beats });
    next.completed_beats = settleArray(this.completed, base.completed_beats) as string[];
    if (this.byTask) next.beat_by_task = freeze(this.byTask);
    if (this.order) next.beat_task_order = settleArray(this.order, base.beat_task_order) as string[];
    for (const key of Object.keys(next) as Array<keyof NarrativeState>) {
      if (next[key] !== base[key]) return freezeDeep(next);
    }
    return Object.keys(base).length === Object.keys(next).length ? base : freezeDeep(next);
  }
}

const on = passCaseFor<NarrativePass>();

/** Frames (alone or in a burst) and commands, each in one copy-on-write pass. */
export const narrativeReducer = passReducer<NarrativeState, NarrativePass>({
  initialState: freezeDeep(initialState),
  open: (state) => new NarrativePass(state),
  commit: (pass) => pass.commit(),
  cases: new Map([
    on(startGeneration, (pass, { payload }) => {
      const beatName = payload.context?.emotional_beat;
      if (beatName && isSafeKey(beatName) && isSafeKey(payload.nodeId)) link(pass.ensureBeat(beatName).node_ids, payload.nodeId);
    }),
    on(beatReached, (pass, { payload: { frame, receivedAt } }) => {
      const beat = pass.ensureBeat(frame.beat_name);
      beat.scene_id = frame.scene_id;
      if (frame.shot_id !== undefined) beat.shot_id = frame.shot_id;
      if (frame.chapter !== undefined) beat.chapter = frame.chapter;
      beat.keywords = frame.keywords;
      beat.reachedAt ??= receivedAt;
      if (frame.node_id) link(beat.node_ids, frame.node_id);
      if (frame.task_id) {
        link(beat.task_ids, frame.task_id);
        pass.rememberTaskBeat(frame.task_id, frame.beat_name);
      }
      const state = pass.next;
      state.current_beat = frame.beat_name;
      state.current_scene = frame.scene_id;
      if (frame.shot_id !== undefined) state.current_shot = frame.shot_id;
      if (frame.chapter !== undefined) state.current_chapter = frame.chapter;
      pushUnique(pass.completed, frame.beat_name);
    }),
    on(narrativeProgressed, (pass, { payload: { frame } }) => {
      const state = pass.next;
      if (frame.structure_type !== undefined) state.structure_type = frame.structure_type;
      if (frame.current_chapter !== undefined) state.current_chapter = frame.current_chapter;
      if (frame.total_chapters !== undefined) state.total_chapters = frame.total_chapters;
      if (frame.current_scene !== undefined) state.current_scene = frame.current_scene;
      if (frame.total_scenes !== undefined) state.total_scenes = frame.total_scenes;
      if (frame.current_shot !== undefined) state.current_shot = frame.current_shot;
      if (frame.total_shots !== undefined) state.total_shots = frame.total_shots;
    }),
    on(generationStarted, (pass, { payload: { frame } }) => {
      const beatName = frame.emotional_beat;
      if (!beatName || !isSafeKey(beatName)) return;
      const beat = pass.ensureBeat(beatName);
      link(beat.node_ids, frame.node_id);
      link(beat.task_ids, frame.task_id);
      pass.rememberTaskBeat(frame.task_id, beatName);
    }),
    on(generationCompleted, (pass, { payload: { frame } }) => {
      const taskBeat = pass.beatOfTask(frame.task_id);
      for (const take of frame.takes ?? []) {
        const beatName = take.emotional_beat ?? taskBeat;
        if (!beatName || !isSafeKey(beatName)) continue;
        const beat = pass.ensureBeat(beatName);
        link(beat.take_ids, take.id);
        link(beat.node_ids, frame.node_id);
        link(beat.task_ids, frame.task_id);
      }
    }),
  ]),
});
