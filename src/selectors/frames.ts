import type { RealtimeState } from '../slices/index.js';

export const selectRecentFrames = (state: RealtimeState) => state.frames.recent;
export const selectRejectedFrames = (state: RealtimeState) => state.frames.rejected;
export const selectFrameStats = (state: RealtimeState) => state.frames;
