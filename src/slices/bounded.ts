/** Helpers that keep arrays in state bounded, so a long session holds a fixed amount. */
import { current, isDraft } from '@reduxjs/toolkit';

export interface Appended<T> {
  /** The list to keep: the same (draft) array when nothing was dropped, else a new array. */
  list: T[];
  /** Items dropped from the front, oldest first. */
  dropped: T[];
}

/**
 * Appends `items` and keeps the newest `max`. Assign `list` back: it is a new array when items
 * were dropped.
 *
 * Dropping from the front of an immer draft in place (`splice(0, n)`) goes through the proxy for
 * every element kept: each is read (and drafted, for objects) and written one slot down, O(max)
 * proxy traps per push. A full window is instead rebuilt once from a plain snapshot (native
 * copying) and assigned whole.
 */
export function appendBounded<T>(list: T[], items: readonly T[], max: number): Appended<T> {
  if (list.length + items.length <= max) {
    for (const item of items) list.push(item);
    return { list, dropped: [] };
  }
  const plain: readonly T[] = isDraft(list) ? (current(list as never) as readonly T[]) : list;
  // One copy (a spread: state arrays may be frozen, and V8 copies frozen arrays with slice or
  // concat on a slow path, see ./cow.ts), then the oldest cut off in place.
  const all = [...plain, ...items];
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
