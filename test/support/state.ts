/** Building states from inline frames in tests, through the same replay as recorded logs. */
import { expect } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';

export const TS = '2025-01-15T10:30:00.000Z';

/** The store's initial state. */
export const initial = (): RealtimeState => realtimeReducer(undefined, { type: '@@test/init' });

/** Replays `frames` on top of `state`; fails the test when a frame meant to be valid is rejected. */
export function apply(state: RealtimeState, ...frames: object[]): RealtimeState {
  const next = replayFrames(frames, { initialState: state });
  expect(next.frames.rejected.total, 'a test frame was rejected').toBe(state.frames.rejected.total);
  return next;
}
