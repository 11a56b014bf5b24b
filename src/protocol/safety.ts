/**
 * Guards for values that end up as object keys or as URLs in the DOM.
 */

/**
 * Names that a plain object already answers to (`__proto__`, `constructor`, `toString`, ...).
 * Used as entity ids they would pollute a prototype, or make `id in entities` lie, so an id
 * with one of these names is refused at the wire boundary.
 */
const RESERVED_KEYS: readonly string[] = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'];

/**
 * The reserved names by length. isSafeKey runs for every id of every frame, and ids are fresh
 * strings: a Set lookup would hash each one. An id of a length no reserved name has (those are 7
 * to 20 characters long) needs no comparison at all, any other one to four.
 */
const RESERVED_BY_LENGTH: ReadonlyArray<readonly string[] | undefined> = /* @__PURE__ */ byLength(RESERVED_KEYS);

function byLength(names: readonly string[]): Array<string[] | undefined> {
  const groups: Array<string[] | undefined> = [];
  for (const name of names) (groups[name.length] ??= []).push(name);
  return groups;
}

export const MAX_ID_LENGTH = 256;

export function isSafeKey(value: string): boolean {
  const length = value.length;
  if (length === 0 || length > MAX_ID_LENGTH) return false;
  const reserved = RESERVED_BY_LENGTH[length];
  return reserved === undefined || !reserved.includes(value);
}

// Schemes and shapes a thumbnail or output URL may have. Anything else (javascript:, vbscript:,
// data:text/html, file:, ...) is dropped before it reaches state.
const SAFE_ABSOLUTE = /^(?:https?:|blob:)/i;
const SAFE_DATA_IMAGE = /^data:image\/(?:png|jpe?g|gif|webp|avif|bmp);/i;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * True for http(s), blob, data:image (raster types only: svg can carry script) and relative
 * URLs. Control characters and whitespace that browsers strip before parsing a scheme
 * (`java\tscript:`) are refused outright.
 */
export function isSafeUrl(value: string): boolean {
  if (value.length === 0 || value.length > 2_000_000) return false;
  // Anchored "only allowed characters" rather than a search for a control character: same
  // answer, but a search restarts at every position and costs ~2.5x on a 1 kB data: URL.
  // eslint-disable-next-line no-control-regex
  if (!/^[^\u0000-\u001f\u007f]*$/.test(value)) return false;
  const trimmed = value.trimStart();
  if (trimmed !== value) return false;
  if (SAFE_ABSOLUTE.test(value)) return true;
  if (SAFE_DATA_IMAGE.test(value)) return true;
  // Relative: no scheme at all ("/media/a.png", "takes/a.png", "?x", "#y"); protocol-relative
  // "//host/a.png" is fine too, it inherits http(s) from the page.
  return !HAS_SCHEME.test(value);
}

/** Returns the URL when it is safe, else undefined: state never holds an unsafe URL. */
export function safeUrlOrUndefined(value: string | undefined | null): string | undefined {
  return typeof value === 'string' && isSafeUrl(value) ? value : undefined;
}

export const MAX_JSON_DEPTH = 32;

/**
 * True when a parsed JSON value nests at most `maxDepth` levels. Walks with an explicit stack:
 * a hostile frame nested 100,000 levels deep must not overflow the call stack here, nor later
 * in the development freeze or the serializability check, which is why free-form fields are bounded.
 */
export function isBoundedJson(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return true;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > maxDepth) return false;
    const children = Array.isArray(current) ? current : Object.values(current as object);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return true;
}

/**
 * JSON.parse turns a `"__proto__"` key into an own property. It pollutes nothing by itself, but
 * a later Object.assign or for-in copy of that object would set a prototype. Returns the value
 * with every own `__proto__` key removed, copying only the objects and arrays on a path to one
 * (otherwise the value itself is returned). Recursive: call it only on a value that passed
 * isBoundedJson.
 */
export function stripProtoKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, index) => {
      const stripped = stripProtoKeys(item);
      if (stripped !== item) (copy ??= value.slice())[index] = stripped;
    });
    return (copy ?? value) as T;
  }
  const source = value as Record<string, unknown>;
  let changed = Object.prototype.hasOwnProperty.call(source, '__proto__');
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(source)) {
    if (key === '__proto__') continue;
    const child = source[key];
    const stripped = stripProtoKeys(child);
    if (stripped !== child) changed = true;
    entries.push([key, stripped]);
  }
  if (!changed) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of entries) copy[key] = child;
  return copy as T;
}
