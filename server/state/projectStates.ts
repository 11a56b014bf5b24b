/**
 * What the gateway knows of each project: the project's events reduced through the client
 * library's own `realtimeReducer` (src/slices), so that a snapshot holds exactly what a client
 * that saw every event would have built, under the same rules (runs, Celery attempts, terminal
 * states). Snapshots (`project.snapshot`) and task status answers (`task.status`) read it.
 *
 * Where it comes from, on both buses: a checkpoint (the reduced state at some seq, stored by the
 * bus: in this process for the memory bus, in Redis for the Redis bus, so it survives a gateway
 * restart) plus the bus's history after the checkpoint's seq. A project is caught up on demand
 * (every read reads the history after what it holds, so a read is never behind the bus) and kept
 * up to date from the live feed; every CHECKPOINT_EVERY events it is checkpointed again, well
 * within the history the bus keeps (10,000 events by default), so the history never has to be
 * read from the start. A history trimmed past the checkpoint (a project whose events outran every
 * gateway) gives a state built from what is left: best effort, like a client's own.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { ingestFrame, realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import type { BusEvent, EventBus } from '../bus/types.js';

/** The slices a checkpoint keeps: the project's entities and its stream position. */
const KEPT = ['tasks', 'nodes', 'takes', 'agents', 'narrative', 'prompts', 'sync'] as const;

export interface ProjectState {
  state: RealtimeState;
  /** The last seq of the project reduced into `state` (0: none). */
  atSeq: number;
}

export interface ProjectStatesOptions {
  bus: EventBus;
  /** The time frames are reduced with (receivedAt). Default Date.now. */
  now?: () => number;
  /** Projects held in memory (least recently used let go first). Default 500. */
  maxProjects?: number;
  /** Checkpoint a project after this many new events. Default 500. */
  checkpointEvery?: number;
  log?: (message: string) => void;
}

export interface ProjectStates {
  /** The project's state, caught up with everything the bus has published for it so far. */
  read(projectId: string): Promise<ProjectState>;
  /** A live event (in seq order per project). */
  observe(event: BusEvent): void;
  /** The live feed was interrupted: what is held may miss events; read the history again. */
  resync(): void;
  /** The bus lost its data (a new numbering): everything held belongs to the old one. */
  reset(): void;
  /** Writes a checkpoint of every project held whose checkpoint is behind (on shutdown). */
  flush(): Promise<void>;
}

interface Entry extends ProjectState {
  /** The seq of the last checkpoint written or read. */
  checkpointed: number;
  /** Reads and checkpoints of this project, one after another. */
  chain: Promise<unknown>;
}

const HISTORY_PAGE = 5_000;
const INIT: UnknownAction = { type: 'server/projectStateInitialized' };

export function emptyRealtimeState(): RealtimeState {
  return realtimeReducer(undefined, INIT);
}

