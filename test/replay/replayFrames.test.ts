import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import fc from 'fast-check';
import { framesToActions, replayFrames, replayTimeline, splitJsonl } from '../../src/replay/index.js';
import { MAX_FINISHED_TASKS, realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import type { CeleryState } from '../../src/protocol/index.js';
import {
  expectGeneratingIdsExact,
  FIXTURE_NAMES,
  fixtureLines,
  initialState,
  readFixture,
  reduceAll,
  stamped,
  toJsonl,
} from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';

const RANK: Record<CeleryState, number> = { PENDING: 0, STARTED: 1, RETRY: 2, PROGRESS: 2, SUCCESS: 3, FAILURE: 3, REVOKED: 3 };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('replayFrames', () => {
  describe('timeline', () => {
    it.each(FIXTURE_NAMES)('%s: one entry per line, in order, with the line as recorded', (name) => {
      const lines = fixtureLines(name);
      const timeline = replayTimeline(readFixture(name));
      expect(timeline).toHaveLength(lines.length);
      timeline.forEach((entry, i) => {
        expect(entry.index).toBe(i);
        expect(entry.raw).toBe(lines[i]);
      });
      expect(timeline[timeline.length - 1]!.state).toEqual(replayFrames(readFixture(name)));
    });

    it.each(FIXTURE_NAMES)('%s: receive times are the frames\' timestamps', (name) => {
      const timeline = replayTimeline(readFixture(name));
      let previous = 0;
      for (const { raw, action } of timeline) {
        const match = /"timestamp":"([^"]+)"/.exec(raw as string);
        const at = (action.payload as { receivedAt: number }).receivedAt;
        // A line with no readable timestamp (bad-frames' `null`) follows the previous one by 1 ms.
        expect(at).toBe(match ? Date.parse(match[1]!) : previous + 1);
        expect(at).toBeGreaterThan(previous);
        previous = at;
      }
    });

    it('an empty log gives the initial state', () => {
      expect(replayFrames('')).toEqual(initialState());
      expect(replayFrames([])).toEqual(initialState());
      expect(replayTimeline('\n\n')).toEqual([]);
    });
  });

  describe('input forms', () => {
    it('JSONL text, an array of lines and an array of parsed frames give the same state', () => {
      for (const name of FIXTURE_NAMES.filter((n) => n !== 'bad-frames')) {
        const text = readFixture(name);
        const lines = fixtureLines(name);
        const objects = lines.map((line) => JSON.parse(line) as object);
        const fromText = replayFrames(text);
        expect(replayFrames(lines), name).toEqual(fromText);
        expect(replayFrames(objects), name).toEqual(fromText);
      }
    });

    it('splitJsonl skips blank lines and accepts CRLF', () => {
      expect(splitJsonl('{"a":1}\r\n\r\n  \n{"b":2}\n')).toEqual(['{"a":1}', '{"b":2}']);
      const crlf = readFixture('generation-failure').replace(/\n/g, '\r\n');
      expect(replayFrames(crlf)).toEqual(replayFrames(readFixture('generation-failure')));
    });

    it('framesToActions gives the ingest actions: reducing them gives the replayed state', () => {
      for (const name of FIXTURE_NAMES) {
        const actions = framesToActions(readFixture(name));
        expect(actions).toHaveLength(fixtureLines(name).length);
        expect(reduceAll(actions as UnknownAction[]), name).toEqual(replayFrames(readFixture(name)));
      }
    });
  });

  describe('any element', () => {
    const INGEST_TYPES = new Set(['frames/rejected', 'frames/unknownReceived', 'frames/duplicateDropped']);

    function expectRejected(raw: unknown, reason: string): void {
      const [entry] = replayTimeline([raw as object]);
      expect(entry!.action.type).toBe('frames/rejected');
      expect(entry!.action.payload).toMatchObject({ reason, detail: expect.any(String) });
      expect(entry!.state.frames.rejected.byReason[reason as 'not_text']).toBe(1);
    }

    it('null, numbers, arrays, objects without type or timestamp, non-JSON strings: rejected frames', () => {
      expectRejected(null, 'not_text');
      expectRejected(undefined, 'not_text');
      expectRejected(42, 'not_text');
      expectRejected(true, 'not_text');
      expectRejected([], 'not_object');
      expectRejected([{ type: 'system.heartbeat' }], 'not_object');
      expectRejected({}, 'missing_type');
      expectRejected(Object.create(null) as object, 'missing_type');
      expectRejected({ timestamp: null }, 'missing_type');
      expectRejected('{oops', 'not_json');
      expectRejected('null', 'not_object');
    });

    it('an element whose fields cannot be read (a throwing getter, a hostile proxy) is a rejected frame', () => {
      const getter = Object.defineProperty({ type: 'task.progress' }, 'timestamp', {
        enumerable: true,
        get() {
          throw new Error('no timestamp for you');
        },
      });
      const proxy = new Proxy({}, {
        get() {
          throw new Error('trap');
        },
        has() {
          throw new Error('trap');
        },
      });
      expectRejected(getter, 'not_object');
      expectRejected(proxy, 'not_object');
    });

    it('no element of any array makes it throw: one entry per element, each an ingest action', () => {
      const element = fc.oneof(
        fc.anything({
          withNullPrototype: true,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
        fc.json(),
        fc.string(),
        fc.constantFrom(...fixtureLines('bad-frames'), ...fixtureLines('generation-success')),
        fc.constantFrom(...fixtureLines('generation-success')).map((line) => JSON.parse(line) as unknown),
      );
      fc.assert(
        fc.property(fc.array(element, { maxLength: 20 }), (elements) => {
          const timeline = replayTimeline(elements as object[]);
          expect(timeline).toHaveLength(elements.length);
          timeline.forEach((entry, i) => {
            expect(entry.raw).toBe(elements[i]);
            expect(Number.isFinite((entry.action.payload as { receivedAt: number }).receivedAt)).toBe(true);
            const object = elements[i] !== null && typeof elements[i] === 'object' && !Array.isArray(elements[i]);
            if (typeof elements[i] !== 'string' && !object && !ArrayBuffer.isView(elements[i])) {
              expect(entry.action.type).toBe('frames/rejected');
            } else if (entry.action.type.startsWith('frames/')) {
              expect(INGEST_TYPES.has(entry.action.type), entry.action.type).toBe(true);
            }
          });
          expect(replayFrames(elements as object[])).toEqual(timeline.at(-1)?.state ?? initialState());
        }),
        { numRuns: 300 },
      );
    });

    it('no line of any JSONL text makes it throw', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.string(), fc.json(), fc.constantFrom(...fixtureLines('bad-frames'))), { maxLength: 20 }), (lines) => {
          const text = lines.join('\n');
          expect(replayTimeline(text)).toHaveLength(splitJsonl(text).length);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('recorded lines (the store\'s `record` option)', () => {
    const frame = { type: 'task.progress', task_id: 't1', state: 'PROGRESS', progress: 10, timestamp: '2026-03-02T14:00:00.000Z' };

    it('replay the data at its received_at, whatever the frame\'s timestamp says', () => {
      const lines = [
        JSON.stringify({ received_at: 5_000, frame }),
        JSON.stringify({ received_at: 5_250, text: '{oops' }),
        JSON.stringify({ received_at: 5_500, base64: Buffer.from(JSON.stringify({ ...frame, progress: 20 })).toString('base64') }),
      ];
      for (const input of [lines.join('\n'), lines.map((line) => JSON.parse(line) as object)]) {
        const timeline = replayTimeline(input);
        expect(timeline.map(({ action }) => [action.type, (action.payload as { receivedAt: number }).receivedAt])).toEqual([
          ['tasks/progressReceived', 5_000],
          ['frames/rejected', 5_250],
          ['tasks/progressReceived', 5_500],
        ]);
        expect(getEntity(timeline[2]!.state.tasks, 't1')).toMatchObject({ progress: 20, firstSeenAt: 5_000, updatedAt: 5_500 });
      }
    });

    it('a frame that arrived too large is rejected again (its text is replayed, not its value)', () => {
      const line = JSON.stringify({ received_at: 1, frame });
      expect(replayFrames(line, { maxBytes: 50 }).frames.rejected.byReason.too_large).toBe(1);
    });

    it('a line that only looks like one is a frame like any other', () => {
      for (const line of [
        { received_at: '5000', frame },
        { received_at: 5_000 },
        { received_at: 5_000, text: 42 },
        { received_at: 5_000, frame, type: 'task.progress' },
        { received_at: Number.NaN, frame },
      ]) {
        const [entry] = replayTimeline([JSON.stringify(line)]);
        expect(entry!.action.type, JSON.stringify(line)).not.toBe('tasks/progressReceived');
      }
    });
  });

  describe('options', () => {
    const untimed = [
      { type: 'generation.started', node_id: 'n1', task_id: 't1' },
      { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 10 },
      { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'SUCCESS', progress: 100 },
    ];

    it('frames without timestamp start at startAt and are stepMs apart', () => {
      const timeline = replayTimeline(untimed, { startAt: 5_000, stepMs: 250 });
      expect(timeline.map(({ action }) => (action.payload as { receivedAt: number }).receivedAt)).toEqual([5_000, 5_250, 5_500]);
      const task = getEntity(timeline[2]!.state.tasks, 't1')!;
      expect(task).toMatchObject({ firstSeenAt: 5_000, updatedAt: 5_500, finishedAt: 5_500 });
    });

    it('defaults: start at 0, 1 ms apart', () => {
      const task = getEntity(replayFrames(untimed).tasks, 't1')!;
      expect(task).toMatchObject({ firstSeenAt: 0, finishedAt: 2 });
    });

    it('a frame without timestamp follows the previous timestamped one', () => {
      const frames: object[] = [{ ...untimed[0]!, timestamp: '2026-03-02T14:00:00.000Z' }, untimed[1]!, untimed[2]!];
      const times = replayTimeline(frames, { stepMs: 10 }).map(({ action }) => (action.payload as { receivedAt: number }).receivedAt);
      const t = Date.parse('2026-03-02T14:00:00.000Z');
      expect(times).toEqual([t, t + 10, t + 20]);
    });

    it('receivedAt overrides the timestamps', () => {
      const state = replayFrames(readFixture('generation-success'), { receivedAt: (_raw, index) => 1_000 + index });
      expect(state.frames.lastReceivedAt).toBe(1_000 + fixtureLines('generation-success').length - 1);
    });

    it('initialState continues from an earlier replay: the same as replaying the two logs as one', () => {
      const first = stamped(untimed.slice(0, 2));
      const second = stamped(untimed.slice(2), '2026-01-01T00:00:02.000Z');
      const continued = replayFrames(second, { initialState: replayFrames(first) });
      expect(continued).toEqual(replayFrames([...first, ...second]));
      expect(replayFrames([], { initialState: continued })).toBe(continued);
    });

    it('maxBytes is passed to the parser', () => {
      const state = replayFrames(readFixture('generation-success'), { maxBytes: 300 });
      expect(state.frames.rejected.byReason.too_large).toBeGreaterThan(0);
      expect(state.takes.ids).toEqual([]);
    });
  });

  describe('purity', () => {
    it.each(FIXTURE_NAMES)('%s: replaying twice gives deep-equal states', (name) => {
      expect(replayFrames(readFixture(name))).toEqual(replayFrames(readFixture(name)));
      const a = replayTimeline(readFixture(name)).map((entry) => entry.state);
      const b = replayTimeline(readFixture(name)).map((entry) => entry.state);
      expect(a).toEqual(b);
    });

    it('the clock and randomness play no part: times come from timestamps', () => {
      const expected = replayFrames(readFixture('generation-success'));
      vi.spyOn(Date, 'now').mockReturnValue(42);
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      vi.spyOn(performance, 'now').mockReturnValue(7);
      expect(replayFrames(readFixture('generation-success'))).toEqual(expected);
      expect(Date.now).not.toHaveBeenCalled();
    });

    it('does not mutate the frames it is given (frozen input replays fine)', () => {
      const frames = fixtureLines('agent-pipeline').map((line) => JSON.parse(line) as object);
      const copy = JSON.parse(JSON.stringify(frames));
      const state = replayFrames(deepFreeze(frames));
      expect(frames).toEqual(copy);
      expect(state).toEqual(replayFrames(readFixture('agent-pipeline')));
    });

    it('earlier timeline states are not changed by later frames', () => {
      // Each snapshot is taken as its state is produced (one frame at a time, each replay going
      // on from the previous state), so a later frame that changed an earlier state shows.
      const states: RealtimeState[] = [];
      const snapshots: string[] = [];
      for (const line of fixtureLines('generation-success')) {
        const [entry] = replayTimeline([line], { initialState: states.at(-1), startAt: 0 });
        states.push(entry!.state);
        snapshots.push(JSON.stringify(entry!.state));
      }
      states.forEach((state, i) => expect(JSON.stringify(state), `state #${i}`).toBe(snapshots[i]));
      expect(states.at(-1)).toEqual(replayFrames(readFixture('generation-success')));
      const timeline = replayTimeline(readFixture('generation-success'));
      // And a reducer run on an earlier state leaves it as it was.
      const early = timeline[5]!.state;
      const before = JSON.stringify(early);
      realtimeReducer(early, timeline[30]!.action as UnknownAction);
      expect(JSON.stringify(early)).toBe(before);
    });
  });

  describe('invariants at every step of every fixture', () => {
    it.each(FIXTURE_NAMES)('%s', (name) => {
      const seen = new Map<string, { state: CeleryState; progress: number; attempt: number }>();
      for (const { state, index } of replayTimeline(readFixture(name))) {
        const where = `${name}#${index}`;
        expectGeneratingIdsExact(state, where);
        expect(state.tasks.finishedOrder.length, where).toBeLessThanOrEqual(MAX_FINISHED_TASKS);
        expect(new Set(state.narrative.completed_beats).size, where).toBe(state.narrative.completed_beats.length);
        for (const id of state.tasks.ids) {
          const task = getEntity(state.tasks, id)!;
          expect(task.progress, where).toBeGreaterThanOrEqual(0);
          expect(task.progress, where).toBeLessThanOrEqual(100);
          const last = seen.get(id);
          if (last) expect(task.attempt - last.attempt, `${where} ${id} attempt`).toBeOneOf([0, 1]);
          // Within one attempt nothing moves back; a retry or redelivery starts over (attempts.ts).
          if (last && task.attempt === last.attempt) {
            expect(task.progress, `${where} ${id} progress`).toBeGreaterThanOrEqual(last.progress);
            expect(RANK[task.state], `${where} ${id} state`).toBeGreaterThanOrEqual(RANK[last.state]);
            if (RANK[last.state] === 3) expect(task.state, `${where} ${id} terminal`).toBe(last.state);
          }
          seen.set(id, { state: task.state, progress: task.progress, attempt: task.attempt });
        }
        for (const id of state.nodes.ids) {
          const node = getEntity(state.nodes, id)!;
          expect(new Set(node.take_ids).size, where).toBe(node.take_ids.length);
          for (const take of node.take_ids) expect(getEntity(state.takes, take), `${where} ${id} -> ${take}`).toBeDefined();
          expect(node.progress).toBeGreaterThanOrEqual(0);
          expect(node.progress).toBeLessThanOrEqual(100);
        }
        expect(state.takes.ids.length, where).toBe(new Set(state.takes.ids).size);
      }
    });
  });

  it('a long generated log stays bounded and replays identically twice', () => {
    const frames: object[] = [];
    for (let i = 0; i < 120; i++) {
      const task = `t${i}`;
      const node = `n${i % 4}`;
      frames.push({ type: 'generation.started', node_id: node, task_id: task });
      frames.push({ type: 'task.progress', task_id: task, node_id: node, state: 'PROGRESS', progress: 50 });
      frames.push({ type: 'generation.completed', node_id: node, task_id: task, output_path: `/media/${task}.png`, takes: [{ id: `k${i}`, take_number: 1 + Math.floor(i / 4), path: `/media/${task}.png`, created_at: 'x' }] });
    }
    const text = toJsonl(stamped(frames));
    const state = replayFrames(text);
    expect(state).toEqual(replayFrames(text));
    expect(state.frames.recent).toHaveLength(100);
    expect(state.nodes.generating_ids).toEqual([]);
    expect(getEntity(state.nodes, 'n0')?.take_ids).toHaveLength(30);
    expect(getEntity(state.nodes, 'n0')?.past_task_ids).toHaveLength(20);
  });
});
