/**
 * Options of the socket middleware (and of createRealtimeStore), with their defaults.
 */
import type { StorageLike } from './storage.js';
import { MAX_TIMER_MS, resolveBackoff, type BackoffOptions } from './backoff.js';
import type { PacerOptions } from './pacer.js';

/**
 * An event handler property. Declared as a method's type, so its parameter is compared both
 * ways: the browser's `onopen: (ev: Event) => any` and `ws`'s `(event: WebSocket.Event) => void`
 * then fit a handler that receives less than they declare (a function-typed property would
 * demand that their handlers accept anything, and reject both).
 */
type Handler<E> = { handle(event: E): void }['handle'];

/**
 * The part of a WebSocket this client uses; the browser's, undici's and `ws`'s all fit, without
 * a cast (test/types/websocketOption.ts compiles the README's Node snippet).
 */
export interface SocketLike {
  readonly readyState: number;
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onclose: Handler<{ code: number; reason: string; wasClean?: boolean }> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => SocketLike;

/** Timers and clocks, injectable so that tests drive time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Wall-clock time in ms (Date.now()): receive times, the stamps of commands and their expiry,
   * the stored session's age (it must survive a reload).
   */
  now(): number;
  /**
   * Monotonic time in ms (performance.now()): the heartbeat measures silences with it, so that a
   * wall clock set back cannot hide a dead link. Optional: without it, `now()` serves for both.
   */
  monotonic?(): number;
}

/** What the middleware listens to in a browser: window (online/offline) and document (visibility). */
export interface BrowserHooks {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
  /** document.visibilityState, read when 'visibilitychange' fires. */
  visibilityState?: () => string;
}

export interface RealtimeOptions {
  /** WebSocket URL. Default: PUBLIC_WS_URL, else same-origin /ws (see docs/ARCHITECTURE.md). */
  url?: string;
  /** Environment variables to read PUBLIC_WS_URL / INTERNAL_WS_URL from; default process.env. */
  env?: Record<string, string | undefined>;
  /** WebSocket constructor; default the global one, looked up at connect time. */
  WebSocket?: WebSocketConstructor;
  protocols?: string | string[];
  /** Where the session persists; default localStorage where present, else memory. */
  storage?: StorageLike;
  backoff?: Partial<BackoffOptions>;
  heartbeat?: { intervalMs?: number; timeoutMs?: number };
  /** Commands waiting to be sent (not yet written to a socket): at most `max`; expiry after `ttlMs`. */
  queue?: { max?: number; ttlMs?: number };
  /**
   * Pacing of every frame the client sends (commands, pings, subscribes): up to `burst` at once,
   * then `maxPerSecond`. Default 40/s with bursts of 120, so any second holds at most 160 frames,
   * below the reference gateway's limit (200/s). See ./pacer.ts.
   */
  send?: { maxPerSecond?: number; burst?: number };
  /** Connect on creation. Default true in a browser, false in Node and during SSR. */
  autoConnect?: boolean;
  /** Redux DevTools. Default on outside production. */
  devTools?: boolean;
  /** Give up an opening socket after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** How long to wait for session.init / session.restored before assuming a story-only backend. Default 1.5 s. */
  sessionReplyTimeoutMs?: number;
  /** The connection counts as stable (backoff resets) after staying up this long. Default 10 s. */
  stableAfterMs?: number;
  /**
   * After a reconnect to a backend that announced `snapshot` or `task_status`, or any restart
   * signal, a run still shown generating that nothing confirmed within this long shows "Lost
   * contact with this run" (and Generate works again). Default 20 s.
   */
  staleAfterMs?: number;
  /** A stored session older than this is ignored. Default 24 h. */
  sessionTtlMs?: number;
  /** Inbound frames larger than this are rejected. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Reduce frames arriving within one tick as one action (default true). */
  batch?: boolean;
  timers?: Timers;
  random?: () => number;
  /** Browser event sources; default window/document where they exist, none elsewhere. */
  browser?: { window?: BrowserHooks; document?: BrowserHooks } | null;
}

