export * from './backoff.js';
export * from './url.js';
export * from './storage.js';
export * from './options.js';
export * from './listeners.js';
export * from './socketMiddleware.js';
export {
  createFrameRecorder,
  DEFAULT_RECORD_MAX_CHARS,
  DEFAULT_RECORD_MAX_FRAMES,
  type FrameRecorder,
  type FrameRecorderOptions,
} from './recorder.js';
