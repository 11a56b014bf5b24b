/**
 * The development serializability check (src/store/serializableCheck.ts): reports what Redux
 * Toolkit's reports, but walks only the parts of the state that changed.
 */
import { configureStore, type UnknownAction } from '@reduxjs/toolkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSerializableChangesCheck } from '../../src/store/serializableCheck.js';

interface S {
  kept: { items: Record<string, { n: number }> };
  put?: unknown;
  skipped?: unknown;
}

function storeWith(ignoredPaths: string[] = []) {
  const initial: S = { kept: { items: { a: { n: 1 } } } };
  return configureStore({
    reducer: (state: S = initial, action: UnknownAction): S => {
      if (action.type === 'put') return { ...state, put: (action as { value?: unknown }).value };
      if (action.type === 'skip') return { ...state, skipped: (action as { value?: unknown }).value };
      return state;
    },
    middleware: (getDefault) =>
      getDefault({ thunk: false, serializableCheck: false, immutableCheck: false, actionCreatorCheck: false }).concat(
        createSerializableChangesCheck({ ignoredPaths }),
      ),
  });
}

afterEach(() => vi.restoreAllMocks());

describe('createSerializableChangesCheck', () => {
  it('reports a non-serializable value in an action, and in the state where a reducer put it', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = storeWith();
    store.dispatch({ type: 'put', value: { when: new Date(0) } } as UnknownAction);
    expect(errors).toHaveBeenCalledTimes(2);
    expect(String(errors.mock.calls[0]?.[0])).toMatch(/non-serializable value was detected in an action, in the path: `value.when`/);
    expect(String(errors.mock.calls[1]?.[0])).toMatch(/non-serializable value was detected in the state, in the path: `put.when`/);
  });

  it('stays silent for plain data, and for ignored paths', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = storeWith(['skipped']);
    store.dispatch({ type: 'put', value: { list: [1, 'two', null, { three: true }] } } as UnknownAction);
    store.dispatch({ type: 'noop' });
    expect(errors).not.toHaveBeenCalled();
    // The ignored path of the state; the action itself still carries the Map.
    store.dispatch({ type: 'skip', value: new Map() } as unknown as UnknownAction);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0]?.[0])).toMatch(/in an action/);
  });

  it('does not walk into objects the reducers kept', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = storeWith();
    store.dispatch({ type: 'put', value: 1 } as UnknownAction);
    const items = store.getState().kept.items;
    const keys = vi.spyOn(Object, 'keys');
    store.dispatch({ type: 'put', value: 2 } as UnknownAction);
    expect(keys.mock.calls.some(([target]) => target === items)).toBe(false);
  });

  it('finds a non-serializable item in a window that shifted (oldest dropped, new one appended)', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const store = storeWith();
    const items = Array.from({ length: 5 }, (_, i) => ({ n: i }));
    store.dispatch({ type: 'put', value: items } as UnknownAction);
    // Shifted by one, plain new item: silent.
    store.dispatch({ type: 'put', value: [...items.slice(1), { n: 5 }] } as UnknownAction);
    expect(errors).not.toHaveBeenCalled();
    // Shifted by one again, a Date inside the new last item, and one inside a replaced middle item.
    const shifted = store.getState().put as Array<{ n: number }>;
    store.dispatch({ type: 'put', value: [...shifted.slice(1), { n: 6, at: new Date(0) }].map((item) => item) } as unknown as UnknownAction);
    expect(errors.mock.calls.some((call) => /in the state, in the path: `put.4.at`/.test(String(call[0])))).toBe(true);
    errors.mockClear();
    const again = store.getState().put as Array<{ n: number }>;
    store.dispatch({ type: 'put', value: [again[1], { n: 99, at: new Date(0) }, ...again.slice(3)] } as unknown as UnknownAction);
    expect(errors.mock.calls.some((call) => /in the state, in the path: `put.1.at`/.test(String(call[0])))).toBe(true);
  });
});
