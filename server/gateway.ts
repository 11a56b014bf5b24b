/**
 * The reference gateway: speaks docs/PROTOCOL.md to canvas clients over WebSocket, on top of an
 * event bus (in memory, or Redis for several instances). It imports the wire contract from
 * src/protocol and, for the project state it keeps (server/state/), the reducers of src/slices.
 *
 * - session.init -> session.init (new) or session.restored (known session and valid resume
 *   token), with this instance's id and capabilities ack, seq, replay, snapshot, task_status.
 * - query_tasks -> one task.status per id (UNKNOWN for a task it never heard of).
 * - cancel_generation of a node with no running run -> answered to that client (never silence).
 * - subscribe { project_id, last_seq? } -> a project.snapshot (no last_seq, or one it cannot replay:
 *   server/state/) then live events; else replays history after last_seq (a replay.gap when
 *   history was trimmed), then live events; each event carries its project's seq.
 * - start_generation / cancel_generation -> published on the bus's command channel (to the
 *   workers: the pipeline simulator, in this process or another), then acked by command_id,
 *   deduplicated: a resent command is acked `duplicate` and not run again.
 * - ping -> system.heartbeat; a system.heartbeat to every client on an interval.
 * - bad input (not JSON, unknown type, invalid fields) -> an `error` frame; oversized frames -> a
 *   policy close (1009); floods -> 4429 (rate limited: the client comes back after a backoff);
 *   everyone else keeps being served.
 * - shutdown: system.shutdown to everyone, then close 1012 (service restart).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  OUTBOUND_SCHEMAS,
  SERVER_CLOSE,
  describeIssues,
  type OutboundFrame,
  type OutboundFrameOf,
} from '../src/protocol/index.js';
import type { BusEvent, EventBus, SessionRecord } from './bus/types.js';
import { getEntity, type NodeRecord } from '../src/slices/index.js';
import { createProjectStates, type ProjectStates } from './state/projectStates.js';
import { buildSnapshot, buildTaskStatus } from './state/snapshot.js';

export interface CommandContext {
  sessionId: string;
  /** The project the command names, else the session's first subscription, else 'default'. */
  projectId: string;
  /** On a cancel: the node's running task as the gateway knows it (see BusCommand). */
  runningTaskId?: string;
}

export interface GatewayOptions {
  bus: EventBus;
  /** Attach to this HTTP server (upgrade on `path`); else listen on host:port. */
  server?: Server;
  /**
   * Attach to no server: the caller routes HTTP upgrades to `gateway.handleUpgrade` (so one
   * HTTP server can swap gateways on restart). `path`, when given, is still checked.
   */
  noServer?: boolean;
  host?: string;
  port?: number;
  path?: string;
  instanceId?: string;
  heartbeatMs?: number;
  /**
   * A client silent this long (no frame, no answer to the WebSocket pings sent with each
   * heartbeat) is terminated: a half-open link would otherwise keep its subscriptions, and have
   * every event written to it, forever. Default 3 x heartbeatMs.
   */
  clientTimeoutMs?: number;
  sessionTtlMs?: number;
  /** Frames larger than this close the socket with 1009. Default 256 KiB. */
  maxPayloadBytes?: number;
  /**
   * More than this many frames per second from one client closes it with 4429 (rate limited), a
   * code clients retry after a backoff: an over-eager client is not a broken one. Default 200.
   */
  maxFramesPerSecond?: number;
  /**
   * Publish accepted commands on the bus's command channel (`bus.publishCommand`), where workers
   * listen (`bus.onCommand`). Default true.
   */
  publishCommands?: boolean;
  /** Also runs an accepted command in this process (the pipeline simulator, or a Celery bridge). */
  onCommand?: (frame: OutboundFrameOf<'start_generation'> | OutboundFrameOf<'cancel_generation'>, context: CommandContext) => void;
  /**
   * Announce and serve the `snapshot` extension (project.snapshot on subscribe) and the
   * `task_status` extension (query_tasks -> task.status). Both default true; off, the gateway
   * speaks the protocol of a backend without them (replay.gap for a history it cannot replay).
   */
  snapshot?: boolean;
  taskStatus?: boolean;
  log?: (message: string) => void;
}

