/**
 * Builds the Redux Toolkit store for the canvas. The socket middleware is wired here and only
 * here (see src/middleware); everything else reaches the socket by dispatching commands.
 */
import { configureStore, type Middleware } from '@reduxjs/toolkit';
import { realtimeReducer, type RealtimeState } from '../slices/index.js';

export interface RealtimeStoreOptions {
  /** State to start from (tests, or a state saved by replayFrames). */
  preloadedState?: RealtimeState;
  /** Redux DevTools; default on outside production. */
  devTools?: boolean;
  /** Extra middleware, run after the built-in ones. */
  middleware?: Middleware[];
}

function isProduction(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.NODE_ENV === 'production';
}

export function createRealtimeStore(options: RealtimeStoreOptions = {}) {
  return configureStore({
    reducer: realtimeReducer,
    preloadedState: options.preloadedState,
    devTools: options.devTools ?? !isProduction(),
    middleware: (getDefault) => getDefault().concat(options.middleware ?? []),
  });
}

export type RealtimeStore = ReturnType<typeof createRealtimeStore>;
export type RealtimeDispatch = RealtimeStore['dispatch'];
