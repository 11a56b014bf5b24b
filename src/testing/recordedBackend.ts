/**
 * A recorded backend for your own tests: an msw WebSocket handler that plays a recorded frame
 * log to the client, the way the real backend would after the client connects.
 *
 *   const backend = createRecordedBackend({ url: 'ws://localhost:8000/ws', frames: jsonl });
 *   const server = setupServer(backend.handler);
 *   server.listen();
 *   store.dispatch(connect());
 *   await backend.waitFor('subscribe');
 *   await backend.played;
 *
 * What it does on each connection:
 * - answers the client's `session.init` with `session.init` (first time) or `session.restored`
 *   (a session id it has seen), announcing `capabilities` (unless `replyToSessionInit: false`:
 *   a story-only backend that never answers);
 * - acks every command that carries a `command_id` when `ack` is announced (`duplicate` for an id
 *   it has seen before);
 * - on the first connection, plays the log once the session is up (or after the first client
 *   frame of type `startAfter`). The log's own session and ack frames are skipped: they belong to
 *   the recorded session and its command ids, and the backend answers the live ones itself. A
 *   line that is not a JSON object (a recorded bad frame) is sent exactly as recorded;
 * - records every frame the client sent in `sent`.
 *
 * Needs msw 2 (an optional peer dependency of this package) and a global WebSocket for msw to
 * intercept: in Node 20 run with `--experimental-websocket` (vitest: `test.execArgv`) or use a
 * jsdom/happy-dom environment. The store must look the WebSocket up at connect time (the default):
 * msw replaces it in `server.listen()`.
 */
import { ws, type WebSocketHandler } from 'msw';
import { CAPABILITIES, type Capability } from '../protocol/index.js';

/** A frame the client sent: parsed JSON (or the raw text when it was not JSON). */
export type SentFrame = { type: string; [key: string]: unknown };

export interface RecordedBackendOptions {
  /** The WebSocket URL the client connects to (an msw path: string with wildcards, or RegExp). */
  url: string | RegExp;
  /** The recorded log: JSONL text, or an array of frames (objects, or raw text sent as is). */
  frames: string | ReadonlyArray<object | string>;
  /**
   * Capabilities announced in the session reply. Default: those of the log's own session frame,
   * else none (a backend that speaks only the story's frames).
   */
  capabilities?: readonly Capability[];
  /**
   * Whether project frames carry `seq`. Default: whether `seq` is announced. true keeps recorded
   * seq values and numbers project frames that have none; false strips them.
   */
  seq?: boolean;
  /** Answer session.init. Default true; false is a story-only backend that never answers. */
  replyToSessionInit?: boolean;
  /** instance_id of the session reply. Default: the log's, else 'recorded-backend'. */
  instanceId?: string;
  /** Play the log after the first client frame of this type (e.g. 'start_generation'). Default: once the session is up. */
  startAfter?: string;
  /** Milliseconds between frames; default 0 (the whole log in one go). */
  intervalMs?: number;
  /** Close the connection with this code once the log is played (e.g. 1012). */
  closeAfter?: number;
}

export interface RecordedBackend {
  /** The msw handler: `setupServer(backend.handler)` or `server.use(backend.handler)`. */
  readonly handler: WebSocketHandler;
  /** Every frame the client sent, in order, across connections. */
  readonly sent: SentFrame[];
  /** How many connections the backend accepted. */
  readonly connections: number;
  /** Resolves once the log has been played (on the first connection). */
  readonly played: Promise<void>;
  /** Resolves with the first frame of `type` the client sent (already, or later). */
  waitFor(type: string, options?: { predicate?: (frame: SentFrame) => boolean; timeoutMs?: number }): Promise<SentFrame>;
  /** Forgets what was sent and seen, so the next connection plays the log again. */
  reset(): void;
}

type LogLine = { raw: string } | { frame: Record<string, unknown> };

function toLines(frames: RecordedBackendOptions['frames']): LogLine[] {
  const items: Array<object | string> =
    typeof frames === 'string' ? frames.split(/\r?\n/).filter((line) => line.trim().length > 0) : [...frames];
  return items.map((item) => {
    if (typeof item !== 'string') return { frame: { ...(item as Record<string, unknown>) } };
    try {
      const parsed: unknown = JSON.parse(item);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return { frame: parsed as Record<string, unknown> };
    } catch {
      // not JSON: a recorded bad frame, sent as is
    }
    return { raw: item };
  });
}

const isSession = (type: unknown) => type === 'session.init' || type === 'session.restored';

function decode(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return undefined;
}

/**
 * One msw link per URL, shared by every backend on it: each `ws.link()` adds a listener to msw's
 * one BroadcastChannel and never removes it, so a suite making a backend per test warned
 * MaxListenersExceededWarning from the eleventh on. A link holds no backend's state: each
 * backend adds its own handler to it.
 */
const links = new Map<string | RegExp, ReturnType<typeof ws.link>>();

function linkFor(url: string | RegExp): ReturnType<typeof ws.link> {
  let link = links.get(url);
  if (!link) links.set(url, (link = ws.link(url)));
  return link;
}

