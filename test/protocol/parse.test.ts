import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CELERY_STATES,
  DEFAULT_MAX_FRAME_BYTES,
  INBOUND_TYPES,
  parseFrame,
  type ParseOptions,
  type ParseResult,
  type RejectReason,
} from '../../src/protocol/index.js';
import { VALID_FRAMES } from './examples.js';

const REASONS: readonly RejectReason[] = [
  'too_large',
  'not_text',
  'not_json',
  'not_object',
  'missing_type',
  'invalid_type',
  'invalid_fields',
];

function rejected(raw: unknown, options?: ParseOptions): Extract<ParseResult, { ok: false }> {
  const result = parseFrame(raw, options);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  expect(REASONS).toContain(result.reason);
  expect(typeof result.detail).toBe('string');
  expect(result.detail.length).toBeGreaterThan(0);
  return result;
}

function event(raw: unknown, options?: ParseOptions): Record<string, unknown> {
  const result = parseFrame(raw, options);
  if (!result.ok) throw new Error(`expected an event, got ${result.reason}: ${result.detail}`);
  expect(result.kind).toBe('event');
  return result.frame as unknown as Record<string, unknown>;
}

/** A valid frame of `type` with `fields` overriding the example's. */
function frameWith(type: keyof typeof VALID_FRAMES, fields: Record<string, unknown>): string {
  return JSON.stringify({ ...VALID_FRAMES[type], ...fields });
}

/** Every own key of every object reachable from `value` (iterative, so deep values are fine). */
function allOwnKeys(value: unknown): string[] {
  const keys: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') continue;
    for (const key of Object.getOwnPropertyNames(current)) {
      keys.push(key);
      stack.push((current as Record<string, unknown>)[key]);
    }
  }
  return keys;
}

describe('parseFrame: not a frame', () => {
  it.each(['', ' ', '{', 'hello', "{'type':'x.y'}", '{"type":"x.y",}', '{"type":"x.y"} trailing', 'undefined', 'NaN'])(
    'rejects non-JSON text %j as not_json',
    (text) => {
      expect(rejected(text).reason).toBe('not_json');
    },
  );

  it.each(['[]', '[{"type":"task.progress"}]', '42', '-1.5', 'null', 'true', '"task.progress"'])(
    'rejects JSON %s that is not an object as not_object',
    (text) => {
      expect(rejected(text).reason).toBe('not_object');
    },
  );

  it('rejects an array passed as an object as not_object', () => {
    expect(rejected([{ type: 'task.progress' }]).reason).toBe('not_object');
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a boolean', true],
    ['a bigint', 10n],
    ['a symbol', Symbol('x')],
    ['a function', () => ({ type: 'task.progress' })],
  ])('rejects %s (not text, bytes nor object) as not_text', (_label, raw) => {
    expect(rejected(raw).reason).toBe('not_text');
  });
});

describe('parseFrame: type', () => {
  it.each(['{}', '{"task_id":"t1","state":"SUCCESS"}', '{"Type":"task.progress"}'])(
    'rejects %s without a type as missing_type',
    (text) => {
      expect(rejected(text).reason).toBe('missing_type');
    },
  );

  it('treats an explicit undefined type on an object input as missing', () => {
    expect(rejected({ type: undefined, task_id: 't1' }).reason).toBe('missing_type');
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['a boolean', true],
    ['an object', { name: 'task.progress' }],
    ['an array', ['task.progress']],
    ['empty', ''],
    ['upper case', 'Task.Progress'],
    ['with a space', 'task progress'],
    ['with a hyphen', 'task-progress'],
    ['leading dot', '.task'],
    ['trailing dot', 'task.'],
    ['double dot', 'task..progress'],
    ['leading digit', '1task'],
    ['leading underscore', '__proto__'],
    ['padded', ' task.progress'],
    ['101 characters', 'a'.repeat(101)],
  ])('rejects a type that is %s as invalid_type', (_label, type) => {
    expect(rejected(JSON.stringify({ type, task_id: 't1', state: 'SUCCESS' })).reason).toBe('invalid_type');
  });

  it('accepts a 100-character type name (as unknown)', () => {
    const result = parseFrame(JSON.stringify({ type: 'a'.repeat(100) }));
    expect(result).toMatchObject({ ok: true, kind: 'unknown' });
  });
});

