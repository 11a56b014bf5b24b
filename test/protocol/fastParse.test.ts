/**
 * The fast parse path against valibot, which stays the contract.
 *
 * parseFrame validates known frames with a hand-written validator (src/protocol/hotFrames.ts)
 * or one compiled from the schema (compileSchema.ts), and runs valibot only for frames those
 * refuse. So each fast validator must accept exactly what valibot accepts, with exactly its
 * output (same keys in the same order, same values, fresh objects where valibot makes them),
 * and parseFrame must answer every input as the valibot-only parseFrame did, rejection details
 * included. Inputs: frames generated from the schemas (schemaArbitrary.ts: edges, wrong types,
 * missing, extra and `__proto__` keys, unsafe URLs, deep nesting, long strings), the recorded
 * logs, the examples, the benchmark traffic, and arbitrary values.
 */
import { TextDecoder, TextEncoder } from 'node:util';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../bench/traffic.js';
import { compileSchema, INVALID, type CompiledSchema } from '../../src/protocol/compileSchema.js';
import { FAST_FIELDS } from '../../src/protocol/fastFields.js';
import { hotValidator } from '../../src/protocol/hotFrames.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  describeIssues,
  INBOUND_SCHEMAS,
  INBOUND_TYPES,
  parseFrame,
  type InboundType,
  type ParseOptions,
  type ParseResult,
} from '../../src/protocol/index.js';
import { FIXTURE_NAMES, fixtureLines } from '../support/fixtures.js';
import { VALID_FRAMES } from './examples.js';
import { arbitraryFor } from './schemaArbitrary.js';

const HOT_TYPES: readonly InboundType[] = [
  'task.progress',
  'agent.assigned',
  'agent.progress',
  'agent.completed',
  'agent.handoff',
  'node.state_changed',
  'generation.started',
  'generation.completed',
  'generation.error',
];

/** Frames that pass and frames with mistakes, half and half. */
function framesOf(type: InboundType, undefinedValues: boolean): fc.Arbitrary<Record<string, unknown>> {
  const schema = INBOUND_SCHEMAS[type];
  return fc
    .oneof(arbitraryFor(schema, { undefinedValues, mistakes: false }), arbitraryFor(schema, { undefinedValues, mistakes: true }))
    .filter((frame) => frame !== null && typeof frame === 'object' && !Array.isArray(frame))
    .map((frame) => ({ ...(frame as object), type }));
}

// ---------------------------------------------------------------------------------------------
// The reference: parseFrame as it was before the fast path (src/protocol/parse.ts at f6090f7),
// valibot only.

const TYPE_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$/;
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function referenceParseFrame(raw: unknown, options: ParseOptions = {}): ParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const tooLarge = (bytes: number): ParseResult => ({ ok: false, reason: 'too_large', detail: `${bytes} bytes exceeds the ${maxBytes}-byte limit` });
  let data: unknown = raw;
  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
    if (raw.byteLength > maxBytes) return tooLarge(raw.byteLength);
    try {
      data = decoder.decode(raw as ArrayBuffer);
    } catch {
      return { ok: false, reason: 'not_text', detail: 'binary frame is not UTF-8 text' };
    }
  }
  if (typeof data === 'string') {
    const text = data;
    const bytes = text.length * 3 <= maxBytes || text.length > maxBytes ? text.length : encoder.encode(text).length;
    if (bytes > maxBytes) return tooLarge(bytes);
    try {
      data = JSON.parse(text);
    } catch (error) {
      return { ok: false, reason: 'not_json', detail: (error as Error).message.slice(0, 200) };
    }
  } else if (data === null || typeof data !== 'object') {
    return { ok: false, reason: 'not_text', detail: `frame is a ${data === null ? 'null' : typeof data}` };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, reason: 'not_object', detail: 'frame is not a JSON object' };
  }
  const type = (data as { type?: unknown }).type;
  if (type === undefined) return { ok: false, reason: 'missing_type', detail: 'frame has no type' };
  if (typeof type !== 'string' || type.length > 100 || !TYPE_PATTERN.test(type)) {
    return { ok: false, reason: 'invalid_type', detail: 'type must be a dotted lower-case name' };
  }
  if (!Object.prototype.hasOwnProperty.call(INBOUND_SCHEMAS, type)) return { ok: true, kind: 'unknown', frame: data as never };
  const result = v.safeParse(INBOUND_SCHEMAS[type as InboundType], data);
  if (!result.success) return { ok: false, reason: 'invalid_fields', detail: describeIssues(result.issues), type };
  return { ok: true, kind: 'event', frame: result.output as never };
}