export interface ResolvedOptions {
  backoff: BackoffOptions;
  /** Backoff used while suspended (container restart): quick, still jittered. */
  restartBackoff: BackoffOptions;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  queueMax: number;
  queueTtlMs: number;
  send: PacerOptions;
  connectTimeoutMs: number;
  sessionReplyTimeoutMs: number;
  stableAfterMs: number;
  staleAfterMs: number;
  sessionTtlMs: number;
  maxFrameBytes: number;
  batch: boolean;
}

export const DEFAULTS = {
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 45_000,
  queueMax: 100,
  queueTtlMs: 10 * 60_000,
  sendMaxPerSecond: 40,
  sendBurst: 120,
  connectTimeoutMs: 10_000,
  sessionReplyTimeoutMs: 1_500,
  stableAfterMs: 10_000,
  staleAfterMs: 20_000,
  sessionTtlMs: 24 * 60 * 60_000,
  maxFrameBytes: 1024 * 1024,
} as const;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number (got ${value})`);
  return value;
}

/** A delay handed to setTimeout: longer than a timer can hold, it would fire at once. */
function timerDelay(name: string, value: number | undefined, fallback: number): number {
  const ms = positive(name, value, fallback);
  if (ms > MAX_TIMER_MS) throw new RangeError(`${name} must be at most ${MAX_TIMER_MS} ms, the longest timer delay (got ${value})`);
  return ms;
}

/** The pacing: a rate whose wait for one token fits a timer, and a burst of at least one frame. */
function resolveSend(options: RealtimeOptions['send']): PacerOptions {
  const maxPerSecond = positive('send.maxPerSecond', options?.maxPerSecond, DEFAULTS.sendMaxPerSecond);
  if (1_000 / maxPerSecond > MAX_TIMER_MS) {
    throw new RangeError(`send.maxPerSecond must allow one frame per ${MAX_TIMER_MS} ms, the longest timer delay (got ${maxPerSecond})`);
  }
  const burst = positive('send.burst', options?.burst, DEFAULTS.sendBurst);
  if (burst < 1) throw new RangeError(`send.burst must be at least 1 (got ${burst})`);
  return { maxPerSecond, burst: Math.floor(burst) };
}

export function resolveOptions(options: RealtimeOptions): ResolvedOptions {
  const backoff = resolveBackoff(options.backoff);
  const heartbeatIntervalMs = timerDelay('heartbeat.intervalMs', options.heartbeat?.intervalMs, DEFAULTS.heartbeatIntervalMs);
  const heartbeatTimeoutMs = positive('heartbeat.timeoutMs', options.heartbeat?.timeoutMs, Math.max(DEFAULTS.heartbeatTimeoutMs, heartbeatIntervalMs * 2));
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new RangeError('heartbeat.timeoutMs must be longer than heartbeat.intervalMs');
  }
  return {
    backoff,
    restartBackoff: { ...backoff, initialMs: Math.min(backoff.initialMs, 250), maxMs: Math.min(backoff.maxMs, 5_000) },
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    queueMax: Math.floor(positive('queue.max', options.queue?.max, DEFAULTS.queueMax)),
    queueTtlMs: positive('queue.ttlMs', options.queue?.ttlMs, DEFAULTS.queueTtlMs),
    send: resolveSend(options.send),
    connectTimeoutMs: timerDelay('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
    sessionReplyTimeoutMs: timerDelay('sessionReplyTimeoutMs', options.sessionReplyTimeoutMs, DEFAULTS.sessionReplyTimeoutMs),
    stableAfterMs: timerDelay('stableAfterMs', options.stableAfterMs, DEFAULTS.stableAfterMs),
    staleAfterMs: timerDelay('staleAfterMs', options.staleAfterMs, DEFAULTS.staleAfterMs),
    sessionTtlMs: positive('sessionTtlMs', options.sessionTtlMs, DEFAULTS.sessionTtlMs),
    maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes, DEFAULTS.maxFrameBytes),
    batch: options.batch ?? true,
  };
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
  // Looked up per call: a runtime without performance (a bare VM context) falls back to Date.now().
  monotonic: () => (typeof performance === 'undefined' ? Date.now() : performance.now()),
};

export function isBrowser(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown };
  return typeof g.window !== 'undefined' && typeof g.document !== 'undefined';
}
