/**
 * The socket middleware: the only place a WebSocket lives.
 *
 * Inbound: raw frames become ingest actions (one per frame at light traffic, one batched action
 * per tick under bursts), then `on(type)` listeners run. Outbound: commands dispatched by the
 * application become frames, through the outbox (state) so that nothing is lost while the link
 * is down. The connection slice decides the status (the state machine); this module performs
 * what the status asks for: open, retry after a backoff, ping, give up a dead link.
 */
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import {
  CLIENT_CLOSE,
  encodeFrame,
  isTerminalCeleryState,
  MAX_QUERY_TASK_IDS,
  type Capability,
  type InboundFrame,
  type OutboundFrame,
  type UnknownFrame,
} from '../protocol/index.js';
import { getEntity } from '../slices/table.js';
import {
  cancelGeneration,
  commandInvalid,
  connect,
  connectionStabilized,
  contactLost,
  disconnect,
  dropDuplicates,
  framesBatched,
  ingestFrame,
  listenerFailed,
  networkCameOnline,
  networkWentOffline,
  nodesMarkedStale,
  outboxDelivered,
  outboxExpired,
  outboxOverflowed,
  outboxSent,
  reconnectScheduled,
  sessionAssumed,
  sessionCreated,
  sessionLoaded,
  shutdownOutlived,
  socketClosed,
  socketFailed,
  socketOpened,
  socketOpening,
  startGeneration,
  storageFailed,
  subscribeProject,
  unsubscribeProject,
  type IngestAction,
  type RealtimeState,
} from '../slices/index.js';
import { backoffDelay } from './backoff.js';
import { createListenerRegistry, type ListenerRegistry } from './listeners.js';
import { createPacer } from './pacer.js';
import {
  isBrowser,
  resolveOptions,
  systemTimers,
  type BrowserHooks,
  type RealtimeOptions,
  type SocketLike,
  type Timers,
  type WebSocketConstructor,
} from './options.js';
import { errorText } from './errorText.js';
import {
  clearSession,
  defaultStorage,
  guardStorage,
  loadSession,
  saveSession,
  snapshotSession,
  type StorageOperation,
} from './storage.js';
import { currentUrlEnvironment, resolveWebSocketUrl } from './url.js';

const OPEN = 1;

/**
 * How long a socket may stay open after a system.shutdown with nothing arriving, before the
 * link counts as alive again. Longer than a gateway takes to close its sockets after announcing
 * (the reference gateway: at once, stragglers cut at 2 s).
 */
export const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Left on detached sockets. Module-level on purpose: a closure made inside the middleware would
 * keep its whole scope (and the store) reachable for as long as anything holds the old socket.
 */
function ignoreError(): void {}

export interface SocketController {
  middleware: Middleware<object, RealtimeState>;
  on: ListenerRegistry['on'];
  /**
   * Closes the socket, stops every timer and browser listener. The store stays readable; commands
   * dispatched to it afterwards throw.
   */
  dispose(): void;
  /** Counts for leak checks: live timers, browser listeners, frame listeners, open sockets. */
  resources(): { timers: number; browserListeners: number; frameListeners: number; socket: boolean };
}

/** What the application asks of the link (one set lookup per action tells them apart). */
const COMMAND_TYPES = new Set<unknown>(
  [connect, disconnect, subscribeProject, unsubscribeProject, startGeneration, cancelGeneration].map((command) => command.type),
);

/**
 * The cause in a socket's error event: `ws` and undici give an ErrorEvent with `message` and
 * `error`; a browser gives a bare Event (deliberately: a page must not learn why a cross-origin
 * connection failed).
 */
function socketErrorText(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const { message, error } = event as { message?: unknown; error?: unknown };
  return errorText(message) ?? errorText(error);
}

function randomId(random: () => number): string {
  let id = 'sess-';
  for (let i = 0; i < 20; i++) id += Math.floor(random() * 36).toString(36);
  return id;
}

