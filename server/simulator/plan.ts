/**
 * What one generation looks like on the bus, as Celery workers and the agent system would
 * publish it. Pure: the same request, run number and seed give the same frames (timestamps
 * are added when they are published).
 */
import { isSafeKey, type AgentType, type GenerationContext } from '../../src/protocol/index.js';
import { makeThumbnail } from './thumbnail.js';
import { hashString, seededRandom } from './random.js';

export interface GenerationRequest {
  node_id: string;
  params: { prompt?: string; negative_prompt?: string; width?: number; height?: number; steps?: number; cfg_scale?: number; seed?: number };
  context?: GenerationContext;
  command_id?: string;
}

export type Frame = Record<string, unknown> & { type: string };

export interface PlannedFrame {
  /** Delay after the previous frame, in ms at speed 1. */
  delayMs: number;
  frame: Frame;
}

export interface Plan {
  task_id: string;
  take_id: string;
  outcome: 'success' | 'failure';
  frames: PlannedFrame[];
  /**
   * Published together right before generation.completed (empty for a failure): the story reaches
   * the shot's beat, and its position (scene, shot) is that shot's. Together, so that the current
   * beat and the position always name the same shot, whichever run finishes last.
   */
  narrative: Frame[];
}

export interface PlanOptions {
  /** Seed of the whole simulation. */
  seed: number;
  /** Run number of this node (1 for its first generation): the take number. */
  run: number;
  /**
   * Chance that a run fails at random (CUDA out of memory). Default 0: a newcomer's runs succeed;
   * a prompt containing the word "fail" always fails.
   */
  failureRate?: number;
  /**
   * At most this many denoising progress frames (default 30, so the demo stays lively). The counts
   * they carry are always out of params.steps ("Step 40 of 50" for 50 steps), the Steps the user
   * set: with more steps, some counts are skipped.
   */
  maxReportedSteps?: number;
  /**
   * Names the process that plans (the simulator's boot nonce): part of every task and take id, so
   * that a restarted server, whose run numbers start again at 1, never reuses an id a client
   * still holds (a client ignores frames of a task id it saw finish, and takes it already has).
   */
  boot?: string;
}

const PIPELINE: Array<{ agent: AgentType; task: string; note: string }> = [
  { agent: 'Producer', task: 'Scheduling the shot and GPU budget', note: 'Budget approved: 1 take at standard quality' },
  { agent: 'Screenwriter', task: 'Refining the shot description', note: 'Tightened the action line' },
  { agent: 'CastingDirector', task: 'Matching character references', note: 'Character sheets locked' },
  { agent: 'ArtDirector', task: 'Applying the style guide', note: 'Palette and lens language applied' },
  { agent: 'Cinematographer', task: 'Framing and lighting', note: 'Wide establishing, golden hour key light' },
];
const POST: Array<{ agent: AgentType; task: string; note: string }> = [
  { agent: 'SoundDesigner', task: 'Sketching the ambience cue', note: 'Room tone and wind bed noted' },
  { agent: 'Editor', task: 'Reviewing the new take', note: 'Take added to the shot bin' },
];

const KEYWORDS: Record<string, string[]> = {
  default: ['anticipation', 'quiet'],
  Resolve: ['determination', 'warm light'],
  Tension: ['unease', 'hard shadows'],
  Wonder: ['awe', 'soft haze'],
  Loss: ['grief', 'muted colour'],
};

// What a client may send is looser than what a frame may carry (prompt <= 20,000 characters vs a
// composite prompt's 10,000; node id <= 256 characters vs a take id's 256; an emotional beat is
// free text, a beat name is an id): bound what is derived from the request, so that no request
// makes the simulator publish a frame the client rejects.
const MAX_TEXT = 10_000;

