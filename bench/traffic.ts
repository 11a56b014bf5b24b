/**
 * A deterministic generator of recorded canvas traffic, for the benchmarks.
 *
 * It plays what the reference backend publishes for a busy canvas: a session reply announcing
 * ack/seq/replay, the canvas loading (one node.state_changed per node, a third of them with a
 * take already), then a steady stream of generations on random nodes, 24 of them in flight at
 * once and interleaved as they would be on the wire. Each generation follows the simulator's
 * plan (server/simulator/plan.ts): generation.started, a narrative beat, the five agents
 * (assigned, two progress frames, completed, hand-off), the composite prompt, a Celery task with
 * one PROGRESS frame per denoising step (20-30 steps), then SUCCESS with generation.completed and
 * a take (data-URL thumbnail, as the simulator sends), or FAILURE with generation.error, or a
 * cancel (REVOKED, node back to idle); the node's own node.state_changed frames at start and end;
 * the two post-production agents. Around it: heartbeats, narrative.progress, structure.changed,
 * git.commit/push/pull, file.uploaded and process.* frames. Every event carries the project's
 * `seq`.
 *
 * Pure: the same options give the same frames, byte for byte (tested in
 * test/bench/traffic.test.ts, with every frame accepted by parseFrame). After the canvas load the
 * mix is stationary, so the last 5,000 frames of a 10k and a 200k log are the same kind of work.
 */
import { seededRandom } from '../server/simulator/random.js';
import { makeThumbnail } from '../server/simulator/thumbnail.js';

export interface TrafficOptions {
  /** Number of frames, exactly. */
  frames: number;
  /** Nodes on the canvas. */
  nodes: number;
  /** Default 2026. */
  seed?: number;
  /** Generations in flight at once. Default min(24, nodes / 2). */
  concurrency?: number;
  project?: string;
}

export interface Traffic {
  /** Raw frames as the socket delivers them (JSON text). */
  frames: string[];
  nodeIds: string[];
  /** Task ids in the order their generation started, with the index of generation.started. */
  tasks: Array<{ taskId: string; nodeId: string; index: number }>;
  /** Frames per type. */
  counts: Record<string, number>;
  /** Frames of the canvas load (one per node, after the session reply). */
  loadFrames: number;
  bytes: number;
}

type Frame = Record<string, unknown> & { type: string };

const AGENTS = [
  { agent: 'Producer', task: 'Scheduling the shot and GPU budget', note: 'Budget approved: 1 take at standard quality' },
  { agent: 'Screenwriter', task: 'Refining the shot description', note: 'Tightened the action line' },
  { agent: 'CastingDirector', task: 'Matching character references', note: 'Character sheets locked' },
  { agent: 'ArtDirector', task: 'Applying the style guide', note: 'Palette and lens language applied' },
  { agent: 'Cinematographer', task: 'Framing and lighting', note: 'Wide establishing, golden hour key light' },
] as const;
const POST = [
  { agent: 'SoundDesigner', task: 'Sketching the ambience cue', note: 'Room tone and wind bed noted' },
  { agent: 'Editor', task: 'Reviewing the new take', note: 'Take added to the shot bin' },
] as const;
const BEATS = ['Call to Adventure', 'Resolve', 'Tension', 'Wonder', 'Loss', 'Threshold', 'Ordeal', 'Return'];
const KEYWORDS: Record<string, string[]> = {
  Resolve: ['determination', 'warm light'],
  Tension: ['unease', 'hard shadows'],
  Wonder: ['awe', 'soft haze'],
  Loss: ['grief', 'muted colour'],
};
const SCENES = ['S001', 'S002', 'S003', 'S004', 'S005', 'S006'];
const PROMPTS = [
  'a lighthouse at dusk, waves against the rocks',
  'a lone rider crossing the salt flats at noon',
  'close-up of hands sorting old photographs',
  'a crowded night market in the rain, neon reflections',
  'an empty theatre, one spotlight on the stage',
];
const AUTHORS = ['ana@studio', 'li@studio', 'sam@studio'];

let thumbnailPool: string[] | undefined;
/** Real PNG data URLs (about 1 kB) as the simulator makes them; eight, reused. */
function thumbnails(): string[] {
  thumbnailPool ??= Array.from({ length: 8 }, (_, i) => makeThumbnail((i + 0.5) / 8));
  return thumbnailPool;
}

interface Run {
  nodeId: string;
  taskId: string;
  queue: Frame[];
}

