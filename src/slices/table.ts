/**
 * Entity tables that grow with the project (nodes, tasks, takes, prompts): normalized, and
 * sharded so that a write costs the same whether the canvas has 50 nodes or 5,000.
 *
 * A Redux Toolkit entity table (`{ ids, entities }`) must copy its whole `entities` dictionary
 * whenever one record changes, so every burst of frames costs time in proportion to the table:
 * with 5,000 nodes that copy was two thirds of the live path. Here the records are spread over
 * SHARD_COUNT dictionaries by a hash of the id: a write copies the array of shards (128
 * pointers) and the one shard it touches (a 128th of the table). Reads stay O(1): `getEntity`.
 *
 * Why 128: at 5,000 nodes the last 5k frames of a 50k log cost 16.4 us/frame with 128 shards,
 * 20.5 with 64 and 24.4 with 256 (one run each, `node bench/.build/scenario.mjs throughput 50000
 * 5000 3 5000`); at 200 nodes the three are within noise. Fewer shards make each copy longer;
 * more make the array copied on every write longer.
 *
 * Shards are plain objects: V8 keeps small ones in fast mode, where copying them is 2-3x faster
 * than prototype-less (always dictionary-mode) objects. Ids that Object.prototype answers to
 * ("constructor", "__proto__") are refused at the wire (isSafeKey), and getEntity reads own
 * properties only. Everything stays plain, serializable data: DevTools shows
 * `shards[17]["shot-1"]`.
 */

export const SHARD_COUNT = 128;

export interface Table<T> {
  /** Every id, in insertion order. */
  ids: string[];
  /** SHARD_COUNT dictionaries; the record of `id` is in `shards[shardOf(id)]`. */
  shards: Record<string, T>[];
}

/** The shard of an id: FNV-1a over its UTF-16 units, folded to SHARD_COUNT. */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash ^ (hash >>> 16)) & (SHARD_COUNT - 1);
}

const EMPTY_SHARD: Record<string, never> = Object.freeze({});

export function emptyTable<T>(): Table<T> {
  return { ids: [], shards: new Array<Record<string, T>>(SHARD_COUNT).fill(EMPTY_SHARD) };
}

/** The record with this id, or undefined. */
export function getEntity<T>(table: Pick<Table<T>, 'shards'>, id: string): T | undefined {
  const shard = table.shards[shardOf(id)]!;
  return Object.hasOwn(shard, id) ? shard[id] : undefined;
}

/** Every record, in insertion order. */
export function allEntities<T>(table: Table<T>): T[] {
  return table.ids.map((id) => getEntity(table, id)!);
}

/** A plain `{ id: record }` dictionary of the table (for tests, tools and the story's maps). */
export function entitiesOf<T>(table: Table<T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const id of table.ids) out[id] = getEntity(table, id)!;
  return out;
}

/** A shard copied for writing (see TableWork in ./cow.ts). */
export function copyShard<T>(source: Readonly<Record<string, T>>): Record<string, T> {
  const copy: Record<string, T> = {};
  // eslint-disable-next-line guard-for-in -- shards are plain objects: own keys only in practice
  for (const key in source) copy[key] = source[key]!;
  return copy;
}

/** A table built from records (tests, fixtures, preloaded state). */
export function tableFrom<T>(records: readonly T[], idOf: (record: T) => string): Table<T> {
  const table = emptyTable<T>();
  for (const record of records) {
    const id = idOf(record);
    const s = shardOf(id);
    if (table.shards[s] === EMPTY_SHARD) table.shards[s] = {};
    if (!Object.hasOwn(table.shards[s]!, id)) table.ids.push(id);
    table.shards[s]![id] = record;
  }
  return table;
}

function isTable(value: unknown): value is Table<unknown> {
  const table = value as Partial<Table<unknown>> | null;
  return typeof table === 'object' && table !== null && Array.isArray(table.ids) && Array.isArray(table.shards) && table.shards.length === SHARD_COUNT;
}

/**
 * The value with every table in it (at any depth) written as `{ ids, entities }`, the shape a
 * person or a tool reads (the replay CLI's --json and --states print this). Tables keep their
 * other fields; the shards are left out.
 */
export function withPlainTables<V>(value: V): V {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'shards' && isTable(value)) continue;
    out[key] = withPlainTables(inner);
  }
  if (isTable(value)) out.entities = entitiesOf(value);
  return out as V;
}
