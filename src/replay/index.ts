export * from './replayFrames.js';