describe('parseFrame: unknown types', () => {
  it('delivers a well-formed unknown type as kind unknown with the frame kept', () => {
    const frame = { type: 'render.queued', project_id: 'proj-1', position: 3, nested: { a: [1, 2] } };
    const result = parseFrame(JSON.stringify(frame));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.kind).toBe('unknown');
    expect(result.frame).toEqual(frame);
  });

  it('keeps an unknown object frame as is', () => {
    const frame = { type: 'agent.thinking', agent_type: 'Editor', extra: true };
    expect(parseFrame(frame)).toEqual({ ok: true, kind: 'unknown', frame });
  });

  it.each(['constructor', 'hasownproperty', 'valueof', 'tostring', 'prototype'])(
    'treats %s (an Object.prototype-like name) as unknown, not as a known type',
    (type) => {
      expect(parseFrame(JSON.stringify({ type }))).toMatchObject({ ok: true, kind: 'unknown' });
    },
  );
});

describe('parseFrame: every inbound type', () => {
  it('has exactly one example per inbound type', () => {
    expect(Object.keys(VALID_FRAMES).sort()).toEqual([...INBOUND_TYPES].sort());
    expect(INBOUND_TYPES.length).toBe(33);
  });

  it.each(INBOUND_TYPES)('parses the %s example as an event with every field kept', (type) => {
    const example = VALID_FRAMES[type];
    expect((example as { type: string }).type).toBe(type);
    const frame = event(JSON.stringify(example));
    expect(frame.type).toBe(type);
    // Every field of the example is a declared field: none was dropped or rewritten.
    expect(frame).toMatchObject(example as Record<string, unknown>);
  });

  it.each(INBOUND_TYPES)('parses the %s example given as an object', (type) => {
    const frame = event(VALID_FRAMES[type]);
    expect(frame.type).toBe(type);
    expect(frame).not.toBe(VALID_FRAMES[type]);
  });

  it('drops fields a frame does not declare (a newer backend may add them)', () => {
    const frame = event(frameWith('task.progress', { eta_seconds: 12, worker: 'gpu-2' }));
    expect(frame).not.toHaveProperty('eta_seconds');
    expect(frame).not.toHaveProperty('worker');
    expect(frame.task_id).toBe('task-1');
  });

  it('accepts the minimal story frames and fills the documented defaults', () => {
    const session = event('{"type":"session.init","session_id":"s1"}');
    expect(session).toMatchObject({ reconnect: false, capabilities: [] });
    const prompt = event('{"type":"prompt.composite","composite_prompt":{"base_prompt":"x"}}');
    expect(prompt.composite_prompt).toEqual({
      base_prompt: 'x',
      character_refs: [],
      style_refs: [],
      emotional_keywords: [],
    });
    const beat = event('{"type":"narrative.beat","beat_name":"Midpoint","scene_id":"s1"}');
    expect(beat.keywords).toEqual([]);
    const structure = event('{"type":"structure.changed","project_id":"p1","changes":{}}');
    expect(structure.changes).toEqual({ added: [], modified: [], deleted: [] });
    expect(event('{"type":"system.heartbeat"}').type).toBe('system.heartbeat');
    expect(event('{"type":"narrative.progress"}').type).toBe('narrative.progress');
  });

  it('ignores capabilities this client does not know instead of refusing the session', () => {
    const frame = event(frameWith('session.init', { capabilities: ['ack', 'zstd', 'replay', 'seq2'] }));
    expect(frame.capabilities).toEqual(['ack', 'replay']);
  });

  it('keeps the envelope fields seq and project_id', () => {
    const frame = event(frameWith('task.progress', { seq: 17, project_id: 'proj-1' }));
    expect(frame).toMatchObject({ seq: 17, project_id: 'proj-1', timestamp: '2025-01-15T10:30:00.000Z' });
  });
});

