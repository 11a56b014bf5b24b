import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeFrame,
  OUTBOUND_TYPES,
  type EncodeResult,
  type OutboundFrame,
  type OutboundType,
} from '../../src/protocol/index.js';

const TS = '2025-01-15T10:30:00.000Z';

const VALID_OUTBOUND: Record<OutboundType, OutboundFrame> = {
  'session.init': {
    type: 'session.init',
    session_id: 'sess-1',
    reconnect: true,
    resume_token: 'tok-abc',
    last_seq: { 'proj-1': 41, 'proj-2': 0 },
    timestamp: TS,
  },
  subscribe: { type: 'subscribe', project_id: 'proj-1', last_seq: 41 },
  unsubscribe: { type: 'unsubscribe', project_id: 'proj-1' },
  ping: { type: 'ping', timestamp: TS },
  start_generation: {
    type: 'start_generation',
    node_id: 'node-1',
    params: { prompt: 'A lone rider at dusk', negative_prompt: 'blurry', width: 1024, height: 576, steps: 30, cfg_scale: 7.5, seed: 42 },
    context: {
      scene_id: 'scene-1',
      shot_id: 'shot-1',
      emotional_beat: 'Call to Adventure',
      character_refs: ['char-1'],
      style_refs: ['style-noir'],
      location_ref: 'loc-desert',
    },
    project_id: 'proj-1',
    command_id: 'cmd-1',
    timestamp: TS,
  },
  cancel_generation: {
    type: 'cancel_generation',
    node_id: 'node-1',
    task_id: 'task-1',
    project_id: 'proj-1',
    command_id: 'cmd-2',
    timestamp: TS,
  },
  query_tasks: { type: 'query_tasks', task_ids: ['task-1', 'task-2'], project_id: 'proj-1', timestamp: TS },
};

/** The story's own minimal frames (no extension fields). */
const STORY_OUTBOUND: OutboundFrame[] = [
  { type: 'session.init', session_id: 'sess-1', reconnect: false },
  { type: 'subscribe', project_id: 'proj-1' },
  { type: 'unsubscribe', project_id: 'proj-1' },
  { type: 'ping' },
  { type: 'start_generation', node_id: 'node-1', params: {}, timestamp: TS },
  { type: 'cancel_generation', node_id: 'node-1', timestamp: TS },
];

function encoded(frame: unknown): Record<string, unknown> {
  const result = encodeFrame(frame as OutboundFrame);
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(typeof result.data).toBe('string');
  return JSON.parse(result.data) as Record<string, unknown>;
}