export function createProjectStates(options: ProjectStatesOptions): ProjectStates {
  const bus = options.bus;
  const now = options.now ?? Date.now;
  const maxProjects = options.maxProjects ?? 500;
  const checkpointEvery = options.checkpointEvery ?? 500;
  const log = options.log ?? (() => {});
  const entries = new Map<string, Entry>();
  /** Loads under way, so that two reads of a project not held yet load it once. */
  const loading = new Map<string, Promise<Entry>>();
  /**
   * Live events of a project being loaded, applied with its history: a history trimmed
   * meanwhile (a small one, or a busy project) must not lose what this process saw live.
   */
  const liveWhileLoading = new Map<string, BusEvent[]>();

  function apply(entry: Entry, event: BusEvent) {
    if (event.seq <= entry.atSeq) return;
    // The same path as a client's: validation (a bad frame becomes frames/rejected), then the
    // reducers. A frame the client would reject changes nothing here either.
    const { action } = ingestFrame(event.frame, now());
    entry.state = realtimeReducer(entry.state, action as UnknownAction);
    entry.atSeq = event.seq;
  }

  function hold(projectId: string, entry: Entry) {
    entries.delete(projectId);
    entries.set(projectId, entry);
    while (entries.size > maxProjects) {
      const [oldest, dropped] = entries.entries().next().value as [string, Entry];
      entries.delete(oldest);
      void checkpoint(oldest, dropped);
    }
  }

  async function load(projectId: string): Promise<Entry> {
    const stored = await bus.loadCheckpoint?.(projectId);
    let state = emptyRealtimeState();
    let atSeq = 0;
    if (stored) {
      try {
        const parsed = JSON.parse(stored.state) as Partial<RealtimeState>;
        state = { ...state };
        for (const key of KEPT) if (parsed[key] !== undefined) (state as Record<string, unknown>)[key] = parsed[key];
        atSeq = stored.at_seq;
      } catch (error) {
        log(`project state: unreadable checkpoint of ${projectId} (${(error as Error).message}); rebuilding from history`);
      }
    }
    return { state, atSeq, checkpointed: atSeq, chain: Promise.resolve() };
  }

  async function catchUp(entry: Entry, projectId: string) {
    const events: BusEvent[] = [];
    for (let after = entry.atSeq; ; ) {
      const page = await bus.history(projectId, after, HISTORY_PAGE);
      events.push(...page.events);
      if (page.events.length < HISTORY_PAGE) break;
      after = page.events[page.events.length - 1]!.seq;
    }
    const live = liveWhileLoading.get(projectId);
    if (live) {
      liveWhileLoading.delete(projectId);
      events.push(...live);
      events.sort((a, b) => a.seq - b.seq);
    }
    for (const event of events) apply(entry, event);
  }

  async function checkpoint(projectId: string, entry: Entry) {
    if (!bus.saveCheckpoint || entry.atSeq <= entry.checkpointed) return;
    const atSeq = entry.atSeq;
    const kept: Record<string, unknown> = {};
    for (const key of KEPT) kept[key] = entry.state[key];
    try {
      await bus.saveCheckpoint(projectId, atSeq, JSON.stringify(kept));
      entry.checkpointed = Math.max(entry.checkpointed, atSeq);
    } catch (error) {
      log(`project state: checkpoint of ${projectId} failed: ${(error as Error).message}`);
    }
  }

  async function entryOf(projectId: string): Promise<Entry> {
    const held = entries.get(projectId);
    if (held) return held;
    let pending = loading.get(projectId);
    if (!pending) {
      pending = load(projectId).finally(() => loading.delete(projectId));
      loading.set(projectId, pending);
    }
    const entry = await pending;
    // Another read may have put it in place meanwhile: keep the first.
    const current = entries.get(projectId) ?? entry;
    hold(projectId, current);
    return current;
  }

  async function read(projectId: string): Promise<ProjectState> {
    const entry = await entryOf(projectId);
    const run = entry.chain.then(async () => {
      await catchUp(entry, projectId);
      if (entry.atSeq - entry.checkpointed >= checkpointEvery) await checkpoint(projectId, entry);
    });
    entry.chain = run.catch(() => {});
    await run;
    return { state: entry.state, atSeq: entry.atSeq };
  }

  return {
    read,
    observe(event) {
      const entry = entries.get(event.project_id);
      if (!entry) {
        // Followed from now on (loaded from its checkpoint and history), so that its checkpoints
        // keep up even if no client asks for it.
        const live = liveWhileLoading.get(event.project_id);
        if (live) {
          live.push(event);
          return;
        }
        liveWhileLoading.set(event.project_id, [event]);
        void read(event.project_id).catch((error: unknown) => log(`project state: ${(error as Error).message}`));
        return;
      }
      if (event.seq !== entry.atSeq + 1) {
        // Not the next one (a read is catching up, or the feed skipped): the next read fills in.
        if (event.seq > entry.atSeq + 1) void read(event.project_id).catch(() => {});
        return;
      }
      apply(entry, event);
      if (entry.atSeq - entry.checkpointed >= checkpointEvery) {
        entry.chain = entry.chain.then(() => checkpoint(event.project_id, entry));
      }
    },
    resync() {
      for (const projectId of entries.keys()) void read(projectId).catch(() => {});
    },
    reset() {
      entries.clear();
      liveWhileLoading.clear();
    },
    async flush() {
      await Promise.all(Array.from(entries, ([projectId, entry]) => checkpoint(projectId, entry)));
    },
  };
}
