/**
 * A small backend for integration tests: a real `ws` WebSocketServer on 127.0.0.1 that speaks
 * docs/PROTOCOL.md.
 *
 * - session.init -> session.init (unknown session) or session.restored (known session), with an
 *   instance_id and the configured capabilities. With no capabilities it is a story-only backend:
 *   it never answers session.init, never acks, puts no seq on events and never replays.
 * - subscribe / unsubscribe per project; `subscribe.last_seq` replays the project's history after
 *   that seq (with 'replay'); `replayOverlap` re-sends a few events before it too (a sloppy
 *   backend), which the client must drop as duplicates.
 * - publish(projectId, event) numbers the event in its project (`seq`, with 'seq'), stores it in
 *   the history and sends it to the sockets subscribed to the project.
 * - start_generation / cancel_generation are "executed" (recorded in `state.executed`) and, with
 *   'ack', acked by command_id; a command id seen before is acked `duplicate` and NOT executed
 *   again.
 * - system.heartbeat every `heartbeatMs`.
 * - Faults: terminate() (sockets die, the client sees 1006), close(1012) (graceful), halfOpen()
 *   (current sockets stop reading and answering but stay open), stop() (server gone).
 *
 * Everything that must survive a restart lives in `GatewayState`: pass `gateway.state` to the
 * next instance (on the same port) to model a backend whose history, sessions and command log are
 * in Redis; leave it out to model one that lost everything.
 */
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { createMemoryStorage, createRealtimeStore, type RealtimeStoreOptions } from '../../src/index.js';

export type Frame = { type: string; [key: string]: unknown };
export type GatewayCapability = 'ack' | 'seq' | 'replay';

export interface ExecutedCommand {
  command_id?: string;
  type: string;
  node_id?: string;
  instance_id: string;
}

/** What a backend keeps outside its process (Redis): survives a restart when passed on. */
export interface GatewayState {
  /** Events per project, in seq order (seq = index + 1 when numbered). */
  history: Map<string, Frame[]>;
  /** Known sessions and the projects they subscribed to. */
  sessions: Map<string, Set<string>>;
  /** Commands executed, in execution order. */
  executed: ExecutedCommand[];
  /** Command ids seen (the dedupe set). */
  seenCommands: Set<string>;
}

export function createGatewayState(): GatewayState {
  return { history: new Map(), sessions: new Map(), executed: [], seenCommands: new Set() };
}

/** What the test may do with one client connection from a hook. */
export interface GatewayConnection {
  readonly sessionId: string | undefined;
  send(frame: Frame): void;
  close(code: number, reason?: string): void;
  terminate(): void;
}

export interface MiniGatewayOptions {
  /** Port to listen on; 0 (default) picks a free one. Pass the old port to restart "in place". */
  port?: number;
  instanceId?: string;
  /** Default ['ack', 'seq', 'replay']; [] makes a story-only backend. */
  capabilities?: GatewayCapability[];
  /** Default 1000 ms; 0 sends none. */
  heartbeatMs?: number;
  /** State from a previous instance (a restart that kept Redis). */
  state?: GatewayState;
  /** Replay this many events before the client's last_seq as well (overlap). Default 0. */
  replayOverlap?: number;
  /**
   * Called after a command is executed (not for duplicates). Return 'no-ack' to swallow its ack
   * (e.g. to terminate the socket between execution and ack).
   */
  onCommand?: (command: Frame, connection: GatewayConnection, gateway: MiniGateway) => 'no-ack' | void;
}

interface Conn {
  ws: WebSocket;
  sessionId?: string;
  projects: Set<string>;
  frozen: boolean;
  api: GatewayConnection;
}

const COMMAND_TYPES = new Set(['start_generation', 'cancel_generation']);

export class MiniGateway {
  readonly state: GatewayState;
  readonly instanceId: string;
  readonly capabilities: readonly GatewayCapability[];
  /** Every frame clients sent to this instance, in arrival order (frozen sockets excluded). */
  readonly received: Frame[] = [];
  /** Connections accepted by this instance. */
  connectionCount = 0;