function refused(frame: unknown): string {
  let result: EncodeResult | undefined;
  expect(() => {
    result = encodeFrame(frame as OutboundFrame);
  }).not.toThrow();
  if (!result || result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  expect(typeof result.reason).toBe('string');
  expect(result.reason.length).toBeGreaterThan(0);
  return result.reason;
}

function withField<T extends OutboundType>(type: T, fields: Record<string, unknown>): unknown {
  return { ...VALID_OUTBOUND[type], ...fields };
}

describe('encodeFrame: valid frames', () => {
  it('has one example per outbound type', () => {
    expect(Object.keys(VALID_OUTBOUND).sort()).toEqual([...OUTBOUND_TYPES].sort());
    expect(OUTBOUND_TYPES.length).toBe(7);
  });

  it.each(OUTBOUND_TYPES)('encodes a full %s frame as its JSON', (type) => {
    const frame = VALID_OUTBOUND[type];
    const result = encodeFrame(frame);
    expect(result).toEqual({ ok: true, data: JSON.stringify(frame) });
    expect(encoded(frame)).toEqual(frame);
  });

  it.each(STORY_OUTBOUND.map((frame) => [frame.type, frame] as const))(
    'encodes the story minimal %s frame',
    (_type, frame) => {
      expect(encoded(frame)).toEqual(frame);
    },
  );

  it('drops keys a frame does not declare', () => {
    expect(encoded({ type: 'ping', timestamp: TS, debug: true })).toEqual({ type: 'ping', timestamp: TS });
    expect(encoded(withField('subscribe', { session_id: 'sess-1' }))).not.toHaveProperty('session_id');
  });

  it('keeps extra JSON-valued generation params for other node kinds', () => {
    const params = { prompt: 'x', lora: 'film-grain', strength: 0.6, frames: [1, 2, 3] };
    expect(encoded(withField('start_generation', { params })).params).toEqual(params);
  });

  it('does not mutate the frame it encodes', () => {
    const frame = structuredClone(VALID_OUTBOUND.start_generation);
    const copy = structuredClone(frame);
    encodeFrame({ ...frame, extra: 1 } as unknown as OutboundFrame);
    expect(frame).toEqual(copy);
  });
});

describe('encodeFrame: refusals', () => {
  it.each([
    ['bogus type', { type: 'bogus' }],
    ['capitalized', { type: 'Ping' }],
    ['empty type', { type: '' }],
    ['no type', { project_id: 'proj-1' }],
    ['numeric type', { type: 42 }],
    ['inbound-only type', { type: 'task.progress', task_id: 't', state: 'SUCCESS' }],
    ['constructor', { type: 'constructor' }],
    ['toString', { type: 'toString' }],
    ['__proto__', { type: '__proto__' }],
    ['hasOwnProperty', { type: 'hasOwnProperty' }],
    ['null frame', null],
    ['undefined frame', undefined],
    ['a string frame', '{"type":"ping"}'],
  ])('refuses an unknown outbound type (%s)', (_label, frame) => {
    expect(refused(frame)).toMatch(/unknown outbound type/);
  });

  const RESERVED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

  it.each(RESERVED)('refuses the reserved id %s wherever an id goes', (id) => {
    const cases: Array<[unknown, string]> = [
      [withField('start_generation', { node_id: id }), 'node_id'],
      [withField('start_generation', { command_id: id }), 'command_id'],
      [withField('start_generation', { project_id: id }), 'project_id'],
      [withField('start_generation', { context: { scene_id: id } }), 'context.scene_id'],
      [withField('start_generation', { context: { character_refs: ['char-1', id] } }), 'context.character_refs.1'],
      [withField('cancel_generation', { node_id: id }), 'node_id'],
      [withField('cancel_generation', { task_id: id }), 'task_id'],
      [withField('subscribe', { project_id: id }), 'project_id'],
      [withField('unsubscribe', { project_id: id }), 'project_id'],
      [withField('session.init', { session_id: id }), 'session_id'],
    ];
    for (const [frame, path] of cases) {
      expect(refused(frame)).toContain(path);
    }
  });

  it('refuses empty and over-long ids', () => {
    expect(refused(withField('subscribe', { project_id: '' }))).toContain('project_id');
    expect(refused(withField('query_tasks', { task_ids: [] }))).toContain('task_ids');
    expect(refused(withField('query_tasks', { task_ids: Array.from({ length: 101 }, (_, i) => `t${i}`) }))).toContain('task_ids');
    expect(refused(withField('query_tasks', { task_ids: ['__proto__'] }))).toContain('task_ids');
    expect(refused(withField('subscribe', { project_id: 'p'.repeat(257) }))).toContain('project_id');
    expect(encoded(withField('subscribe', { project_id: 'p'.repeat(256) })).project_id).toHaveLength(256);
  });

  it('never lets a reserved name into last_seq', () => {
    const last_seq = JSON.parse('{"__proto__":3,"constructor":4,"proj-1":5}') as Record<string, number>;
    const frame = encoded(withField('session.init', { last_seq }));
    expect(frame.last_seq).toEqual({ 'proj-1': 5 });
    expect(Object.getOwnPropertyNames(frame.last_seq)).toEqual(['proj-1']);
    expect(refused(withField('session.init', { last_seq: { toString: 1 } }))).toContain('last_seq');
  });

  it.each([
    ['start_generation', { params: { width: '512' } }, 'params.width'],
    ['start_generation', { params: { width: 0 } }, 'params.width'],
    ['start_generation', { params: { height: 16_385 } }, 'params.height'],
    ['start_generation', { params: { steps: 2.5 } }, 'params.steps'],
    ['start_generation', { params: { cfg_scale: 101 } }, 'params.cfg_scale'],
    ['start_generation', { params: { cfg_scale: Number.NaN } }, 'params.cfg_scale'],
    ['start_generation', { params: { seed: 1.5 } }, 'params.seed'],
    ['start_generation', { params: { prompt: 42 } }, 'params.prompt'],
    ['start_generation', { params: { prompt: 'p'.repeat(20_001) } }, 'params.prompt'],
    ['start_generation', { params: null }, 'params'],
    ['start_generation', { params: undefined }, 'params'],
    ['start_generation', { context: { scene_id: 7 } }, 'context.scene_id'],
    ['start_generation', { context: { character_refs: 'char-1' } }, 'context.character_refs'],
    ['start_generation', { timestamp: undefined }, 'timestamp'],
    ['start_generation', { timestamp: 't'.repeat(65) }, 'timestamp'],
    ['cancel_generation', { timestamp: 1 }, 'timestamp'],
    ['session.init', { reconnect: 'true' }, 'reconnect'],
    ['session.init', { reconnect: undefined }, 'reconnect'],
    ['session.init', { last_seq: { 'proj-1': -1 } }, 'last_seq'],
    ['session.init', { resume_token: 'r'.repeat(513) }, 'resume_token'],
    ['subscribe', { last_seq: 1.5 }, 'last_seq'],
    ['subscribe', { last_seq: 2 ** 53 }, 'last_seq'],
    ['session.init', { last_seq: { 'proj-1': 2 ** 53 } }, 'last_seq'],
    ['subscribe', { last_seq: -1 }, 'last_seq'],
    ['ping', { timestamp: Date.now() }, 'timestamp'],
  ] as const)('refuses %s with %j (reason names %s)', (type, fields, path) => {
    expect(refused(withField(type, fields))).toContain(path);
  });

  it('refuses params nested too deeply', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i += 1) deep = { a: deep };
    expect(refused(withField('start_generation', { params: { prompt: 'x', extra: deep } }))).toMatch(/nest too deeply/);
  });

  it('refuses cyclic params instead of looping or throwing', () => {
    const params: Record<string, unknown> = { prompt: 'x' };
    params.self = params;
    expect(refused(withField('start_generation', { params }))).toMatch(/params/);
  });

  it('refuses params that JSON cannot serialize, without throwing', () => {
    expect(refused(withField('start_generation', { params: { prompt: 'x', big: 10n } }))).toMatch(/serialize|BigInt/i);
    const hostile = { toJSON: () => { throw new Error('no'); } };
    expect(refused(withField('start_generation', { params: { prompt: 'x', hostile } }))).toMatch(/serialize/);
  });

  it('refuses a frame whose getter throws, without throwing', () => {
    const frame = { type: 'ping' } as Record<string, unknown>;
    Object.defineProperty(frame, 'timestamp', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(refused(frame)).toContain('boom');
  });

  it('never throws on arbitrary input', () => {
    const types = fc.constantFrom<unknown>(...OUTBOUND_TYPES, 'bogus', 'constructor', undefined);
    fc.assert(
      fc.property(types, fc.dictionary(fc.string({ maxLength: 12 }), fc.anything()), (type, fields) => {
        const result = encodeFrame({ ...fields, type } as unknown as OutboundFrame);
        expect(typeof result.ok).toBe('boolean');
        if (result.ok) expect(() => JSON.parse(result.data)).not.toThrow();
        else expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('encodeFrame: no injection through text', () => {
  const HOSTILE = [
    'He said "cut!" and left',
    "it's a 'quoted' word",
    'line one\nline two\r\nline three\ttabbed',
    '"}{"type":"cancel_generation","node_id":"node-1","timestamp":"x"}',
    '","type":"cancel_generation","x":"',
    '\\"}, {"type":"cancel_generation"}',
    'back\\slash at the end\\',
    '</script><script>alert(1)</script>',
    'null byte \u0000 and bell \u0007',
    'separators \u2028 \u2029',
    'emoji 🎬 and CJK 映画',
    'lone surrogate \ud800 here',
    '{"__proto__":{"polluted":true}}',
  ];

  it.each(HOSTILE)('round-trips prompt %j as the same single string', (prompt) => {
    const frame = withField('start_generation', {
      params: { prompt, negative_prompt: prompt },
      context: { emotional_beat: prompt },
    });
    const result = encodeFrame(frame as OutboundFrame);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const parsed = JSON.parse(result.data) as {
      type: string;
      node_id: string;
      params: Record<string, unknown>;
      context: Record<string, unknown>;
    };
    expect(parsed.type).toBe('start_generation');
    expect(parsed.node_id).toBe('node-1');
    expect(Object.keys(parsed).sort()).toEqual(
      ['command_id', 'context', 'node_id', 'params', 'project_id', 'timestamp', 'type'],
    );
    // A lone surrogate is escaped by JSON.stringify and comes back identical.
    expect(parsed.params.prompt).toBe(prompt);
    expect(parsed.params.negative_prompt).toBe(prompt);
    expect(parsed.context.emotional_beat).toBe(prompt);
    // Exactly one JSON text: no second frame appended.
    expect(JSON.stringify(parsed)).toBe(result.data);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips hostile extra param keys and values', () => {
    const key = '"}{"type":"cancel_generation';
    const params = { prompt: 'x', [key]: 'v"}{' };
    const parsed = encoded(withField('start_generation', { params })) as { type: string; params: Record<string, unknown> };
    expect(parsed.params).toEqual(params);
    expect(parsed.type).toBe('start_generation');
  });

  it('round-trips any string prompt', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (prompt) => {
        const parsed = encoded(withField('start_generation', { params: { prompt } })) as {
          type: string;
          params: { prompt: string };
        };
        expect(parsed.type).toBe('start_generation');
        expect(parsed.params.prompt).toBe(prompt);
      }),
      { numRuns: 500 },
    );
  });
});
