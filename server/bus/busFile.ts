/**
 * The memory bus's file (MemoryBusOptions.file): a JSONL log that lets `npm start` restart, even
 * after `kill -9`, without losing a take. One JSON object per line, three kinds:
 *
 * - `{"incarnation":"..."}`: the bus's data-set name, first line (kept across restarts, since the
 *   numbering is).
 * - `{"project_id","seq","frame"}`: a published event, as BusEvent.
 * - `{"checkpoint":{"project_id","at_seq","state"}}`: a project-state checkpoint. Persisted
 *   because the history is bounded (historyLimit): a project whose early events were trimmed
 *   could not be rebuilt from the history alone after a restart.
 *
 * Lines are appended with a synchronous write before the event is fanned out, so a kill -9 loses
 * at most the line being written, which no client has received. (No fsync: the OS keeps what a
 * killed process wrote; a power cut may lose the last moments.) On load, an unreadable line (a
 * torn last line) is skipped, and the file is rewritten (compacted: a temporary file renamed
 * over it) when it holds anything the bus does not keep: trimmed events, superseded
 * checkpoints, skipped lines. While running, it is compacted again each time it has grown by
 * as many lines as it kept (at least historyLimit), so it stays within about twice what the bus
 * keeps.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { BusEvent } from './types.js';

export interface Checkpoint {
  at_seq: number;
  state: string;
}

export interface Stream {
  seq: number;
  events: BusEvent[];
}

export interface RestoredBus {
  streams: Map<string, Stream>;
  checkpoints: Map<string, Checkpoint>;
  incarnation?: string;
  /** Lines skipped as unreadable (a torn last line after kill -9). */
  skippedLines: number;
}

export interface BusFile {
  restored: RestoredBus;
  /**
   * Starts appending (after a compaction if the file needs one). `current` gives the bus's
   * live maps, which later compactions write out.
   */
  start(incarnation: string, current: () => { streams: Map<string, Stream>; checkpoints: Map<string, Checkpoint> }): void;
  appendEvent(event: BusEvent): void;
  appendCheckpoint(projectId: string, atSeq: number, state: string): void;
  close(): void;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/** Reads a bus file: what it holds, bounded by historyLimit per project. */
export function readBusFile(path: string, historyLimit: number): RestoredBus & { lines: number } {
  const restored: RestoredBus & { lines: number } = { streams: new Map(), checkpoints: new Map(), skippedLines: 0, lines: 0 };
  if (!existsSync(path)) return restored;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const line of lines) {
    if (line === '') continue;
    restored.lines += 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      restored.skippedLines += 1;
      continue;
    }
    if (isRecord(value) && typeof value.incarnation === 'string') {
      restored.incarnation = value.incarnation;
    } else if (isRecord(value) && isRecord(value.checkpoint)) {
      const { project_id, at_seq, state } = value.checkpoint;
      if (typeof project_id !== 'string' || !isSeq(at_seq) || typeof state !== 'string') {
        restored.skippedLines += 1;
        continue;
      }
      const held = restored.checkpoints.get(project_id);
      if (!held || held.at_seq < at_seq) restored.checkpoints.set(project_id, { at_seq, state });
    } else if (isRecord(value) && typeof value.project_id === 'string' && isSeq(value.seq) && isRecord(value.frame) && typeof value.frame.type === 'string') {
      let stream = restored.streams.get(value.project_id);
      if (!stream) restored.streams.set(value.project_id, (stream = { seq: 0, events: [] }));
      // Appended in seq order; anything else is not a line this bus wrote.
      if (value.seq <= stream.seq) {
        restored.skippedLines += 1;
        continue;
      }
      stream.seq = value.seq;
      stream.events.push(value as unknown as BusEvent);
      // Trimmed in batches: one splice per historyLimit lines, not one per line.
      if (stream.events.length >= 2 * historyLimit) stream.events.splice(0, stream.events.length - historyLimit);
    } else {
      restored.skippedLines += 1;
    }
  }
  for (const stream of restored.streams.values()) {
    if (stream.events.length > historyLimit) stream.events.splice(0, stream.events.length - historyLimit);
  }
  return restored;
}

function keptLines(streams: Map<string, Stream>, checkpoints: Map<string, Checkpoint>): number {
  let lines = 1 + checkpoints.size;
  for (const stream of streams.values()) lines += stream.events.length;
  return lines;
}

/** Writes what the bus keeps to a temporary file and renames it over `path` (never half a file). */
function rewrite(path: string, incarnation: string, streams: Map<string, Stream>, checkpoints: Map<string, Checkpoint>) {
  const out: string[] = [JSON.stringify({ incarnation })];
  for (const [project_id, { at_seq, state }] of checkpoints) out.push(JSON.stringify({ checkpoint: { project_id, at_seq, state } }));
  for (const stream of streams.values()) for (const event of stream.events) out.push(JSON.stringify(event));
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, out.join('\n') + '\n');
  renameSync(temporary, path);
  return out.length;
}

export function openBusFile(path: string, options: { historyLimit: number; log?: (line: string) => void }): BusFile {
  const { historyLimit } = options;
  const log = options.log ?? (() => {});
  const restored = readBusFile(path, historyLimit);
  if (restored.skippedLines > 0) log(`bus file ${path}: skipped ${restored.skippedLines} unreadable line(s) (a torn write?)`);
  let fd: number | undefined;
  let incarnation = '';
  let current: () => { streams: Map<string, Stream>; checkpoints: Map<string, Checkpoint> } = () => restored;
  /** Lines in the file now, and how many it held after the last compaction. */
  let onDisk = 0;
  let compactedTo = 0;

  function compact() {
    if (fd !== undefined) closeSync(fd);
    const { streams, checkpoints } = current();
    onDisk = compactedTo = rewrite(path, incarnation, streams, checkpoints);
    fd = openSync(path, 'a');
  }

  function append(line: string) {
    if (fd === undefined) return;
    writeSync(fd, line + '\n');
    onDisk += 1;
    if (onDisk - compactedTo >= Math.max(compactedTo, historyLimit)) compact();
  }

  return {
    restored,
    start(name, live) {
      incarnation = name;
      current = live;
      const { streams, checkpoints } = live();
      const needed = keptLines(streams, checkpoints);
      if (restored.lines === needed && restored.skippedLines === 0 && restored.incarnation === name) {
        onDisk = compactedTo = needed;
        fd = openSync(path, 'a');
      } else {
        compact();
      }
    },
    appendEvent(event) {
      append(JSON.stringify(event));
    },
    appendCheckpoint(project_id, at_seq, state) {
      append(JSON.stringify({ checkpoint: { project_id, at_seq, state } }));
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
