/**
 * Inbound frames for the fuzzing and soak suites: the recorded logs (test/fixtures/*.jsonl) and
 * one example per type, generated frames on a small pool of ids (so runs collide on the same
 * tasks and nodes), and mutations of any of them. Plus the invariants every state must satisfy,
 * as plain checks that throw (cheaper than expect() inside 100,000 property runs).
 */
import fc from 'fast-check';
import {
  AGENT_TYPES,
  CELERY_STATES,
  INBOUND_TYPES,
  NODE_STATUSES,
  isSafeKey,
  isSafeUrl,
  isTerminalCeleryState,
  type RealtimeState,
  type RejectReason,
} from '../../src/index.js';
import { VALID_FRAMES } from '../protocol/examples.js';
import { FIXTURE_NAMES, fixtureFrames, generatingNodeIds } from '../support/fixtures.js';
import { getEntity, shardOf, type Table } from '../../src/slices/table.js';

export type WireFrame = Record<string, unknown> & { type: string };

export const REJECT_REASONS: readonly RejectReason[] = [
  'too_large',
  'not_text',
  'not_json',
  'not_object',
  'missing_type',
  'invalid_type',
  'invalid_fields',
];

/** Every frame of every recorded log, and one example per inbound type. */
export const SEED_FRAMES: readonly WireFrame[] = [
  ...FIXTURE_NAMES.flatMap((name) => fixtureFrames(name)),
  ...(Object.values(VALID_FRAMES) as WireFrame[]),
];

const TASKS = ['t1', 't2', 't3', 't4'];
const NODES = ['n1', 'n2', 'n3'];
const ts = fc.integer({ min: 0, max: 3_600_000 }).map((ms) => new Date(Date.UTC(2026, 2, 4) + ms).toISOString());
const seq = fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined });
const project = fc.option(fc.constantFrom('p1', 'p2'), { nil: undefined });
const percent = fc.oneof(fc.integer({ min: -50, max: 150 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));

function withEnvelope(frame: fc.Arbitrary<WireFrame>): fc.Arbitrary<WireFrame> {
  return fc.tuple(frame, ts, seq, project).map(([f, timestamp, s, p]) => ({
    ...f,
    timestamp,
    ...(s !== undefined && p !== undefined && { seq: s, project_id: p }),
  }));
}

/** Valid frames about a few tasks and nodes, in any order: late, repeated, out of order. */
export const generatedFrame: fc.Arbitrary<WireFrame> = withEnvelope(
  fc.oneof(
    fc.record({
      type: fc.constant('task.progress'),
      task_id: fc.constantFrom(...TASKS),
      node_id: fc.constantFrom(...NODES),
      state: fc.constantFrom(...CELERY_STATES),
      progress: percent,
      step: fc.constantFrom('Loading model', 'Denoising', 'Decoding latents'),
      current_step: fc.integer({ min: 0, max: 30 }),
      total_steps: fc.integer({ min: 0, max: 30 }),
    }),
    fc.record({
      type: fc.constant('node.state_changed'),
      node_id: fc.constantFrom(...NODES),
      task_id: fc.constantFrom(...TASKS),
      status: fc.constantFrom('idle', 'generating', 'completed', 'error'),
      progress: percent,
    }),
    fc.record({ type: fc.constant('generation.started'), node_id: fc.constantFrom(...NODES), task_id: fc.constantFrom(...TASKS) }),
    fc.record({
      type: fc.constant('generation.completed'),
      node_id: fc.constantFrom(...NODES),
      task_id: fc.constantFrom(...TASKS),
      output_path: fc.constantFrom('/media/a.png', 'javascript:alert(1)', 'https://cdn.example/a.png'),
    }),
    fc.record({
      type: fc.constant('generation.error'),
      node_id: fc.constantFrom(...NODES),
      task_id: fc.constantFrom(...TASKS),
      error: fc.constantFrom('CUDA out of memory', '<img src=x onerror=alert(1)>'),
    }),
    fc.record({
      type: fc.constant('agent.progress'),
      agent_type: fc.constantFrom(...AGENT_TYPES),
      task_id: fc.constantFrom(...TASKS),
      progress: percent,
    }),
    fc.record({ type: fc.constant('ack'), command_id: fc.constantFrom('c1', 'c2'), status: fc.constantFrom('accepted', 'duplicate', 'rejected') }),
    fc.record({
      type: fc.constant('replay.gap'),
      project_id: fc.constantFrom('p1', 'p2'),
      from_seq: fc.integer({ min: 0, max: 40 }),
      to_seq: fc.integer({ min: 0, max: 40 }),
    }),
  ) as fc.Arbitrary<WireFrame>,
);

const RESERVED = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const ID_FIELDS = ['node_id', 'task_id', 'project_id', 'session_id', 'command_id', 'scene_id', 'beat_name', 'process_id'];
const URL_FIELDS = ['output_path', 'thumbnail', 'path'];
const HOSTILE_URLS = ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'data:image/svg+xml,<svg onload=alert(1)>', 'vbscript:x'];

