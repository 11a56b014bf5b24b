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
import { pushUnique } from './bounded.js';
import { startGeneration } from './commands.js';
import { freeze, freezeDeep, passCaseFor, passReducer, settleArray, TableWork } from './cow.js';
import { emptyTable, getEntity, type Table } from './table.js';
import { beatReached, generationCompleted, generationStarted, narrativeProgressed, snapshotReceived } from './frameEvents.js';

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
  /** Which beat each recent generation task serves (MAX_BEAT_LINKS, oldest dropped first). */
  beat_by_task: Table<TaskBeat>;
}

export interface TaskBeat {
  task_id: string;
  beat_name: string;
}

export const MAX_BEAT_LINKS = 1_000;
/** Links per beat, so a beat reached in a long loop stays bounded. */
export const MAX_LINKS_PER_BEAT = 200;

const initialState: NarrativeState = {
  completed_beats: [],
  beats: emptyTable<BeatRecord>(),
  beat_by_task: emptyTable<TaskBeat>(),
};

type LinkList = 'node_ids' | 'task_ids' | 'take_ids';

/**
 * Links an id to a beat: the list is replaced by a longer copy only when the id is new and the
 * list not full, so a beat whose lists are full (a long session) is written without copying them.
 */
function link(beat: BeatRecord, list: LinkList, id: string) {
  const ids = beat[list];
  if (ids.length >= MAX_LINKS_PER_BEAT || ids.includes(id)) return;
  beat[list] = [...ids, id];
}

/** Shallow: link() replaces a list instead of pushing to it. */
const cloneBeat = (beat: BeatRecord): BeatRecord => ({ ...beat });

/**
 * One copy-on-write pass of frames over the narrative (see ./cow.ts): plain copies made on
 * write; the beats and the task -> beat links are sharded tables.
 */
class NarrativePass {
  readonly next: NarrativeState;
  readonly beats: TableWork<BeatRecord>;
  readonly completed: string[];
  private byTask?: TableWork<TaskBeat>;

  constructor(private readonly base: NarrativeState) {
    this.next = { ...base };
    this.beats = new TableWork(base.beats, cloneBeat);
    this.completed = [...base.completed_beats];
  }

  ensureBeat(name: string): BeatRecord {
    return this.beats.edit(name) ?? this.beats.add(name, { beat_name: name, keywords: [], node_ids: [], task_ids: [], take_ids: [] });
  }

  beatOfTask(taskId: string): string | undefined {
    return (this.byTask ? this.byTask.peek(taskId) : getEntity(this.base.beat_by_task, taskId))?.beat_name;
  }

  rememberTaskBeat(taskId: string, beatName: string) {
    const links = (this.byTask ??= new TableWork(this.base.beat_by_task, (link) => ({ ...link })));
    const current = links.peek(taskId);
    if (current?.beat_name === beatName) return;
    if (current) {
      links.edit(taskId)!.beat_name = beatName;
      return;
    }
    links.add(taskId, { task_id: taskId, beat_name: beatName });
    // One link added at a time: at most one over the bound, the oldest (ids keep arrival order).
    const ids = links.currentIds();
    if (ids.length > MAX_BEAT_LINKS) links.remove([ids[0]!]);
  }

  commit(): NarrativeState {
    const { base, next } = this;
    const beats = this.beats.commit();
    if (beats) next.beats = freeze({ ...base.beats, ...beats });
    next.completed_beats = settleArray(this.completed, base.completed_beats) as string[];
    const links = this.byTask?.commit();
    if (links) next.beat_by_task = freeze({ ...base.beat_by_task, ...links });
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
      if (beatName && isSafeKey(beatName) && isSafeKey(payload.nodeId)) link(pass.ensureBeat(beatName), 'node_ids', payload.nodeId);
    }),
    on(beatReached, (pass, { payload: { frame, receivedAt } }) => {
      const beat = pass.ensureBeat(frame.beat_name);
      beat.scene_id = frame.scene_id;
      if (frame.shot_id !== undefined) beat.shot_id = frame.shot_id;
      if (frame.chapter !== undefined) beat.chapter = frame.chapter;
      beat.keywords = frame.keywords;
      beat.reachedAt ??= receivedAt;
      if (frame.node_id) link(beat, 'node_ids', frame.node_id);
      if (frame.task_id) {
        link(beat, 'task_ids', frame.task_id);
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
    on(snapshotReceived, (pass, { payload: { frame } }) => {
      const position = frame.narrative;
      if (!position) return;
      const { structure_type, scene_id: current_scene, shot_id: current_shot, current_beat } = position;
      for (const [key, value] of Object.entries({ structure_type, current_scene, current_shot, current_beat })) {
        if (value !== undefined) (pass.next as unknown as Record<string, unknown>)[key] = value;
      }
      if (position.completed_beats !== undefined) {
        // The server's list is the story so far: it replaces the client's, in its order.
        pass.completed.length = 0;
        for (const beat of position.completed_beats) pushUnique(pass.completed, beat);
      }
    }),
    on(generationStarted, (pass, { payload: { frame } }) => {
      const beatName = frame.emotional_beat;
      if (!beatName || !isSafeKey(beatName)) return;
      const beat = pass.ensureBeat(beatName);
      link(beat, 'node_ids', frame.node_id);
      link(beat, 'task_ids', frame.task_id);
      pass.rememberTaskBeat(frame.task_id, beatName);
    }),
    on(generationCompleted, (pass, { payload: { frame } }) => {
      const taskBeat = pass.beatOfTask(frame.task_id);
      for (const take of frame.takes ?? []) {
        const beatName = take.emotional_beat ?? taskBeat;
        if (!beatName || !isSafeKey(beatName)) continue;
        const beat = pass.ensureBeat(beatName);
        link(beat, 'take_ids', take.id);
        link(beat, 'node_ids', frame.node_id);
        link(beat, 'task_ids', frame.task_id);
      }
    }),
  ]),
});
