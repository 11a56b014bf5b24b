/**
 * The event bus behind the gateway: what Celery workers and the agent system publish, numbered
 * per project, with a bounded history for replay, plus the little session state that must
 * survive a gateway restart. Two implementations: in memory (default, no setup) and Redis
 * (pub/sub for fan-out across gateway instances, a capped stream per project for replay).
 */

/** A published event: the frame as clients receive it, with its project and seq filled in. */
export interface BusEvent {
  project_id: string;
  seq: number;
  frame: Record<string, unknown> & { type: string };
}

export interface HistoryPage {
  events: BusEvent[];
  /**
   * When the history no longer holds everything after the asked seq: the first seq it still
   * has. Seqs from the asked one up to this one are lost (reported to the client as a gap).
   */
  oldestAvailable?: number;
}

export interface SessionRecord {
  session_id: string;
  resume_token: string;
  subscriptions: string[];
  created_at: number;
}

/** A command a gateway accepted, on its way to the workers (the pipeline simulator, or Celery). */
export interface BusCommand {
  frame: Record<string, unknown> & { type: 'start_generation' | 'cancel_generation'; node_id: string };
  /**
   * `runningTaskId`, on a cancel: the task the gateway knows as the node's running one (from the
   * project's events). A worker that has no such run (it died with a previous process) answers
   * with that task's REVOKED, so no client is left with a run nobody runs.
   */
  context: { sessionId: string; projectId: string; runningTaskId?: string };
}

export interface EventBus {
  /** Numbers the frame in its project's stream, stores it, and fans it out. */
  publish(projectId: string, frame: Record<string, unknown> & { type: string }): Promise<BusEvent>;
  /** Every event of every project, on every gateway instance. */
  subscribe(listener: (event: BusEvent) => void): () => void;
  /** Events of a project with seq > afterSeq, oldest first, at most `limit`. */
  history(projectId: string, afterSeq: number, limit: number): Promise<HistoryPage>;
  /** The last seq a project used (0 when none). */
  lastSeq(projectId: string): Promise<number>;
  /**
   * Every project the bus holds events of. Optional: the memory bus has it (a simulator started
   * on a restored file retires the runs of the previous process); Redis does not list projects.
   */
  projectIds?(): Promise<string[]>;
  getSession(sessionId: string): Promise<SessionRecord | undefined>;
  putSession(record: SessionRecord, ttlMs: number): Promise<void>;
  /** Records a command id; false when it was already recorded (a resend): do not run it again. */
  claimCommand(commandId: string, ttlMs: number): Promise<boolean>;
  /**
   * Names the bus's data set: it changes when the data was lost (Redis restarted without
   * persistence, or flushed). The gateway stamps it into the session ids it issues, so a client
   * coming back with positions in a lost numbering is told (replay.gap) instead of replayed the
   * wrong events. Resolves once a check under way (after a reconnect) is done. Optional.
   */
  incarnation?(): Promise<string | undefined>;
  /** Called when the bus finds its data lost (history, numbering, sessions, command records). Optional. */
  onReset?(listener: () => void): () => void;
  /**
   * Called when the live feed was interrupted and is back (Redis pub/sub reconnected): what was
   * published meanwhile was not delivered live and must be read from history. Optional.
   */
  onReconnect?(listener: () => void): () => void;
  /**
   * Hands an accepted command to the workers, wherever they run: the memory bus calls the
   * listeners of this process directly; the Redis bus publishes on `${prefix}commands`, so a
   * worker process behind several gateways receives each command once per command listener.
   * Resolves with the number of listeners that received it (0: no worker is running).
   */
  publishCommand(frame: BusCommand['frame'], context: BusCommand['context']): Promise<number>;
  /** Commands from every gateway instance (what a worker listens to). */
  onCommand(listener: (frame: BusCommand['frame'], context: BusCommand['context']) => void): () => void;
  /**
   * Resolves once the command listeners receive whatever is published from now on (Redis: the
   * SUBSCRIBE is confirmed). A worker waits for it before it says it is ready.
   */
  commandsReady(): Promise<void>;
  /**
   * The stored project state checkpoint (server/state/projectStates.ts): the reduced state at
   * `at_seq`, as JSON. Kept by the bus so that it lives as long as the bus's history does (Redis:
   * survives a gateway restart). Optional: without it the state is rebuilt from the history.
   */
  loadCheckpoint?(projectId: string): Promise<{ at_seq: number; state: string } | undefined>;
  /** Stores a checkpoint unless a newer one (higher at_seq) is stored already. */
  saveCheckpoint?(projectId: string, atSeq: number, state: string): Promise<void>;
  close(): Promise<void>;
}
