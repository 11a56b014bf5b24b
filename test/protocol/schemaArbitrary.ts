/**
 * fast-check arbitraries derived from a valibot schema, for the differential tests of the fast
 * parse path (fastParse.test.ts). Walking the schema means every frame type and every field is
 * covered, including ones added later.
 *
 * Values are mostly valid, with the edges the checks care about (strings at and one over their
 * limit, reserved ids, NaN/Infinity/-0, unsafe URLs, JSON nested 32 and 33 levels, `__proto__`
 * keys) and now and then a value of the wrong type. Objects get missing, extra, `__proto__` and
 * (on object inputs) present-but-undefined keys.
 */
import fc from 'fast-check';
import * as v from 'valibot';
import { IdSchema, Json, JsonObject, Url } from '../../src/protocol/fields.js';
import { isSafeKey } from '../../src/protocol/safety.js';

type Node = Record<string, unknown>;

export interface ArbitraryOptions {
  /** Object inputs can hold `undefined` values; JSON text cannot. */
  undefinedValues: boolean;
  /**
   * false: every field valid (edges included), required keys present, so the frame passes.
   * true: wrong types, values over their limits and missing required keys too.
   */
  mistakes: boolean;
}

const POLLUTION = { polluted: 'yes' };

/** Sets `__proto__` as an own property, the way JSON.parse does. */
function withOwn(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

function nest(levels: number, leaf: unknown, asObject: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = asObject ? { a: value } : [value];
  return value;
}

export const RESERVED_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'];

const ids = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('t1', 'node-0001', 'celery-d17588c05f922ee8', 'proj-1', 'S001', 'x') },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...RESERVED_IDS, '', 'i'.repeat(256), 'i'.repeat(257), 'Constructor', '__proto', 'toString2') },
);

const URLS = [
  'https://cdn.example.com/a.png',
  '/media/a.png',
  'takes/take-1.png',
  '//cdn.example.com/a.png',
  'blob:https://app.example.com/550e',
  'data:image/png;base64,iVBORw0KGgo=',
  'javascript:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:image/svg+xml,<svg onload=alert(1)>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  '/a\u007f.png',
  '/a\u001f.png',
  '/a\u0000.png',
  '/a\u0020\u0080.png',
  '',
];
const urls = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...URLS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

const strings = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'Queued on the GPU worker', 'é — 映画 🎬') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

const numbers = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 1_000_000 }) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, -1, 2.5, 100, Number.NaN, Infinity, -Infinity, 1e21, 2 ** 53 + 2) },
);

/** Free-form JSON: plain values, `__proto__` keys (own, as JSON.parse makes them), deep nesting. */
const json: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(31, 32, 33).chain((levels) => fc.boolean().map((asObject) => nest(levels, 1, asObject))) },
  {
    weight: 2,
    arbitrary: fc.jsonValue({ maxDepth: 2 }).map((inner) => ({ b: 1, nested: [withOwn({ c: inner }, '__proto__', POLLUTION)] })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((inner) => withOwn({ b: inner }, '__proto__', POLLUTION)) },
);

const RECORD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'k'.repeat(1_000), 'k'.repeat(1_001), '0', '1'];
const jsonObjects: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...RECORD_KEYS), fc.jsonValue({ maxDepth: 1 }), json)
      .map(([key, value, other]) => withOwn({ seed: 1, other }, key, value)),
  },
  { weight: 1, arbitrary: fc.constantFrom(31, 32).map((levels) => ({ x: nest(levels, 1, false) })) },
  { weight: 1, arbitrary: json },
);

/** A value of some type, for "wrong type" mutations. */
function junk(options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const values: Array<fc.Arbitrary<unknown>> = [
    fc.constantFrom(null, true, false, 0, -1, 1.5, '', 'x', [], {}, ['a'], { a: 1 }),
    fc.anything({ maxDepth: 1, withNullPrototype: true }),
  ];
  if (options.undefinedValues) values.push(fc.constant(undefined));
  return fc.oneof(...values);
}

/** An arbitrary for inputs to `schema`: mostly valid, at an edge now and then, sometimes wrong. */
export function arbitraryFor(schema: unknown, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const values = inner(schema as Node, options);
  if (!options.mistakes) return values.filter((value) => v.is(schema as v.GenericSchema, value));
  return fc.oneof({ weight: 12, arbitrary: values }, { weight: 1, arbitrary: junk(options) });
}