// ---------------------------------------------------------------------------------------------
// Comparing outputs

/** The key order of every object in a value, as nested lists. */
function keyOrder(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) return value.map(keyOrder);
  return Object.keys(value).map((key) => [key, keyOrder((value as Record<string, unknown>)[key])]);
}

/** The paths at which `output` holds an object of the input itself (not a copy). */
function sharedPaths(output: unknown, input: unknown): string[] {
  const inputs = new Set<unknown>();
  const collect = (value: unknown) => {
    if (value === null || typeof value !== 'object' || inputs.has(value)) return;
    inputs.add(value);
    for (const child of Object.values(value)) collect(child);
  };
  collect(input);
  const paths: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (inputs.has(value)) paths.push(path);
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
  };
  walk(output, '$');
  return paths;
}

/** `actual` is what valibot gave: equal, same key order, sharing the same input objects. */
function expectSameOutput(actual: unknown, expected: unknown, input: unknown): void {
  expect(actual).toStrictEqual(expected);
  expect(keyOrder(actual)).toEqual(keyOrder(expected));
  expect(sharedPaths(actual, input)).toEqual(sharedPaths(expected, input));
}

function expectSameResult(actual: ParseResult, expected: ParseResult, input: unknown): void {
  if (actual.ok && expected.ok) {
    expect(actual.kind).toBe(expected.kind);
    expectSameOutput(actual.frame, expected.frame, input);
  } else {
    expect(actual).toStrictEqual(expected);
  }
}

/** A declared key of `schema` that `input` holds with the value undefined (own or inherited). */
function hasUndefinedDeclaredKey(schema: unknown, input: unknown): boolean {
  const entries = (schema as { entries: Record<string, unknown> }).entries;
  return Object.keys(entries).some((key) => key in (input as object) && (input as Record<string, unknown>)[key] === undefined);
}

function expectPrototypeClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

const compiled = new Map<InboundType, CompiledSchema | undefined>(INBOUND_TYPES.map((type) => [type, compileSchema(INBOUND_SCHEMAS[type])]));
const hot = new Map<InboundType, CompiledSchema | undefined>(INBOUND_TYPES.map((type) => [type, hotValidator(type)]));

/** Checks the fast validators of `type` on one input, against valibot. */
function checkValidators(type: InboundType, input: unknown, jsonInput: boolean): void {
  const schema = INBOUND_SCHEMAS[type];
  const reference = v.safeParse(schema, input);
  const handWritten = hot.get(type);
  for (const validate of handWritten ? [compiled.get(type)!, handWritten] : [compiled.get(type)!]) {
    const output = validate(input);
    if (output === INVALID) {
      // Refused: valibot must refuse too, except the one case the hand-written ones leave to
      // the generic path (a declared key present with the value undefined).
      if (reference.success) {
        expect(validate).toBe(handWritten);
        expect(jsonInput).toBe(false);
        expect(hasUndefinedDeclaredKey(schema, input)).toBe(true);
      }
    } else {
      expect(reference.success).toBe(true);
      expectSameOutput(output, reference.output, input);
      // Nothing shared between two outputs either (a default [] must not be one shared array),
      // beyond what valibot shares.
      expect(sharedPaths(output, validate(input))).toEqual(sharedPaths(reference.output, v.parse(schema, input)));
    }
  }
}

