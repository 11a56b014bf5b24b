/**
 * compileSchema: turns a valibot schema into a plain validating function. parseFrame uses it for
 * the frame types that have no hand-written validator (./hotFrames.ts), and those use it for
 * nested values (takes). valibot stays the contract (types, PROTOCOL.md, outbound frames, every
 * rejection message); this is a faster way to run the same schema on the frames that pass it.
 *
 * Why: `v.safeParse` allocates a dataset object per value and per pipe step, and dispatches each
 * step through a generic `~run`: on realistic traffic that was ~1.6 us of parseFrame's ~2.5 us
 * per frame. The compiled function walks the same tree with closures and allocates only the
 * output (about 3x faster).
 *
 * Contract: a compiled function returns INVALID, or exactly what `v.safeParse(schema, input)`
 * returns as `output` on success: same keys in the same order (declared keys only, defaults
 * filled, present-but-undefined keys kept), fresh objects and arrays where valibot builds them,
 * the schema's own check and transform functions applied in pipe order. Each supported node
 * mirrors its valibot 1.x implementation (`key in input` for object entries; own keys minus
 * `__proto__`/`prototype`/`constructor` for records; NaN is not a number; SameValueZero for
 * literals and picklists). It stops at the first problem instead of collecting issues: the caller
 * then runs valibot for the authoritative decision and its message.
 * test/protocol/fastParse.test.ts checks the agreement on generated and mutated frames.
 *
 * A node it does not know (or an async one, a fallback, a function default) makes compileSchema
 * return undefined, and the caller keeps using valibot for that schema.
 */
import type * as v from 'valibot';

/** Returned instead of an output when the input does not pass. Never a valid output. */
export const INVALID: unique symbol = Symbol('invalid');

export type CompiledSchema = (input: unknown) => unknown;

