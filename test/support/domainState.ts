/** Comparing the state two runs of the same events made, whatever their timing. */
import type { RealtimeState } from '../../src/slices/index.js';

/** The value without receive times (`at`, `*At`) and the `stale` mark, which depend on timing. */
export function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (key !== 'at' && key !== 'stale' && !key.endsWith('At')) out[key] = timeless(inner);
    return out;
  }
  return value;
}

/** The state the events alone make: command nodes (the client's own requests) left out. */
export function domain(state: RealtimeState) {
  const nodes = { ...state.nodes, ids: state.nodes.ids.filter((id) => !id.startsWith('cmd-')), entities: { ...state.nodes.entities } };
  for (const id of Object.keys(nodes.entities)) if (id.startsWith('cmd-')) delete nodes.entities[id];
  const { tasks, takes, agents, narrative, prompts, activity } = state;
  return timeless({ tasks, nodes, takes, agents, narrative, prompts, activity });
}
