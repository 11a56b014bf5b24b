import type { BeatRecord, RealtimeState } from '../slices/index.js';
import { createRealtimeSelector } from './base.js';

const selectNarrative = (state: RealtimeState) => state.narrative;

export interface NarrativeProgressView {
  structure_type?: string;
  current_chapter?: number;
  total_chapters?: number;
  current_scene?: string;
  total_scenes?: number;
  current_shot?: string;
  total_shots?: number;
  current_beat?: string;
  /** Every beat reached, in order, once each (the story's completed_beats). */
  completed_beats: readonly string[];
}

/** Chapter/Scene/Shot progress and beats; changes only when the narrative does. */
export const selectNarrativeProgress = createRealtimeSelector(
  [selectNarrative],
  (narrative): NarrativeProgressView => ({
    structure_type: narrative.structure_type,
    current_chapter: narrative.current_chapter,
    total_chapters: narrative.total_chapters,
    current_scene: narrative.current_scene,
    total_scenes: narrative.total_scenes,
    current_shot: narrative.current_shot,
    total_shots: narrative.total_shots,
    current_beat: narrative.current_beat,
    completed_beats: narrative.completed_beats,
  }),
);

export const selectBeat = (state: RealtimeState, beatName: string): BeatRecord | undefined =>
  state.narrative.beats.entities[beatName];

/** Beats in the order they were reached, each with the nodes, tasks and takes it produced. */
export const selectBeatGenerations = createRealtimeSelector(
  [(state: RealtimeState) => state.narrative.beats],
  (beats): readonly BeatRecord[] => beats.ids.map((id) => beats.entities[id]!),
);

/** The beat a take was generated for, if any. */
export const selectBeatForTake = createRealtimeSelector(
  [selectBeatGenerations, (_state: RealtimeState, takeId: string) => takeId],
  (beats, takeId) => beats.find((beat) => beat.take_ids.includes(takeId)),
);
