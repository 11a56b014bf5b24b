import { allEntities, getEntity, type BeatRecord, type RealtimeState } from '../slices/index.js';
import { createLatestSelector, createRealtimeSelector } from './base.js';

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

/**
 * Chapter/Scene/Shot progress and beats reached. Reads only the fields it shows, so it changes
 * only when one of them does: linking a generation or take to a beat (beat table, task links)
 * leaves the view, and whatever renders it, untouched.
 */
export const selectNarrativeProgress = createLatestSelector(
  [
    (state: RealtimeState) => state.narrative.completed_beats,
    (state: RealtimeState) => state.narrative.structure_type,
    (state: RealtimeState) => state.narrative.current_chapter,
    (state: RealtimeState) => state.narrative.total_chapters,
    (state: RealtimeState) => state.narrative.current_scene,
    (state: RealtimeState) => state.narrative.total_scenes,
    (state: RealtimeState) => state.narrative.current_shot,
    (state: RealtimeState) => state.narrative.total_shots,
    (state: RealtimeState) => state.narrative.current_beat,
  ],
  (
    completed_beats,
    structure_type,
    current_chapter,
    total_chapters,
    current_scene,
    total_scenes,
    current_shot,
    total_shots,
    current_beat,
  ): NarrativeProgressView => ({
    structure_type,
    current_chapter,
    total_chapters,
    current_scene,
    total_scenes,
    current_shot,
    total_shots,
    current_beat,
    completed_beats,
  }),
);

export const selectBeat = (state: RealtimeState, beatName: string): BeatRecord | undefined =>
  getEntity(state.narrative.beats, beatName);

/** Beats in the order they were reached, each with the nodes, tasks and takes it produced. */
export const selectBeatGenerations = createLatestSelector(
  [(state: RealtimeState) => state.narrative.beats],
  (beats): readonly BeatRecord[] => allEntities(beats),
);

/** The beat a take was generated for, if any. */
export const selectBeatForTake = createRealtimeSelector(
  [selectBeatGenerations, (_state: RealtimeState, takeId: string) => takeId],
  (beats, takeId) => beats.find((beat) => beat.take_ids.includes(takeId)),
);