export function generateTraffic(options: TrafficOptions): Traffic {
  const total = options.frames;
  const nodeCount = Math.max(1, options.nodes);
  const project = options.project ?? 'proj-1';
  const random = seededRandom(options.seed ?? 2026);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const hex = () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 24, Math.floor(nodeCount / 2) || 1));
  const pad = Math.max(4, String(nodeCount).length);
  const nodeIds = Array.from({ length: nodeCount }, (_, i) => `node-${String(i + 1).padStart(pad, '0')}`);
  const pool = thumbnails();

  const frames: string[] = [];
  const tasks: Traffic['tasks'] = [];
  const counts: Record<string, number> = {};
  let bytes = 0;
  let seq = 0;
  let clock = Date.parse('2025-01-15T10:00:00.000Z');
  const runCount = new Map<string, number>();
  const busy = new Set<string>();

  function emit(frame: Frame, withSeq = true) {
    clock += 1 + Math.floor(random() * 2);
    const stamped: Frame = { type: frame.type, timestamp: new Date(clock).toISOString() };
    if (withSeq) {
      stamped.seq = ++seq;
      stamped.project_id = project;
    }
    for (const key of Object.keys(frame)) if (key !== 'type') stamped[key] = frame[key];
    if (stamped.type === 'generation.completed' || stamped.type === 'node.state_changed') {
      const takes = stamped.takes as Array<Record<string, unknown>> | undefined;
      if (takes) stamped.takes = takes.map((take) => ({ ...take, created_at: stamped.timestamp }));
    }
    const text = JSON.stringify(stamped);
    if (stamped.type === 'generation.started') {
      tasks.push({ taskId: stamped.task_id as string, nodeId: stamped.node_id as string, index: frames.length });
    }
    frames.push(text);
    bytes += text.length;
    counts[stamped.type] = (counts[stamped.type] ?? 0) + 1;
  }

  function makeTake(nodeId: string, run: number, scene: string, shot: string, beat: string | undefined, composite: object) {
    const takeId = `take-${nodeId}-${run}-${hex().slice(0, 4)}`;
    return {
      id: takeId,
      take_number: run,
      path: `/media/${project}/${nodeId}/${takeId}.png`,
      thumbnail: pick(pool),
      created_at: '',
      scene_id: scene,
      shot_id: shot,
      quality_preset: 'standard',
      composite_prompt: composite,
      ...(beat && { emotional_beat: beat }),
      metadata: { width: 1024, height: 576, seed: Math.floor(random() * 1e9), model: 'sdxl-1.0' },
    };
  }

  /** One generation, as planGeneration lays it out, plus the node's own state frames. */
  function plan(nodeId: string): Run {
    const run = (runCount.get(nodeId) ?? 0) + 1;
    runCount.set(nodeId, run);
    const taskId = `celery-${hex()}${hex()}`;
    const scene = pick(SCENES);
    const shot = `P${String(1 + Math.floor(random() * 40)).padStart(3, '0')}`;
    const beat = random() < 0.7 ? pick(BEATS) : undefined;
    const prompt = pick(PROMPTS);
    const roll = random();
    const outcome = roll < 0.12 ? 'failure' : roll < 0.17 ? 'cancel' : 'success';
    const q: Frame[] = [];
    q.push({ type: 'generation.started', node_id: nodeId, task_id: taskId, command_id: `cmd-${hex()}`, scene_id: scene, shot_id: shot, ...(beat && { emotional_beat: beat }) });
    q.push({ type: 'node.state_changed', node_id: nodeId, status: 'generating', progress: 0, task_id: taskId, scene_id: scene, shot_id: shot, message: 'Queued on the GPU worker' });
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'PENDING', progress: 0, message: 'Queued on the GPU worker' });
    if (beat) q.push({ type: 'narrative.beat', beat_name: beat, scene_id: scene, shot_id: shot, keywords: KEYWORDS[beat] ?? ['anticipation', 'quiet'], node_id: nodeId, task_id: taskId });
    const notes: Record<string, string> = {};
    AGENTS.forEach((step, i) => {
      const agentTask = `${taskId}-${step.agent.toLowerCase()}`;
      q.push({ type: 'agent.assigned', agent_type: step.agent, task_id: agentTask, task_description: step.task, node_id: nodeId, estimated_duration: 2 });
      for (const progress of [35, 70]) {
        q.push({
          type: 'agent.progress',
          agent_type: step.agent,
          task_id: agentTask,
          progress,
          current_step: step.task,
          node_id: nodeId,
          ...(step.agent === 'Producer' && { vram_usage: Math.round((6 + random() * 10) * 10) / 10 }),
        });
      }
      notes[step.agent] = step.note;
      const next = AGENTS[i + 1]?.agent;
      q.push({ type: 'agent.completed', agent_type: step.agent, task_id: agentTask, node_id: nodeId, output: { note: step.note }, ...(next && { handoff_to: next }) });
      if (next) q.push({ type: 'agent.handoff', from_agent: step.agent, to_agent: next, task_id: taskId, node_id: nodeId, notes: step.note });
    });
    const composite = {
      base_prompt: prompt,
      character_refs: ['char-ana'],
      style_refs: ['style-noir'],
      location_ref: 'loc-coast',
      emotional_keywords: beat ? (KEYWORDS[beat] ?? []) : [],
      agent_notes: notes,
    };
    q.push({ type: 'prompt.composite', node_id: nodeId, task_id: taskId, composite_prompt: composite });
    const denoise = 20 + Math.floor(random() * 11);
    const totalSteps = denoise + 4;
    let step = 0;
    const pct = (s: number) => Math.round((s / totalSteps) * 100);
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'STARTED', progress: 0, step: 'Loading model', current_step: ++step, total_steps: totalSteps });
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'PROGRESS', progress: pct(step), step: 'Encoding prompt', current_step: ++step, total_steps: totalSteps });
    const stopAt = outcome === 'success' ? -1 : Math.floor(denoise * (0.3 + random() * 0.5));
    for (let k = 1; k <= denoise; k++) {
      q.push({
        type: 'task.progress',
        task_id: taskId,
        node_id: nodeId,
        state: 'PROGRESS',
        progress: pct(step),
        step: `Denoising ${k}/${denoise}`,
        current_step: ++step,
        total_steps: totalSteps,
        message: 'Sampler: DPM++ 2M, cfg 7',
      });
      if (k === stopAt && outcome === 'failure') {
        const error = 'CUDA out of memory while denoising (simulated)';
        q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'FAILURE', progress: pct(step), message: error, result: { exc_type: 'OutOfMemoryError', exc_message: error } });
        q.push({ type: 'generation.error', node_id: nodeId, task_id: taskId, error, message: 'The GPU ran out of memory. Try a smaller size or fewer steps.' });
        q.push({ type: 'node.state_changed', node_id: nodeId, status: 'error', task_id: taskId, error });
        q.push({ type: 'agent.completed', agent_type: 'Producer', task_id: `${taskId}-producer`, node_id: nodeId, output: { note: 'Run failed: GPU memory' } });
        return { nodeId, taskId, queue: q };
      }
      if (k === stopAt && outcome === 'cancel') {
        q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'REVOKED', message: 'Cancelled by the user' });
        q.push({ type: 'node.state_changed', node_id: nodeId, status: 'idle', task_id: taskId, message: 'Cancelled' });
        return { nodeId, taskId, queue: q };
      }
    }
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'PROGRESS', progress: pct(step), step: 'Decoding latents', current_step: ++step, total_steps: totalSteps });
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'PROGRESS', progress: pct(step), step: 'Saving take', current_step: ++step, total_steps: totalSteps });
    const take = makeTake(nodeId, run, scene, shot, beat, composite);
    q.push({ type: 'task.progress', task_id: taskId, node_id: nodeId, state: 'SUCCESS', progress: 100, step: 'Done', current_step: totalSteps, total_steps: totalSteps, result: { take_id: take.id, output_path: take.path } });
    q.push({ type: 'generation.completed', node_id: nodeId, task_id: taskId, output_path: take.path, thumbnail: take.thumbnail, takes: [take] });
    q.push({ type: 'node.state_changed', node_id: nodeId, status: 'completed', progress: 100, task_id: taskId, output_path: take.path, thumbnail: take.thumbnail, current_take: run - 1 });
    for (const post of POST) {
      const agentTask = `${taskId}-${post.agent.toLowerCase()}`;
      q.push({ type: 'agent.assigned', agent_type: post.agent, task_id: agentTask, task_description: post.task, node_id: nodeId });
      q.push({ type: 'agent.progress', agent_type: post.agent, task_id: agentTask, progress: 60, current_step: post.task, node_id: nodeId });
      q.push({ type: 'agent.completed', agent_type: post.agent, task_id: agentTask, node_id: nodeId, output: { note: post.note } });
    }
    return { nodeId, taskId, queue: q };
  }

  let ambient = 0;
  let shots = 0;
  /** Project activity that arrives from elsewhere (Redis pub/sub) and the server's heartbeat. */
  function ambientFrame() {
    ambient += 1;
    const kind = random();
    if (kind < 0.3) {
      emit({ type: 'system.heartbeat', server_time: clock, instance_id: 'backend-7f3a' }, false);
    } else if (kind < 0.5) {
      emit({ type: 'structure.changed', changes: { added: [`shots/P${String(ambient).padStart(4, '0')}.json`], modified: ['storyboard.json'], deleted: [] } });
    } else if (kind < 0.65) {
      emit({ type: pick(['git.commit', 'git.push', 'git.pull']), ref: hex().slice(0, 7), message: `Storyboard revision ${ambient}`, author: pick(AUTHORS) });
    } else if (kind < 0.75) {
      emit({ type: 'file.uploaded', file: { name: `ref-${ambient}.png`, path: `assets/refs/ref-${ambient}.png`, size: 100_000 + Math.floor(random() * 900_000), asset_type: 'image' } });
    } else if (kind < 0.9) {
      const id = `proc-${Math.floor(ambient / 4)}`;
      const phase = ambient % 4;
      const type = phase === 0 ? 'process.started' : phase === 3 ? 'process.completed' : 'process.progress';
      emit({ type, process_id: id, progress: phase * 33, message: `Indexed ${phase} of 3` });
    } else {
      shots += 1;
      emit({
        type: 'narrative.progress',
        structure_type: 'three-act',
        current_chapter: 1 + (Math.floor(shots / 12) % 3),
        total_chapters: 3,
        current_scene: SCENES[Math.floor(shots / 4) % SCENES.length],
        total_scenes: SCENES.length,
        current_shot: `P${String(1 + (shots % 40)).padStart(3, '0')}`,
        total_shots: 40,
      });
    }
  }

  // The session reply, then the canvas loads.
  emit({ type: 'session.init', session_id: 'sess-bench', reconnect: false, instance_id: 'backend-7f3a', capabilities: ['ack', 'seq', 'replay'], resume_token: 'tok-bench' }, false);
  for (let i = 0; i < nodeCount && frames.length < total; i++) {
    const nodeId = nodeIds[i]!;
    if (random() < 1 / 3) {
      runCount.set(nodeId, 1);
      const take = makeTake(nodeId, 1, pick(SCENES), 'P001', undefined, { base_prompt: pick(PROMPTS) });
      emit({ type: 'node.state_changed', node_id: nodeId, status: 'completed', progress: 100, output_path: take.path, thumbnail: take.thumbnail, takes: [take], current_take: 0, scene_id: take.scene_id });
    } else {
      emit({ type: 'node.state_changed', node_id: nodeId, status: 'idle', progress: 0 });
    }
  }
  const loadFrames = frames.length;

  const active: Run[] = [];
  function startRun() {
    let nodeId = pick(nodeIds);
    for (let tries = 0; busy.has(nodeId) && tries < 50; tries++) nodeId = pick(nodeIds);
    if (busy.has(nodeId)) return;
    busy.add(nodeId);
    active.push(plan(nodeId));
  }
  while (frames.length < total) {
    while (active.length < concurrency) startRun();
    if (random() < 0.02) {
      ambientFrame();
      continue;
    }
    // Frames of the runs in flight interleave; the oldest runs are a little more likely to move.
    const index = Math.floor(random() * random() * active.length);
    const run = active[index]!;
    emit(run.queue.shift()!);
    if (run.queue.length === 0) {
      active.splice(index, 1);
      busy.delete(run.nodeId);
    }
  }
  return { frames, nodeIds, tasks, counts, loadFrames, bytes };
}

/** FNV-1a over every frame: a fingerprint for determinism checks. */
export function fingerprint(frames: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const text of frames) {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 10;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Burst sizes for delivering `total` frames: 1 to 32 frames (mean about 16, what a 60 Hz tick
 * gathers at 1,000 frames per second), deterministic, with a burst boundary at each of `cuts`.
 */
export function burstSizes(total: number, cuts: readonly number[] = [], seed = 7): number[] {
  const random = seededRandom(seed);
  const sorted = [...new Set(cuts)].filter((c) => c > 0 && c < total).sort((a, b) => a - b);
  const sizes: number[] = [];
  let at = 0;
  let next = 0;
  while (at < total) {
    let size = 1 + Math.floor(random() * 32);
    if (at + size > total) size = total - at;
    while (next < sorted.length && sorted[next]! <= at) next++;
    if (next < sorted.length && at + size > sorted[next]!) size = sorted[next]! - at;
    sizes.push(size);
    at += size;
  }
  return sizes;
}