  private readonly conns = new Set<Conn>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = [];
  private connectionWaiters: Array<() => void> = [];

  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
    private readonly options: MiniGatewayOptions,
  ) {
    this.state = options.state ?? createGatewayState();
    this.instanceId = options.instanceId ?? `gw-${Math.random().toString(36).slice(2, 10)}`;
    this.capabilities = options.capabilities ?? ['ack', 'seq', 'replay'];
    wss.on('connection', (ws) => this.accept(ws));
    const every = options.heartbeatMs ?? 1000;
    if (every > 0) {
      this.heartbeat = setInterval(() => {
        for (const conn of this.conns) {
          if (!conn.frozen) this.sendTo(conn, { type: 'system.heartbeat', ...this.stamp(), server_time: Date.now(), ...this.instanceField() });
        }
      }, every);
    }
  }

  static async start(options: MiniGatewayOptions = {}): Promise<MiniGateway> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new MiniGateway(wss, (wss.address() as AddressInfo).port, options);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  has(capability: GatewayCapability): boolean {
    return this.capabilities.includes(capability);
  }

  /** How many times a command id was executed (across instances sharing the state). */
  executions(commandId: string): number {
    return this.state.executed.filter((command) => command.command_id === commandId).length;
  }

  /** The project's events, as stored. */
  history(projectId: string): Frame[] {
    return this.state.history.get(projectId) ?? [];
  }

  // -------------------------------------------------------------------------------------------
  // Publishing

  /** Numbers and stores an event of `projectId`, then sends it to the subscribed sockets. */
  publish(projectId: string, event: Frame): Frame {
    const history = this.state.history.get(projectId) ?? [];
    this.state.history.set(projectId, history);
    const frame: Frame = {
      ...event,
      ...this.stamp(),
      project_id: projectId,
      ...(this.has('seq') && { seq: history.length + 1 }),
    };
    history.push(frame);
    for (const conn of this.conns) if (!conn.frozen && conn.projects.has(projectId)) this.sendTo(conn, frame);
    return frame;
  }

  // -------------------------------------------------------------------------------------------
  // Waiting (deferreds, no sleeps)

  /** Resolves with the first frame (already received or future) that matches. */
  waitFor(type: string, predicate: (frame: Frame) => boolean = () => true): Promise<Frame> {
    const match = (frame: Frame) => frame.type === type && predicate(frame);
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Resolves once `count` connections in total were accepted by this instance. */
  async waitForConnections(count: number): Promise<void> {
    while (this.connectionCount < count) await new Promise<void>((resolve) => this.connectionWaiters.push(resolve));
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /** Kills every socket without a close frame: clients see 1006. The server keeps listening. */
  terminate(): void {
    for (const conn of this.conns) conn.ws.terminate();
    this.conns.clear();
  }

  /** Closes every socket with a close frame (1012 = service restart by default). */
  close(code = 1012, reason = 'service restart'): void {
    for (const conn of this.conns) conn.ws.close(code, reason);
    this.conns.clear();
  }

  /** Current sockets stop reading and answering (no heartbeats either) but stay open. */
  halfOpen(): void {
    for (const conn of this.conns) {
      conn.frozen = true;
      conn.ws.pause();
    }
  }

  /**
   * Stops the server: 'terminate' (default: the process died, 1006), or 'restart' (graceful
   * 1012 close first). Resolves when the port is free.
   */
  async stop(how: 'terminate' | 'restart' = 'terminate'): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const closing = [...this.wss.clients];
    if (how === 'restart') {
      this.close(1012, 'service restart');
      // Give clients the close handshake, then make sure nothing lingers.
      await Promise.race([
        Promise.all(closing.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))),
        new Promise((r) => setTimeout(r, 200)),
      ]);
    }
    for (const ws of this.wss.clients) ws.terminate();
    this.conns.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Protocol

  private stamp() {
    return { timestamp: new Date().toISOString() };
  }

  private instanceField() {
    return this.capabilities.length > 0 ? { instance_id: this.instanceId } : {};
  }

  private sendTo(conn: Conn, frame: Frame) {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(frame));
  }

  private accept(ws: WebSocket) {
    const conn: Conn = {
      ws,
      projects: new Set(),
      frozen: false,
      api: {
        get sessionId() {
          return conn.sessionId;
        },
        send: (frame) => this.sendTo(conn, frame),
        close: (code, reason) => ws.close(code, reason),
        terminate: () => ws.terminate(),
      },
    };
    this.conns.add(conn);
    this.connectionCount += 1;
    for (const wake of this.connectionWaiters.splice(0)) wake();
    ws.on('close', () => this.conns.delete(conn));
    ws.on('error', () => this.conns.delete(conn));
    ws.on('message', (data) => {
      if (conn.frozen) return;
      let frame: Frame;
      try {
        frame = JSON.parse(String(data)) as Frame;
      } catch {
        return;
      }
      this.received.push(frame);
      this.handle(conn, frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
  }

  private handle(conn: Conn, frame: Frame) {
    switch (frame.type) {
      case 'session.init':
        return this.onSessionInit(conn, frame);
      case 'subscribe':
        return this.onSubscribe(conn, String(frame.project_id), typeof frame.last_seq === 'number' ? frame.last_seq : undefined);
      case 'unsubscribe':
        conn.projects.delete(String(frame.project_id));
        if (conn.sessionId) this.state.sessions.get(conn.sessionId)?.delete(String(frame.project_id));
        return;
      default:
        if (COMMAND_TYPES.has(frame.type)) this.onCommand(conn, frame);
    }
  }

  private onSessionInit(conn: Conn, frame: Frame) {
    const sessionId = String(frame.session_id);
    conn.sessionId = sessionId;
    const known = this.state.sessions.get(sessionId);
    if (!known) this.state.sessions.set(sessionId, new Set());
    if (this.capabilities.length === 0) return; // story-only: never answers
    this.sendTo(conn, {
      type: known ? 'session.restored' : 'session.init',
      ...this.stamp(),
      session_id: sessionId,
      reconnect: Boolean(known),
      instance_id: this.instanceId,
      capabilities: [...this.capabilities],
      resume_token: `rt-${sessionId}`,
      ...(known && { subscriptions: [...known] }),
    });
  }

  private onSubscribe(conn: Conn, projectId: string, lastSeq: number | undefined) {
    if (conn.sessionId) this.state.sessions.get(conn.sessionId)?.add(projectId);
    if (this.has('replay') && lastSeq !== undefined) {
      const from = Math.max(0, lastSeq - (this.options.replayOverlap ?? 0));
      for (const event of this.history(projectId).slice(from)) this.sendTo(conn, event);
    }
    // Live events only after the replay: one thread, so nothing can slip in between.
    conn.projects.add(projectId);
  }

  private onCommand(conn: Conn, frame: Frame) {
    const commandId = typeof frame.command_id === 'string' ? frame.command_id : undefined;
    const dedupe = this.has('ack') && commandId !== undefined;
    if (dedupe && this.state.seenCommands.has(commandId)) {
      this.sendTo(conn, { type: 'ack', ...this.stamp(), command_id: commandId, status: 'duplicate' });
      return;
    }
    if (dedupe) this.state.seenCommands.add(commandId);
    this.state.executed.push({
      command_id: commandId,
      type: frame.type,
      node_id: typeof frame.node_id === 'string' ? frame.node_id : undefined,
      instance_id: this.instanceId,
    });
    const verdict = this.options.onCommand?.(frame, conn.api, this);
    if (verdict !== 'no-ack' && dedupe) {
      this.sendTo(conn, { type: 'ack', ...this.stamp(), command_id: commandId, status: 'accepted' });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting on a store without sleeping

interface Observable<S> {
  getState(): S;
  subscribe(listener: () => void): () => void;
}

/**
 * Resolves with the state once `predicate` holds (checked now and after every dispatch). The
 * timeout is a safety net that names what was awaited, not a delay.
 */
export function waitForState<S>(store: Observable<S>, predicate: (state: S) => boolean, what = 'state', timeoutMs = 5_000): Promise<S> {
  return new Promise((resolve, reject) => {
    if (predicate(store.getState())) return resolve(store.getState());
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => {
      if (!predicate(store.getState())) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(store.getState());
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A client for these tests: `ws` as the WebSocket, memory storage, short timers.

export function createTestStore(url: string, options: Partial<RealtimeStoreOptions> = {}) {
  return createRealtimeStore({
    url,
    WebSocket,
    storage: createMemoryStorage(),
    browser: null,
    autoConnect: false,
    devTools: false,
    backoff: { initialMs: 10, maxMs: 40 },
    heartbeat: { intervalMs: 100, timeoutMs: 1_000 },
    // Long enough that a loaded machine never mistakes this backend for a story-only one (the
    // client then treats writes as delivered); story-only tests pass a short one.
    sessionReplyTimeoutMs: 2_000,
    ...options,
  });
}
