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

/**
 * Walks `value` where it differs from `before`. The key path is kept as a stack and joined only
 * to match an ignored path (no deeper than the deepest one) or to report: a changed table of
 * thousands of records is walked without building a string per key.
 */
function findInChanges(
  value: unknown,
  before: unknown,
  keys: string[],
  ignored: ReadonlySet<string>,
  ignoredDepth: number,
  ancestors: Set<object>,
): Found {
  if (value === before) return false;
  if (!isPlain(value)) return { keyPath: keys.join('.') || '<root>', value };
  if (typeof value !== 'object' || value === null) return false;
  if (ancestors.has(value)) return { keyPath: keys.join('.') || '<root>', value };
  ancestors.add(value);
  const previous = before !== null && typeof before === 'object' ? (before as Record<string, unknown>) : undefined;
  const record = value as Record<string, unknown>;
  const checkIgnored = keys.length < ignoredDepth;
  if (Array.isArray(value)) {
    // By index: for-in over an array makes a string per index. A bounded window (the activity
    // feed, hand-offs, ids with the oldest dropped) shifts by the items dropped: compare each
    // item with the one it was before the shift, or every append would walk the whole window.
    const previousArray = Array.isArray(before) ? (before as unknown[]) : undefined;
    let shift = 0;
    if (previousArray && value.length > 0 && value[0] !== previousArray[0]) shift = Math.max(0, previousArray.indexOf(value[0]));
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      const old = previousArray?.[i + shift];
      if (child === old || (typeof child !== 'object' && isPlain(child))) continue;
      keys.push(String(i));
      const found = checkIgnored && ignored.has(keys.join('.')) ? false : findInChanges(child, old, keys, ignored, ignoredDepth, ancestors);
      keys.pop();
      if (found) return found;
    }
    ancestors.delete(value);
    return false;
  }
  // eslint-disable-next-line guard-for-in -- state holds plain objects and arrays only (isPlain above)
  for (const key in record) {
    const child = record[key];
    // Most of a changed table is unchanged records and plain strings (ids): skip them without
    // touching the key path.
    if (child === previous?.[key] || (typeof child !== 'object' && isPlain(child))) continue;
    keys.push(key);
    const found = checkIgnored && ignored.has(keys.join('.')) ? false : findInChanges(child, previous?.[key], keys, ignored, ignoredDepth, ancestors);
    keys.pop();
    if (found) return found;
  }
  ancestors.delete(value);
  return false;
}

export function createSerializableChangesCheck(options: { ignoredPaths?: readonly string[] } = {}): Middleware {
  const ignored = new Set(options.ignoredPaths ?? []);
  const ignoredDepth = Math.max(0, ...[...ignored].map((path) => path.split('.').length));
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
    const inState = findInChanges(state, checked, [], ignored, ignoredDepth, new Set());
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
