/**
 * Options of the socket middleware (and of createRealtimeStore), with their defaults.
 */
import type { StorageLike } from './storage.js';
import { MAX_TIMER_MS, resolveBackoff, type BackoffOptions } from './backoff.js';

/** The part of a WebSocket this client uses; the browser's, undici's and `ws`'s all fit. */
export interface SocketLike {
  readonly readyState: number;
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
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
  queue?: { max?: number; ttlMs?: number };
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
  connectTimeoutMs: number;
  sessionReplyTimeoutMs: number;
  stableAfterMs: number;
  sessionTtlMs: number;
  maxFrameBytes: number;
  batch: boolean;
}

export const DEFAULTS = {
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 45_000,
  queueMax: 100,
  queueTtlMs: 10 * 60_000,
  connectTimeoutMs: 10_000,
  sessionReplyTimeoutMs: 1_500,
  stableAfterMs: 10_000,
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
    connectTimeoutMs: timerDelay('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
    sessionReplyTimeoutMs: timerDelay('sessionReplyTimeoutMs', options.sessionReplyTimeoutMs, DEFAULTS.sessionReplyTimeoutMs),
    stableAfterMs: timerDelay('stableAfterMs', options.stableAfterMs, DEFAULTS.stableAfterMs),
    sessionTtlMs: positive('sessionTtlMs', options.sessionTtlMs, DEFAULTS.sessionTtlMs),
    maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes, DEFAULTS.maxFrameBytes),
    batch: options.batch ?? true,
  };
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export function isBrowser(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown };
  return typeof g.window !== 'undefined' && typeof g.document !== 'undefined';
}
