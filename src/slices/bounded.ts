/** Helpers that keep arrays in state bounded, so a long session holds a fixed amount. */

export interface Appended<T> {
  /** The list to keep: the same array when nothing was dropped, else a new array. */
  list: T[];
  /** Items dropped from the front, oldest first. */
  dropped: T[];
}

/**
 * Appends `items` and keeps the newest `max`. Assign `list` back: it is a new array when items
 * were dropped. `list` must be writable (a pass's own copy, never an array of the state): it is
 * pushed to in place while there is room.
 *
 * A full window is rebuilt once (native copying) rather than shifted in place with
 * `splice(0, n)`, which would move every element kept one slot down.
 */
export function appendBounded<T>(list: T[], items: readonly T[], max: number): Appended<T> {
  if (list.length + items.length <= max) {
    for (const item of items) list.push(item);
    return { list, dropped: [] };
  }
  // One copy (a spread: state arrays may be frozen, and V8 copies frozen arrays with slice or
  // concat on a slow path, see ./cow.ts), then the oldest cut off in place.
  const all = [...list, ...items];
  const dropped = all.splice(0, all.length - max);
  return { list: all, dropped };
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
