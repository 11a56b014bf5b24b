/**
 * Fuzzing the inbound path: random data, and valid frames from the recorded logs mutated (a
 * field deleted or retyped, huge strings, deep nesting, __proto__/constructor ids, unknown and
 * malformed types, hostile URLs, bad seqs), through parseFrame, through ingestFrame + the root
 * reducer one frame at a time and as batches, and through the full live path (store, socket
 * middleware, a fake WebSocket). The client never throws; the state stays valid against its own
 * invariants and serializable; every bad frame is counted once, under its reason.
 *
 * Sizes: RELIABILITY_SCALE (test/reliability/scale.ts). The ci size runs over 100,000 cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connect,
  createMemoryStorage,
  createRealtimeStore,
  framesBatched,
  ingestFrame,
  parseFrame,
  realtimeReducer,
  type IngestAction,
  type RealtimeState,
  type RejectReason,
  type WebSocketConstructor,
} from '../../src/index.js';
import { FakeWebSocket } from '../support/fakeWebSocket.js';
import {
  assertPlain,
  assertPrototypeClean,
  assertStateValid,
  fuzzedRaw,
  jsonEqual,
  REJECT_REASONS,
  TerminalWatch,
  trafficRaw,
} from './frames.js';
import { ManualTimers } from './manualTimers.js';
import { report, sized } from './scale.js';

const RUNS = {
  strings: sized(20_000, 60_000),
  json: sized(20_000, 60_000),
  mutated: sized(52_000, 200_000),
  sequences: sized(6_000, 40_000),
  batches: sized(3_000, 20_000),
  livePath: sized(800, 10_000),
};

/** The ci size runs over 100,000 cases; each test checks that it ran all of its own. */
const TOTAL_RUNS = Object.values(RUNS).reduce((sum, runs) => sum + runs, 0);

const figures: Record<string, unknown> = {};
const rejectedByReason: Partial<Record<RejectReason, number>> = {};
let unknownFrames = 0;
let acceptedEvents = 0;
let totalCases = 0;

afterAll(() => {
  report('fuzz-inbound', { totalCases, cases: figures, parseResults: { acceptedEvents, unknownFrames, rejectedByReason } });
});

function checkResult(raw: unknown) {
  const result = parseFrame(raw);
  if (result.ok) {
    // What gets through is plain JSON data with no __proto__ key anywhere.
    assertPlain(result.frame, 'frame');
    if (JSON.stringify(result.frame).includes('"__proto__"') && result.kind === 'event') throw new Error('__proto__ key survived');
    if (result.kind === 'event') acceptedEvents++;
    else unknownFrames++;
  } else {
    if (!REJECT_REASONS.includes(result.reason)) throw new Error(`unknown reason ${result.reason}`);
    if (typeof result.detail !== 'string' || result.detail.length === 0) throw new Error('rejection without detail');
    rejectedByReason[result.reason] = (rejectedByReason[result.reason] ?? 0) + 1;
  }
  assertPrototypeClean();
  return result;
}

/** Ingests `raws` one by one; returns the state and what parseFrame said of each frame. */
function reduceOneByOne(raws: unknown[], watch?: TerminalWatch) {
  let state = realtimeReducer(undefined, { type: '@@fuzz/init' });
  const expected: Partial<Record<RejectReason, number>> = {};
  raws.forEach((raw, i) => {
    const parsed = parseFrame(raw);
    if (!parsed.ok) expected[parsed.reason] = (expected[parsed.reason] ?? 0) + 1;
    state = realtimeReducer(state, ingestFrame(raw, 1_000 + i).action);
    watch?.check(state);
  });
  return { state, expected };
}

function expectCounts(state: RealtimeState, frames: number, expected: Partial<Record<RejectReason, number>>) {
  const f = state.frames;
  if (f.applied + f.rejected.total + f.unknown.total + f.duplicatesDropped !== frames) {
    throw new Error(`counted ${f.applied}+${f.rejected.total}+${f.unknown.total}+${f.duplicatesDropped} frames, delivered ${frames}`);
  }
  if (!jsonEqual(f.rejected.byReason, expected)) {
    throw new Error(`rejected by reason ${JSON.stringify(f.rejected.byReason)}, expected ${JSON.stringify(expected)}`);
  }
}

