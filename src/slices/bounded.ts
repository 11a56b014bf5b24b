/** Helpers that keep arrays in state bounded, so a long session holds a fixed amount. */

export interface Appended<T> {
  /** The list to keep: the same array when nothing was dropped, else a new array. */
  list: T[];
  /** Items dropped from the front, oldest first. */
  dropped: T[];
}

/**
 * Appends `items` to `list` in place and drops the oldest beyond `max`, in place too. `list` must
 * be writable: a pass's own copy, never an array of the state. `list` in the result is that same
 * array.
 *
 * Dropping from the front is a `splice(0, n)`: V8 moves the start of the array's backing store
 * instead of moving the elements (the same left-trim as `shift`), so a full window costs no copy;
 * rebuilding it cost one per append (a full 200-item activity feed, a 50-item hand-off list).
 */
export function appendBounded<T>(list: T[], items: readonly T[], max: number): Appended<T> {
  for (const item of items) list.push(item);
  const dropped = list.length > max ? list.splice(0, list.length - max) : [];
  return { list, dropped };
}

/** Appends only when absent. Linear in the list, so use it on lists that are themselves bounded. */
export function pushUnique<T>(list: T[], item: T): boolean {
  if (list.includes(item)) return false;
  list.push(item);
  return true;
}

export function clampPercent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return value < 0 ? 0 : value > 100 ? 100 : value;
}
