/**
 * Helpers for the reference backend's tests: raw `ws` clients that record every frame and their
 * close code, a cleanup stack, and event-driven waits (no fixed sleeps).
 */
import WebSocket from 'ws';
import { createMemoryBus, type MemoryBusOptions } from '../../server/bus/memoryBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../server/gateway.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = Record<string, any> & { type: string };

const DEFAULT_TIMEOUT = 5_000;

/** Registered cleanups, run in reverse order by `runCleanups` (call it from afterEach). */
export function cleanupStack() {
  const cleanups: Array<() => unknown> = [];
  return {
    add<T extends () => unknown>(cleanup: T) {
      cleanups.push(cleanup);
    },
    async run() {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** A raw `ws` client that records every frame it receives and how the socket closed. */
export class RawClient {
  readonly frames: Frame[] = [];
  /** Index of the next frame `next()` looks at. */
  private cursor = 0;
  private listeners = new Set<() => void>();
  closeInfo?: { code: number; reason: string };
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.notify();
      });
    });
    ws.on('error', () => {});
  }

  static open(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  private notify() {
    for (const listener of Array.from(this.listeners)) listener();
  }

  send(frame: Frame | string | Buffer) {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Waits until `check` returns a value (not undefined), re-checking on every frame and on close. */
  waitUntil<T>(check: () => T | undefined, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value === undefined) return false;
        this.listeners.delete(attempt);
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.listeners.delete(attempt);
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`));
      }, timeoutMs);
      if (attempt()) return;
      this.listeners.add(attempt);
    });
  }

  /** The next frame (after the previous `next`) matching the predicate; moves past it. */
  next(predicate: ((frame: Frame) => boolean) | string, what?: string): Promise<Frame> {
    const match = typeof predicate === 'string' ? (frame: Frame) => frame.type === predicate : predicate;
    return this.waitUntil(() => {
      for (let i = this.cursor; i < this.frames.length; i++) {
        if (match(this.frames[i]!)) {
          this.cursor = i + 1;
          return this.frames[i];
        }
      }
      return undefined;
    }, what ?? (typeof predicate === 'string' ? predicate : 'a frame'));
  }

  /** Sends a ping and waits for its system.heartbeat: every frame sent before it was handled. */
  async barrier(): Promise<void> {
    const before = this.frames.length;
    this.send({ type: 'ping' });
    await this.waitUntil(() => (this.frames.slice(before).some((f) => f.type === 'system.heartbeat') ? true : undefined), 'ping reply');
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Events of a project (frames carrying a seq). */
  events(projectId: string): Frame[] {
    return this.frames.filter((frame) => frame.project_id === projectId && typeof frame.seq === 'number');
  }

  waitForClose(): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, 'the socket to close');
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

export function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    }),
  ]);
}

/** Resolves once `check` is true, polling on the macrotask queue (for states with no event). */
export async function eventually(check: () => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits for bus events until `check` over everything seen so far returns a value. */
export function collectBus(bus: EventBus) {
  const events: Array<{ project_id: string; seq: number; frame: Frame }> = [];
  const waiters = new Set<() => void>();
  const unsubscribe = bus.subscribe((event) => {
    events.push(event as (typeof events)[number]);
    for (const waiter of Array.from(waiters)) waiter();
  });
  return {
    events,
    unsubscribe,
    until<T>(check: (seen: typeof events) => T | undefined, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
      return new Promise((resolve, reject) => {
        const attempt = () => {
          const value = check(events);
          if (value === undefined) return false;
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(value);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(attempt);
          reject(new Error(`timed out waiting for ${what}; saw ${events.length} events`));
        }, timeoutMs);
        if (attempt()) return;
        waiters.add(attempt);
      });
    },
  };
}

export interface TestGateway {
  gateway: Gateway;
  bus: EventBus;
  url: string;
  /** Opens a raw client; closed by the cleanup stack. */
  connect(): Promise<RawClient>;
  /** Opens a client and runs session.init; returns the client and the server's reply. */
  session(init?: Partial<Frame>): Promise<{ client: RawClient; reply: Frame }>;
}

/**
 * A gateway on 127.0.0.1 (free port) over `bus` (default: a new memory bus). Stopped (terminate,
 * unless the test already stopped it) and its clients closed by `cleanups`.
 */
export async function startGateway(
  cleanups: ReturnType<typeof cleanupStack>,
  options: Partial<GatewayOptions> & { memory?: MemoryBusOptions } = {},
): Promise<TestGateway> {
  const { memory, ...gatewayOptions } = options;
  const bus = gatewayOptions.bus ?? createMemoryBus(memory);
  const gateway = createGateway({ ...gatewayOptions, bus, host: '127.0.0.1', port: 0 });
  await gateway.ready;
  let stopped = false;
  const stop = gateway.terminate.bind(gateway);
  const shutdown = gateway.shutdown.bind(gateway);
  gateway.terminate = () => ((stopped = true), stop());
  gateway.shutdown = (reason?: string) => ((stopped = true), shutdown(reason));
  cleanups.add(async () => {
    if (!gatewayOptions.bus) await bus.close();
  });
  cleanups.add(() => (stopped ? undefined : gateway.terminate()));
  const url = `ws://127.0.0.1:${gateway.port()}`;
  let sessionCount = 0;
  const connect = async () => {
    const client = await RawClient.open(url);
    cleanups.add(() => client.close());
    return client;
  };
  return {
    gateway,
    bus,
    url,
    connect,
    async session(init = {}) {
      const client = await connect();
      client.send({ type: 'session.init', session_id: `client-${++sessionCount}`, reconnect: false, ...init });
      const reply = await client.next((f) => f.type === 'session.init' || f.type === 'session.restored', 'session reply');
      return { client, reply };
    },
  };
}

/**
 * Publishes one generation run that completes with a take (`take-<taskId>`): generation.started,
 * one task.progress with `progress` (its state and fields), generation.completed.
 */
export async function publishCompletedRun(
  bus: EventBus,
  run: { projectId: string; nodeId: string; taskId: string; progress: Record<string, unknown> & { state: string } },
): Promise<void> {
  const { projectId, nodeId, taskId } = run;
  await bus.publish(projectId, { type: 'generation.started', node_id: nodeId, task_id: taskId });
  await bus.publish(projectId, { type: 'task.progress', node_id: nodeId, task_id: taskId, ...run.progress });
  await bus.publish(projectId, {
    type: 'generation.completed',
    node_id: nodeId,
    task_id: taskId,
    output_path: `/media/${taskId}.png`,
    takes: [{ id: `take-${taskId}`, take_number: 1, path: `/media/${taskId}.png`, created_at: '2026-01-01T00:00:00.000Z' }],
  });
}
