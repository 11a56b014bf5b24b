/** Helpers that keep arrays in state bounded, so a long session holds a fixed amount. */

/** Appends and drops from the front beyond `max`; returns the dropped items. */
export function pushBounded<T>(list: T[], item: T, max: number): T[] {
  list.push(item);
  return list.length > max ? list.splice(0, list.length - max) : [];
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
