/**
 * The page of the browser latency benchmark (bench/browserLatency.ts bundles it with esbuild,
 * NODE_ENV production, and the reference server serves it next to its /ws gateway).
 *
 * The library's real path, as an app uses it: createRealtimeStore (socket middleware, frames of
 * one tick reduced as one action), subscribeProject, and one TaskProgress component (selector,
 * Svelte bridge) showing the task named by ?task=. Two recorders, both with
 * performance.timeOrigin + performance.now():
 *
 * - arrival: a 'message' listener on the WebSocket, added in its constructor so it runs before
 *   the middleware's onmessage (it reads the frame number with a regex, no JSON.parse);
 * - DOM: a MutationObserver on the component, recording each time the rendered message names a
 *   later frame than before. Its callback runs in the microtask after Svelte's DOM update, in
 *   the same task: the time is that of the DOM change, before any paint.
 */
import { mount } from 'svelte';
import { createRealtimeStore, subscribeProject, type WebSocketConstructor } from '../../src/index.js';
import { TaskProgress } from '../../src/svelte/index.js';
import { frameOfMessage, frameOfRaw } from './frames.js';

export interface BenchRecorder {
  /** Frame numbers and times (ms since the epoch) of the WebSocket message events. */
  arrivedK: number[];
  arrivedAt: number[];
  /** Frame numbers and times of the DOM updates (each a later frame than the one before). */
  shownK: number[];
  shownAt: number[];
  /** The last frame the DOM showed (0 before any). */
  lastShown(): number;
  /** True once the socket is connected and the session ready. */
  ready(): boolean;
  /** Forgets what was recorded (after the warm-up). */
  reset(): void;
  now(): number;
  /**
   * Opens a WebSocket to `url` that answers each message with this page's clock (for the clock
   * check); resolves once it is open.
   */
  echo(url: string): Promise<void>;
}

declare global {
  interface Window {
    __bench?: BenchRecorder;
  }
}

const params = new URLSearchParams(location.search);
const projectId = params.get('project') ?? 'bench';
const taskId = params.get('task') ?? 'bench-task';

const now = () => performance.timeOrigin + performance.now();
const recorder: BenchRecorder = {
  arrivedK: [],
  arrivedAt: [],
  shownK: [],
  shownAt: [],
  lastShown: () => last,
  ready: () => {
    const connection = store.getState().connection;
    return connection.status === 'connected' && connection.sessionReady;
  },
  reset() {
    recorder.arrivedK.length = 0;
    recorder.arrivedAt.length = 0;
    recorder.shownK.length = 0;
    recorder.shownAt.length = 0;
  },
  now,
  echo: (url) =>
    new Promise((resolveOpen, reject) => {
      const socket = new WebSocket(url);
      socket.onmessage = () => socket.send(String(now()));
      socket.onopen = () => resolveOpen();
      socket.onerror = () => reject(new Error(`echo socket to ${url} failed`));
    }),
};
let last = 0;

class TimedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.addEventListener('message', (event: MessageEvent) => {
      const at = now();
      const k = frameOfRaw(event.data);
      if (k === undefined) return;
      recorder.arrivedK.push(k);
      recorder.arrivedAt.push(at);
    });
  }
}

const store = createRealtimeStore({ WebSocket: TimedWebSocket as unknown as WebSocketConstructor, devTools: false });
store.dispatch(subscribeProject(projectId));

const target = document.getElementById('app')!;
mount(TaskProgress, { target, props: { taskId, store } });

new MutationObserver(() => {
  const at = now();
  const k = frameOfMessage(target.querySelector('.cr-task-message')?.textContent);
  if (k === undefined || k <= last) return;
  last = k;
  recorder.shownK.push(k);
  recorder.shownAt.push(at);
}).observe(target, { subtree: true, childList: true, characterData: true });

window.__bench = recorder;