function defaultRandom(): number {
  const values = new Uint32Array(1);
  globalThis.crypto.getRandomValues(values);
  return values[0]! / 2 ** 32;
}

/** What the store factory plugs into the middleware (not options a user sets). */
export interface SocketHooks {
  /** Each inbound frame's raw data, with the receive time it is reduced with (the recorder). */
  onFrame?(raw: unknown, receivedAt: number): void;
}

export function createSocketMiddleware(options: RealtimeOptions = {}, hooks: SocketHooks = {}): SocketController {
  const { onFrame } = hooks;
  const config = resolveOptions(options);
  const timers: Timers = options.timers ?? systemTimers;
  // Injected timers without a monotonic clock drive both measures with their one clock.
  const monotonic: () => number = timers.monotonic ? () => timers.monotonic!() : () => timers.now();
  const random = options.random ?? defaultRandom;
  // Guarded: a storage that throws is counted in the state, never thrown into the application.
  const storage = guardStorage(options.storage ?? defaultStorage(), reportStorageError);
  const listeners = createListenerRegistry();
  const pacer = createPacer(config.send, monotonic());
  const browser =
    options.browser === null
      ? undefined
      : (options.browser ??
        (isBrowser()
          ? {
              window: globalThis as unknown as BrowserHooks,
              document: Object.assign(Object.create(null), {
                addEventListener: (t: string, l: () => void) => globalThis.document.addEventListener(t, l),
                removeEventListener: (t: string, l: () => void) => globalThis.document.removeEventListener(t, l),
                visibilityState: () => globalThis.document.visibilityState,
              }) as BrowserHooks,
            }
          : undefined));

  // Everything below is the middleware's own runtime; none of it is state.
  let api: { dispatch: (action: UnknownAction) => unknown; getState: () => RealtimeState } | undefined;
  let socket: SocketLike | undefined;
  /** Outbox entries written to the current socket. */
  let sentOnSocket = new Set<string>();
  /**
   * Encoded frames other than commands (session.init, subscribe, ping) waiting for the pacer,
   * in order, for `controlSocket` only: a new socket starts its own conversation.
   */
  let control: string[] = [];
  let controlSocket: SocketLike | undefined;
  /** What the current socket's error event said, for the close that follows. */
  let socketError: string | undefined;
  /** When the last frame (or the open) arrived: wall clock, and monotonic clock. */
  let lastFrameAt = 0;
  let lastFrameTick = 0;
  let pending: Array<{ data: unknown; at: number }> = [];
  let flushScheduled = false;
  let disposed = false;
  let savedRefs: unknown[] = [];
  let saveScheduled = false;
  let forgotten = false;
  let lastRestartHandled: number | undefined;
  /** Sockets whose session became ready: any after the first is a reconnect. */
  let sessionsReady = 0;
  /** Storage failures seen while the store is still being built, when nothing may be dispatched. */
  let storageFailuresBeforeStart: Array<{ operation: StorageOperation; error: string; at: number }> | undefined = [];
  const liveTimers = new Map<string, unknown>();
  const browserListeners: Array<() => void> = [];

  const state = () => api!.getState();
  const dispatch = (action: UnknownAction) => api!.dispatch(action);

  function setTimer(name: string, ms: number, callback: () => void) {
    clearTimer(name);
    liveTimers.set(
      name,
      timers.setTimeout(() => {
        liveTimers.delete(name);
        callback();
      }, ms),
    );
  }
  function clearTimer(name: string) {
    const handle = liveTimers.get(name);
    if (handle !== undefined) {
      timers.clearTimeout(handle);
      liveTimers.delete(name);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Outbound

  /** Sends a frame other than a command, now or, when the pacer says wait, ahead of the outbox. */
  function sendFrame(frame: OutboundFrame): boolean {
    if (!socket || socket.readyState !== OPEN) return false;
    const encoded = encodeFrame(frame);
    if (!encoded.ok) return false;
    if (controlSocket !== socket) control = [];
    controlSocket = socket;
    control.push(encoded.data);
    sendControl();
    return true;
  }

  /** Writes the waiting control frames the pacer allows; true once none is left. */
  function sendControl(): boolean {
    if (controlSocket !== socket) control = [];
    while (control.length > 0) {
      if (!socket || socket.readyState !== OPEN) return false;
      if (!pacer.take(monotonic())) {
        schedulePaced();
        return false;
      }
      const data = control.shift()!;
      if (!sendData(data)) return false;
    }
    return true;
  }

  /** Comes back when the pacer has a token: control frames first, then the outbox. */
  function schedulePaced() {
    if (liveTimers.has('pace')) return;
    setTimer('pace', pacer.delayMs(monotonic()), () => {
      if (sendControl()) flushOutbox();
    });
  }

  function sendData(data: string): boolean {
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * last_seq asks for a replay: only a backend that announced `replay` is asked, and only with a
   * position whose state this store holds (docs/PROTOCOL.md). After a reload (a stored position,
   * an empty state) a backend with `snapshot` gets none (it sends a snapshot); one with only
   * `replay` gets 0 (it replays from the start).
   */
  function subscribeFrame(projectId: string): OutboundFrame {
    const { sync, connection } = state();
    const has = (capability: Capability) => connection.capabilities.includes(capability);
    // lastSeq holds only positions with their state (a stored one waits in storedLastSeq).
    const lastSeq = has('replay') ? (sync.lastSeq[projectId] ?? (projectId in sync.storedLastSeq && !has('snapshot') ? 0 : undefined)) : undefined;
    return lastSeq === undefined ? { type: 'subscribe', project_id: projectId } : { type: 'subscribe', project_id: projectId, last_seq: lastSeq };
  }

  function expireOutbox() {
    const now = timers.now();
    const expired = state()
      .outbox.entries.filter((entry) => now - entry.enqueuedAt >= config.queueTtlMs)
      .map((entry) => entry.commandId);
    if (expired.length > 0) dispatch(outboxExpired({ commandIds: expired, at: now }));
  }

  /**
   * Sends what waits in the outbox, in order, once the session is ready, after the control
   * frames (subscriptions are restored first), as fast as the pacer allows: what it holds back
   * stays in the outbox (state, stored) until its token comes.
   */
  function flushOutbox() {
    const current = state();
    if (!socket || socket.readyState !== OPEN || !current.connection.sessionReady) return;
    if (!sendControl()) return;
    expireOutbox();
    const acks = current.connection.capabilities.includes('ack');
    const sent: string[] = [];
    const invalid: Array<{ commandId: string; nodeId: string; reason: string }> = [];
    for (const entry of state().outbox.entries) {
      // With acks, an entry already sent on this socket waits for its ack; resend only after a
      // reconnect. Tracked per socket, not by comparing times: a reconnect within the clock's
      // resolution (1 ms, or 100 ms with reduced timer precision) must still resend.
      if (acks && sentOnSocket.has(entry.commandId)) continue;
      const encoded = encodeFrame(entry.frame);
      if (!encoded.ok) {
        // A stored command that no longer validates (saved by an older version, or edited) is
        // dropped visibly; it must not block the commands queued behind it.
        invalid.push({ commandId: entry.commandId, nodeId: entry.frame.node_id, reason: encoded.reason });
        continue;
      }
      if (!pacer.take(monotonic())) {
        schedulePaced();
        break;
      }
      if (!sendData(encoded.data)) break;
      sent.push(entry.commandId);
      sentOnSocket.add(entry.commandId);
    }
    for (const bad of invalid) dispatch(commandInvalid({ ...bad, at: timers.now() }));
    if (sent.length === 0) return;
    const at = timers.now();
    dispatch(outboxSent({ commandIds: sent, at }));
    // A backend that does not ack: written on an open socket is delivered.
    if (!acks) dispatch(outboxDelivered({ commandIds: sent, at }));
  }

  /**
   * `queue.max` bounds the commands not yet sent: beyond it the oldest of them are dropped,
   * counted as overflow. A command already written to a socket may have run: waiting for its
   * ack (or its resend after a reconnect), it is never counted as dropped.
   */
  function boundOutbox(detail?: string) {
    const waiting = state().outbox.entries.filter((entry) => !(entry.sends > 0));
    if (waiting.length <= config.queueMax) return;
    const overflow = waiting.slice(0, waiting.length - config.queueMax).map((entry) => entry.commandId);
    dispatch(outboxOverflowed({ commandIds: overflow, at: timers.now(), ...(detail !== undefined && { detail }) }));
  }

  /**
   * After a reconnect or a restart, what the client shows running may have ended, or been
   * forgotten, while it was away. Nodes still shown generating are marked stale and the
   * `staleAfter` timer starts: what no snapshot, task.status or frame confirms by then is
   * lost ("Lost contact with this run"). Runs when the session is ready on a socket after the
   * first with a backend that can answer (`snapshot`, `task_status`), and once per detected
   * restart whatever the backend announced (a late session reply included).
   */
  function resyncRuns(reconnected: boolean) {
    const restartAt = state().connection.restartDetectedAt;
    const restarted = restartAt !== undefined && restartAt !== lastRestartHandled;
    // Called after every inbound batch (a late session reply): this is all it costs there.
    if (!restarted && !reconnected) return;
    if (restarted) lastRestartHandled = restartAt;
    const current = state();
    const capabilities = current.connection.capabilities;
    const canAnswer = capabilities.includes('snapshot') || capabilities.includes('task_status');
    if (!restarted && !(reconnected && canAnswer)) return;
    if (current.nodes.generating_ids.length > 0) {
      dispatch(nodesMarkedStale({ nodeIds: [...current.nodes.generating_ids], at: timers.now() }));
      setTimer('staleAfter', config.staleAfterMs, loseUnconfirmedRuns);
    }
    if (capabilities.includes('task_status')) queryRunningTasks();
  }

  /** The staleAfter timer: every node still stale (nothing confirmed it) is lost. */
  function loseUnconfirmedRuns() {
    const { nodes } = state();
    const lost = nodes.generating_ids.filter((id) => getEntity(nodes, id)?.stale === true);
    if (lost.length > 0) dispatch(contactLost({ nodeIds: lost, at: timers.now() }));
  }

  /**
   * query_tasks for every task the client shows running: a node generating (or stale) with a
   * task id, and every task not finished; at most MAX_QUERY_TASK_IDS per frame.
   */
  function queryRunningTasks() {
    const { nodes, tasks } = state();
    const ids = new Set<string>();
    for (const id of nodes.generating_ids) {
      const taskId = getEntity(nodes, id)?.task_id;
      if (taskId !== undefined) ids.add(taskId);
    }
    for (const id of tasks.ids) {
      const task = getEntity(tasks, id);
      if (task && !isTerminalCeleryState(task.state)) ids.add(id);
    }
    const all = [...ids];
    const timestamp = new Date(timers.now()).toISOString();
    for (let i = 0; i < all.length; i += MAX_QUERY_TASK_IDS) {
      sendFrame({ type: 'query_tasks', task_ids: all.slice(i, i + MAX_QUERY_TASK_IDS), timestamp });
    }
  }

  function onSessionReady() {
    clearTimer('sessionReply');
    const reconnected = sessionsReady > 0;
    sessionsReady += 1;
    const current = state();
    // Subscriptions first: a snapshot answers them; query_tasks follows.
    for (const projectId of current.sync.subscriptions) sendFrame(subscribeFrame(projectId));
    resyncRuns(reconnected);
    flushOutbox();
  }

  // -------------------------------------------------------------------------------------------
  // Inbound

  function reportListenerError(type: string, error: unknown) {
    dispatch(listenerFailed({ type, error: error instanceof Error ? error.message : String(error), at: timers.now() }));
    const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
    if (report) report(error);
  }

  function flushInbound() {
    flushScheduled = false;
    clearTimer('inbound');
    if (pending.length === 0 || !api) return;
    const batch = pending;
    pending = [];
    const wasReady = state().connection.sessionReady;
    const ingested: IngestAction[] = [];
    const frames: Array<InboundFrame | UnknownFrame | undefined> = [];
    for (const { data, at } of batch) {
      const { action, frame } = ingestFrame(data, at, { maxBytes: config.maxFrameBytes });
      ingested.push(action);
      frames.push(frame);
    }
    // The same dedupe the root reducer applies, done here too so that listeners only hear about
    // frames the store applied: a replay overlap must not fire "generation completed" twice.
    const actions = dropDuplicates(state().sync.lastSeq, ingested);
    dispatch((actions.length === 1 ? actions[0]! : framesBatched({ actions })) as UnknownAction);
    frames.forEach((frame, i) => {
      if (frame && actions[i] === ingested[i]) listeners.emit(frame, reportListenerError);
    });
    if (!wasReady && state().connection.sessionReady && socket) onSessionReady();
    // A session reply that came after the client stopped waiting for it (a cold-starting
    // container) still reveals a restart.
    else resyncRuns(false);
    // Suspended with the socket open: a system.shutdown came on it.
    if (socket && socket.readyState === OPEN && state().connection.status === 'suspended') awaitShutdownClose(frames);
  }

  /**
   * A system.shutdown suspended the link but the socket stays open (a deploy called off, a
   * proxy that kept the client's side). A frame after the announcement proves the link alive at
   * once; a batch that ends with the announcement waits SHUTDOWN_GRACE_MS for the close.
   */
  function awaitShutdownClose(frames: ReadonlyArray<{ type: string } | undefined>) {
    if (frames[frames.length - 1]?.type !== 'system.shutdown') {
      clearTimer('shutdownGrace');
      dispatch(shutdownOutlived({ at: timers.now(), after: 'frame' }));
      return;
    }
    setTimer('shutdownGrace', SHUTDOWN_GRACE_MS, () => {
      if (socket && socket.readyState === OPEN) dispatch(shutdownOutlived({ at: timers.now(), after: 'grace' }));
    });
  }

  function scheduleInbound() {
    if (flushScheduled) return;
    flushScheduled = true;
    // A named timer, so that resources() counts it and dispose() cancels it.
    if (!options.timers && typeof setImmediate === 'function') setImmediate(flushInbound);
    else setTimer('inbound', 0, flushInbound);
  }

  // -------------------------------------------------------------------------------------------
  // Socket lifecycle

  function detach(ws: SocketLike) {
    ws.onopen = null;
    ws.onclose = null;
    ws.onmessage = null;
    // Not null: the `ws` package reports closing a socket that is still connecting as an 'error'
    // event, and an EventEmitter 'error' nobody listens to is thrown (it would crash Node).
    ws.onerror = ignoreError;
  }

  function stopLinkTimers() {
    for (const name of ['connect', 'heartbeat', 'sessionReply', 'stable', 'probe', 'pace', 'shutdownGrace']) clearTimer(name);
  }

  /** The socket is gone (closed by the server, the network, or by us): record it and act. */
  function handleClose(ws: SocketLike, code: number, reason: string, byClient: boolean) {
    if (ws !== socket) return;
    detach(ws);
    socket = undefined;
    stopLinkTimers();
    // Frames that arrived before the close are applied first: nothing received is lost.
    flushInbound();
    const error = socketError;
    socketError = undefined;
    dispatch(socketClosed({ code, reason, byClient, at: timers.now(), ...(error !== undefined && { error }) }));
    scheduleRetry();
  }

  /** Gives up on a socket without waiting for its close handshake (a half-open link never answers). */
  function abandon(code: number, reason: string) {
    const ws = socket;
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      // a socket still connecting may refuse a close code; it is abandoned all the same
    }
    handleClose(ws, code, reason, true);
  }

  function scheduleRetry() {
    const current = state().connection;
    if (disposed || !current.wanted || current.offline) return;
    if (current.status !== 'reconnecting' && current.status !== 'suspended') return;
    const params = current.status === 'suspended' ? config.restartBackoff : config.backoff;
    const delayMs = backoffDelay(current.reconnectAttempts, params, random());
    // While the link is down no heartbeat runs: expire waiting commands at each retry instead,
    // so "3 commands dropped" shows during a long outage, not only once it ends.
    expireOutbox();
    dispatch(reconnectScheduled({ delayMs, at: timers.now() }));
    setTimer('retry', delayMs, openSocket);
  }

  function openSocket() {
    clearTimer('retry');
    if (disposed || socket) return;
    const current = state().connection;
    if (!current.wanted) return;
    let url: string;
    try {
      url = resolveWebSocketUrl(currentUrlEnvironment(current.url ?? options.url, options.env));
    } catch (error) {
      dispatch(socketFailed({ error: (error as Error).message, at: timers.now() }));
      return;
    }
    const Ctor: WebSocketConstructor | undefined =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      dispatch(
        socketFailed({
          error: 'No WebSocket implementation: pass { WebSocket } (e.g. from the "ws" package) in Node',
          at: timers.now(),
        }),
      );
      return;
    }
    dispatch(socketOpening({ url, at: timers.now() }));
    let ws: SocketLike;
    try {
      ws = new Ctor(url, options.protocols);
    } catch (error) {
      dispatch(socketFailed({ error: `Cannot open ${url}: ${(error as Error).message}`, at: timers.now() }));
      return;
    }
    socket = ws;
    sentOnSocket = new Set();
    socketError = undefined;
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // not every implementation lets it be set
    }
    setTimer('connect', config.connectTimeoutMs, () => abandon(CLIENT_CLOSE.connectTimeout, 'connect timeout'));
    ws.onopen = () => {
      if (ws !== socket) return;
      clearTimer('connect');
      const at = timers.now();
      lastFrameAt = at;
      lastFrameTick = monotonic();
      dispatch(socketOpened({ at }));
      startSession();
      setTimer('heartbeat', config.heartbeatIntervalMs, heartbeat);
      setTimer('stable', config.stableAfterMs, () => dispatch(connectionStabilized({ at: timers.now() })));
    };
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      lastFrameAt = timers.now();
      lastFrameTick = monotonic();
      pending.push({ data: event.data, at: lastFrameAt });
      if (onFrame) onFrame(event.data, lastFrameAt);
      if (config.batch) scheduleInbound();
      else flushInbound();
    };
    ws.onclose = (event) => handleClose(ws, event.code, event.reason ?? '', false);
    ws.onerror = (event) => {
      // The close event that follows carries the code; the error event may carry the cause.
      if (ws === socket) socketError = socketErrorText(event) ?? socketError;
    };
  }

  function startSession() {
    let { sessionId } = state().sync;
    const reconnect = sessionId !== undefined;
    if (!sessionId) {
      sessionId = randomId(random);
      dispatch(sessionCreated({ sessionId, at: timers.now() }));
    }
    const { resumeToken, lastSeq } = state().sync;
    sendFrame({
      type: 'session.init',
      session_id: sessionId,
      reconnect,
      ...(resumeToken !== undefined && { resume_token: resumeToken }),
      ...(Object.keys(lastSeq).length > 0 && { last_seq: lastSeq }),
      timestamp: new Date(timers.now()).toISOString(),
    });
    setTimer('sessionReply', config.sessionReplyTimeoutMs, () => {
      if (!socket || state().connection.sessionReady) return;
      dispatch(sessionAssumed({ at: timers.now() }));
      onSessionReady();
    });
  }

  /**
   * How long the link has been silent, measured on both clocks, the longer counting. Measured,
   * not counted in timer firings: in a background tab timers fire minutes late, and a silence
   * that long is a dead link whatever the timers think. The monotonic clock is immune to the
   * wall clock being set back (which would hide a dead link for as long as the jump); the wall
   * clock covers a machine that slept, which some runtimes leave out of performance.now(). A
   * wall clock set forward costs at worst one early reconnect.
   */
  function silenceMs(): number {
    return Math.max(monotonic() - lastFrameTick, timers.now() - lastFrameAt);
  }

  /** Runs every interval: proves the link alive by the time since the last frame, pings, expires the outbox. */
  function heartbeat() {
    if (!socket) return;
    const now = timers.now();
    if (silenceMs() > config.heartbeatTimeoutMs) {
      abandon(CLIENT_CLOSE.heartbeatTimeout, 'heartbeat timeout');
      return;
    }
    sendFrame({ type: 'ping', timestamp: new Date(now).toISOString() });
    expireOutbox();
    setTimer('heartbeat', config.heartbeatIntervalMs, heartbeat);
  }

  /** The page became visible again: check the link now rather than at the next heartbeat. */
  function probeLink() {
    const current = state().connection;
    if (!current.wanted) return;
    if (!socket) {
      if (liveTimers.has('retry')) openSocket();
      return;
    }
    if (socket.readyState !== OPEN) return;
    const silence = silenceMs();
    if (silence > config.heartbeatTimeoutMs) {
      abandon(CLIENT_CLOSE.heartbeatTimeout, 'heartbeat timeout');
      return;
    }
    if (silence > config.heartbeatIntervalMs) {
      const probeStartedTick = monotonic();
      sendFrame({ type: 'ping', timestamp: new Date(timers.now()).toISOString() });
      setTimer('probe', Math.min(5_000, config.heartbeatIntervalMs), () => {
        if (lastFrameTick < probeStartedTick) abandon(CLIENT_CLOSE.heartbeatTimeout, 'no answer after the page became visible');
      });
    }
  }

  function closeForGood() {
    clearTimer('retry');
    const ws = socket;
    if (!ws) return;
    try {
      ws.close(CLIENT_CLOSE.normal, 'client disconnect');
    } catch {
      // ignore
    }
    handleClose(ws, CLIENT_CLOSE.normal, 'client disconnect', true);
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  function persist() {
    saveScheduled = false;
    clearTimer('persist');
    if (!api || forgotten) return;
    saveSession(storage, snapshotSession(state(), timers.now()));
  }

  function schedulePersist() {
    const current = state();
    const refs = [current.sync, current.outbox.entries, current.connection.capabilities];
    if (refs.every((ref, i) => ref === savedRefs[i])) return;
    savedRefs = refs;
    // Commands must survive a reload right away; positions can follow within a tick.
    if (refs[1] !== undefined && current.outbox.entries.length > 0) persist();
    else if (!saveScheduled) {
      saveScheduled = true;
      setTimer('persist', 0, persist);
    }
  }

  function reportStorageError(operation: StorageOperation, error: unknown) {
    const failure = { operation, error: errorText(error) ?? 'unknown error', at: timers.now() };
    if (storageFailuresBeforeStart) storageFailuresBeforeStart.push(failure);
    else if (api && !disposed) dispatch(storageFailed(failure));
  }

  // -------------------------------------------------------------------------------------------
  // Browser events

  function listen(target: BrowserHooks | undefined, type: string, listener: () => void) {
    if (!target) return;
    target.addEventListener(type, listener);
    browserListeners.push(() => target.removeEventListener(type, listener));
  }

  function attachBrowser() {
    listen(browser?.window, 'offline', () => {
      dispatch(networkWentOffline({ at: timers.now() }));
      clearTimer('retry');
    });
    listen(browser?.window, 'online', () => {
      dispatch(networkCameOnline({ at: timers.now() }));
      const current = state().connection;
      if (current.wanted && !socket && (current.status === 'reconnecting' || current.status === 'suspended')) openSocket();
    });
    const documentHooks = browser?.document;
    listen(documentHooks, 'visibilitychange', () => {
      if ((documentHooks?.visibilityState?.() ?? 'visible') === 'visible') probeLink();
    });
    // Save before the page goes away (reload, tab close).
    listen(browser?.window, 'pagehide', persist);
  }

  // -------------------------------------------------------------------------------------------
  // The middleware

  /**
   * A command's `requestedAt` is set again from the store's clock (`timers.now()`): the prepare
   * callback can only read Date.now(), while the outbox expires commands on the store's clock,
   * and two clocks would expire a command early, late or never.
   *
   * A command on a disposed store is a programming error (a store kept past a hot reload or an
   * unmount): it would change the state as if it ran (status 'connecting', a queued command)
   * with no socket behind it, so it fails loudly instead.
   */
  function stampCommand(action: UnknownAction): UnknownAction {
    if (disposed) {
      throw new Error(
        `canvas-realtime: ${action.type} refused: this store was disposed (dispose() closed its socket for good). Create a new store with createRealtimeStore().`,
      );
    }
    return { ...action, payload: { ...(action.payload as object), requestedAt: timers.now() } };
  }

  const middleware: Middleware<object, RealtimeState> = (storeApi) => {
    api = storeApi as typeof api;
    const stored = loadSession(storage, timers.now(), config.sessionTtlMs, config.queueTtlMs);
    // Dispatched on the next tick: the store is still being built while middleware is applied.
    queueMicrotask(() => {
      const failures = storageFailuresBeforeStart ?? [];
      storageFailuresBeforeStart = undefined;
      if (disposed) return;
      for (const failure of failures) dispatch(storageFailed(failure));
      if (!stored) return;
      dispatch(sessionLoaded({ ...stored, at: timers.now() }));
      boundOutbox('over queue.max when the stored session was loaded');
      if (state().connection.sessionReady) flushOutbox();
    });
    attachBrowser();

    return (next) => (action) => {
      const a = COMMAND_TYPES.has((action as UnknownAction).type) ? stampCommand(action as UnknownAction) : (action as UnknownAction);
      if (disposed) return next(a);
      const result = next(a);

      if (connect.match(a)) {
        if (!socket) openSocket();
      } else if (disconnect.match(a)) {
        closeForGood();
        if (a.payload.forgetSession) {
          clearSession(storage);
          savedRefs = [];
        }
      } else if (subscribeProject.match(a)) {
        if (state().connection.sessionReady) sendFrame(subscribeFrame(a.payload.projectId));
      } else if (unsubscribeProject.match(a)) {
        if (state().connection.sessionReady) sendFrame({ type: 'unsubscribe', project_id: a.payload.projectId });
      } else if (startGeneration.match(a) || cancelGeneration.match(a)) {
        const entry = state().outbox.entries.find((candidate) => candidate.commandId === a.payload.commandId);
        const encoded = entry ? encodeFrame(entry.frame) : { ok: false as const, reason: 'not queued' };
        if (!encoded.ok) {
          dispatch(commandInvalid({ commandId: a.payload.commandId, nodeId: a.payload.nodeId, reason: encoded.reason, at: timers.now() }));
        } else {
          // Sent first: only what the pacer (or a link that is down) holds back counts towards queue.max.
          flushOutbox();
          boundOutbox();
        }
      }
      if (!forgotten || !disconnect.match(a)) {
        if (disconnect.match(a) && a.payload.forgetSession) forgotten = true;
        else if (connect.match(a)) forgotten = false;
        if (!forgotten) schedulePersist();
      }
      return result;
    };
  };

  return {
    middleware,
    on: listeners.on,
    dispose() {
      if (disposed) return;
      // Leave as a disconnect that keeps the session: no retry is scheduled on the way out, the
      // status says disconnected (not reconnecting), and a hot reload resumes from storage.
      if (api && state().connection.wanted) dispatch(disconnect({ forgetSession: false }));
      else closeForGood();
      if (saveScheduled) persist();
      disposed = true;
      for (const name of Array.from(liveTimers.keys())) clearTimer(name);
      for (const remove of browserListeners.splice(0)) remove();
      listeners.clear();
      pending = [];
    },
    resources() {
      return {
        timers: liveTimers.size,
        browserListeners: browserListeners.length,
        frameListeners: listeners.count(),
        socket: socket !== undefined,
      };
    },
  };
}
