/**
 * The Redis bus: several gateway instances share one event stream.
 *
 * - Publishing is one Lua script, so numbering, history and fan-out cannot interleave between
 *   publishers: INCR the project's seq, XADD the frame to the project's stream with the seq as
 *   its id (capped with MAXLEN ~), PUBLISH it on one channel that every gateway listens to.
 * - Replay reads the stream after a seq (XRANGE with an exclusive start); a history trimmed
 *   past the asked seq is reported, so the client can show a gap.
 * - Sessions and command ids (for ack dedupe) are keys with a TTL, so a client that moves to
 *   another instance, or comes back to a restarted one, resumes its session and is not run twice.
 * - Accepted commands go to the workers on `${prefix}commands` (PUBLISH/SUBSCRIBE): the worker
 *   process (`ROLE=worker`) keeps running while gateways restart or die.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { BusCommand, BusEvent, EventBus, HistoryPage, SessionRecord } from './types.js';

export interface RedisBusOptions {
  url: string;
  /** Key prefix, so tests and demos can share a server. Default 'cr:'. */
  prefix?: string;
  /** Approximate events kept per project stream. Default 10,000. */
  historyLimit?: number;
}

const PUBLISH_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
local json = string.sub(ARGV[1], 1, -2) .. ',"seq":' .. seq .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'f', json)
redis.call('PUBLISH', KEYS[3], json)
return seq
`;

// A checkpoint replaces the stored one only when it is newer: gateways write them concurrently.
const CHECKPOINT_SCRIPT = `
local stored = tonumber(redis.call('HGET', KEYS[1], 'at_seq') or '-1')
if stored >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'at_seq', ARGV[1], 'state', ARGV[2])
return 1
`;

async function closeConnection(connection: { quit(): Promise<unknown>; destroy(): void }): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 1_000)));
  const outcome = await Promise.race([connection.quit().catch(() => 'failed'), gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout' || outcome === 'failed') {
    try {
      connection.destroy();
    } catch {
      // already closed
    }
  }
}

export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const prefix = options.prefix ?? 'cr:';
  const historyLimit = options.historyLimit ?? 10_000;
  const channel = `${prefix}events`;
  const commandChannel = `${prefix}commands`;
  const client = createClient({ url: options.url });
  const subscriber = client.duplicate();
  client.on('error', () => {});
  subscriber.on('error', () => {});
  await client.connect();
  await subscriber.connect();

  // A Redis restarted without persistence (or flushed) comes back empty: history, numbering,
  // sessions and command records are gone, and the numbering starts again at 1. A key written
  // once per data set tells: after every reconnect it is read again, and when it is missing or
  // different the reset listeners hear of it before any event of the new numbering is delivered.
  const incarnationKey = `${prefix}incarnation`;
  let incarnation: string | undefined;
  const resetListeners = new Set<() => void>();
  let checking: Promise<void> | undefined;
  function checkIncarnation(): Promise<void> {
    checking ??= (async () => {
      try {
        await client.set(incarnationKey, randomBytes(6).toString('hex'), { NX: true });
        const current = (await client.get(incarnationKey)) ?? undefined;
        const previous = incarnation;
        incarnation = current;
        if (previous !== undefined && current !== previous) for (const listener of Array.from(resetListeners)) listener();
      } finally {
        checking = undefined;
      }
    })();
    return checking;
  }
  await checkIncarnation();
  client.on('ready', () => void checkIncarnation().catch(() => {}));

  const listeners = new Set<(event: BusEvent) => void>();
  function onMessage(message: string) {
    let frame: BusEvent['frame'];
    try {
      frame = JSON.parse(message) as BusEvent['frame'];
    } catch {
      return;
    }
    const event: BusEvent = { project_id: String(frame.project_id), seq: Number(frame.seq), frame };
    for (const listener of Array.from(listeners)) listener(event);
  }
  // Pub/sub delivers only to a connected subscriber: what was published while it reconnected is
  // in the streams, not in the feed, and the reconnect listeners are told to read it from there.
  // node-redis resubscribes before it says 'ready': what arrives on a new connection is held until
  // the data set was checked (a reset is reported before any event of the new numbering).
  const reconnectListeners = new Set<() => void>();
  let held: string[] | undefined;
  subscriber.on('reconnecting', () => (held ??= []));
  subscriber.on('ready', () => {
    if (!held) return;
    void checkIncarnation()
      .catch(() => {})
      .then(() => {
        // Listeners first: they start buffering live events before the held ones are delivered.
        for (const listener of Array.from(reconnectListeners)) listener();
        const messages = held ?? [];
        held = undefined;
        for (const message of messages) onMessage(message);
      });
  });
  await subscriber.subscribe(channel, (message) => (held ? held.push(message) : onMessage(message)));

  const commandListeners = new Set<(frame: BusCommand['frame'], context: BusCommand['context']) => void>();
  let commandsSubscribed: Promise<void> | undefined;
  function subscribeCommands() {
    // Only a bus with command listeners (a worker) subscribes to the command channel.
    commandsSubscribed ??= subscriber.subscribe(commandChannel, (message) => {
      let command: BusCommand;
      try {
        command = JSON.parse(message) as BusCommand;
      } catch {
        return;
      }
      if (!command || typeof command.frame !== 'object' || typeof command.context !== 'object') return;
      for (const listener of Array.from(commandListeners)) listener(command.frame, command.context);
    });
    return commandsSubscribed;
  }

  const seqKey = (projectId: string) => `${prefix}seq:${projectId}`;
  const streamKey = (projectId: string) => `${prefix}stream:${projectId}`;
  const checkpointKey = (projectId: string) => `${prefix}state:${projectId}`;

  async function lastSeq(projectId: string): Promise<number> {
    return Number((await client.get(seqKey(projectId))) ?? 0);
  }

  function parseEntry(message: Record<string, string>): BusEvent | undefined {
    try {
      const frame = JSON.parse(message.f ?? '') as BusEvent['frame'];
      return { project_id: String(frame.project_id), seq: Number(frame.seq), frame };
    } catch {
      return undefined;
    }
  }

  return {
    async publish(projectId, frame) {
      const { seq: _ignored, ...rest } = frame as Record<string, unknown>;
      const json = JSON.stringify({ ...rest, project_id: projectId });
      const seq = Number(
        await client.eval(PUBLISH_SCRIPT, {
          keys: [seqKey(projectId), streamKey(projectId), channel],
          arguments: [json, String(historyLimit)],
        }),
      );
      return { project_id: projectId, seq, frame: { ...(rest as BusEvent['frame']), project_id: projectId, seq } };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async history(projectId, afterSeq, limit): Promise<HistoryPage> {
      const entries = (await client.xRange(streamKey(projectId), `(${afterSeq}-0`, '+', { COUNT: limit })) ?? [];
      const events = entries.map((entry) => parseEntry(entry.message as Record<string, string>)).filter((e): e is BusEvent => !!e);
      const first = (await client.xRange(streamKey(projectId), '-', '+', { COUNT: 1 })) ?? [];
      const oldest = first[0] ? Number(first[0].id.split('-')[0]) : undefined;
      if (oldest !== undefined && afterSeq + 1 < oldest) return { events, oldestAvailable: oldest };
      const last = oldest === undefined ? await lastSeq(projectId) : 0;
      if (oldest === undefined && afterSeq < last) {
        // The whole history is gone (trimmed to nothing): everything after afterSeq is lost.
        return { events, oldestAvailable: last + 1 };
      }
      return { events };
    },
    lastSeq,
    async getSession(sessionId) {
      const raw = await client.get(`${prefix}session:${sessionId}`);
      return raw ? (JSON.parse(raw) as SessionRecord) : undefined;
    },
    async putSession(record, ttlMs) {
      await client.set(`${prefix}session:${record.session_id}`, JSON.stringify(record), { PX: ttlMs });
    },
    async claimCommand(commandId, ttlMs) {
      const result = await client.set(`${prefix}cmd:${commandId}`, '1', { NX: true, PX: ttlMs });
      return result === 'OK';
    },
    async incarnation() {
      // After a reconnect the check may be under way: answer with what it finds.
      await checking?.catch(() => {});
      return incarnation;
    },
    onReset(listener) {
      resetListeners.add(listener);
      return () => resetListeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async publishCommand(frame, context) {
      const command: BusCommand = { frame, context };
      return Number(await client.publish(commandChannel, JSON.stringify(command)));
    },
    onCommand(listener) {
      commandListeners.add(listener);
      // Errors surface on the subscriber's 'error' event; a listener added before the
      // subscription is confirmed receives what is published after it.
      void subscribeCommands().catch(() => {});
      return () => commandListeners.delete(listener);
    },
    async commandsReady() {
      await commandsSubscribed;
    },
    async loadCheckpoint(projectId) {
      const stored = await client.hGetAll(checkpointKey(projectId));
      if (!stored || stored.at_seq === undefined || stored.state === undefined) return undefined;
      return { at_seq: Number(stored.at_seq), state: stored.state };
    },
    async saveCheckpoint(projectId, atSeq, state) {
      await client.eval(CHECKPOINT_SCRIPT, { keys: [checkpointKey(projectId)], arguments: [String(atSeq), state] });
    },
    async close() {
      listeners.clear();
      resetListeners.clear();
      reconnectListeners.clear();
      commandListeners.clear();
      // quit() waits for the server: on a connection that is still reconnecting (Redis down) it
      // never resolves, so give it a moment and then drop the connection.
      await Promise.all([subscriber, client].map((connection) => closeConnection(connection)));
    },
  };
}
