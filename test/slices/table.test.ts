/**
 * The sharded entity table (src/slices/table.ts): lookups, order, spread over the shards, and
 * the plain `{ ids, entities }` view tools print.
 */
import { describe, expect, it } from 'vitest';
import { allEntities, emptyTable, entitiesOf, getEntity, shardOf, SHARD_COUNT, tableFrom, withPlainTables } from '../../src/slices/table.js';

const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

describe('sharded table', () => {
  it('shardOf is stable and within 0..SHARD_COUNT-1', () => {
    for (const id of ['', 'a', 'node-1', 'take-S001-P003-001', '\u{1F3AC}', 'x'.repeat(256)]) {
      const shard = shardOf(id);
      expect(shard).toBe(shardOf(id));
      expect(Number.isInteger(shard) && shard >= 0 && shard < SHARD_COUNT).toBe(true);
    }
  });

  it('spreads realistic ids evenly: no shard holds more than twice its share', () => {
    for (const prefix of ['node', 'shot-s001-p', 'celery-1a2b3c4d-task', 'take-S001-P003']) {
      const counts = new Array<number>(SHARD_COUNT).fill(0);
      for (const id of ids(5_000, prefix)) counts[shardOf(id)]! += 1;
      expect(Math.max(...counts), prefix).toBeLessThan((2 * 5_000) / SHARD_COUNT);
      expect(Math.min(...counts), prefix).toBeGreaterThan(0);
    }
  });

  it('finds every record, keeps insertion order, and answers undefined for Object.prototype names', () => {
    const records = ids(300, 'n').map((id, i) => ({ id, i }));
    const table = tableFrom(records, (r) => r.id);
    expect(table.ids).toEqual(records.map((r) => r.id));
    for (const r of records) expect(getEntity(table, r.id)).toBe(r);
    expect(allEntities(table)).toEqual(records);
    expect(Object.keys(entitiesOf(table))).toEqual(table.ids);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(getEntity(table, name)).toBeUndefined();
  });

  it('an empty table has SHARD_COUNT empty shards and no ids', () => {
    const table = emptyTable<{ id: string }>();
    expect(table.shards).toHaveLength(SHARD_COUNT);
    expect(table.ids).toEqual([]);
    expect(getEntity(table, 'x')).toBeUndefined();
  });

  it('withPlainTables writes every table, at any depth, as { ids, entities } and keeps other fields', () => {
    const nodes = { ...tableFrom([{ id: 'a' }, { id: 'b' }], (r) => r.id), generating_ids: ['a'] };
    const state = { nodes, narrative: { beats: tableFrom([{ id: 'x' }], (r) => r.id), current_beat: 'x' }, count: 3, list: [1, 2] };
    expect(JSON.parse(JSON.stringify(withPlainTables(state)))).toEqual({
      nodes: { ids: ['a', 'b'], entities: { a: { id: 'a' }, b: { id: 'b' } }, generating_ids: ['a'] },
      narrative: { beats: { ids: ['x'], entities: { x: { id: 'x' } } }, current_beat: 'x' },
      count: 3,
      list: [1, 2],
    });
  });
});
