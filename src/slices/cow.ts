/**
 * Copy-on-write passes for the slices that frames write, without immer.
 *
 * Through an immer draft, the first read of a record copies the whole `entities` dictionary
 * with an object spread, every write goes through proxy traps, and finalizing deep-freezes the
 * new dictionary by walking all of its keys in JavaScript. For a table of a few hundred records
 * that is most of the cost of a burst. Here one pass (a frame, or a burst of frames) copies the
 * shards it writes of a sharded table (./table.ts) once, copies each record it writes once,
 * and (in development) freezes only what it made.
 *
 * Records are copied when asked for writing, before anyone knows whether a field will change;
 * `commit` gives every record whose fields all came out the same its original object back (and
 * each array field its original array, when equal), and returns the original table when nothing
 * changed: as with immer, an ignored frame leaves the state, and every memoized selector, as it
 * was.
 *
 * Arrays from the state are copied with a spread (`[...list]`), never `slice()`/`concat()`/
 * `filter()`: the state is frozen (in development), and V8 runs those on frozen arrays on a slow
 * generic path (500 ids: slice 14.4 us frozen against 0.16 us plain, spread 0.11 us either way;
 * `node bench/frozen-arrays.mjs`, Node 20, 2-core AMD EPYC), while a spread stays fast.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { isProduction } from '../env.js';
import { framesBatched } from './frameEvents.js';
import type { MatchableCreator } from './ingestCases.js';
import { copyShard, shardOf, type Table } from './table.js';

/**
 * Whether passes freeze what they make. In development (and tests) every new object is frozen,
 * so a mutation of the state throws where it happens. In production nothing is frozen: freezing
 * was a tenth of the live path's time, and the state is only ever written by these passes (the
 * same trade immer made before v8, and React makes for props).
 */
// Decided once, when the module loads, by the one helper (../env.ts): a `typeof process` guard
// here read "production" in every browser build, development ones included.
const FREEZE = !isProduction();

/** Object.freeze in development; the object itself in production (see FREEZE). */
export const freeze: <T>(value: T) => Readonly<T> = FREEZE ? Object.freeze : (value) => value;

/** Freezes `value` and everything under it that is not frozen yet (stops at frozen objects); development only. */
export function freezeDeep<T>(value: T): T {
  if (!FREEZE || value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) freezeDeep(item);
  } else {
    for (const key of Object.keys(value)) freezeDeep((value as Record<string, unknown>)[key]);
  }
  return value;
}