/** A value nested `depth` levels deep, built without recursion. */
export function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 1; i < depth; i++) value = i % 2 ? { level: value } : [value];
  return value;
}

const otherValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
);

export type Mutation =
  | { op: 'delete'; pick: number }
  | { op: 'retype'; pick: number; value: unknown }
  | { op: 'huge'; pick: number; size: number }
  | { op: 'deep'; pick: number; depth: number }
  | { op: 'reservedId'; field: string; id: string }
  | { op: 'unknownType'; type: string }
  | { op: 'badType'; type: unknown }
  | { op: 'proto'; where: 'top' | 'nested' }
  | { op: 'hostileUrl'; field: string; url: string }
  | { op: 'seq'; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('retype' as const), pick: fc.nat(), value: otherValue }) },
  // 10 kB (fine), 1 MiB-ish (right at the limit), 1.5 MB (over it): the big ones are rare.
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('huge' as const),
      pick: fc.nat(),
      size: fc.oneof({ weight: 8, arbitrary: fc.constant(10_000) }, { weight: 1, arbitrary: fc.constantFrom(1_048_000, 1_500_000) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deep' as const), pick: fc.nat(), depth: fc.constantFrom(5, 31, 33, 200, 1_000) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('reservedId' as const), field: fc.constantFrom(...ID_FIELDS), id: fc.constantFrom(...RESERVED) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('unknownType' as const),
      type: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}\.[a-z0-9_]{1,10}$/), fc.constantFrom('constructor', '__proto__', 'render.preview', 'tostring')),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('badType' as const), type: fc.oneof(fc.constant(undefined), otherValue, fc.constantFrom('Task.Progress', 'a'.repeat(101), '', '.x')) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('proto' as const), where: fc.constantFrom('top' as const, 'nested' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hostileUrl' as const), field: fc.constantFrom(...URL_FIELDS), url: fc.constantFrom(...HOSTILE_URLS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('seq' as const), value: fc.constantFrom(-1, 1.5, 2 ** 53, '3', null, 1e308) }) },
);

/** Applies a mutation to a copy of `frame`. */
export function mutate(frame: WireFrame, m: Mutation): WireFrame {
  const copy: WireFrame = { ...frame };
  const keys = Object.keys(copy);
  const key = (pick: number) => keys[pick % keys.length]!;
  switch (m.op) {
    case 'delete':
      delete copy[key(m.pick)];
      break;
    case 'retype':
      copy[key(m.pick)] = m.value;
      break;
    case 'huge':
      copy[key(m.pick) === 'type' ? 'message' : key(m.pick)] = 'x'.repeat(m.size);
      break;
    case 'deep':
      copy[key(m.pick) === 'type' ? 'result' : key(m.pick)] = nested(m.depth);
      break;
    case 'reservedId':
      copy[m.field] = m.id;
      break;
    case 'unknownType':
    case 'badType':
      copy.type = m.type as string;
      break;
    case 'proto':
      if (m.where === 'top') Object.defineProperty(copy, '__proto__', { value: { polluted: 'top' }, enumerable: true, writable: true, configurable: true });
      else copy.result = JSON.parse('{"ok":1,"__proto__":{"polluted":"nested"},"list":[{"__proto__":{"polluted":"deep"}}]}');
      break;
    case 'hostileUrl':
      if (m.field === 'path' && Array.isArray(copy.takes)) {
        copy.takes = (copy.takes as Array<Record<string, unknown>>).map((take) => ({ ...take, path: m.url, thumbnail: m.url }));
      } else copy[m.field] = m.url;
      break;
    case 'seq':
      copy.seq = m.value;
      break;
  }
  return copy;
}

export type Encoding = 'text' | 'object' | 'bytes' | 'truncated';
export const encoding: fc.Arbitrary<Encoding> = fc.constantFrom<Encoding>('text', 'text', 'text', 'object', 'bytes', 'truncated');

/** The frame as the socket or a recorded log would hand it over. */
export function encode(frame: WireFrame, how: Encoding): unknown {
  switch (how) {
    case 'object':
      return frame;
    case 'bytes':
      return new TextEncoder().encode(JSON.stringify(frame));
    case 'truncated': {
      const text = JSON.stringify(frame);
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    }
    default:
      return JSON.stringify(frame);
  }
}

/** A seed frame or a generated one, mutated 0-3 times, in some encoding. */
export const fuzzedRaw: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.oneof(fc.constantFrom(...SEED_FRAMES), generatedFrame),
    fc.array(mutation, { maxLength: 3 }),
    encoding,
  )
  .map(([frame, mutations, how]) => encode(mutations.reduce(mutate, frame), how));

/** Mostly valid traffic (generated or recorded), with some mutated frames mixed in. */
export const trafficRaw: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: generatedFrame.map((frame) => JSON.stringify(frame)) },
  { weight: 2, arbitrary: fc.constantFrom(...SEED_FRAMES).map((frame) => JSON.stringify(frame)) },
  { weight: 3, arbitrary: fuzzedRaw },
);

// ---------------------------------------------------------------------------------------------
// Invariants

function fail(message: string): never {
  throw new Error(`invariant: ${message}`);
}