export const NOTHING_TO_CANCEL = 'Nothing to cancel: no run of this node is known';

export interface Gateway {
  instanceId: string;
  /** The port it listens on (after `ready`). */
  port(): number;
  ready: Promise<void>;
  clientCount(): number;
  /** Graceful: system.shutdown, then close every client with 1012. */
  shutdown(reason?: string): Promise<void>;
  /** Abrupt: terminate every socket (clients see 1006), as a killed process would. */
  terminate(): Promise<void>;
  /** What the gateway knows of each project (snapshots, task status, cancels). */
  projectStates: ProjectStates;
  /** With `noServer`: hands an HTTP upgrade to this gateway (refused once it is shutting down). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** One project a client is subscribed to: the last seq sent, and live events held back while its history is read. */
interface Subscription {
  lastSent: number;
  buffering: BusEvent[] | undefined;
}

interface Client {
  ws: WebSocket;
  /** Last frame or pong from the client. */
  lastSeenAt: number;
  sessionId?: string;
  session?: SessionRecord;
  subscriptions: Map<string, Subscription>;
  frameTimes: number[];
  /** Frames of this client, and resyncs, are handled in order, one after another. */
  chain: Promise<void>;
  /**
   * Where the client said it was (session.init last_seq) when it got a new session: a lost or
   * expired session must not lose events silently, so its subscribes start from there.
   * `lostStream`: its old session was issued on a data set the bus has since lost.
   */
  claimed?: { positions: Record<string, number>; lostStream: boolean };
}

const HISTORY_PAGE = 5_000;
/** Session ids this gateway issues: `s-<the bus's incarnation>-<random>`. */
const SESSION_ID = /^s-([0-9a-f]{12})-[0-9a-f]{18}$/;

export function createGateway(options: GatewayOptions): Gateway {
  const bus = options.bus;
  const instanceId = options.instanceId ?? `gw-${randomBytes(4).toString('hex')}`;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const clientTimeoutMs = options.clientTimeoutMs ?? 3 * heartbeatMs;
  const sessionTtlMs = options.sessionTtlMs ?? 24 * 60 * 60_000;
  const maxFramesPerSecond = options.maxFramesPerSecond ?? 200;
  const log = options.log ?? (() => {});
  const clients = new Set<Client>();
  const serveSnapshots = options.snapshot !== false;
  const serveTaskStatus = options.taskStatus !== false;
  const capabilities = ['ack', 'seq', 'replay', ...(serveSnapshots ? ['snapshot'] : []), ...(serveTaskStatus ? ['task_status'] : [])];

  const maxPayload = options.maxPayloadBytes ?? 256 * 1024;
  const wss = options.server
    ? new WebSocketServer({ server: options.server, path: options.path ?? '/ws', maxPayload })
    : options.noServer
      ? new WebSocketServer({ noServer: true, path: options.path, maxPayload })
      : new WebSocketServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, path: options.path, maxPayload });
  /** Set when shutdown or terminate starts: new connections are turned away from then on. */
  let shuttingDown = false;

  const ready = options.server || options.noServer
    ? Promise.resolve()
    : new Promise<void>((resolve, reject) => {
        wss.once('listening', resolve);
        wss.once('error', reject);
      });

  function send(client: Client, frame: Record<string, unknown>) {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(frame));
  }

  function sendError(client: Client, code: string, message: string, commandId?: string) {
    send(client, { type: 'error', code, message, ...(commandId && { command_id: commandId }), timestamp: new Date().toISOString() });
  }

  const projectStates = createProjectStates({ bus, log });

  const unsubscribeBus = bus.subscribe((event) => {
    projectStates.observe(event);
    for (const client of clients) {
      const sub = client.subscriptions.get(event.project_id);
      if (!sub) continue;
      if (sub.buffering) sub.buffering.push(event);
      else deliver(client, sub, event);
    }
  });

  function enqueue(client: Client, task: () => Promise<void>) {
    client.chain = client.chain.then(task).catch((error: unknown) => {
      log(`gateway: error handling a frame: ${(error as Error).message}`);
      sendError(client, 'internal', 'the gateway could not handle this frame');
    });
  }

  // The bus lost its data (Redis restarted empty): the numbering starts again at 1, and what each
  // client was sent belongs to the old one. Each subscription gets a replay.gap that moves the
  // client onto the new numbering (docs/PROTOCOL.md: to_seq may be lower than from_seq), and the
  // client's session is written again so that its next reconnect resumes it.
  const offReset = bus.onReset?.(() => {
    log('gateway: the bus lost its data; moving every subscription onto the new numbering');
    projectStates.reset();
    for (const client of clients) enqueue(client, () => resync(client));
  });

  // The live feed was interrupted (Redis pub/sub reconnected): events published meanwhile were
  // never delivered live. Each subscription buffers live events from now on, catches up from
  // history after what it was sent, then delivers the buffer.
  const offReconnect = bus.onReconnect?.(() => {
    projectStates.resync();
    for (const client of clients) {
      const projects = Array.from(client.subscriptions, ([projectId, sub]) => {
        sub.buffering ??= [];
        return projectId;
      });
      enqueue(client, async () => {
        for (const projectId of projects) {
          const sub = client.subscriptions.get(projectId);
          if (sub) await catchUp(client, projectId, sub);
        }
      });
    }
  });

  async function catchUp(client: Client, projectId: string, sub: Subscription) {
    await replayHistory(client, projectId, sub, sub.lastSent, true);
    flushBuffered(client, sub);
  }

  /**
   * Sends the project's history after `after`, page by page. With `reportTrim`, a history that no
   * longer reaches back to `after` (trimmed) is announced first with a replay.gap.
   */
  async function replayHistory(client: Client, projectId: string, sub: Subscription, after: number, reportTrim: boolean) {
    for (let first = true; ; first = false) {
      const page = await bus.history(projectId, after, HISTORY_PAGE);
      if (first && reportTrim && page.oldestAvailable !== undefined) {
        send(client, { type: 'replay.gap', project_id: projectId, from_seq: after + 1, to_seq: page.oldestAvailable - 1, timestamp: new Date().toISOString() });
      }
      for (const event of page.events) deliver(client, sub, event);
      if (page.events.length < HISTORY_PAGE) break;
      after = page.events[page.events.length - 1]!.seq;
    }
  }

  /** Live events held back while the history was read, now delivered (duplicates skipped). */
  function flushBuffered(client: Client, sub: Subscription) {
    const buffered = sub.buffering ?? [];
    sub.buffering = undefined;
    for (const event of buffered) deliver(client, sub, event);
  }

  async function resync(client: Client) {
    for (const [projectId, sub] of client.subscriptions) {
      const current = await bus.lastSeq(projectId);
      send(client, { type: 'replay.gap', project_id: projectId, from_seq: sub.lastSent + 1, to_seq: current, timestamp: new Date().toISOString() });
      sub.lastSent = Math.max(current, 0);
    }
    if (client.session) await bus.putSession({ ...client.session, subscriptions: Array.from(client.subscriptions.keys()) }, sessionTtlMs);
  }

  function deliver(client: Client, sub: Subscription, event: BusEvent) {
    if (event.seq <= sub.lastSent) return;
    sub.lastSent = event.seq;
    send(client, event.frame);
  }

  async function subscribe(client: Client, projectId: string, lastSeq: number | undefined, lostStream = false) {
    const existing = client.subscriptions.get(projectId);
    if (existing && lastSeq === undefined) return;
    // Buffer live events while the history is read, so none falls between the two.
    const sub: Subscription = { lastSent: lastSeq ?? 0, buffering: [] };
    client.subscriptions.set(projectId, sub);
    if (serveSnapshots) {
      const current = await bus.lastSeq(projectId);
      // A client with no state for the project, a position in a lost numbering or above the
      // stream's end (a reset), or one older than the history reaches: the project's state.
      const needsSnapshot =
        lastSeq === undefined || lostStream || lastSeq > current || (await bus.history(projectId, lastSeq, 1)).oldestAvailable !== undefined;
      if (needsSnapshot) {
        await sendSnapshot(client, projectId, sub);
      } else {
        await replayHistory(client, projectId, sub, lastSeq, true);
      }
    } else if (lastSeq === undefined) {
      // A fresh subscription starts from now.
      sub.lastSent = await bus.lastSeq(projectId);
    } else {
      const current = await bus.lastSeq(projectId);
      const reset = lastSeq > current || lostStream;
      if (reset) {
        // The stream was reset (history and numbering lost): tell the client to start over.
        send(client, { type: 'replay.gap', project_id: projectId, from_seq: (lostStream ? lastSeq : current) + 1, to_seq: current, timestamp: new Date().toISOString() });
        sub.lastSent = current;
      }
      // After a reset the gap above already told the client; otherwise a trimmed history is news.
      await replayHistory(client, projectId, sub, reset ? current : lastSeq, !reset);
    }
    flushBuffered(client, sub);
  }

  /**
   * The project's state as of its last event (at_seq), then the events after it: the state is
   * read after the subscription started buffering live events, so every event is either in the
   * snapshot (seq <= at_seq, skipped by deliver) or delivered after it.
   */
  async function sendSnapshot(client: Client, projectId: string, sub: Subscription) {
    const project = await projectStates.read(projectId);
    send(client, buildSnapshot(projectId, project));
    sub.lastSent = project.atSeq;
    // Published between the state's read and now, and not in the buffer (it started before).
    await replayHistory(client, projectId, sub, project.atSeq, false);
  }

  /** One task.status per asked id, from the states of the projects the client may mean. */
  async function answerTaskQuery(client: Client, frame: OutboundFrameOf<'query_tasks'>) {
    const projectIds = frame.project_id !== undefined ? [frame.project_id] : [];
    for (const projectId of client.subscriptions.keys()) if (!projectIds.includes(projectId)) projectIds.push(projectId);
    const projects = [];
    for (const projectId of projectIds) projects.push({ projectId, project: await projectStates.read(projectId) });
    for (const taskId of frame.task_ids) send(client, buildTaskStatus(taskId, projects));
  }

  async function startSession(client: Client, frame: OutboundFrameOf<'session.init'>) {
    const known = await bus.getSession(frame.session_id);
    let record: SessionRecord;
    let restored = false;
    client.claimed = undefined;
    if (known && frame.resume_token !== undefined && frame.resume_token === known.resume_token) {
      record = known;
      restored = true;
    } else {
      // Unknown session, or a token this gateway did not issue (or that expired): a new session,
      // its id stamped with the bus's data set.
      const incarnation = await bus.incarnation?.();
      const positions = frame.last_seq ?? {};
      if (Object.keys(positions).length > 0) {
        const issuedOn = SESSION_ID.exec(frame.session_id)?.[1];
        client.claimed = { positions, lostStream: issuedOn !== undefined && incarnation !== undefined && issuedOn !== incarnation };
      }
      record = {
        session_id: `s-${incarnation && /^[0-9a-f]{12}$/.test(incarnation) ? `${incarnation}-` : ''}${randomBytes(9).toString('hex')}`,
        resume_token: randomBytes(24).toString('base64url'),
        subscriptions: [],
        created_at: Date.now(),
      };
    }
    await bus.putSession(record, sessionTtlMs);
    client.sessionId = record.session_id;
    client.session = record;
    send(client, {
      type: restored ? 'session.restored' : 'session.init',
      session_id: record.session_id,
      reconnect: restored,
      instance_id: instanceId,
      capabilities,
      resume_token: record.resume_token,
      subscriptions: record.subscriptions,
      timestamp: new Date().toISOString(),
    });
  }

  async function persistSubscriptions(client: Client) {
    if (!client.sessionId) return;
    const record = await bus.getSession(client.sessionId);
    if (!record) return;
    await bus.putSession({ ...record, subscriptions: Array.from(client.subscriptions.keys()) }, sessionTtlMs);
  }

  async function runCommand(client: Client, frame: OutboundFrameOf<'start_generation'> | OutboundFrameOf<'cancel_generation'>) {
    const commandId = frame.command_id;
    const ack = (status: 'accepted' | 'duplicate') =>
      commandId !== undefined && send(client, { type: 'ack', command_id: commandId, status, timestamp: new Date().toISOString() });
    if (commandId !== undefined && !(await bus.claimCommand(commandId, sessionTtlMs))) {
      ack('duplicate');
      return;
    }
    const projectId = frame.project_id ?? client.subscriptions.keys().next().value ?? 'default';
    const context: CommandContext = { sessionId: client.sessionId ?? '', projectId };
    let answer: Record<string, unknown> | undefined;
    if (frame.type === 'cancel_generation') {
      const node = getEntity((await projectStates.read(projectId)).state.nodes, frame.node_id);
      if (node?.status === 'generating' && node.task_id !== undefined) context.runningTaskId = node.task_id;
      else answer = answerToCancelOfNoRun(node, frame.node_id, projectId);
    }
    // Handed to the workers before the ack: a gateway that dies in between leaves the command
    // in the client's outbox, and its resend is acked `duplicate` without running twice.
    options.onCommand?.(frame, context);
    if (options.publishCommands !== false) {
      const received = await bus.publishCommand(frame, context);
      if (received === 0 && !options.onCommand) log(`gateway: no worker received ${frame.type} ${commandId ?? ''} (is a worker running?)`);
    }
    ack('accepted');
    if (answer) send(client, answer);
  }

  /**
   * A cancel for a node with no running task is answered, never with silence (a client would
   * show "Cancelling..." forever): with the run's final status when the node's last run is known
   * and finished, else "idle, nothing to cancel". Sent to the asking client only, after the ack,
   * without a seq (it is no event of the project). The cancel still goes to the workers: a run
   * started a moment ago may not have published anything yet, and a worker revokes it then.
   */
  function answerToCancelOfNoRun(node: NodeRecord | undefined, nodeId: string, projectId: string): Record<string, unknown> {
    const timestamp = new Date().toISOString();
    if (node && node.task_id !== undefined && node.status === 'cancelled') {
      // The wire's node statuses have no 'cancelled': the run's own end says it.
      return { type: 'task.progress', project_id: projectId, task_id: node.task_id, node_id: node.node_id, state: 'REVOKED', message: 'Nothing to cancel: this run was already cancelled', timestamp };
    }
    if (node && node.task_id !== undefined && node.status !== 'idle') {
      return {
        type: 'node.state_changed',
        project_id: projectId,
        node_id: node.node_id,
        task_id: node.task_id,
        status: node.status,
        message: 'Nothing to cancel: this run already finished',
        ...(node.error !== undefined && { error: node.error }),
        ...(node.output_path !== undefined && { output_path: node.output_path }),
        ...(node.thumbnail !== undefined && { thumbnail: node.thumbnail }),
        timestamp,
      };
    }
    return { type: 'node.state_changed', project_id: projectId, node_id: nodeId, status: 'idle', message: NOTHING_TO_CANCEL, timestamp };
  }

  function tooFast(client: Client): boolean {
    const now = Date.now();
    client.frameTimes.push(now);
    while (client.frameTimes.length > 0 && now - client.frameTimes[0]! > 1_000) client.frameTimes.shift();
    return client.frameTimes.length > maxFramesPerSecond;
  }

  async function handle(client: Client, data: string) {
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      sendError(client, 'bad_frame', 'frame is not JSON');
      return;
    }
    const type = (raw as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(OUTBOUND_SCHEMAS, type)) {
      sendError(client, 'unknown_type', `unknown frame type ${JSON.stringify(type)?.slice(0, 80)}`);
      return;
    }
    const result = v.safeParse(OUTBOUND_SCHEMAS[type as keyof typeof OUTBOUND_SCHEMAS], raw);
    if (!result.success) {
      const commandId = (raw as { command_id?: unknown }).command_id;
      sendError(client, 'invalid_frame', describeIssues(result.issues), typeof commandId === 'string' ? commandId.slice(0, 256) : undefined);
      return;
    }
    const frame = result.output as OutboundFrame;
    switch (frame.type) {
      case 'session.init':
        await startSession(client, frame);
        break;
      case 'subscribe': {
        // A client that lost its session forgot its positions (a new session numbers afresh, as
        // far as it knows) but said them in session.init: start from there.
        const claimed = client.claimed;
        const position = frame.last_seq === undefined && claimed && Object.prototype.hasOwnProperty.call(claimed.positions, frame.project_id) ? claimed.positions[frame.project_id] : undefined;
        if (position !== undefined) delete claimed!.positions[frame.project_id];
        await subscribe(client, frame.project_id, frame.last_seq ?? position, position !== undefined && claimed!.lostStream);
        await persistSubscriptions(client);
        break;
      }
      case 'unsubscribe':
        client.subscriptions.delete(frame.project_id);
        await persistSubscriptions(client);
        break;
      case 'ping':
        send(client, { type: 'system.heartbeat', server_time: Date.now(), instance_id: instanceId, timestamp: new Date().toISOString() });
        break;
      case 'start_generation':
      case 'cancel_generation':
        await runCommand(client, frame);
        break;
      case 'query_tasks':
        if (serveTaskStatus) await answerTaskQuery(client, frame);
        else sendError(client, 'unsupported', 'this server does not announce task_status');
        break;
    }
  }

  wss.on('connection', (ws: WebSocket, _request: IncomingMessage) => {
    if (shuttingDown) {
      // Arrived while this instance shuts down: come back to the next one.
      ws.close(SERVER_CLOSE.serviceRestart, 'server restarting');
      return;
    }
    const client: Client = { ws, lastSeenAt: Date.now(), subscriptions: new Map(), frameTimes: [], chain: Promise.resolve() };
    clients.add(client);
    ws.on('pong', () => (client.lastSeenAt = Date.now()));
    ws.on('message', (data, isBinary) => {
      client.lastSeenAt = Date.now();
      // Counted on arrival: frames queued behind a slow bus still count towards the limit.
      if (tooFast(client)) {
        if (ws.readyState === ws.OPEN) ws.close(SERVER_CLOSE.rateLimited, 'rate limited: too many frames');
        return;
      }
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      enqueue(client, () => handle(client, text));
    });
    ws.on('close', () => clients.delete(client));
    ws.on('error', () => clients.delete(client));
  });

  const heartbeat = setInterval(() => {
    const frame = { type: 'system.heartbeat', server_time: Date.now(), instance_id: instanceId, timestamp: new Date().toISOString() };
    const now = Date.now();
    for (const client of clients) {
      if (now - client.lastSeenAt > clientTimeoutMs) {
        // Half-open: nothing heard for too long. Its close event removes it.
        clients.delete(client);
        client.ws.terminate();
        continue;
      }
      try {
        client.ws.ping();
      } catch {
        // not open any more: its close event removes it
      }
      send(client, frame);
    }
  }, heartbeatMs);
  heartbeat.unref?.();

  async function closeServer() {
    clearInterval(heartbeat);
    unsubscribeBus();
    offReset?.();
    offReconnect?.();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  return {
    instanceId,
    projectStates,
    ready,
    port() {
      if (options.noServer) return 0;
      const address = (options.server ?? wss).address();
      return typeof address === 'object' && address ? address.port : 0;
    },
    clientCount: () => clients.size,
    handleUpgrade(request, socket, head) {
      if (shuttingDown || !wss.shouldHandle(request)) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
    },
    async shutdown(reason = 'server restarting') {
      shuttingDown = true;
      for (const client of clients) {
        send(client, { type: 'system.shutdown', reason, instance_id: instanceId, timestamp: new Date().toISOString() });
      }
      // Wait for the closing handshakes (bounded), so a process that exits right after does not
      // cut the 1012 close frames off; stragglers are terminated.
      const closing = Array.from(
        clients,
        (client) =>
          new Promise<void>((resolve) => {
            if (client.ws.readyState === client.ws.CLOSED) return resolve();
            client.ws.once('close', () => resolve());
          }),
      );
      for (const client of clients) client.ws.close(SERVER_CLOSE.serviceRestart, reason);
      const timer = setTimeout(() => {
        for (const client of clients) client.ws.terminate();
      }, 2_000);
      await Promise.all(closing);
      clearTimeout(timer);
      // What it reduced since the last checkpoint, so the next gateway reads less history.
      await projectStates.flush();
      await closeServer();
    },
    async terminate() {
      shuttingDown = true;
      for (const client of clients) client.ws.terminate();
      clients.clear();
      await closeServer();
    },
  };
}
