/**
 * The long-session traffic mix, as the reference backend publishes it: generations planned by
 * the pipeline simulator (server/simulator/plan.ts: generation.started, the five agents with
 * hand-offs, the composite prompt, one task.progress per denoising step, then a take with a
 * data-URL thumbnail, or a failure), several in flight at once and interleaved, on a canvas of
 * nodes that are generated again and again; with project activity around them (structure.changed,
 * git.*, narrative.progress, process.*). Deterministic for a seed.
 *
 * Frames come without project_id and seq: the bus (chaos) or the soak's own numbering adds them.
 */
import { planGeneration, type Frame } from '../../server/simulator/plan.js';
import { seededRandom } from '../../server/simulator/random.js';

export type { Frame };

export interface TrafficOptions {
  /** Exactly this many frames. */
  events: number;
  seed?: number;
  /** Nodes on the canvas. Default 40. */
  nodes?: number;
  /** Generations in flight at once. Default 8. */
  concurrency?: number;
  /** One ambient activity frame every this many frames. Default 25. */
  ambientEvery?: number;
  /** Timestamp of the first frame (ms) and spacing. */
  startMs?: number;
  stepMs?: number;
}

const BEATS = ['Call to Adventure', 'Resolve', 'Tension', 'Wonder', 'Loss'];
const SCENES = ['S001', 'S002', 'S003', 'S004'];

/** An endless, deterministic stream of traffic frames. */
export function* trafficStream(options: Omit<TrafficOptions, 'events'> = {}): Generator<Frame> {
  const seed = options.seed ?? 2026;
  const random = seededRandom(seed);
  const nodes = options.nodes ?? 40;
  const concurrency = options.concurrency ?? 8;
  const ambientEvery = options.ambientEvery ?? 25;
  let at = options.startMs ?? Date.UTC(2026, 2, 4, 9);
  const step = options.stepMs ?? 10;
  const runs = new Map<string, number>();
  const busy = new Set<string>();
  const inFlight: Array<{ node: string; frames: Frame[]; next: number }> = [];
  let emitted = 0;
  let ambient = 0;

  // Planning a generation encodes a PNG thumbnail: plan a pool once, then reuse the plans with
  // fresh ids (node, task, take, take number), so a million frames cost the client, not the test.
  const pool = Array.from({ length: 32 }, (_, k) => {
    const beat = BEATS[k % BEATS.length]!;
    const plan = planGeneration(
      {
        node_id: 'NODE_ID',
        params: { prompt: `shot ${k}, golden hour`, width: 1024, height: 576, steps: 12 + ((k * 7) % 18), seed: k },
        context: { scene_id: SCENES[k % SCENES.length], shot_id: `P${String(k).padStart(3, '0')}`, emotional_beat: beat },
      },
      { seed: seed + k, run: 1, failureRate: 0.15 },
    );
    return { text: JSON.stringify(plan.frames.map((planned) => planned.frame)), taskId: plan.task_id, takeId: plan.take_id };
  });
  let generation = 0;
  const startOne = () => {
    let node: string;
    do node = `node-${1 + Math.floor(random() * nodes)}`;
    while (busy.has(node) && busy.size < nodes);
    busy.add(node);
    const run = (runs.get(node) ?? 0) + 1;
    runs.set(node, run);
    const plan = pool[Math.floor(random() * pool.length)]!;
    const g = ++generation;
    const text = plan.text
      .split(plan.taskId)
      .join(`${plan.taskId}-g${g}`)
      .split(plan.takeId)
      .join(`take-${node}-${run}-g${g}`)
      .split('NODE_ID')
      .join(node)
      .split('"take_number":1,')
      .join(`"take_number":${run},`);
    inFlight.push({ node, frames: JSON.parse(text) as Frame[], next: 0 });
  };

  for (;;) {
    while (inFlight.length < concurrency) startOne();
    let frame: Frame;
    if (ambientEvery > 0 && emitted % ambientEvery === ambientEvery - 1) {
      frame = ambientFrame(ambient++, random);
    } else {
      const index = Math.floor(random() * inFlight.length);
      const flight = inFlight[index]!;
      frame = flight.frames[flight.next++]!;
      if (flight.next >= flight.frames.length) {
        inFlight.splice(index, 1);
        busy.delete(flight.node);
      }
    }
    const timestamp = new Date(at).toISOString();
    at += step;
    emitted++;
    const stamped: Frame = { ...frame, timestamp };
    if (stamped.type === 'generation.completed' && Array.isArray(stamped.takes)) {
      stamped.takes = (stamped.takes as Array<Record<string, unknown>>).map((take) => ({ ...take, created_at: timestamp }));
    }
    yield stamped;
  }
}

function ambientFrame(n: number, random: () => number): Frame {
  switch (n % 5) {
    case 0:
      return { type: 'structure.changed', changes: { added: [`shots/P${n}.json`], modified: ['project.json'], deleted: [] } };
    case 1:
      return { type: 'git.commit', ref: Math.floor(random() * 2 ** 32).toString(16), message: `Take review ${n}`, author: 'dana' };
    case 2:
      return { type: 'narrative.progress', structure_type: 'hero-journey', current_chapter: 1 + (n % 3), total_chapters: 3, current_scene: SCENES[n % 4], total_scenes: 12 };
    case 3:
      return { type: 'process.progress', process_id: `render-${n % 7}`, progress: n % 100, message: `Rendering proxy ${n % 100}%` };
    default:
      return { type: 'file.uploaded', file: { name: `ref-${n}.png`, path: `assets/refs/ref-${n}.png`, size: 1024 + n, asset_type: 'image' } };
  }
}

/** The first `events` frames of the stream. */
export function traffic(options: TrafficOptions): Frame[] {
  const frames: Frame[] = [];
  for (const frame of trafficStream(options)) {
    frames.push(frame);
    if (frames.length >= options.events) break;
  }
  return frames;
}
