/** Comparing the state two runs of the same events made, whatever their timing. */
import type { RealtimeState } from '../../src/slices/index.js';
import { entitiesOf, type Table } from '../../src/slices/table.js';

/**
 * Counts of how the events arrived rather than what they made: `lateFramesIgnored` counts, among
 * others, the task.status answers to the query_tasks of each reconnect for tasks that finished
 * meanwhile, so it grows with the number of reconnects the faults caused.
 */
const ARRIVAL_COUNTS: ReadonlySet<string> = new Set(['lateFramesIgnored']);

/** The value without receive times (`at`, `*At`), the `stale` mark and arrival counts, which depend on timing. */
export function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key !== 'at' && key !== 'stale' && !key.endsWith('At') && !ARRIVAL_COUNTS.has(key)) out[key] = timeless(inner);
    }
    return out;
  }
  return value;
}

/** The state the events alone make: command nodes (the client's own requests) left out. */
export function domain(state: RealtimeState) {
  const nodes = plain(state.nodes);
  nodes.ids = nodes.ids.filter((id) => !id.startsWith('cmd-'));
  for (const id of Object.keys(nodes.entities)) if (id.startsWith('cmd-')) delete nodes.entities[id];
  const { tasks, takes, agents, narrative, prompts, activity } = state;
  return timeless({
    tasks: plain(tasks),
    nodes,
    takes: plain(takes),
    agents: plain(agents),
    narrative: { ...narrative, beats: plain(narrative.beats) },
    prompts: plain(prompts),
    activity,
  });
}

/** A table as `{ ids, entities }` (and its other fields), without its shards. */
function plain<T, S extends Table<T>>(table: S & Table<T>) {
  const { shards: _shards, ...rest } = table;
  return { ...rest, ids: [...table.ids], entities: entitiesOf<T>(table) };
}
