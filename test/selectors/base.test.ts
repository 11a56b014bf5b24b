import { describe, expect, it } from 'vitest';
import { createLatestSelector, createRealtimeSelector } from '../../src/selectors/base.js';
import { selectAgentActivities, selectNarrativeProgress } from '../../src/selectors/index.js';
import type { RealtimeState } from '../../src/slices/index.js';
import { apply, initial, TS } from '../support/state.js';

const assigned = (agent_type: string, task_id: string) => ({
  type: 'agent.assigned',
  timestamp: TS,
  agent_type,
  task_id,
  task_description: 'work',
});

describe('createLatestSelector', () => {
  it('keeps the result of each of four stores read in turn', () => {
    const states = ['t1', 't2', 't3', 't4'].map((task) => apply(initial(), assigned('Producer', task)));
    const first = states.map((state) => selectAgentActivities(state));
    // Read in turn again: every store gets back the very array it got, so nothing is woken.
    for (let round = 0; round < 3; round++) {
      states.forEach((state, i) => expect(selectAgentActivities(state)).toBe(first[i]));
    }
  });

  it('recomputes for an input it no longer holds (the fifth store read in turn)', () => {
    let calls = 0;
    const select = createLatestSelector([(state: RealtimeState) => state.agents.shards], (shards) => {
      calls += 1;
      return [shards.length];
    });
    const states = ['t1', 't2', 't3', 't4', 't5'].map((task) => apply(initial(), assigned('Editor', task)));
    for (const state of states) select(state);
    expect(calls).toBe(5);
    select(states[4]!);
    expect(calls).toBe(5);
    // Only the last four inputs are held: the first store's is gone.
    select(states[0]!);
    expect(calls).toBe(6);
  });

  it('gives a new result only when an input changed', () => {
    const before = apply(initial(), { type: 'narrative.beat', timestamp: TS, beat_name: 'Opening', scene_id: 'scene-1', keywords: ['calm'] });
    const view = selectNarrativeProgress(before);
    expect(view.current_beat).toBe('Opening');
    // A frame the view does not show (an agent) leaves it as it was.
    expect(selectNarrativeProgress(apply(before, assigned('Producer', 't1')))).toBe(view);
  });
});

describe('createRealtimeSelector', () => {
  it('serves each argument from its own cache entry', () => {
    let calls = 0;
    const select = createRealtimeSelector(
      [(state: RealtimeState, nodeId: string) => `${state.nodes.ids.length}:${nodeId}`],
      (key) => {
        calls += 1;
        return { key };
      },
    );
    const state = initial();
    const a = select(state, 'a');
    select(state, 'b');
    expect(select(state, 'a')).toBe(a);
    expect(calls).toBe(2);
  });
});