/** Checks every fast validator of `type` and parseFrame on one input. */
function checkFrame(type: InboundType, input: unknown, jsonInput: boolean): void {
  checkValidators(type, input, jsonInput);
  expectSameResult(parseFrame(input), referenceParseFrame(input), input);
  if (jsonInput) {
    const text = JSON.stringify(input);
    expectSameResult(parseFrame(text), referenceParseFrame(text), input);
  }
  expectPrototypeClean();
}

// ---------------------------------------------------------------------------------------------

describe('fast parse path: coverage', () => {
  it('compiles every inbound schema', () => {
    for (const type of INBOUND_TYPES) expect(compiled.get(type), type).toBeTypeOf('function');
  });

  it('has a hand-written validator, matching its schema, for exactly the busiest types', () => {
    // A schema edited without src/protocol/hotFrames.ts disables its validator (still correct,
    // slower): this test says so.
    expect(INBOUND_TYPES.filter((type) => hot.get(type))).toEqual(INBOUND_TYPES.filter((type) => HOT_TYPES.includes(type)));
  });

  it('accepts every example on the fast path, with valibot\'s output', () => {
    for (const type of INBOUND_TYPES) {
      const input = JSON.parse(JSON.stringify(VALID_FRAMES[type])) as unknown;
      for (const validate of [compiled.get(type)!, hot.get(type)].filter(Boolean)) {
        const output = validate!(input);
        expect(output, type).not.toBe(INVALID);
        expectSameOutput(output, v.parse(INBOUND_SCHEMAS[type], input), input);
      }
    }
  });

  it('refuses a seq that is not a safe integer on every path (hand-written, compiled, valibot)', () => {
    // Past 2^53 - 1 neighbouring integers share one number: such a seq cannot be a position.
    for (const seq of [Number.MAX_SAFE_INTEGER + 1, 2 ** 53 + 2, 2 ** 64, 1e300]) {
      for (const type of INBOUND_TYPES) {
        const input = { ...(VALID_FRAMES[type] as object), seq };
        expect(v.safeParse(INBOUND_SCHEMAS[type], input).success, type).toBe(false);
        expect(compiled.get(type)!(input), type).toBe(INVALID);
        if (hot.get(type)) expect(hot.get(type)!(input), type).toBe(INVALID);
        expect(parseFrame(JSON.stringify(input)), type).toMatchObject({ ok: false, reason: 'invalid_fields', type });
      }
    }
    const input = { ...(VALID_FRAMES['task.progress'] as object), seq: Number.MAX_SAFE_INTEGER };
    expect(parseFrame(JSON.stringify(input))).toMatchObject({ ok: true, frame: { seq: Number.MAX_SAFE_INTEGER } });
  });

  it('knows only types that match the documented type pattern (parseFrame skips the regex for them)', () => {
    for (const type of INBOUND_TYPES) {
      expect(TYPE_PATTERN.test(type) && type.length <= 100, type).toBe(true);
    }
  });
});

describe('fast field functions', () => {
  it.each(FAST_FIELDS.map(([schema, fast], index) => [index, schema, fast] as const))(
    'field function #%i gives what valibot gives for its schema',
    (_index, schema, fast) => {
      const input = fc.oneof(
        arbitraryFor(schema, { undefinedValues: true, mistakes: false }),
        arbitraryFor(schema, { undefinedValues: true, mistakes: true }),
        fc.anything({ withNullPrototype: true }),
      );
      fc.assert(
        fc.property(input, (value) => {
          const reference = v.safeParse(schema as v.GenericSchema, value);
          const output = fast(value);
          if (output === INVALID) expect(reference.success).toBe(false);
          else {
            expect(reference.success).toBe(true);
            expectSameOutput(output, reference.output, value);
          }
        }),
        { numRuns: 400 },
      );
    },
  );
});