// valibot's node objects, read through the properties its own `~run` methods use.
type Node = v.GenericSchema & Record<string, unknown>;
type Action = (v.GenericValidation | v.GenericTransformation | v.GenericSchema) & Record<string, unknown>;
type Predicate = (value: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

class Unsupported extends Error {}

export function compileSchema(schema: v.GenericSchema): CompiledSchema | undefined {
  try {
    return compile(schema as Node);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function compile(schema: Node): CompiledSchema {
  if (schema.async) throw new Unsupported();
  // v.pipe(root, ...actions) is a copy of its root plus a `pipe` array; the root may itself be
  // piped (v.pipe(ShortText, v.check(...))), and compiles the same way.
  const pipe = schema.pipe as readonly Action[] | undefined;
  if (pipe) return compilePipe(pipe);
  switch (schema.type) {
    case 'string':
      return (input) => (typeof input === 'string' ? input : INVALID);
    case 'number':
      // NaN is a number for typeof, not for valibot's number().
      return (input) => (typeof input === 'number' && !Number.isNaN(input) ? input : INVALID);
    case 'boolean':
      return (input) => (typeof input === 'boolean' ? input : INVALID);
    case 'unknown':
      return (input) => input;
    case 'literal': {
      const literal = schema.literal;
      return (input) => (input === literal || (input !== input && literal !== literal) ? input : INVALID);
    }
    case 'picklist': {
      const options = new Set(schema.options as readonly unknown[]); // has() is SameValueZero, like includes()
      return (input) => (options.has(input) ? input : INVALID);
    }
    case 'optional': {
      const wrapped = compile(schema.wrapped as Node);
      const fallback = defaultOf(schema);
      return (input) => {
        if (input !== undefined) return wrapped(input);
        return fallback === undefined ? undefined : wrapped(fallback);
      };
    }
    case 'array':
      return compileArray(compile(schema.item as Node));
    case 'object':
      return compileObject(schema.entries as Record<string, Node>);
    case 'record':
      return compileRecord(compile(schema.key as Node), compile(schema.value as Node));
    default:
      throw new Unsupported();
  }
}

/** optional()'s default. A function default would be called with valibot's dataset: not here. */
function defaultOf(schema: Node): unknown {
  if (typeof schema.default === 'function') throw new Unsupported();
  return schema.default;
}

function compileArray(item: CompiledSchema): CompiledSchema {
  return (input) => {
    if (!Array.isArray(input)) return INVALID;
    const output: unknown[] = [];
    for (let i = 0; i < input.length; i++) {
      const value = item(input[i]);
      if (value === INVALID) return INVALID;
      output.push(value);
    }
    return output;
  };
}

interface Entry {
  key: string;
  run: CompiledSchema;
  /** An optional() entry (piped or not): a missing key is fine, or gets the default. */
  optional: boolean;
  /** A bare optional(): `run` is the wrapped schema, and the loop does optional's own job. */
  unwrapped: boolean;
  /** optional(x, default): stands in for a missing (or, unwrapped, undefined) value. */
  fallback: unknown;
}

function compileObject(entries: Record<string, Node>): CompiledSchema {
  const list: Entry[] = [];
  for (const key in entries) {
    const schema = entries[key]!;
    if (schema.fallback !== undefined || schema.type === 'exact_optional' || schema.type === 'nullish') {
      throw new Unsupported();
    }
    // valibot's object looks at the entry's type and default, which a pipe copies from its root.
    const optional = schema.type === 'optional';
    const unwrapped = optional && !schema.pipe;
    list.push({
      key,
      run: compile(unwrapped ? (schema.wrapped as Node) : schema),
      optional,
      unwrapped,
      fallback: optional ? defaultOf(schema) : undefined,
    });
  }
  const count = list.length;
  return (input) => {
    // Arrays pass this test in valibot too; their declared keys are then simply missing.
    if (!input || typeof input !== 'object') return INVALID;
    const source = input as Record<string, unknown>;
    // Declared keys only, in declaration order: extra keys (and `__proto__`) stay behind.
    const output: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const entry = list[i]!;
      const key = entry.key;
      let value = source[key];
      // valibot tests `key in input` (inherited keys count): only an undefined read needs it.
      if (value === undefined) {
        if (!(key in source)) {
          if (!entry.optional) return INVALID;
          if (entry.fallback === undefined) continue;
          value = entry.fallback;
        } else if (entry.unwrapped) {
          if (entry.fallback === undefined) {
            output[key] = undefined;
            continue;
          }
          value = entry.fallback;
        }
      }
      const parsed = entry.run(value);
      if (parsed === INVALID) return INVALID;
      output[key] = parsed;
    }
    return output;
  };
}

function compileRecord(keySchema: CompiledSchema, valueSchema: CompiledSchema): CompiledSchema {
  const hasOwn = Object.prototype.hasOwnProperty;
  return (input) => {
    if (!input || typeof input !== 'object') return INVALID;
    const source = input as Record<string, unknown>;
    const output: Record<string, unknown> = {};
    for (const key in source) {
      // valibot's _isValidObjectKey: own keys, never the three that reach a prototype.
      if (!hasOwn.call(source, key) || key === '__proto__' || key === 'prototype' || key === 'constructor') continue;
      const parsedKey = keySchema(key);
      if (parsedKey === INVALID) return INVALID;
      const parsed = valueSchema(source[key]);
      if (parsed === INVALID) return INVALID;
      output[parsedKey as string] = parsed;
    }
    return output;
  };
}

/**
 * A pipe: its root schema, then validations, transformations and nested schemas, in order. Each
 * step wraps the previous one. Validations are pure predicates: a run of them is one check.
 */
function compilePipe(items: readonly Action[]): CompiledSchema {
  let run = compile(items[0] as Node);
  let checks: Predicate[] = [];
  for (const item of items.slice(1)) {
    if ((item.kind as string) === 'metadata') continue;
    if (item.async) throw new Unsupported();
    if (item.kind === 'validation') {
      checks.push(predicate(item));
      continue;
    }
    run = withChecks(run, checks);
    checks = [];
    const next = item.kind === 'schema' ? compile(item as Node) : transformation(item);
    const before = run;
    run = (input) => {
      const value = before(input);
      return value === INVALID ? INVALID : next(value);
    };
  }
  return withChecks(run, checks);
}

function transformation(action: Action): CompiledSchema {
  if (action.kind !== 'transformation' || action.type !== 'transform') throw new Unsupported();
  return action.operation as CompiledSchema;
}

function predicate(action: Action): Predicate {
  const requirement = action.requirement;
  switch (action.type) {
    case 'max_length':
      return (value: { length: number }) => value.length <= (requirement as number);
    case 'min_value':
      // valibot reports an issue when !(value >= requirement).
      return (value: number) => value >= (requirement as number);
    case 'integer':
    case 'safe_integer':
    case 'finite':
    case 'check':
      return requirement as Predicate;
    default:
      throw new Unsupported();
  }
}

function withChecks(run: CompiledSchema, checks: readonly Predicate[]): CompiledSchema {
  if (checks.length === 0) return run;
  return (input) => {
    const value = run(input);
    if (value === INVALID) return INVALID;
    for (const check of checks) if (!check(value)) return INVALID;
    return value;
  };
}
