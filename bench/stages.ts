/**
 * The live path's stages timed apart, for looking at one change (not part of `npm run bench`'s
 * report): `node bench/.build/scenario.mjs stages FRAMES NODES` after `npx tsx bench/run.ts
 * --build-only`. Prints µs per frame, each the median of 7 runs over the whole log:
 *
 * - `parse`: `JSON.parse` alone, then `parseFrame` (validation included) over every frame;
 * - `reducers`: every burst through `realtimeReducer` (frames already ingested, no store, no
 *   middleware, no subscribers), then each slice reducer alone over the same bursts.
 */
import { framesBatched, ingestFrame, parseFrame, realtimeReducer, type IngestAction, type RealtimeState } from '../src/index.js';
import { burstSizes, generateTraffic } from './traffic.js';
import { activityReducer } from '../src/slices/activitySlice.js';
import { agentsReducer } from '../src/slices/agentsSlice.js';
import { connectionReducer } from '../src/slices/connectionSlice.js';
import { framesReducer } from '../src/slices/framesSlice.js';
import { narrativeReducer } from '../src/slices/narrativeSlice.js';
import { nodesReducer } from '../src/slices/nodesSlice.js';
import { outboxReducer } from '../src/slices/outboxSlice.js';
import { promptsReducer } from '../src/slices/promptsSlice.js';
import { syncReducer } from '../src/slices/syncSlice.js';
import { takesReducer } from '../src/slices/takesSlice.js';
import { tasksReducer } from '../src/slices/tasksSlice.js';

const sliceReducers: Partial<Record<keyof RealtimeState, (state: never, action: ReturnType<typeof framesBatched>) => unknown>> = {
  connection: connectionReducer as never,
  tasks: tasksReducer as never,
  nodes: nodesReducer as never,
  takes: takesReducer as never,
  agents: agentsReducer as never,
  narrative: narrativeReducer as never,
  prompts: promptsReducer as never,
  activity: activityReducer as never,
  frames: framesReducer as never,
  sync: syncReducer as never,
  outbox: outboxReducer as never,
};

const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;

function timeMedian(runs: number, body: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    body();
    times.push(performance.now() - start);
  }
  return median(times);
}

export function measureStages(frames: number, nodes: number) {
  const traffic = generateTraffic({ frames, nodes });
  const perFrame = (ms: number) => Math.round(((ms * 1000) / frames) * 100) / 100;
  const parse = {
    jsonParse: perFrame(timeMedian(7, () => traffic.frames.forEach((text) => JSON.parse(text)))),
    parseFrame: perFrame(timeMedian(7, () => traffic.frames.forEach((text) => parseFrame(text)))),
  };

  const actions: IngestAction[] = traffic.frames.map((text, i) => ingestFrame(text, 1_767_225_600_000 + i).action);
  const bursts: ReturnType<typeof framesBatched>[] = [];
  let at = 0;
  for (const size of burstSizes(frames)) {
    bursts.push(framesBatched({ actions: actions.slice(at, at + size) }));
    at += size;
  }
  const init = () => realtimeReducer(undefined, { type: '@@bench/init' });
  // The state before each burst, so that each slice reducer can be timed alone on its own input.
  const before: RealtimeState[] = [];
  let state = init();
  for (const burst of bursts) {
    before.push(state);
    state = realtimeReducer(state, burst);
  }
  const whole = perFrame(
    timeMedian(7, () => {
      let s = init();
      for (const burst of bursts) s = realtimeReducer(s, burst);
    }),
  );
  // Each slice reducer alone, on the state its slice had before each burst.
  const slices: Record<string, number> = {};
  for (const key of Object.keys(state) as Array<keyof RealtimeState>) {
    slices[key] = perFrame(
      timeMedian(5, () => {
        for (let i = 0; i < bursts.length; i++) sliceReducers[key]?.(before[i]![key] as never, bursts[i]!);
      }),
    );
  }
  return { kind: 'stages', frames, nodes, parse, reducers: { whole, slices } };
}