describe('fast validators and parseFrame agree with valibot', () => {
  it.each(INBOUND_TYPES)('%s, generated frames as JSON text', (type) => {
    const frames = framesOf(type, false).map((frame) => JSON.parse(JSON.stringify(frame)) as unknown);
    fc.assert(fc.property(frames, (input) => checkFrame(type, input, true)), { numRuns: 400 });
  });

  it.each(INBOUND_TYPES)('%s, generated frames as objects (undefined values, inherited keys)', (type) => {
    const frames = fc.tuple(framesOf(type, true), fc.integer({ min: 0, max: 9 })).map(([frame, dice]) =>
      // Now and then the fields come from a prototype: valibot reads inherited keys too.
      dice === 0 ? Object.assign(Object.create(frame) as object, { type }) : frame,
    );
    fc.assert(fc.property(frames, (input) => checkFrame(type, input, false)), { numRuns: 250 });
  });

  it.each(HOT_TYPES)('%s, generated frames with another type', (type) => {
    // parseFrame never does this (it picks the validator by type), but the validators still
    // check their type literal as valibot does.
    const types = fc.constantFrom<unknown>(...INBOUND_TYPES, 'x.y', '', null);
    const frames = fc.tuple(framesOf(type, false), types).map(([frame, other]) => ({ ...frame, type: other }));
    fc.assert(fc.property(frames, (input) => checkValidators(type, input, true)), { numRuns: 100 });
  });

  it('refuses a frame of another type (the type literal)', () => {
    for (const type of HOT_TYPES) {
      for (const other of INBOUND_TYPES) {
        if (other === type) continue;
        const input = { ...(VALID_FRAMES[other] as object) };
        expect(v.safeParse(INBOUND_SCHEMAS[type], input).success).toBe(false);
        expect(hot.get(type)!(input)).toBe(INVALID);
        expect(compiled.get(type)!(input)).toBe(INVALID);
      }
    }
  });
});

describe('parseFrame answers as the valibot-only parseFrame did', () => {
  it('on the recorded logs and the examples', () => {
    for (const name of FIXTURE_NAMES) {
      for (const line of fixtureLines(name)) expectSameResult(parseFrame(line), referenceParseFrame(line), undefined);
    }
    for (const example of Object.values(VALID_FRAMES)) expectSameResult(parseFrame(example), referenceParseFrame(example), example);
  });

  it('on the benchmark traffic', () => {
    const { frames } = generateTraffic({ frames: 5_000, nodes: 200 });
    for (const text of frames) {
      const result = parseFrame(text);
      expect(result).toMatchObject({ ok: true, kind: 'event' });
      expectSameResult(result, referenceParseFrame(text), undefined);
    }
  });

  it('on arbitrary values, strings and bytes', () => {
    const raw = fc.oneof(
      fc.anything({ withNullPrototype: true }),
      fc.json(),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(...INBOUND_TYPES, 'constructor', '__proto__', 'x.y', 'a'.repeat(100), 'a'.repeat(101), 'Task.progress').map((type) => ({ type })),
      fc.stringMatching(/^[a-z][a-z0-9_.]{0,12}$/).map((type) => ({ type })),
    );
    fc.assert(
      fc.property(raw, (input) => {
        expectSameResult(parseFrame(input), referenceParseFrame(input), input);
        expectPrototypeClean();
      }),
      { numRuns: 3_000 },
    );
  });

  it('on every known type with a field replaced by an arbitrary value', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...INBOUND_TYPES), fc.nat(), fc.anything({ withNullPrototype: true }))
      .map(([type, pick, value]) => {
        const frame = { ...(VALID_FRAMES[type] as Record<string, unknown>) };
        const keys = Object.keys(INBOUND_SCHEMAS[type].entries).filter((key) => key !== 'type');
        if (keys.length > 0) frame[keys[pick % keys.length]!] = value;
        return frame;
      });
    fc.assert(
      fc.property(mutated, (input) => {
        expectSameResult(parseFrame(input), referenceParseFrame(input), input);
        const text = JSON.stringify(input);
        if (text !== undefined) expectSameResult(parseFrame(text), referenceParseFrame(text), undefined);
      }),
      { numRuns: 3_000 },
    );
  });
});
