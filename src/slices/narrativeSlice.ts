/**
 * Narrative structure progress (Chapter/Scene/Shot, structure type), the emotional beats reached,
 * and which generations and takes each beat produced.
 *
 * A beat is linked to a generation when the beat frame names its node or task, when the
 * generation.started frame names the beat, or when a take carries the beat; the takes of a
 * completed generation are linked to the beat of its task.
 */
import { createEntityAdapter, createSlice, type EntityState } from '@reduxjs/toolkit';
import type { StructureType } from '../protocol/index.js';
import { isSafeKey } from '../protocol/index.js';
import { appendBounded, pushUnique } from './bounded.js';
import { startGeneration } from './commands.js';
import { beatReached, generationCompleted, generationStarted, narrativeProgressed } from './frameEvents.js';
import { addIngestCases, caseFor } from './ingestCases.js';

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

export const beatsAdapter = createEntityAdapter({ selectId: (beat: BeatRecord) => beat.beat_name });

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
  beats: EntityState<BeatRecord, string>;
  /** Which beat each recent generation task serves (bounded, oldest dropped). */
  beat_by_task: Record<string, string>;
  beat_task_order: string[];
}

export const MAX_BEAT_LINKS = 1_000;
/** Links per beat, so a beat reached in a long loop stays bounded. */
export const MAX_LINKS_PER_BEAT = 200;

const initialState: NarrativeState = {
  completed_beats: [],
  beats: beatsAdapter.getInitialState(),
  beat_by_task: {},
  beat_task_order: [],
};

function ensureBeat(state: NarrativeState, name: string): BeatRecord {
  let beat = state.beats.entities[name];
  if (!beat) {
    beatsAdapter.addOne(state.beats, { beat_name: name, keywords: [], node_ids: [], task_ids: [], take_ids: [] });
    beat = state.beats.entities[name]!;
  }
  return beat;
}

function link(list: string[], id: string) {
  if (list.length < MAX_LINKS_PER_BEAT) pushUnique(list, id);
}

function rememberTaskBeat(state: NarrativeState, taskId: string, beatName: string) {
  if (state.beat_by_task[taskId] === undefined) {
    const { list, dropped } = appendBounded(state.beat_task_order, [taskId], MAX_BEAT_LINKS);
    if (list !== state.beat_task_order) state.beat_task_order = list;
    for (const id of dropped) delete state.beat_by_task[id];
  }
  state.beat_by_task[taskId] = beatName;
}

const on = caseFor<NarrativeState>();

const narrativeSlice = createSlice({
  name: 'narrative',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(startGeneration, (state, { payload }) => {
      const beatName = payload.context?.emotional_beat;
      if (beatName && isSafeKey(beatName) && isSafeKey(payload.nodeId)) link(ensureBeat(state, beatName).node_ids, payload.nodeId);
    });
    addIngestCases(builder, [
      on(beatReached, (state, { payload: { frame, receivedAt } }) => {
        const beat = ensureBeat(state, frame.beat_name);
        beat.scene_id = frame.scene_id;
        if (frame.shot_id !== undefined) beat.shot_id = frame.shot_id;
        if (frame.chapter !== undefined) beat.chapter = frame.chapter;
        beat.keywords = frame.keywords;
        beat.reachedAt ??= receivedAt;
        if (frame.node_id) link(beat.node_ids, frame.node_id);
        if (frame.task_id) {
          link(beat.task_ids, frame.task_id);
          rememberTaskBeat(state, frame.task_id, frame.beat_name);
        }
        state.current_beat = frame.beat_name;
        state.current_scene = frame.scene_id;
        if (frame.shot_id !== undefined) state.current_shot = frame.shot_id;
        if (frame.chapter !== undefined) state.current_chapter = frame.chapter;
        pushUnique(state.completed_beats, frame.beat_name);
      }),
      on(narrativeProgressed, (state, { payload: { frame } }) => {
        if (frame.structure_type !== undefined) state.structure_type = frame.structure_type;
        if (frame.current_chapter !== undefined) state.current_chapter = frame.current_chapter;
        if (frame.total_chapters !== undefined) state.total_chapters = frame.total_chapters;
        if (frame.current_scene !== undefined) state.current_scene = frame.current_scene;
        if (frame.total_scenes !== undefined) state.total_scenes = frame.total_scenes;
        if (frame.current_shot !== undefined) state.current_shot = frame.current_shot;
        if (frame.total_shots !== undefined) state.total_shots = frame.total_shots;
      }),
      on(generationStarted, (state, { payload: { frame } }) => {
        const beatName = frame.emotional_beat;
        if (!beatName || !isSafeKey(beatName)) return;
        const beat = ensureBeat(state, beatName);
        link(beat.node_ids, frame.node_id);
        link(beat.task_ids, frame.task_id);
        rememberTaskBeat(state, frame.task_id, beatName);
      }),
      on(generationCompleted, (state, { payload: { frame } }) => {
        const taskBeat = state.beat_by_task[frame.task_id];
        for (const take of frame.takes ?? []) {
          const beatName = take.emotional_beat ?? taskBeat;
          if (!beatName || !isSafeKey(beatName)) continue;
          const beat = ensureBeat(state, beatName);
          link(beat.take_ids, take.id);
          link(beat.node_ids, frame.node_id);
          link(beat.task_ids, frame.task_id);
        }
      }),
    ]);
  },
});

export const narrativeReducer = narrativeSlice.reducer;