describe('parseFrame: Celery states', () => {
  it('knows exactly the seven Celery states', () => {
    expect([...CELERY_STATES].sort()).toEqual(
      ['FAILURE', 'PENDING', 'PROGRESS', 'RETRY', 'REVOKED', 'STARTED', 'SUCCESS'],
    );
  });

  it.each(['PENDING', 'STARTED', 'PROGRESS', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED'])(
    'accepts task.progress in state %s',
    (state) => {
      expect(event(frameWith('task.progress', { state })).state).toBe(state);
    },
  );

  it.each(['DONE', 'success', 'CANCELLED', '', 3])('rejects task.progress in state %j', (state) => {
    const result = rejected(frameWith('task.progress', { state }));
    expect(result.reason).toBe('invalid_fields');
    expect(result.type).toBe('task.progress');
    expect(result.detail).toContain('state');
  });
});

describe('parseFrame: wrong field types', () => {
  it.each([
    ['task.progress', { progress: '45' }, 'progress'],
    ['task.progress', { task_id: 42 }, 'task_id'],
    ['task.progress', { task_id: undefined }, 'task_id'],
    ['task.progress', { total_steps: 2.5 }, 'total_steps'],
    ['task.progress', { current_step: -1 }, 'current_step'],
    ['task.progress', { step: ['a'] }, 'step'],
    ['task.progress', { seq: -1 }, 'seq'],
    ['task.progress', { timestamp: 1736937000 }, 'timestamp'],
    ['task.progress', { timestamp: 'x'.repeat(65) }, 'timestamp'],
    ['node.state_changed', { status: 'running' }, 'status'],
    ['node.state_changed', { takes: {} }, 'takes'],
    ['node.state_changed', { takes: [{ id: 'take-1', take_number: 0, path: '/a.png', created_at: 'now' }] }, 'take_number'],
    ['node.state_changed', { takes: [{ id: 'take-1', take_number: 1, created_at: 'now' }] }, 'path'],
    ['node.state_changed', { current_take: '1' }, 'current_take'],
    ['node.state_changed', { thumbnail: 42 }, 'thumbnail'],
    ['file.uploaded', { file: { name: 'a', path: 'a', size: -1, asset_type: 'image' } }, 'size'],
    ['file.uploaded', { file: { name: 'a', path: 'a', size: '10', asset_type: 'image' } }, 'size'],
    ['file.uploaded', { file: 'a.png' }, 'file'],
    ['project.updated', { data: [1, 2] }, 'data'],
    ['project.updated', { data: null }, 'data'],
    ['session.init', { reconnect: 'yes' }, 'reconnect'],
    ['session.init', { capabilities: 'ack' }, 'capabilities'],
    ['generation.completed', { output_path: undefined }, 'output_path'],
    ['generation.error', { error: null }, 'error'],
    ['agent.assigned', { agent_type: 'Director' }, 'agent_type'],
    ['agent.progress', { progress: '60%' }, 'progress'],
    ['agent.progress', { vram_usage: -1 }, 'vram_usage'],
    ['agent.completed', { handoff_to: 'Intern' }, 'handoff_to'],
    ['prompt.composite', { composite_prompt: { character_refs: [] } }, 'base_prompt'],
    ['prompt.composite', { composite_prompt: { base_prompt: 'x', agent_notes: { Director: 'x' } } }, 'agent_notes'],
    ['narrative.beat', { keywords: 'hope' }, 'keywords'],
    ['narrative.progress', { structure_type: 'five-act' }, 'structure_type'],
    ['structure.changed', { changes: { added: 'a.md' } }, 'added'],
    ['ack', { status: 'ok' }, 'status'],
    ['error', { code: 'x'.repeat(65) }, 'code'],
    ['replay.gap', { from_seq: 1.5 }, 'from_seq'],
    // Above 2^53 - 1 a number no longer names one integer: 2^53 + 1 reads as 2^53, so such a seq
    // would become the position and make the next frames look like duplicates.
    ['task.progress', { seq: Number.MAX_SAFE_INTEGER + 1 }, 'seq'],
    ['task.progress', { seq: 1e300 }, 'seq'],
    ['agent.progress', { seq: 2 ** 53 + 2 }, 'seq'],
    ['project.updated', { seq: 2 ** 60 }, 'seq'],
    ['replay.gap', { to_seq: 2 ** 53 }, 'to_seq'],
    // One bad entry rejects the whole snapshot: it is never half-applied.
    ['project.snapshot', { nodes: [{ node_id: 'n1', status: 'idle' }, { node_id: 'n2', status: 'paused' }] }, 'status'],
    ['project.snapshot', { takes: [{ id: 't1', take_number: 1, path: '/a.png', created_at: 'x' }] }, 'node_id'],
    ['project.snapshot', { agents: Array(8).fill({ agent_type: 'Editor', status: 'idle' }) }, 'agents'],
    ['project.snapshot', { tasks: Array(501).fill({ task_id: 't', state: 'STARTED' }) }, 'tasks'],
    ['project.snapshot', { at_seq: -1 }, 'at_seq'],
    ['task.status', { state: 'LOST' }, 'state'],
  ] as const)('rejects %s with %j (detail names %s)', (type, fields, field) => {
    const result = rejected(frameWith(type, fields));
    expect(result.reason).toBe('invalid_fields');
    expect(result.type).toBe(type);
    expect(result.detail).toContain(field);
  });

  it('rejects non-finite numbers in an object input', () => {
    for (const progress of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(rejected({ ...VALID_FRAMES['task.progress'], progress }).reason).toBe('invalid_fields');
    }
  });

  it('limits free text length', () => {
    expect(event(frameWith('task.progress', { message: 'm'.repeat(10_000) })).message).toHaveLength(10_000);
    expect(rejected(frameWith('task.progress', { message: 'm'.repeat(10_001) })).reason).toBe('invalid_fields');
    expect(rejected(frameWith('task.progress', { step: 's'.repeat(1_001) })).reason).toBe('invalid_fields');
  });
});

describe('parseFrame: size limit', () => {
  /** An unknown-type frame of exactly `length` UTF-16 units, padded with `unit`. */
  function padded(length: number, unit = 'a'): string {
    const head = '{"type":"x.pad","pad":"';
    const tail = '"}';
    const units = length - head.length - tail.length;
    expect(units % unit.length).toBe(0);
    return head + unit.repeat(units / unit.length) + tail;
  }

  it('defaults to 1 MiB', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(1_048_576);
  });

  it('accepts a frame of exactly 1 MiB and rejects one byte more', () => {
    const atLimit = padded(DEFAULT_MAX_FRAME_BYTES);
    expect(atLimit.length).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(parseFrame(atLimit)).toMatchObject({ ok: true, kind: 'unknown' });
    const over = rejected(padded(DEFAULT_MAX_FRAME_BYTES + 1));
    expect(over.reason).toBe('too_large');
    expect(over.detail).toContain(String(DEFAULT_MAX_FRAME_BYTES));
  });

  it('honours a custom maxBytes', () => {
    expect(parseFrame(padded(100), { maxBytes: 100 }).ok).toBe(true);
    expect(rejected(padded(101), { maxBytes: 100 }).reason).toBe('too_large');
    expect(rejected(JSON.stringify(VALID_FRAMES['task.progress']), { maxBytes: 64 }).reason).toBe('too_large');
  });

  it('counts UTF-8 bytes, not string length (2-byte characters)', () => {
    // 100 UTF-16 units, but each "é" is 2 bytes in UTF-8.
    const text = padded(100, 'é');
    expect(text.length).toBeLessThanOrEqual(100);
    expect(Buffer.byteLength(text, 'utf8')).toBeGreaterThan(100);
    expect(rejected(text, { maxBytes: 100 }).reason).toBe('too_large');
    expect(parseFrame(text, { maxBytes: Buffer.byteLength(text, 'utf8') }).ok).toBe(true);
  });

  it('counts UTF-8 bytes, not string length (3- and 4-byte characters)', () => {
    const cjk = padded(300, '映'); // 3 bytes each
    expect(cjk.length).toBe(300);
    expect(rejected(cjk, { maxBytes: 500 }).reason).toBe('too_large');
    const emoji = padded(100 + 1, '🎬'); // 2 UTF-16 units, 4 bytes
    expect(emoji.length).toBeLessThanOrEqual(101);
    expect(Buffer.byteLength(emoji, 'utf8')).toBeGreaterThan(150);
    expect(rejected(emoji, { maxBytes: 150 }).reason).toBe('too_large');
  });

  it('counts UTF-8 bytes against the default limit', () => {
    // 600,000 characters (under 1 MiB) but 1.2 MB of UTF-8.
    const text = `{"type":"x.pad","pad":"${'é'.repeat(600_000)}"}`;
    expect(text.length).toBeLessThan(DEFAULT_MAX_FRAME_BYTES);
    expect(rejected(text).reason).toBe('too_large');
  });

  it('limits binary frames by byte length before decoding', () => {
    const bytes = new TextEncoder().encode(padded(101));
    expect(rejected(bytes, { maxBytes: 100 }).reason).toBe('too_large');
    expect(rejected(bytes.buffer, { maxBytes: 100 }).reason).toBe('too_large');
    expect(parseFrame(bytes, { maxBytes: 101 }).ok).toBe(true);
  });
});

