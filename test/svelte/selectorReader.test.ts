import { describe, expect, it } from 'vitest';
import { createRealtimeSelector } from '../../src/selectors/base.js';
import { selectNodeVisual } from '../../src/selectors/index.js';
import type { RealtimeState } from '../../src/slices/index.js';
import { selectorReader } from '../../src/svelte/selectorReader.js';
import { apply, initial, TS } from '../support/state.js';

const changed = (node_id: string, status: string) => ({ type: 'node.state_changed', timestamp: TS, node_id, status });

describe('selectorReader', () => {
  it('skips a composed selector whose inputs all came back the same', () => {
    const inner = createRealtimeSelector([(state: RealtimeState, id: string) => state.nodes.ids.length + id.length], (n) => ({ n }));
    let calls = 0;
    const counted = Object.assign((state: RealtimeState, id: string) => {
      calls += 1;
      return inner(state, id);
    }, { dependencies: inner.dependencies });
    const read = selectorReader(counted, ['n1']);
    const s0 = initial();
    const first = read(s0);
    expect(calls).toBe(1);
    // A new state object with the same input: the selector is not called, the value is the same.
    const s1 = apply(s0, { type: 'system.heartbeat', timestamp: TS });
    expect(s1).not.toBe(s0);
    expect(read(s1)).toBe(first);
    expect(calls).toBe(1);
    // An input changed: the selector runs, and its result is what the view gets.
    const s2 = apply(s1, changed('n9', 'generating'));
    expect(read(s2)).toEqual({ n: 3 });
    expect(read(s2)).toBe(inner(s2, 'n1'));
    expect(calls).toBe(2);
  });

  it('gives what the selector gives, for the id it was made for', () => {
    const state = apply(initial(), changed('n1', 'generating'), changed('n2', 'error'));
    const n1 = selectorReader(selectNodeVisual, ['n1']);
    const n2 = selectorReader(selectNodeVisual, ['n2']);
    expect(n1(state)).toBe(selectNodeVisual(state, 'n1'));
    expect(n2(state)).toBe(selectNodeVisual(state, 'n2'));
    expect(n1(state).status).toBe('generating');
    expect(n2(state).status).toBe('error');
    const later = apply(state, changed('n1', 'completed'));
    expect(n1(later).status).toBe('completed');
    expect(n2(later)).toBe(n2(state));
  });

  it('calls a plain function every time, with its arguments', () => {
    const seen: unknown[][] = [];
    const plain = (_state: RealtimeState, ...args: unknown[]) => {
      seen.push(args);
      return args.length;
    };
    const state = initial();
    expect(selectorReader(plain, [])(state)).toBe(0);
    expect(selectorReader(plain, ['a'])(state)).toBe(1);
    expect(selectorReader(plain, ['a', 2])(state)).toBe(2);
    const three = selectorReader(plain, ['a', 2, true]);
    expect(three(state)).toBe(3);
    expect(three(state)).toBe(3);
    expect(seen).toEqual([[], ['a'], ['a', 2], ['a', 2, true], ['a', 2, true]]);
  });
});
