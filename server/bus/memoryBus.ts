/**
 * The embedded bus: everything in this process. What `npm start` uses by default.
 * History survives as long as the process (and can be handed to a new gateway in tests), or,
 * with `file`, a restart of the process too (./busFile.ts): the events, the numbering, the
 * incarnation and the project-state checkpoints are appended to the file as they happen.
 * Sessions and command claims stay in memory: a client after a restart gets a new session and
 * the project snapshot, which is what the file is for.
 */
import { randomBytes } from 'node:crypto';
import { openBusFile, type BusFile } from './busFile.js';
import type { BusCommand, BusEvent, EventBus, HistoryPage, SessionRecord } from './types.js';

export interface MemoryBusOptions {
  /** Events kept per project for replay. Default 10,000. */
  historyLimit?: number;
  now?: () => number;
  /**
   * A JSONL file that keeps the bus across restarts (./busFile.ts): loaded on creation, appended
   * to synchronously on every publish. Default: none (everything dies with the process).
   */
  file?: string;
  log?: (line: string) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const historyLimit = options.historyLimit ?? 10_000;
  const now = options.now ?? Date.now;
  const streams = new Map<string, { seq: number; events: BusEvent[] }>();
  const listeners = new Set<(event: BusEvent) => void>();
  const sessions = new Map<string, { record: SessionRecord; expiresAt: number }>();
  const commands = new Map<string, number>();
  const checkpoints = new Map<string, { at_seq: number; state: string }>();
  const file: BusFile | undefined = options.file ? openBusFile(options.file, { historyLimit, log: options.log }) : undefined;
  if (file) {
    for (const [projectId, restored] of file.restored.streams) streams.set(projectId, restored);
    for (const [projectId, checkpoint] of file.restored.checkpoints) checkpoints.set(projectId, checkpoint);
  }
  // With a file, the numbering continues across restarts, so the incarnation does too.
  const incarnation = file?.restored.incarnation ?? randomBytes(6).toString('hex');
  file?.start(incarnation, () => ({ streams, checkpoints }));
  const commandListeners = new Set<(frame: BusCommand['frame'], context: BusCommand['context']) => void>();

  function stream(projectId: string) {
    let entry = streams.get(projectId);
    if (!entry) streams.set(projectId, (entry = { seq: 0, events: [] }));
    return entry;
  }

  return {
    async publish(projectId, frame) {
      const entry = stream(projectId);
      entry.seq += 1;
      const event: BusEvent = { project_id: projectId, seq: entry.seq, frame: { ...frame, project_id: projectId, seq: entry.seq } };
      entry.events.push(event);
      if (entry.events.length > historyLimit) entry.events.splice(0, entry.events.length - historyLimit);
      // On disk before anyone sees it: a kill -9 mid-write loses only an event nobody received.
      // (After the push: a compaction this append triggers writes the history with it.)
      file?.appendEvent(event);
      for (const listener of Array.from(listeners)) listener(event);
      return event;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async history(projectId, afterSeq, limit): Promise<HistoryPage> {
      const entry = streams.get(projectId);
      if (!entry || entry.events.length === 0) return { events: [] };
      const oldest = entry.events[0]!.seq;
      const events: BusEvent[] = [];
      for (const event of entry.events) {
        if (event.seq <= afterSeq) continue;
        events.push(event);
        if (events.length >= limit) break;
      }
      return afterSeq + 1 < oldest ? { events, oldestAvailable: oldest } : { events };
    },
    async lastSeq(projectId) {
      return streams.get(projectId)?.seq ?? 0;
    },
    async projectIds() {
      return Array.from(streams.keys());
    },
    async getSession(sessionId) {
      const entry = sessions.get(sessionId);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        sessions.delete(sessionId);
        return undefined;
      }
      return entry.record;
    },
    async putSession(record, ttlMs) {
      sessions.set(record.session_id, { record, expiresAt: now() + ttlMs });
    },
    // Everything lives and dies with this process: one incarnation per bus, never reset.
    incarnation: async () => incarnation,
    async claimCommand(commandId, ttlMs) {
      const at = now();
      const expiresAt = commands.get(commandId);
      if (expiresAt !== undefined && expiresAt > at) return false;
      commands.set(commandId, at + ttlMs);
      if (commands.size > 100_000) {
        for (const [id, expiry] of commands) if (expiry <= at) commands.delete(id);
      }
      return true;
    },
    async publishCommand(frame, context) {
      const targets = Array.from(commandListeners);
      for (const listener of targets) listener(frame, context);
      return targets.length;
    },
    onCommand(listener) {
      commandListeners.add(listener);
      return () => commandListeners.delete(listener);
    },
    async commandsReady() {},
    async loadCheckpoint(projectId) {
      return checkpoints.get(projectId);
    },
    async saveCheckpoint(projectId, atSeq, state) {
      const stored = checkpoints.get(projectId);
      if (!stored || stored.at_seq < atSeq) {
        checkpoints.set(projectId, { at_seq: atSeq, state });
        file?.appendCheckpoint(projectId, atSeq, state);
      }
    },
    async close() {
      listeners.clear();
      commandListeners.clear();
      file?.close();
    },
  };
}