describe('fuzzing inbound frames', () => {
  it('parseFrame on arbitrary strings (any UTF-16, lone surrogates included)', () => {
    let ran = 0;
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => void (ran++, checkResult(text))), { numRuns: RUNS.strings });
    expect(ran).toBe(RUNS.strings);
    figures.arbitraryStrings = RUNS.strings;
    totalCases += RUNS.strings;
  });

  it('parseFrame on arbitrary values and JSON texts', () => {
    let ran = 0;
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json(), fc.jsonValue(), fc.uint8Array({ maxLength: 64 })), (value) => void (ran++, checkResult(value))),
      { numRuns: RUNS.json },
    );
    expect(ran).toBe(RUNS.json);
    figures.arbitraryValues = RUNS.json;
    totalCases += RUNS.json;
  });

  it('parseFrame on mutated recorded frames: never throws, keeps only plain, safe data', () => {
    let ran = 0;
    fc.assert(fc.property(fuzzedRaw, (raw) => void (ran++, checkResult(raw))), { numRuns: RUNS.mutated });
    expect(ran).toBe(RUNS.mutated);
    figures.mutatedFrames = RUNS.mutated;
    totalCases += RUNS.mutated;
  });

  it('sequences through ingest + the root reducer: invariants hold, terminal tasks never regress, rejections counted by reason', () => {
    let frames = 0;
    let ran = 0;
    fc.assert(
      fc.property(fc.array(trafficRaw, { minLength: 1, maxLength: 30 }), (raws) => {
        ran++;
        frames += raws.length;
        const watch = new TerminalWatch();
        const { state, expected } = reduceOneByOne(raws, watch);
        assertStateValid(state);
        expectCounts(state, raws.length, expected);
      }),
      { numRuns: RUNS.sequences },
    );
    expect(ran).toBe(RUNS.sequences);
    figures.reducerSequences = { runs: RUNS.sequences, frames };
    totalCases += RUNS.sequences;
  });

  it('a batch gives the same state as its frames one at a time', () => {
    let ran = 0;
    fc.assert(
      fc.property(fc.array(trafficRaw, { minLength: 2, maxLength: 25 }), (raws) => {
        ran++;
        const { state: single } = reduceOneByOne(raws);
        const actions = raws.map((raw, i) => ingestFrame(raw, 1_000 + i).action) as IngestAction[];
        const batched = realtimeReducer(realtimeReducer(undefined, { type: '@@fuzz/init' }), framesBatched({ actions }));
        if (!jsonEqual(batched, single)) throw new Error('batched state differs from one-by-one');
        assertStateValid(batched);
      }),
      { numRuns: RUNS.batches },
    );
    expect(ran).toBe(RUNS.batches);
    figures.batchEquivalence = RUNS.batches;
    totalCases += RUNS.batches;
  });

  it('the full live path (store, socket middleware, fake WebSocket): never throws, same state as the reducer, listeners hear each applied frame once', () => {
    let frames = 0;
    let ran = 0;
    const SESSION = JSON.stringify({ type: 'session.init', session_id: 'fz-1', capabilities: ['ack', 'seq', 'replay'], resume_token: 'tok' });
    fc.assert(
      fc.property(
        fc.array(fc.array(trafficRaw, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        (bursts) => {
          ran++;
          FakeWebSocket.reset();
          const timers = new ManualTimers(1_000);
          const store = createRealtimeStore({
            url: 'ws://fuzz.test/ws',
            WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
            storage: createMemoryStorage(),
            timers,
            random: () => 0.5,
            browser: null,
            devTools: false,
          });
          let heard = 0;
          let thrown = 0;
          store.on('*', () => heard++);
          store.on('task.progress', () => {
            thrown++;
            throw new Error('a listener that throws must not break the client');
          });
          try {
            store.dispatch(connect());
            const ws = FakeWebSocket.last();
            ws.open();
            ws.onmessage!({ data: SESSION });
            timers.runDue();
            const delivered: unknown[] = [SESSION];
            for (const burst of bursts) {
              // One burst = frames within one tick: one batched action.
              for (const raw of burst) ws.onmessage!({ data: raw });
              delivered.push(...burst);
              timers.runDue();
            }
            frames += delivered.length;
            const live = store.getState();
            assertStateValid(live);
            const { state: reference, expected } = reduceOneByOne(delivered.map((raw) => raw));
            expectCounts(live, delivered.length, expected);
            for (const slice of ['tasks', 'nodes', 'takes', 'agents', 'narrative', 'prompts', 'activity'] as const) {
              if (!jsonEqual(stripTimes(live[slice]), stripTimes(reference[slice]))) throw new Error(`${slice} differs from the reducer's`);
            }
            const f = live.frames;
            if (heard !== f.applied + f.unknown.total) throw new Error(`listeners heard ${heard}, applied ${f.applied} + unknown ${f.unknown.total}`);
            // Every throw counted once, and only those (the '*' listener never throws).
            if (f.listenerErrors !== thrown) throw new Error(`listenerErrors ${f.listenerErrors}, listener threw ${thrown} times`);
          } finally {
            store.dispose();
          }
          if (timers.count() !== 0) throw new Error(`${timers.count()} timers left after dispose`);
        },
      ),
      { numRuns: RUNS.livePath },
    );
    expect(ran).toBe(RUNS.livePath);
    figures.livePath = { runs: RUNS.livePath, frames };
    totalCases += RUNS.livePath;
  });

  it('is sized to run at least 100,000 cases (each test checks that it ran all of its own)', () => {
    // From the sizes, not from what the other tests added up: this holds whatever ran before it.
    expect(TOTAL_RUNS).toBeGreaterThanOrEqual(100_000);
  });
});

/**
 * Receive times differ between the live path (the timers' clock) and the reference: drop them.
 * So does `stale`: the middleware marks generating nodes stale when a session reply names another
 * instance (a backend restart), which the bare reducer does not do.
 */
function stripTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripTimes);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (key !== 'at' && key !== 'stale' && !key.endsWith('At')) out[key] = stripTimes(inner);
    return out;
  }
  return value;
}