/** Deep equality of JSON-like values where an undefined-valued key equals a missing one. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Plain JSON data only: no Map, Set, Date, class, function, bigint, symbol, NaN or Infinity. */
export function assertPlain(value: unknown, path = 'state'): void {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [current, at] = stack.pop()!;
    if (current === null || current === undefined || typeof current === 'string' || typeof current === 'boolean') continue;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) fail(`${at} is ${current}`);
      continue;
    }
    if (typeof current !== 'object') fail(`${at} is a ${typeof current}`);
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, `${at}[${i}]`]));
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) fail(`${at} is not a plain object`);
    for (const key of Object.keys(current)) stack.push([(current as Record<string, unknown>)[key], `${at}.${key}`]);
  }
}

const PRISTINE = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

export function assertPrototypeClean(): void {
  if (Object.getOwnPropertyNames(Object.prototype).sort().join(',') !== PRISTINE) fail('Object.prototype gained a key');
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.status !== undefined) fail('Object.prototype polluted');
}

function assertTable(name: string, table: Table<unknown>, idKey: string) {
  let keys = 0;
  for (const shard of table.shards) keys += Object.keys(shard).length;
  if (keys !== table.ids.length || new Set(table.ids).size !== table.ids.length) fail(`${name}: ids and entities differ`);
  for (const id of table.ids) {
    const entity = getEntity(table, id) as Record<string, unknown> | undefined;
    if (table.shards.findIndex((shard) => Object.hasOwn(shard, id)) !== shardOf(id)) fail(`${name}: entity ${id} in the wrong shard`);
    if (!entity || entity[idKey] !== id) fail(`${name}: entity ${id} missing or misnamed`);
    if (!isSafeKey(id)) fail(`${name}: unsafe id ${id}`);
  }
}

function assertPercent(where: string, value: number) {
  if (!(Number.isFinite(value) && value >= 0 && value <= 100)) fail(`${where} progress ${value} outside 0..100`);
}

/**
 * The state's own invariants: serializable (JSON round trip equal), entity tables consistent,
 * nodes.generating_ids exact, progress within 0..100, finished tasks terminal, URLs safe,
 * counters consistent, Object.prototype untouched.
 */
export function assertStateValid(state: RealtimeState): void {
  assertPlain(state);
  if (!jsonEqual(JSON.parse(JSON.stringify(state)), state)) fail('JSON round trip differs');
  assertTable('nodes', state.nodes, 'node_id');
  assertTable('tasks', state.tasks, 'task_id');
  assertTable('takes', state.takes, 'id');
  const generating = state.nodes.generating_ids;
  if (new Set(generating).size !== generating.length) fail('generating_ids has duplicates');
  const expected = generatingNodeIds(state);
  if (generating.length !== expected.length || !expected.every((id) => generating.includes(id))) {
    fail(`generating_ids ${JSON.stringify(generating)} != ${JSON.stringify(expected)}`);
  }
  for (const id of state.nodes.ids) {
    const node = getEntity(state.nodes, id)!;
    if (!(NODE_STATUSES as readonly string[]).includes(node.status)) fail(`node ${id} status ${node.status}`);
    assertPercent(`node ${id}`, node.progress);
    for (const url of [node.output_path, node.thumbnail]) if (url !== undefined && !isSafeUrl(url)) fail(`node ${id} unsafe URL ${url}`);
  }
  for (const id of state.tasks.ids) assertPercent(`task ${id}`, getEntity(state.tasks, id)!.progress);
  for (const id of state.tasks.finishedOrder) {
    const task = getEntity(state.tasks, id);
    if (!task || !isTerminalCeleryState(task.state)) fail(`finished task ${id} is not terminal`);
  }
  for (const id of state.takes.ids) {
    const take = getEntity(state.takes, id)! as { path?: string; thumbnail?: string };
    for (const url of [take.path, take.thumbnail]) if (url !== undefined && !isSafeUrl(url)) fail(`take ${id} unsafe URL ${url}`);
  }
  const { rejected } = state.frames;
  const byReason = Object.values(rejected.byReason).reduce((a, b) => a + (b ?? 0), 0);
  if (byReason !== rejected.total) fail(`rejected.total ${rejected.total} != sum by reason ${byReason}`);
  assertPrototypeClean();
}

/** Records terminal tasks and checks that none of them moved since it became terminal. */
export class TerminalWatch {
  private readonly terminal = new Map<string, { state: string; progress: number }>();
  check(state: RealtimeState): void {
    for (const [id, seen] of this.terminal) {
      const task = getEntity(state.tasks, id);
      // A finished task may be evicted by the cap, never changed.
      if (task && (task.state !== seen.state || task.progress !== seen.progress)) {
        fail(`terminal task ${id} regressed from ${seen.state}/${seen.progress} to ${task.state}/${task.progress}`);
      }
    }
    for (const id of state.tasks.ids) {
      const task = getEntity(state.tasks, id)!;
      if (isTerminalCeleryState(task.state) && !this.terminal.has(id)) this.terminal.set(id, { state: task.state, progress: task.progress });
    }
  }
}

export { INBOUND_TYPES };