function inner(schema: Node, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  // The field schemas with their own edges (see ./fields.ts).
  if (schema === IdSchema) return ids;
  if (schema === Url) return urls;
  if (schema === Json) return json;
  if (schema === JsonObject) return jsonObjects;
  const pipe = schema.pipe as Node[] | undefined;
  if (pipe) return piped(pipe, options);
  switch (schema.type) {
    case 'string':
      return strings;
    case 'number':
      return numbers;
    case 'boolean':
      return fc.boolean();
    case 'unknown':
      return json;
    case 'literal':
      return fc.constant(schema.literal);
    case 'picklist': {
      const options_ = schema.options as string[];
      return fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...options_) },
        { weight: 1, arbitrary: fc.constantFrom('', options_[0]!.toLowerCase(), `${options_[0]} `, 'constructor') },
      );
    }
    case 'optional':
      return arbitraryFor(schema.wrapped, options);
    case 'array':
      return fc.array(arbitraryFor(schema.item, options), { maxLength: 3 });
    case 'record':
      return fc.dictionary(
        inner(schema.key as Node, options).filter((key): key is string => typeof key === 'string'),
        arbitraryFor(schema.value, options),
        { maxKeys: 3 },
      );
    case 'object':
      return objectArbitrary(schema.entries as Record<string, Node>, options);
    default:
      throw new Error(`no arbitrary for schema type ${String(schema.type)}`);
  }
}

/** A piped schema: its root's values, plus the edges of its validations. */
function piped(pipe: Node[], options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const edges: unknown[] = [];
  for (const action of pipe.slice(1)) {
    const requirement = action.requirement;
    if (action.type === 'max_length' && typeof requirement === 'number') {
      // Lists at their limit are of 'x', valid in the string and id lists (not in take lists).
      if (pipe[0]!.type === 'array') edges.push(Array(requirement).fill('x'), Array(requirement + 1).fill('x'));
      else edges.push('m'.repeat(requirement), 'm'.repeat(requirement + 1));
    }
    if (action.type === 'min_value' && typeof requirement === 'number') edges.push(requirement, requirement - 1, requirement - 0.5);
    if (action.type === 'safe_integer') edges.push(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 53 + 2);
    if (action.requirement === isSafeKey) edges.push(...RESERVED_IDS, '');
  }
  const root = inner(pipe[0]!, options);
  return edges.length === 0 ? root : fc.oneof({ weight: 4, arbitrary: root }, { weight: 1, arbitrary: fc.constantFrom(...edges) });
}

interface Presence {
  present: boolean;
  undefinedValue: boolean;
}

function objectArbitrary(entries: Record<string, Node>, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const keys = Object.keys(entries);
  const fields = keys.map((key) => {
    const entry = entries[key]!;
    const optional = entry.type === 'optional';
    const presence: fc.Arbitrary<Presence> = fc
      .tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
      .map(([p, u]) => ({
        // Required keys are nearly always there; optional ones half the time.
        present: optional ? p < 50 : p < 97 || !options.mistakes,
        undefinedValue: options.undefinedValues && u < 4 && (optional || options.mistakes),
      }));
    const value = key === 'type' ? fc.constant(entry.literal) : arbitraryFor(entry, options);
    return fc.tuple(fc.constant(key), presence, value);
  });
  // An undeclared key, a `__proto__` key, the keys in reverse order: each now and then.
  const extras = fc.tuple(fc.integer({ min: 0, max: 99 }), junk(options));
  return fc.tuple(fc.tuple(...fields), extras).map(([values, [dice, extra]]) => {
    const target: Record<string, unknown> = {};
    const ordered = dice % 5 === 0 ? [...values].reverse() : values;
    for (const [key, presence, value] of ordered) {
      if (key === 'type') withOwn(target, key, value);
      else if (presence.present) withOwn(target, key, presence.undefinedValue ? undefined : value);
    }
    if (dice % 7 === 0) target.eta_seconds = extra;
    if (dice % 11 === 0) withOwn(target, '__proto__', POLLUTION);
    return target;
  });
}