function sameArray(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `copy` (a record written in this pass) with its original arrays and, when every field is the
 * same, the original record itself.
 */
export function settle<T extends object>(copy: T, base: T): T {
  const c = copy as Record<string, unknown>;
  const b = base as Record<string, unknown>;
  let same = true;
  let count = 0;
  for (const key in c) {
    count += 1;
    const value = c[key];
    const original = b[key];
    if (value === original) {
      if (!(key in b)) same = false;
      continue;
    }
    if (Array.isArray(value) && Array.isArray(original) && sameArray(value, original)) {
      c[key] = original;
      continue;
    }
    same = false;
  }
  if (same) {
    for (const key in b) count -= 1;
    if (count === 0) return base;
  }
  return copy;
}

/** One pass of writes over a sharded table (./table.ts): each shard it writes is copied once. */
export class TableWork<T extends object> {
  private shards?: Record<string, T>[];
  /** Shards copied in this pass (the array's slots then hold this pass's own copies). */
  private readonly copied: number[] = [];
  /** Shards that gained or lost a record in this pass. */
  private readonly resized: number[] = [];
  private ids?: string[];
  /** id -> the record before this pass (undefined for records added in it). */
  private readonly written = new Map<string, T | undefined>();
  private removed = false;

  constructor(
    readonly base: Table<T>,
    /** A writable copy of a record: its arrays copied too, so that they can be pushed to. */
    private readonly cloneRecord: (record: T) => T,
  ) {}

  /** The record as it is now in this pass, for reading only. */
  peek(id: string): T | undefined {
    return (this.shards ?? this.base.shards)[shardOf(id)]![id];
  }

  has(id: string): boolean {
    return this.peek(id) !== undefined;
  }

  /** The record, writable for the rest of the pass (copied once); undefined when absent. */
  edit(id: string): T | undefined {
    const shard = shardOf(id);
    const record = (this.shards ?? this.base.shards)[shard]![id];
    if (record === undefined || this.written.has(id)) return record;
    const copy = this.cloneRecord(record);
    this.writableShard(shard)[id] = copy;
    this.written.set(id, record);
    return copy;
  }

  /** Replaces (or adds) a record, writable for the rest of the pass. */
  set(id: string, record: T): T {
    const before = this.peek(id);
    if (before === undefined) return this.add(id, record);
    this.writableShard(shardOf(id))[id] = record;
    if (!this.written.has(id)) this.written.set(id, before);
    return record;
  }

  /** Adds a record (writable for the rest of the pass). */
  add(id: string, record: T): T {
    const shard = shardOf(id);
    this.writableShard(shard)[id] = record;
    this.markResized(shard);
    this.writableIds().push(id);
    this.written.set(id, undefined);
    return record;
  }

  remove(ids: readonly string[]): void {
    const drop = new Set<string>();
    for (const id of ids) {
      if (this.peek(id) === undefined) continue;
      const shard = shardOf(id);
      delete this.writableShard(shard)[id];
      this.markResized(shard);
      this.written.delete(id);
      drop.add(id);
    }
    if (drop.size === 0) return;
    const current = this.currentIds();
    if (drop.size === 1) {
      // The usual case (the oldest task or take let go, often right after one was added): a
      // native splice, on the pass's own copy when it has one (no second copy), and dropping the
      // first id moves the array's start rather than its elements (see ./bounded.ts).
      const kept = this.ids ?? [...current];
      kept.splice(kept.indexOf(drop.values().next().value!), 1);
      this.ids = kept;
    } else {
      const kept: string[] = [];
      for (const id of current) if (!drop.has(id)) kept.push(id);
      this.ids = kept;
    }
    this.removed = true;
  }

  currentIds(): readonly string[] {
    return this.ids ?? this.base.ids;
  }

  private markResized(shard: number) {
    if (!this.resized.includes(shard)) this.resized.push(shard);
  }

  private writableShard(shard: number): Record<string, T> {
    const shards = (this.shards ??= [...this.base.shards]);
    const current = shards[shard]!;
    if (current !== this.base.shards[shard]) return current;
    const copy = copyShard(current);
    shards[shard] = copy;
    this.copied.push(shard);
    return copy;
  }

  private writableIds(): string[] {
    return (this.ids ??= [...this.base.ids]);
  }

  /**
   * Ends the pass: the table with every written record settled and frozen, or undefined when
   * nothing changed. A shard whose records all came out the same is the original shard again.
   */
  commit(): Table<T> | undefined {
    const shards = this.shards;
    if (!shards) return undefined;
    const changedShards = this.resized;
    let changed = this.removed || this.ids !== undefined;
    // forEach, not for-of: iterating a Map with for-of makes an [id, before] array per entry.
    this.written.forEach((before, id) => {
      const shard = shardOf(id);
      const after = shards[shard]![id]!;
      const settled = before === undefined ? after : settle(after, before);
      if (settled === before) {
        shards[shard]![id] = before;
        return;
      }
      changed = true;
      if (!changedShards.includes(shard)) changedShards.push(shard);
      freezeDeep(settled);
      shards[shard]![id] = settled;
    });
    if (!changed) return undefined;
    for (const shard of this.copied) {
      if (changedShards.includes(shard)) freeze(shards[shard]);
      else shards[shard] = this.base.shards[shard]!;
    }
    return { ids: freeze(this.ids ?? this.base.ids) as string[], shards: freeze(shards) as Record<string, T>[] };
  }
}

/** Commits a plain array written in place in a pass: the original when equal, else frozen (deeply). */
export function settleArray<T>(after: T[], before: readonly T[]): readonly T[] {
  return sameArray(after, before) ? before : freezeDeep(after);
}

/** A frame case of a pass: reads and writes the pass `P` (the slice's working copy). */
export type PassCase<P> = (pass: P, action: UnknownAction) => void;

/** `const on = passCaseFor<MyPass>()`, then `on(frameActionCreator, (pass, action) => ...)`. */
export function passCaseFor<P>() {
  return function on<A extends UnknownAction>(creator: MatchableCreator<A>, run: (pass: P, action: A) => void): [string, PassCase<P>] {
    return [creator.type, run as PassCase<P>];
  };
}

/**
 * A slice reducer whose frame actions (alone, or in a `frames/batchReceived` burst) run as one
 * copy-on-write pass: `open` makes the working copy, the cases write it, `commit` returns the
 * new state (or the same one when nothing changed). Other actions go to `otherwise`.
 */
export function passReducer<S, P>(options: {
  initialState: S;
  cases: ReadonlyMap<string, PassCase<P>>;
  open: (state: S) => P;
  commit: (pass: P) => S;
  otherwise?: (state: S, action: UnknownAction) => S;
}): (state: S | undefined, action: UnknownAction) => S {
  const { cases, open, commit, otherwise } = options;
  return (state = options.initialState, action) => {
    const actions = framesBatched.match(action) ? action.payload.actions : cases.has(action.type) ? [action] : undefined;
    if (!actions) return otherwise ? otherwise(state, action) : state;
    let pass: P | undefined;
    for (const inner of actions) {
      const run = cases.get(inner.type);
      if (run) run((pass ??= open(state)), inner);
    }
    return pass === undefined ? state : commit(pass);
  };
}
