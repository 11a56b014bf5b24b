/**
 * Outbound: no user input (prompt text, ids, context, extra params) can produce an invalid or an
 * injected frame. Each command goes through its action creator, the outbox's frame builder and
 * encodeFrame (what the middleware sends), then through the reference gateway's own validation.
 * A command either becomes exactly one well-formed frame carrying the input verbatim, or it is
 * refused (never sent) and reported.
 */
import fc from 'fast-check';
import * as v from 'valibot';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cancelGeneration,
  cancelGenerationFrame,
  connect,
  createMemoryStorage,
  createRealtimeStore,
  encodeFrame,
  isSafeKey,
  OUTBOUND_SCHEMAS,
  startGeneration,
  startGenerationFrame,
  subscribeProject,
  type WebSocketConstructor,
} from '../../src/index.js';
import { FakeWebSocket } from '../support/fakeWebSocket.js';
import { assertPrototypeClean } from './frames.js';
import { ManualTimers } from './manualTimers.js';
import { report, sized } from './scale.js';

const RUNS = { encode: sized(10_000, 50_000), cancel: sized(3_000, 20_000), middleware: sized(300, 2_000) };

const HOSTILE = [
  '","type":"cancel_generation","node_id":"n2',
  '"}\n{"type":"start_generation"',
  '</script><script>alert(1)</script>',
  '\u2028\u2029',
  '\u0000\r\n\t',
  '\ud800',
  '\udfff\ud800',
  '__proto__',
  'constructor',
  'toString',
  '{"__proto__":{"polluted":1}}',
  '${process.exit()}',
  'a'.repeat(257),
];

const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.constantFrom('p'.repeat(20_000), 'p'.repeat(20_001)) },
);
const id = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 0, maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE, '', 'node-1', 'x'.repeat(256)) },
);
const extraParams = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'type', 'node_id')),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 3 },
);

const START_KEYS = new Set(['type', 'node_id', 'params', 'context', 'project_id', 'command_id', 'timestamp']);
const figures = { encodeCases: 0, encoded: 0, refused: 0, cancelCases: 0, middlewareCases: 0, framesSent: 0, commandsReportedInvalid: 0 };

afterAll(() => report('fuzz-outbound', figures));

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every sent text is one JSON object, one line, well-formed UTF-16, valid for the gateway. */
function expectWellFormed(data: string) {
  if (LONE_SURROGATE.test(data)) throw new Error('frame text has a lone surrogate');
  // JSON.stringify escapes control characters; U+2028/2029 are fine inside JSON strings.
  if (/[\u0000-\u001f]/.test(data)) throw new Error('raw control character in frame text');
  const parsed = JSON.parse(data) as { type?: unknown };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
  const type = parsed.type as keyof typeof OUTBOUND_SCHEMAS;
  if (!Object.prototype.hasOwnProperty.call(OUTBOUND_SCHEMAS, type)) throw new Error(`unknown type ${String(type)}`);
  if (!v.safeParse(OUTBOUND_SCHEMAS[type], parsed).success) throw new Error('the gateway would refuse this frame');
  return parsed as Record<string, unknown>;
}