describe('parseFrame: bytes input', () => {
  const json = JSON.stringify(VALID_FRAMES['task.progress']);

  it('parses a Uint8Array of JSON', () => {
    expect(event(new TextEncoder().encode(json)).task_id).toBe('task-1');
  });

  it('parses an ArrayBuffer of JSON', () => {
    const buffer = new TextEncoder().encode(json).buffer;
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(event(buffer).task_id).toBe('task-1');
  });

  it('parses a Node Buffer and a DataView', () => {
    expect(event(Buffer.from(json, 'utf8')).task_id).toBe('task-1');
    const bytes = new TextEncoder().encode(json);
    expect(event(new DataView(bytes.buffer)).task_id).toBe('task-1');
  });

  it('decodes only the bytes of a view, not its whole buffer', () => {
    const bytes = new TextEncoder().encode(`garbage${json}garbage`);
    expect(event(bytes.subarray(7, 7 + json.length)).task_id).toBe('task-1');
  });

  it('decodes multi-byte UTF-8 text', () => {
    const frame = { ...VALID_FRAMES['task.progress'], message: 'Café — 映画 🎬' };
    expect(event(new TextEncoder().encode(JSON.stringify(frame))).message).toBe('Café — 映画 🎬');
  });

  it('rejects bytes that are not UTF-8 as not_text', () => {
    const head = new TextEncoder().encode('{"type":"task.progress","task_id":"');
    const tail = new TextEncoder().encode('","state":"SUCCESS"}');
    const bytes = new Uint8Array([...head, 0xff, 0xfe, ...tail]);
    expect(rejected(bytes).reason).toBe('not_text');
  });

  it('rejects bytes that are UTF-8 but not JSON as not_json', () => {
    expect(rejected(new TextEncoder().encode('hello')).reason).toBe('not_json');
  });
});

