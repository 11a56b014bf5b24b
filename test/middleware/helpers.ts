/**
 * Test doubles for the socket middleware: a manual clock (the store's injectable `timers`), a
 * scriptable fake WebSocket for timing-heavy tests, fake browser event targets, an msw WebSocket
 * backend, and a store factory that records every action and every status it went through.
 */
import type { Middleware, UnknownAction } from '@reduxjs/toolkit';
import { ws } from 'msw';
import type { SetupServer } from 'msw/node';
import { vi } from 'vitest';
import {
  createMemoryStorage,
  createRealtimeStore,
  type BrowserHooks,
  type ConnectionStatus,
  type RealtimeStoreOptions,
  type SocketLike,
  type StorageLike,
  type Timers,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// Clock

interface PendingTimer {
  id: number;
  at: number;
  ms: number;
  callback: () => void;
}

/**
 * A manual clock. Time moves only when the test says so. `advance` fires due timers in order;
 * `jump` moves the wall clock without firing anything (a throttled background tab, a sleeping
 * laptop): the overdue timers then fire, late, at the next `advance`.
 */
export class FakeClock implements Timers {
  nowMs: number;
  private nextId = 1;
  private timers = new Map<number, PendingTimer>();
  /** Also move Date.now() (requires vi.useFakeTimers({ toFake: ['Date'] })). */
  syncDate = false;

  constructor(start = 1_700_000_000_000) {
    this.nowMs = start;
  }

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.nowMs + Math.max(0, ms), ms, callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  now = (): number => this.nowMs;

  /** Number of timers waiting to fire. */
  pending(): number {
    return this.timers.size;
  }

  /** The delays (as requested) of the timers waiting to fire. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }

  private setNow(ms: number) {
    this.nowMs = ms;
    if (this.syncDate) vi.setSystemTime(ms);
  }

  /** Moves time forward by `ms`, firing every timer that comes due, in due order. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= target && (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) next = timer;
      }
      if (!next) break;
      this.timers.delete(next.id);
      if (next.at > this.nowMs) this.setNow(next.at);
      next.callback();
    }
    this.setNow(Math.max(this.nowMs, target));
  }

  /** Moves the wall clock without firing timers. */
  jump(ms: number): void {
    this.setNow(this.nowMs + ms);
  }
}

// ---------------------------------------------------------------------------------------------
// Fake WebSocket

export interface FakeSocket extends SocketLike {
  readonly url: string;
  readonly protocols?: string | string[];
  readyState: number;
  /** Raw data written by the client. */
  sent: string[];
  /** Set when the client called close(). */
  closedWith?: { code?: number; reason?: string };
  /** Parsed frames written by the client. */
  frames(): Array<Record<string, unknown>>;
  types(): string[];
  /** The server accepts the connection. */
  open(): void;
  /** A frame from the server. */
  receive(frame: object | string): void;
  /** The connection closes (server, network): fires the close event. */
  serverClose(code: number, reason?: string): void;
}

/** A WebSocket class whose instances the test drives by hand. */
export function fakeWebSocket() {
  const sockets: FakeSocket[] = [];
  class Fake implements FakeSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    readyState = 0;
    binaryType = 'blob';
    sent: string[] = [];
    closedWith?: { code?: number; reason?: string };
    onopen: SocketLike['onopen'] = null;
    onclose: SocketLike['onclose'] = null;
    onmessage: SocketLike['onmessage'] = null;
    onerror: SocketLike['onerror'] = null;
    constructor(
      readonly url: string,
      readonly protocols?: string | string[],
    ) {
      sockets.push(this);
    }
    send(data: string) {
      if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
      this.sent.push(data);
    }
    close(code?: number, reason?: string) {
      this.closedWith = { code, reason };
      if (this.readyState < 2) this.readyState = 2;
    }
    frames() {
      return this.sent.map((data) => JSON.parse(data) as Record<string, unknown>);
    }
    types() {
      return this.frames().map((frame) => String(frame.type));
    }
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }
    receive(frame: object | string) {
      this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
    }
    serverClose(code: number, reason = '') {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  return {
    WebSocket: Fake as unknown as NonNullable<RealtimeStoreOptions['WebSocket']>,
    sockets,
    /** The most recent socket. */
    last(): FakeSocket {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was created');
      return socket;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browser hooks

export class FakeTarget implements BrowserHooks {
  private listeners = new Map<string, Set<() => void>>();
  visibility = 'visible';
  addEventListener(type: string, listener: () => void) {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }
  removeEventListener(type: string, listener: () => void) {
    this.listeners.get(type)?.delete(listener);
  }
  visibilityState = () => this.visibility;
  fire(type: string) {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener();
  }
  count(): number {
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }
}

export function fakeBrowser() {
  return { window: new FakeTarget(), document: new FakeTarget() };
}

// ---------------------------------------------------------------------------------------------
// Store

export const WS_URL = 'ws://127.0.0.1:65500/ws';

export interface TestStoreOptions extends RealtimeStoreOptions {
  clock?: FakeClock;
}

/**
 * A store with a fake clock, fixed randomness, memory storage, no browser hooks and no
 * auto-connect, that records every action and every distinct status it went through.
 */
export function makeStore(options: TestStoreOptions = {}) {
  const clock = options.clock ?? new FakeClock();
  const actions: UnknownAction[] = [];
  const recorder: Middleware = () => (next) => (action) => {
    actions.push(action as UnknownAction);
    return next(action);
  };
  const storage: StorageLike = options.storage ?? createMemoryStorage();
  let notifications = 0;
  const store = createRealtimeStore({
    url: WS_URL,
    autoConnect: false,
    devTools: false,
    random: () => 0.5,
    browser: null,
    ...options,
    storage,
    timers: options.timers ?? clock,
    middleware: [recorder, ...(options.middleware ?? [])],
  });
  const statuses: ConnectionStatus[] = [store.getState().connection.status];
  store.subscribe(() => {
    notifications += 1;
    const status = store.getState().connection.status;
    if (statuses.at(-1) !== status) statuses.push(status);
  });
  return {
    store,
    clock,
    storage,
    actions,
    statuses,
    notifications: () => notifications,
    status: () => store.getState().connection.status,
    connection: () => store.getState().connection,
    /** Actions of one type, in order. */
    of(type: string) {
      return actions.filter((action) => action.type === type);
    },
    /** Delays of every reconnectScheduled action. */
    retryDelays(): number[] {
      return actions
        .filter((action) => action.type === 'connection/reconnectScheduled')
        .map((action) => (action as unknown as { payload: { delayMs: number } }).payload.delayMs);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// msw backend

/** Lets msw's microtasks (open, messages, close) run, and fires zero-delay timers on the clock. */
export async function settle(clock?: FakeClock, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock?.advance(0);
  }
}

/** Settles until `predicate` holds; fails with `what` after a bounded number of rounds. */
export async function until(predicate: () => boolean, what: string, clock?: FakeClock): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await settle(clock, 1);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface BackendConnection {
  client: {
    send(data: string): void;
    close(code?: number, reason?: string): void;
  };
  /** Frames this connection received from the client, parsed. */
  received: Array<Record<string, unknown>>;
  closed: boolean;
  /** Sends a frame to the client. */
  push(frame: object): void;
}

export interface BackendBehavior {
  /** How to answer session.init: 'init', 'restored', or not at all (a story-only backend). */
  reply?: 'init' | 'restored' | 'none';
  instanceId?: string;
  capabilities?: string[];
  /** Ack every command (requires 'ack' in capabilities to make sense). */
  ack?: boolean;
}

/**
 * One msw link per URL (as in src/testing/recordedBackend.ts): each `ws.link()` adds a listener
 * to msw's one BroadcastChannel for good, and a file making a backend per test warned
 * MaxListenersExceededWarning.
 */
const links = new Map<string, ReturnType<typeof ws.link>>();

/**
 * An msw WebSocket backend on `url`. `behavior` is read at each event, so a test can change it
 * between connections (a restarted backend with a new instance id).
 */
export function mswBackend(server: SetupServer, url: string, behavior: BackendBehavior = {}) {
  let link = links.get(url);
  if (!link) links.set(url, (link = ws.link(url)));
  const connections: BackendConnection[] = [];
  server.use(
    link.addEventListener('connection', ({ client }) => {
      const connection: BackendConnection = {
        client,
        received: [],
        closed: false,
        push: (frame) => client.send(JSON.stringify(frame)),
      };
      connections.push(connection);
      client.addEventListener('close', () => {
        connection.closed = true;
      });
      client.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as Record<string, unknown>;
        connection.received.push(message);
        const reply = behavior.reply ?? 'init';
        if (message.type === 'session.init' && reply !== 'none') {
          connection.push({
            type: reply === 'restored' ? 'session.restored' : 'session.init',
            session_id: message.session_id,
            reconnect: message.reconnect,
            instance_id: behavior.instanceId ?? 'instance-1',
            capabilities: behavior.capabilities ?? [],
          });
        }
        if (behavior.ack && (message.type === 'start_generation' || message.type === 'cancel_generation')) {
          connection.push({ type: 'ack', command_id: message.command_id, status: 'accepted' });
        }
      });
    }),
  );
  return {
    behavior,
    connections,
    /** The most recent connection. */
    last(): BackendConnection {
      const connection = connections.at(-1);
      if (!connection) throw new Error('no connection reached the backend');
      return connection;
    },
    /** Every frame received, on every connection, in order. */
    wire(): Array<Record<string, unknown>> {
      return connections.flatMap((connection) => connection.received);
    },
    types(): string[] {
      return connections.flatMap((connection) => connection.received.map((frame) => String(frame.type)));
    },
    /** Closes the connection from the server side, after pending sends (msw drops them otherwise). */
    close(connection: BackendConnection, code: number, reason = '') {
      queueMicrotask(() => connection.client.close(code, reason));
    },
  };
}

export type MswBackend = ReturnType<typeof mswBackend>;