describe('fuzzing outbound commands', () => {
  it('startGeneration: one valid frame carrying the input verbatim, or refused when the input is invalid', () => {
    fc.assert(
      fc.property(
        id,
        fc.record({ prompt: text, negative_prompt: fc.option(text, { nil: undefined }) }),
        extraParams,
        fc.option(fc.record({ scene_id: id, emotional_beat: text, character_refs: fc.array(id, { maxLength: 3 }) }), { nil: undefined }),
        fc.option(id, { nil: undefined }),
        (nodeId, typed, extra, context, projectId) => {
          figures.encodeCases++;
          const params = { ...extra, prompt: typed.prompt, ...(typed.negative_prompt !== undefined && { negative_prompt: typed.negative_prompt }) };
          const action = startGeneration({ nodeId, params, context, projectId });
          const encoded = encodeFrame(startGenerationFrame(action.payload));
          const valid =
            isSafeKey(nodeId) &&
            typed.prompt.length <= 20_000 &&
            (typed.negative_prompt ?? '').length <= 20_000 &&
            (projectId === undefined || isSafeKey(projectId)) &&
            (context === undefined ||
              (isSafeKey(context.scene_id) && context.emotional_beat.length <= 1_000 && context.character_refs.every(isSafeKey)));
          if (!encoded.ok) {
            figures.refused++;
            // Refused only for a reason: an invalid id or an over-long text.
            expect(valid, `refused a valid command: ${encoded.reason}`).toBe(false);
            return;
          }
          figures.encoded++;
          expect(valid).toBe(true);
          const frame = expectWellFormed(encoded.data);
          expect(Object.keys(frame).every((key) => START_KEYS.has(key))).toBe(true);
          expect(frame.type).toBe('start_generation');
          expect(frame.node_id).toBe(nodeId);
          expect(frame.command_id).toBe(action.payload.commandId);
          const sentParams = frame.params as Record<string, unknown>;
          expect(sentParams.prompt).toBe(typed.prompt);
          expect(sentParams.negative_prompt).toBe(typed.negative_prompt);
          assertPrototypeClean();
          if (context) expect((frame.context as { character_refs: string[] }).character_refs).toEqual(context.character_refs);
        },
      ),
      { numRuns: RUNS.encode },
    );
  });

  it('cancelGeneration: hostile node and task ids never produce a frame that says something else', () => {
    fc.assert(
      fc.property(id, fc.option(id, { nil: undefined }), (nodeId, taskId) => {
        figures.cancelCases++;
        const action = cancelGeneration({ nodeId, taskId });
        const encoded = encodeFrame(cancelGenerationFrame(action.payload));
        const valid = isSafeKey(nodeId) && (taskId === undefined || isSafeKey(taskId));
        expect(encoded.ok).toBe(valid);
        if (!encoded.ok) return;
        const frame = expectWellFormed(encoded.data);
        expect(frame).toMatchObject({ type: 'cancel_generation', node_id: nodeId, command_id: action.payload.commandId });
        expect(frame.task_id).toBe(taskId);
      }),
      { numRuns: RUNS.cancel },
    );
  });

  it('through the middleware: the socket only ever carries valid frames; a refused command is reported, not sent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('start', 'cancel', 'subscribe'), id, text), { minLength: 1, maxLength: 8 }), (commands) => {
        figures.middlewareCases++;
        FakeWebSocket.reset();
        const timers = new ManualTimers();
        const store = createRealtimeStore({
          url: 'ws://outbound.test/ws',
          WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
          storage: createMemoryStorage(),
          timers,
          random: () => 0.5,
          browser: null,
          devTools: false,
        });
        try {
          store.dispatch(connect());
          const ws = FakeWebSocket.last();
          ws.open();
          ws.receive({ type: 'session.init', session_id: 's-1', capabilities: [] });
          timers.runDue();
          let invalid = 0;
          for (const [kind, nodeId, prompt] of commands) {
            if (kind === 'subscribe') store.dispatch(subscribeProject(nodeId));
            else if (kind === 'start') store.dispatch(startGeneration({ nodeId, params: { prompt } }));
            else store.dispatch(cancelGeneration({ nodeId }));
            if (kind === 'start' && (!isSafeKey(nodeId) || prompt.length > 20_000)) invalid++;
            if (kind === 'cancel' && !isSafeKey(nodeId)) invalid++;
          }
          timers.runDue();
          for (const data of ws.sent) expectWellFormed(data);
          figures.framesSent += ws.sent.length;
          const sentCommands = ws.frames().filter((f) => f.type === 'start_generation' || f.type === 'cancel_generation');
          const state = store.getState();
          figures.commandsReportedInvalid += state.outbox.dropped.invalid;
          // Every command was either sent once or reported invalid; none waits, none vanished.
          expect(sentCommands.length + state.outbox.dropped.invalid).toBe(commands.filter(([kind]) => kind !== 'subscribe').length);
          expect(state.outbox.dropped.invalid).toBe(invalid);
          expect(state.outbox.entries).toEqual([]);
          // Only safe project ids are kept as subscriptions.
          expect(state.sync.subscriptions.every(isSafeKey)).toBe(true);
        } finally {
          store.dispose();
        }
        assertPrototypeClean();
      }),
      { numRuns: RUNS.middleware },
    );
  });
});