describe('parseFrame: reserved ids', () => {
  const RESERVED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'];

  const ID_FIELDS: Array<[keyof typeof VALID_FRAMES, (id: string) => Record<string, unknown>]> = [
    ['task.progress', (id) => ({ task_id: id })],
    ['task.progress', (id) => ({ node_id: id })],
    ['node.state_changed', (id) => ({ node_id: id })],
    ['node.state_changed', (id) => ({ takes: [{ id, take_number: 1, path: '/a.png', created_at: 'now' }] })],
    ['project.updated', (id) => ({ project_id: id })],
    ['process.progress', (id) => ({ process_id: id })],
    ['session.init', (id) => ({ session_id: id })],
    ['session.restored', (id) => ({ subscriptions: ['proj-1', id] })],
    ['generation.started', (id) => ({ command_id: id })],
    ['agent.assigned', (id) => ({ task_id: id })],
    ['prompt.composite', (id) => ({ composite_prompt: { base_prompt: 'x', character_refs: [id] } })],
    ['narrative.beat', (id) => ({ scene_id: id })],
    ['narrative.beat', (id) => ({ beat_name: id })],
    ['ack', (id) => ({ command_id: id })],
    ['system.heartbeat', (id) => ({ project_id: id })],
  ];

  for (const id of RESERVED) {
    it.each(ID_FIELDS.map(([type, fields]) => [type, JSON.stringify(fields(id))] as const))(
      `rejects the id ${id} in %s %s`,
      (type, fields) => {
        const result = rejected(frameWith(type, JSON.parse(fields)));
        expect(result.reason).toBe('invalid_fields');
        expect(result.type).toBe(type);
      },
    );
  }

  it('rejects empty and over-long ids, accepts 256 characters', () => {
    expect(rejected(frameWith('task.progress', { task_id: '' })).reason).toBe('invalid_fields');
    expect(rejected(frameWith('task.progress', { task_id: 't'.repeat(257) })).reason).toBe('invalid_fields');
    expect(event(frameWith('task.progress', { task_id: 't'.repeat(256) })).task_id).toBe('t'.repeat(256));
  });

  it('accepts ids that merely resemble reserved names', () => {
    for (const id of ['Constructor', 'proto', '__proto', 'toString2', 'node-__proto__']) {
      expect(event(frameWith('task.progress', { task_id: id })).task_id).toBe(id);
    }
  });
});