function boundText(text: string, max = MAX_TEXT): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  // Do not leave half a surrogate pair at the end.
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** The node id as part of another id: long ones are cut and told apart by a hash. */
function idPart(id: string): string {
  return id.length <= 200 ? id : `${id.slice(0, 190)}~${hashString(id).toString(16)}`;
}

function keywordsFor(beat: string): string[] {
  return Object.prototype.hasOwnProperty.call(KEYWORDS, beat) ? KEYWORDS[beat]! : KEYWORDS.default!;
}

export function planGeneration(request: GenerationRequest, options: PlanOptions): Plan {
  const random = seededRandom(options.seed ^ Math.imul(options.run, 0x9e3779b1) ^ hashString(request.node_id));
  const id = () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  const boot = options.boot ? `${options.boot}-` : '';
  const task_id = `celery-${boot}${id()}${id()}`;
  const take_id = `take-${idPart(request.node_id)}-${boot}${options.run}-${id().slice(0, 4)}`;
  const prompt = request.params.prompt?.trim() || 'an empty stage';
  const forcedFailure = /\bfail\b/i.test(prompt);
  const outcome = forcedFailure || random() < (options.failureRate ?? 0) ? 'failure' : 'success';
  const context = request.context ?? {};
  const scene = context.scene_id ?? 'S001';
  const shot = context.shot_id ?? 'P001';
  const beat = context.emotional_beat;
  const frames: PlannedFrame[] = [];
  const node = request.node_id;
  const at = (delayMs: number, frame: Frame) => frames.push({ delayMs, frame });

  at(0, { type: 'generation.started', node_id: node, task_id, ...(request.command_id && { command_id: request.command_id }), scene_id: scene, shot_id: shot, ...(beat && { emotional_beat: beat }) });
  at(60, { type: 'task.progress', task_id, node_id: node, state: 'PENDING', progress: 0, message: 'Queued on the GPU worker' });

  // The agents prepare the prompt, one after another, each handing off to the next.
  const notes: Record<string, string> = {};
  PIPELINE.forEach((step, index) => {
    const agentTask = `${task_id}-${step.agent.toLowerCase()}`;
    at(120, { type: 'agent.assigned', agent_type: step.agent, task_id: agentTask, task_description: step.task, node_id: node, estimated_duration: 2 });
    for (const progress of [35, 70]) {
      at(140, {
        type: 'agent.progress',
        agent_type: step.agent,
        task_id: agentTask,
        progress,
        current_step: step.task,
        node_id: node,
        ...(step.agent === 'Producer' && { vram_usage: Math.round((6 + random() * 10) * 10) / 10 }),
      });
    }
    notes[step.agent] = step.note;
    const next = PIPELINE[index + 1]?.agent;
    at(120, { type: 'agent.completed', agent_type: step.agent, task_id: agentTask, node_id: node, output: { note: step.note }, ...(next && { handoff_to: next }) });
    if (next) at(40, { type: 'agent.handoff', from_agent: step.agent, to_agent: next, task_id, node_id: node, notes: step.note });
  });

  const composite = {
    base_prompt: boundText(prompt),
    character_refs: context.character_refs ?? [],
    style_refs: context.style_refs ?? [],
    ...(context.location_ref && { location_ref: context.location_ref }),
    emotional_keywords: beat ? keywordsFor(beat) : [],
    agent_notes: notes,
  };
  at(100, { type: 'prompt.composite', node_id: node, task_id, composite_prompt: composite });

  // The Celery task: loading and encoding, the denoising steps ("Step k of N: Denoising", N the
  // Steps asked for), decoding and saving. Only denoising has counts: counting the other stages
  // too would say "of 34" beside Steps 30.
  const denoise = Math.max(1, Math.floor(request.params.steps ?? 20));
  const reported = Math.min(denoise, Math.max(1, options.maxReportedSteps ?? 30));
  const stages = reported + 4;
  let done = 0;
  const progressAt = () => Math.round((done / stages) * 100);
  const stage = (delayMs: number, state: 'STARTED' | 'PROGRESS', step: string) => {
    at(delayMs, { type: 'task.progress', task_id, node_id: node, state, progress: progressAt(), step });
    done += 1;
  };
  stage(150, 'STARTED', 'Loading model');
  stage(250, 'PROGRESS', 'Encoding prompt');
  const failAt = outcome === 'failure' ? Math.max(1, Math.floor(reported * (0.3 + random() * 0.5))) : -1;
  for (let i = 1; i <= reported; i++) {
    at(110 + Math.floor(random() * 60), {
      type: 'task.progress',
      task_id,
      node_id: node,
      state: 'PROGRESS',
      progress: progressAt(),
      step: 'Denoising',
      current_step: Math.round((i * denoise) / reported),
      total_steps: denoise,
      message: `Sampler: DPM++ 2M, cfg ${request.params.cfg_scale ?? 7}`,
    });
    done += 1;
    if (i === failAt) {
      const error = 'CUDA out of memory while denoising (simulated)';
      // Simulated: no size or step count would have helped, so the message does not advise one.
      const message = forcedFailure
        ? 'Simulated failure: the prompt contains the word "fail". Remove it and generate again.'
        : 'Simulated random failure (FAILURE_RATE). Generate again.';
      at(120, { type: 'task.progress', task_id, node_id: node, state: 'FAILURE', progress: progressAt(), message: error, result: { exc_type: 'OutOfMemoryError', exc_message: error } });
      at(40, { type: 'generation.error', node_id: node, task_id, error, message });
      at(60, { type: 'agent.completed', agent_type: 'Producer', task_id: `${task_id}-producer`, node_id: node, output: { note: 'Run failed: GPU memory' } });
      return { task_id, take_id, outcome, frames, narrative: [] };
    }
  }
  stage(200, 'PROGRESS', 'Decoding latents');
  stage(200, 'PROGRESS', 'Saving take');

  const thumbnail = makeThumbnail(random());
  const output_path = `/media/${node}/${take_id}.png`;
  const take = {
    id: take_id,
    take_number: options.run,
    path: output_path,
    thumbnail,
    created_at: '', // filled when published
    scene_id: scene,
    shot_id: shot,
    quality_preset: (request.params.steps ?? 20) >= 40 ? 'high' : (request.params.steps ?? 20) <= 10 ? 'low' : 'standard',
    composite_prompt: composite,
    ...(beat && { emotional_beat: beat }),
    metadata: { width: request.params.width ?? 1024, height: request.params.height ?? 576, seed: request.params.seed ?? Math.floor(random() * 1e9) },
  };
  at(150, { type: 'task.progress', task_id, node_id: node, state: 'SUCCESS', progress: 100, step: 'Done', result: { take_id, output_path } });
  at(40, { type: 'generation.completed', node_id: node, task_id, output_path, thumbnail, takes: [take] });
  POST.forEach((post) => {
    const agentTask = `${task_id}-${post.agent.toLowerCase()}`;
    at(100, { type: 'agent.assigned', agent_type: post.agent, task_id: agentTask, task_description: post.task, node_id: node });
    at(160, { type: 'agent.progress', agent_type: post.agent, task_id: agentTask, progress: 60, current_step: post.task, node_id: node });
    at(140, { type: 'agent.completed', agent_type: post.agent, task_id: agentTask, node_id: node, output: { note: post.note } });
  });
  const narrative: Frame[] = [];
  if (beat && isSafeKey(beat)) {
    narrative.push({ type: 'narrative.beat', beat_name: beat, scene_id: scene, shot_id: shot, keywords: keywordsFor(beat), node_id: node, task_id });
  }
  // No chapter or totals: the simulator does not know the project's story, only this shot's place.
  narrative.push({ type: 'narrative.progress', structure_type: 'three-act', current_scene: scene, current_shot: shot });
  return { task_id, take_id, outcome, frames, narrative };
}
