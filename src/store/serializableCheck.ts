/**
 * Development only: Redux Toolkit's serializability check, on what changed.
 *
 * RTK's own check caches the objects it found serializable, but to decide whether it may cache
 * one it walks that object's whole subtree again (isNestedFrozen), for every changed object on
 * the way down. A burst of frames changes entity tables of hundreds of records on every
 * dispatch, so that re-walk cost more than the reducers themselves (5-7x production). This check
 * walks the action in full, and the state only where it differs, by identity, from the state it
 * checked last: an object the reducers did not replace was checked when it was made. A mutation
 * in place, which this would not see, is what the immutability check is for.
 */
import { findNonSerializableValue, isPlain, type Middleware } from '@reduxjs/toolkit';

type Found = { keyPath: string; value: unknown } | false;

function findInChanges(value: unknown, before: unknown, path: string, ignored: ReadonlySet<string>, ancestors: Set<object>): Found {
  if (value === before) return false;
  if (!isPlain(value)) return { keyPath: path || '<root>', value };
  if (typeof value !== 'object' || value === null) return false;
  if (ancestors.has(value)) return { keyPath: path || '<root>', value };
  ancestors.add(value);
  const previous = before !== null && typeof before === 'object' ? (before as Record<string, unknown>) : undefined;
  for (const key of Object.keys(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (ignored.has(childPath)) continue;
    const found = findInChanges((value as Record<string, unknown>)[key], previous?.[key], childPath, ignored, ancestors);
    if (found) return found;
  }
  ancestors.delete(value);
  return false;
}

export function createSerializableChangesCheck(options: { ignoredPaths?: readonly string[] } = {}): Middleware {
  const ignored = new Set(options.ignoredPaths ?? []);
  let checked: unknown;
  return (api) => (next) => (action) => {
    const result = next(action);
    if (typeof action !== 'object' || action === null) return result;
    const inAction = findNonSerializableValue(action);
    if (inAction) {
      console.error(
        `A non-serializable value was detected in an action, in the path: \`${inAction.keyPath}\`. Value:`,
        inAction.value,
        '\nTake a look at the logic that dispatched this action: ',
        action,
      );
    }
    const state = api.getState();
    const inState = findInChanges(state, checked, '', ignored, new Set());
    checked = state;
    if (inState) {
      console.error(
        `A non-serializable value was detected in the state, in the path: \`${inState.keyPath}\`. Value:`,
        inState.value,
        `\nTake a look at the reducer(s) handling this action type: ${(action as { type?: unknown }).type}.`,
      );
    }
    return result;
  };
}