describe('parseFrame: __proto__ keys', () => {
  const POLLUTION = '{"polluted":"yes"}';
  const frames: Array<[string, string]> = [
    ['top level', `{"type":"task.progress","__proto__":${POLLUTION},"task_id":"t1","state":"SUCCESS"}`],
    ['a declared object', `{"type":"file.uploaded","project_id":"p1","file":{"__proto__":${POLLUTION},"name":"a","path":"a","size":1,"asset_type":"image"}}`],
    ['a record (data)', `{"type":"project.updated","project_id":"p1","data":{"__proto__":${POLLUTION},"b":1}}`],
    ['nested in data', `{"type":"project.updated","project_id":"p1","data":{"b":{"__proto__":${POLLUTION},"c":1}}}`],
    ['agent_notes', `{"type":"prompt.composite","composite_prompt":{"base_prompt":"x","agent_notes":{"__proto__":"x","Editor":"cut"}}}`],
    ['take metadata', `{"type":"node.state_changed","node_id":"n1","status":"completed","takes":[{"id":"t1","take_number":1,"path":"/a.png","created_at":"now","metadata":{"__proto__":${POLLUTION},"seed":1}}]}`],
    ['a task result', `{"type":"task.progress","task_id":"t1","state":"SUCCESS","result":{"__proto__":${POLLUTION},"b":1}}`],
    ['an array in a task result', `{"type":"task.progress","task_id":"t1","state":"SUCCESS","result":[1,{"x":{"__proto__":${POLLUTION}}}]}`],
    ['agent output', `{"type":"agent.completed","agent_type":"Editor","task_id":"t1","output":{"__proto__":${POLLUTION},"b":1}}`],
    ['changes', `{"type":"structure.changed","project_id":"p1","changes":{"__proto__":${POLLUTION},"added":["a"]}}`],
  ];

  it.each(frames)('a __proto__ key in %s neither pollutes nor survives', (_where, text) => {
    // JSON.parse really does make it an own property (the premise of the test).
    expect(text).toContain('"__proto__"');
    const frame = event(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(allOwnKeys(frame)).not.toContain('__proto__');
    expect(allOwnKeys(frame)).not.toContain('polluted');
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
  });

  it('keeps the other keys next to a stripped __proto__ key', () => {
    const frame = event(frames[6]![1]);
    expect(frame.result).toEqual({ b: 1 });
    expect(Object.getPrototypeOf(frame.result)).toBe(Object.prototype);
    const data = event(frames[3]![1]).data as { b: object };
    expect(data).toEqual({ b: { c: 1 } });
    expect(Object.getPrototypeOf(data.b)).toBe(Object.prototype);
  });

  it('does not mutate an object input that carries a __proto__ key', () => {
    const input = JSON.parse(frames[6]![1]) as { result: object };
    event(input);
    expect(Object.getOwnPropertyNames(input.result)).toContain('__proto__');
  });

  it('keeps a free-form value without __proto__ keys as it is', () => {
    const result = { a: [1, { b: 'c' }], d: null };
    expect(event(frameWith('task.progress', { result })).result).toEqual(result);
  });
});

describe('parseFrame: URL sanitizing', () => {
  const UNSAFE = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    '\tjavascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'data:image/svg+xml,<svg onload=alert(1)>',
    'data:image/svg+xml;base64,PHN2Zz4=',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
  ];
  const SAFE = [
    'https://cdn.example.com/a.png',
    'http://localhost:8000/media/a.png',
    '/media/a.png',
    'takes/take-1.png',
    '//cdn.example.com/a.png',
    'blob:https://app.example.com/550e8400-e29b-41d4-a716-446655440000',
    'data:image/png;base64,iVBORw0KGgo=',
    'data:image/jpeg;base64,/9j/4AAQ',
  ];

  it.each(UNSAFE)('drops the unsafe URL %j and still accepts the frame', (url) => {
    const node = event(frameWith('node.state_changed', { thumbnail: url, output_path: url }));
    expect(node.thumbnail).toBeUndefined();
    expect(node.output_path).toBeUndefined();
    expect(node.status).toBe('completed');

    const completed = event(frameWith('generation.completed', { thumbnail: url, output_path: url }));
    expect(completed.thumbnail).toBeUndefined();
    expect(completed.output_path).toBeUndefined();
    expect(completed.task_id).toBe('task-1');

    const take = { id: 'take-9', take_number: 9, path: url, thumbnail: url, created_at: 'now' };
    const withTake = event(frameWith('node.state_changed', { takes: [take] }));
    const [parsed] = withTake.takes as Array<Record<string, unknown>>;
    expect(parsed!.id).toBe('take-9');
    expect(parsed!.path).toBeUndefined();
    expect(parsed!.thumbnail).toBeUndefined();
  });

  it.each(SAFE)('keeps the safe URL %j', (url) => {
    const node = event(frameWith('node.state_changed', { thumbnail: url, output_path: url }));
    expect(node.thumbnail).toBe(url);
    expect(node.output_path).toBe(url);
    const completed = event(frameWith('generation.completed', { thumbnail: url, output_path: url }));
    expect(completed.output_path).toBe(url);
    const take = { id: 'take-9', take_number: 9, path: url, thumbnail: url, created_at: 'now' };
    const [parsed] = event(frameWith('generation.completed', { takes: [take] })).takes as Array<
      Record<string, unknown>
    >;
    expect(parsed!.path).toBe(url);
    expect(parsed!.thumbnail).toBe(url);
  });
});

