/**
 * Builds the Redux Toolkit store for the canvas, with the socket middleware. This is the only
 * place middleware is wired; everything else reaches the socket by dispatching commands.
 */
import { configureStore, type Middleware } from '@reduxjs/toolkit';
import { isProduction } from '../env.js';
import { createSocketMiddleware, type SocketController } from '../middleware/socketMiddleware.js';
import { isBrowser, type RealtimeOptions } from '../middleware/options.js';
import { createFrameRecorder, type FrameRecorder, type FrameRecorderOptions } from '../middleware/recorder.js';
import { connect, realtimeReducer, type RealtimeState } from '../slices/index.js';
import { createSerializableChangesCheck } from './serializableCheck.js';

export interface RealtimeStoreOptions extends RealtimeOptions {
  /** State to start from (tests, or a state saved by replayFrames). */
  preloadedState?: RealtimeState;
  /** Extra middleware, run after the built-in ones and before the socket middleware. */
  middleware?: Middleware[];
  /**
   * Record the last inbound frames with their receive times (`store.recorder.toJSONL()`), for
   * bug reports and tests: true for the default bounds, or the bounds. Default off.
   */
  record?: boolean | FrameRecorderOptions;
}

export function createRealtimeStore(options: RealtimeStoreOptions = {}) {
  const recording = options.record ? createFrameRecorder(options.record === true ? {} : options.record) : undefined;
  const socket: SocketController = createSocketMiddleware(options, recording && { onFrame: recording.record });
  const store = configureStore({
    reducer: realtimeReducer,
    preloadedState: options.preloadedState,
    devTools: options.devTools ?? !isProduction(),
    middleware: (getDefault) =>
      getDefault({
        // Frames carry backend JSON (task results, metadata): bounded by the wire contract, but
        // walking them twice per action in development buys nothing the schema did not check.
        // Thumbnails arrive as data URLs of a few kB; the checks walk them in development only.
        // The serializability check is ours (./serializableCheck.ts): RTK's re-walks every
        // changed table in full on every burst.
        serializableCheck: false,
        immutableCheck: { ignoredPaths: ['frames.recent'], warnAfter: 128 },
      })
        // Development only; the bare read lets a bundler drop the check from a production
        // build, as it drops Redux Toolkit's (see ../env.ts).
        .concat(
          !isProduction() && process.env.NODE_ENV !== 'production'
            ? [createSerializableChangesCheck({ ignoredPaths: ['frames.recent'] })]
            : [],
        )
        .concat(options.middleware ?? [])
        .concat(socket.middleware as Middleware),
  });
  // The canvas connects on app load in a browser; never by itself in Node or during SSR.
  if (options.autoConnect ?? isBrowser()) store.dispatch(connect());
  return Object.assign(store, {
    /** Listen to frames of a type ('*' for all); returns the unsubscribe function. */
    on: socket.on,
    /** Close the socket and stop all timers and listeners (tests, hot reload, unmount). */
    dispose: socket.dispose,
    /** The frame recorder when `record` is set: `toJSONL()` gives the log to replay. */
    recorder: recording?.recorder as FrameRecorder | undefined,
    /** Live timers, listeners and socket, for leak checks. */
    resources: socket.resources,
  });
}

export type RealtimeStore = ReturnType<typeof createRealtimeStore>;
export type RealtimeDispatch = RealtimeStore['dispatch'];