export function createRecordedBackend(options: RecordedBackendOptions): RecordedBackend {
  const lines = toLines(options.frames);
  const recordedSession = lines.find((line) => 'frame' in line && isSession(line.frame.type));
  const recorded = recordedSession && 'frame' in recordedSession ? recordedSession.frame : undefined;
  const capabilities: Capability[] = [
    ...(options.capabilities ??
      (Array.isArray(recorded?.capabilities)
        ? (recorded.capabilities as unknown[]).filter((name): name is Capability => (CAPABILITIES as readonly unknown[]).includes(name))
        : [])),
  ];
  const acks = capabilities.includes('ack');
  const withSeq = options.seq ?? capabilities.includes('seq');
  const instanceId = options.instanceId ?? (typeof recorded?.instance_id === 'string' ? recorded.instance_id : 'recorded-backend');
  const replies = options.replyToSessionInit ?? true;

  /** The log as it goes on the wire: session and ack frames out, seq as configured. */
  function playlist(): string[] {
    const next = new Map<string, number>();
    const out: string[] = [];
    for (const line of lines) {
      if ('raw' in line) {
        out.push(line.raw);
        continue;
      }
      const frame = { ...line.frame };
      if (isSession(frame.type) || frame.type === 'ack') continue;
      const project = typeof frame.project_id === 'string' ? frame.project_id : undefined;
      if (!withSeq) delete frame.seq;
      else if (project !== undefined) {
        if (typeof frame.seq === 'number') next.set(project, frame.seq + 1);
        else {
          frame.seq = next.get(project) ?? 1;
          next.set(project, (frame.seq as number) + 1);
        }
      }
      out.push(JSON.stringify(frame));
    }
    return out;
  }

  const sent: SentFrame[] = [];
  const sessions = new Set<string>();
  const commands = new Set<string>();
  const waiters: Array<{ match: (frame: SentFrame) => boolean; resolve: (frame: SentFrame) => void }> = [];
  let connections = 0;
  let started = false;
  let resolvePlayed!: () => void;
  let played = new Promise<void>((resolve) => (resolvePlayed = resolve));

  function record(frame: SentFrame) {
    sent.push(frame);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (!waiters[i]!.match(frame)) continue;
      waiters[i]!.resolve(frame);
      waiters.splice(i, 1);
    }
  }

  const link = linkFor(options.url);
  const handler = link.addEventListener('connection', ({ client }) => {
    connections += 1;
    const first = connections === 1 && !started;

    function play() {
      if (started || !first) return;
      started = true;
      const frames = playlist();
      const finish = () => {
        resolvePlayed();
        // client.send is delivered in a microtask and dropped once closing: close after it.
        if (options.closeAfter !== undefined) setTimeout(() => client.close(options.closeAfter), 0);
      };
      const interval = options.intervalMs ?? 0;
      if (interval <= 0) {
        for (const data of frames) client.send(data);
        finish();
        return;
      }
      let index = 0;
      const tick = () => {
        if (index >= frames.length) return finish();
        client.send(frames[index++]!);
        setTimeout(tick, interval);
      };
      tick();
    }

    client.addEventListener('message', (event) => {
      const text = decode(event.data);
      let frame: SentFrame;
      try {
        frame = JSON.parse(text ?? '') as SentFrame;
      } catch {
        frame = { type: '(not json)', raw: text };
      }
      record(frame);

      if (frame.type === 'session.init' && typeof frame.session_id === 'string') {
        const known = sessions.has(frame.session_id);
        sessions.add(frame.session_id);
        if (replies) {
          client.send(
            JSON.stringify({
              type: known ? 'session.restored' : 'session.init',
              timestamp: new Date().toISOString(),
              session_id: frame.session_id,
              reconnect: known,
              instance_id: instanceId,
              capabilities,
            }),
          );
        }
      }
      if (acks && typeof frame.command_id === 'string') {
        const duplicate = commands.has(frame.command_id);
        commands.add(frame.command_id);
        client.send(
          JSON.stringify({ type: 'ack', timestamp: new Date().toISOString(), command_id: frame.command_id, status: duplicate ? 'duplicate' : 'accepted' }),
        );
      }
      // A macrotask later, so that the client handles the session reply (and subscribes) before
      // the log arrives, as with a real backend.
      if (frame.type === (options.startAfter ?? 'session.init')) setTimeout(play, 0);
    });
  });

  return {
    handler,
    sent,
    get connections() {
      return connections;
    },
    get played() {
      return played;
    },
    waitFor(type, { predicate = () => true, timeoutMs = 5_000 } = {}) {
      const match = (frame: SentFrame) => frame.type === type && predicate(frame);
      const seen = sent.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.findIndex((waiter) => waiter.resolve === done);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`The client sent no "${type}" within ${timeoutMs} ms (it sent: ${sent.map((f) => f.type).join(', ') || 'nothing'})`));
        }, timeoutMs);
        const done = (frame: SentFrame) => {
          clearTimeout(timer);
          resolve(frame);
        };
        waiters.push({ match, resolve: done });
      });
    },
    reset() {
      sent.length = 0;
      sessions.clear();
      commands.clear();
      connections = 0;
      started = false;
      played = new Promise<void>((resolve) => (resolvePlayed = resolve));
    },
  };
}