describe('parseFrame: deep nesting', () => {
  const DEPTH = 10_000;
  const deepArray = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
  const deepObject = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);

  it.each([
    ['task.progress result (arrays)', `{"type":"task.progress","task_id":"t1","state":"SUCCESS","result":${deepArray}}`, 'result'],
    ['task.progress result (objects)', `{"type":"task.progress","task_id":"t1","state":"SUCCESS","result":${deepObject}}`, 'result'],
    ['agent.completed output', `{"type":"agent.completed","agent_type":"Editor","task_id":"t1","output":${deepObject}}`, 'output'],
    ['project data', `{"type":"project.updated","project_id":"p1","data":{"x":${deepObject}}}`, 'data'],
    ['take metadata', `{"type":"generation.completed","node_id":"n","task_id":"t","output_path":"/a.png","takes":[{"id":"k","take_number":1,"path":"/a.png","created_at":"now","metadata":{"x":${deepArray}}}]}`, 'metadata'],
  ])('rejects %s nested %d levels as invalid_fields without overflowing', (_label, text, field) => {
    let result: ParseResult | undefined;
    expect(() => {
      result = parseFrame(text);
    }).not.toThrow();
    expect(result).toMatchObject({ ok: false, reason: 'invalid_fields' });
    expect((result as { detail: string }).detail).toContain(field);
  });

  it('accepts a result nested 32 levels and rejects 33', () => {
    const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(event(frameWith('task.progress', { result: JSON.parse(nest(32)) })).state).toBe('PROGRESS');
    expect(rejected(frameWith('task.progress', { result: JSON.parse(nest(33)) })).reason).toBe('invalid_fields');
  });
});

describe('parseFrame never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const result = parseFrame(text);
        if (!result.ok) expect(REASONS).toContain(result.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary values and JSON texts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json()), (value) => {
        const result = parseFrame(value);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('on every known type with any field replaced by any value', () => {
    const types = fc.constantFrom(...INBOUND_TYPES);
    fc.assert(
      fc.property(types, fc.string({ maxLength: 20 }), fc.jsonValue(), (type, key, value) => {
        const example = VALID_FRAMES[type] as Record<string, unknown>;
        const keys = Object.keys(example).filter((k) => k !== 'type');
        const field = keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length]! : key;
        const text = JSON.stringify({ ...example, [field]: value });
        const result = parseFrame(text);
        if (!result.ok) {
          expect(result.reason).toBe('invalid_fields');
          expect(result.type).toBe(type);
        } else {
          expect(result.kind).toBe('event');
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
