/**
 * The pipeline simulator: planGeneration (pure, seeded) and createSimulator (publishes a plan on
 * a bus over time, cancels, stops). Every frame it makes must be one the client accepts.
 */
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { planGeneration, type Frame, type GenerationRequest, type Plan } from '../../server/simulator/plan.js';
import { createSimulator } from '../../server/simulator/simulator.js';
import { makeThumbnail } from '../../server/simulator/thumbnail.js';
import { allEntities, getEntity, replayFrames, replayTimeline } from '../../src/index.js';
import { AGENT_TYPES, parseFrame } from '../../src/protocol/index.js';
import { cleanupStack, collectBus, eventually, type Frame as AnyFrame } from './helpers.js';

const cleanups = cleanupStack();
afterEach(async () => {
  vi.useRealTimers();
  await cleanups.run();
});

const PIPELINE = ['Producer', 'Screenwriter', 'CastingDirector', 'ArtDirector', 'Cinematographer'];

const request = (extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  node_id: 'node-1',
  params: { prompt: 'A lone rider at dusk', steps: 12, cfg_scale: 7.5, width: 1024, height: 576 },
  context: { scene_id: 'scene-1', shot_id: 'shot-3', emotional_beat: 'Resolve', character_refs: ['char-1'], style_refs: ['style-noir'], location_ref: 'loc-desert' },
  command_id: 'cmd-1',
  ...extra,
});

const success = (extra: Partial<GenerationRequest> = {}, seed = 7, run = 1) => planGeneration(request(extra), { seed, run, failureRate: 0 });
const frames = (plan: Plan) => plan.frames.map((p) => p.frame as AnyFrame);
const taskFrames = (plan: Plan) => frames(plan).filter((f) => f.type === 'task.progress' && f.task_id === plan.task_id);

/** Checks a PNG data URL: signature, IHDR (size), CRCs, and the inflated pixel data length. */
function decodePng(url: string) {
  expect(url.startsWith('data:image/png;base64,')).toBe(true);
  const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('ascii');
    const data = png.subarray(at + 8, at + 8 + length);
    chunks.push({ type, data });
    at += 12 + length;
  }
  expect(chunks[0]!.type).toBe('IHDR');
  expect(chunks[chunks.length - 1]!.type).toBe('IEND');
  const width = chunks[0]!.data.readUInt32BE(0);
  const height = chunks[0]!.data.readUInt32BE(4);
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  const bitDepth = chunks[0]!.data[8];
  const colourType = chunks[0]!.data[9];
  return { width, height, bitDepth, colourType, pixels: inflateSync(idat) };
}

/** Every frame goes through the client's parser as it would arrive (JSON text) and is an event. */
function expectAllAccepted(plan: Plan) {
  for (const frame of [...plan.frames.map((planned) => planned.frame), ...plan.narrative]) {
    const parsed = parseFrame(JSON.stringify({ ...frame, timestamp: '2026-01-01T00:00:00.000Z' }));
    expect(parsed, `${frame.type}: ${JSON.stringify(parsed).slice(0, 300)}`).toMatchObject({ ok: true, kind: 'event' });
  }
}

describe('planGeneration', () => {
  it('is deterministic for a seed and run', () => {
    expect(planGeneration(request(), { seed: 42, run: 1 })).toEqual(planGeneration(request(), { seed: 42, run: 1 }));
    expect(planGeneration(request(), { seed: 42, run: 3, failureRate: 0.5 })).toEqual(planGeneration(request(), { seed: 42, run: 3, failureRate: 0.5 }));
  });

  it('differs across seeds, runs and nodes', () => {
    const base = success({}, 1, 1);
    for (const other of [success({}, 2, 1), success({}, 1, 2), success({ node_id: 'node-2' }, 1, 1)]) {
      expect(other.task_id).not.toBe(base.task_id);
      expect(other.take_id).not.toBe(base.take_id);
      expect(other.frames).not.toEqual(base.frames);
    }
    const thumbnails = new Set([1, 2, 3, 4, 5].map((seed) => frames(success({}, seed)).find((f) => f.type === 'generation.completed')!.thumbnail));
    expect(thumbnails.size).toBe(5);
    // The run number is the take number.
    const completed = frames(success({}, 1, 4)).find((f) => f.type === 'generation.completed')!;
    expect((completed.takes as Array<{ take_number: number }>)[0]!.take_number).toBe(4);
  });

  it('a successful plan: started, pending, the agents in pipeline order, the composite prompt, the steps, success, the take', () => {
    const plan = success();
    expect(plan.outcome).toBe('success');
    const all = frames(plan);
    const types = all.map((f) => f.type);
    expect(plan.frames.every((p) => p.delayMs >= 0)).toBe(true);

    expect(all[0]).toMatchObject({ type: 'generation.started', node_id: 'node-1', task_id: plan.task_id, command_id: 'cmd-1', scene_id: 'scene-1', shot_id: 'shot-3', emotional_beat: 'Resolve' });
    expect(all[1]).toMatchObject({ type: 'task.progress', task_id: plan.task_id, state: 'PENDING', node_id: 'node-1' });
    // The story reaches the shot's beat once the run succeeded, not while it runs.
    expect(types).not.toContain('narrative.beat');
    expect(types).not.toContain('narrative.progress');
    expect(plan.narrative).toEqual([
      { type: 'narrative.beat', beat_name: 'Resolve', scene_id: 'scene-1', shot_id: 'shot-3', keywords: ['determination', 'warm light'], node_id: 'node-1', task_id: plan.task_id },
      { type: 'narrative.progress', structure_type: 'three-act', current_scene: 'scene-1', current_shot: 'shot-3' },
    ]);

    // The five pre-production agents, one after another, each handing off to the next.
    const composite = types.indexOf('prompt.composite');
    const agentFrames = all.slice(2, composite);
    const expected: Array<Partial<Frame>> = [];
    PIPELINE.forEach((agent, i) => {
      const next = PIPELINE[i + 1];
      expected.push({ type: 'agent.assigned', agent_type: agent });
      expected.push({ type: 'agent.progress', agent_type: agent, progress: 35 });
      expected.push({ type: 'agent.progress', agent_type: agent, progress: 70 });
      expected.push({ type: 'agent.completed', agent_type: agent, ...(next && { handoff_to: next }) });
      if (next) expected.push({ type: 'agent.handoff', from_agent: agent, to_agent: next, task_id: plan.task_id });
    });
    expect(agentFrames).toHaveLength(expected.length);
    agentFrames.forEach((frame, i) => expect(frame).toMatchObject(expected[i]!));
    expect(agentFrames.find((f) => f.type === 'agent.completed' && f.agent_type === 'Cinematographer')!.handoff_to).toBeUndefined();
    expect(agentFrames.find((f) => f.type === 'agent.progress' && f.agent_type === 'Producer')!.vram_usage).toEqual(expect.any(Number));

    expect(all[composite]).toMatchObject({
      type: 'prompt.composite',
      node_id: 'node-1',
      composite_prompt: {
        base_prompt: 'A lone rider at dusk',
        character_refs: ['char-1'],
        style_refs: ['style-noir'],
        location_ref: 'loc-desert',
        emotional_keywords: ['determination', 'warm light'],
      },
    });
    expect(Object.keys(all[composite]!.composite_prompt.agent_notes)).toEqual(PIPELINE);

    // The Celery task: STARTED, PROGRESS steps, SUCCESS. Only denoising is counted, out of the
    // Steps asked for (12), so the card says "Step k of 12" beside Steps 12.
    const tasks = taskFrames(plan).slice(1); // after PENDING
    expect(all.indexOf(tasks[0]!)).toBeGreaterThan(composite);
    const denoise = 12;
    const steps = ['Loading model', 'Encoding prompt', ...Array.from({ length: denoise }, () => 'Denoising'), 'Decoding latents', 'Saving take'];
    expect(tasks.map((t) => t.state)).toEqual(['STARTED', ...steps.slice(1).map(() => 'PROGRESS'), 'SUCCESS']);
    expect(tasks.slice(0, -1).map((t) => t.step)).toEqual(steps);
    expect(tasks.slice(0, -1).map((t) => (t.current_step === undefined ? t.step : `${t.current_step} of ${t.total_steps}`))).toEqual([
      'Loading model',
      'Encoding prompt',
      ...Array.from({ length: denoise }, (_, k) => `${k + 1} of ${denoise}`),
      'Decoding latents',
      'Saving take',
    ]);
    const progress = tasks.map((t) => t.progress as number);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress[0]).toBe(0);
    expect(tasks[tasks.length - 1]).toMatchObject({ state: 'SUCCESS', progress: 100, step: 'Done' });
    expect(tasks[tasks.length - 1]!.current_step).toBeUndefined();

    // generation.completed right after SUCCESS, with the take.
    const completedAt = types.indexOf('generation.completed');
    expect(completedAt).toBe(all.indexOf(tasks[tasks.length - 1]!) + 1);
    const completed = all[completedAt]!;
    expect(completed).toMatchObject({ node_id: 'node-1', task_id: plan.task_id, output_path: `/media/node-1/${plan.take_id}.png` });
    expect(completed.takes).toHaveLength(1);
    const take = completed.takes[0];
    expect(take).toMatchObject({ id: plan.take_id, take_number: 1, path: completed.output_path, thumbnail: completed.thumbnail, scene_id: 'scene-1', shot_id: 'shot-3', emotional_beat: 'Resolve', quality_preset: 'standard' });

    const png = decodePng(completed.thumbnail as string);
    expect(png).toMatchObject({ width: 160, height: 90, bitDepth: 8, colourType: 2 });
    expect(png.pixels.length).toBe((160 * 3 + 1) * 90);

    // The post-production agents come after.
    expect(all.slice(completedAt + 1).map((f) => [f.type, f.agent_type])).toEqual([
      ['agent.assigned', 'SoundDesigner'],
      ['agent.progress', 'SoundDesigner'],
      ['agent.completed', 'SoundDesigner'],
      ['agent.assigned', 'Editor'],
      ['agent.progress', 'Editor'],
      ['agent.completed', 'Editor'],
    ]);
    // All seven agents take part.
    expect(new Set(all.filter((f) => f.type === 'agent.assigned').map((f) => f.agent_type))).toEqual(new Set(AGENT_TYPES));
    expect(types).not.toContain('generation.error');
    expectAllAccepted(plan);
  });

  it('makes thumbnails of the asked size', () => {
    expect(decodePng(makeThumbnail(0.5, 32, 18))).toMatchObject({ width: 32, height: 18 });
  });

  it('counts denoising out of the Steps asked for, in at most 30 frames', () => {
    const counts = (steps: number) =>
      taskFrames(success({ params: { prompt: 'x', steps } }))
        .filter((t) => t.step === 'Denoising')
        .map((t) => `${t.current_step} of ${t.total_steps}`);
    expect(counts(30)).toEqual(Array.from({ length: 30 }, (_, k) => `${k + 1} of 30`));
    expect(counts(1)).toEqual(['1 of 1']);
    expect(counts(3)).toEqual(['1 of 3', '2 of 3', '3 of 3']);
    const many = counts(500);
    expect(many).toHaveLength(30);
    expect(many[0]).toBe('17 of 500');
    expect(many[29]).toBe('500 of 500');
    const numbers = many.map((text) => Number(text.split(' ')[0]));
    expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
  });

  it('fails at random only when asked: the default failure rate is 0', () => {
    for (let seed = 0; seed < 60; seed++) expect(planGeneration(request(), { seed, run: 1 + (seed % 3) }).outcome).toBe('success');
  });

  it('a simulated failure says it is simulated, and advises no smaller size or fewer steps', () => {
    const forced = frames(planGeneration(request({ params: { prompt: 'the lamp is about to fail', steps: 30 } }), { seed: 3, run: 1 })).find((f) => f.type === 'generation.error')!;
    expect(forced.message).toBe('Simulated failure: the prompt contains the word "fail". Remove it and generate again.');
    const random = frames(planGeneration(request(), { seed: 3, run: 1, failureRate: 1 })).find((f) => f.type === 'generation.error')!;
    expect(random.message).toBe('Simulated random failure (FAILURE_RATE). Generate again.');
    for (const frame of [forced, random]) expect(`${frame.message} ${frame.error}`).not.toMatch(/smaller|fewer|size/i);
  });

  it('a one-step run can fail too', () => {
    const plan = planGeneration(request({ params: { prompt: 'fail', steps: 1 } }), { seed: 3, run: 1 });
    expect(plan.outcome).toBe('failure');
    expect(frames(plan).map((f) => f.type)).toContain('generation.error');
    expect(plan.narrative).toEqual([]);
    expectAllAccepted(plan);
  });

  it.each(['This shot will fail', 'FAIL', 'we fail here.'])('a prompt containing "fail" (%j) fails: FAILURE, then generation.error', (prompt) => {
    const plan = planGeneration(request({ params: { prompt, steps: 20 } }), { seed: 3, run: 1, failureRate: 0 });
    expect(plan.outcome).toBe('failure');
    const all = frames(plan);
    const types = all.map((f) => f.type);
    const tasks = taskFrames(plan);
    const failure = tasks.find((t) => t.state === 'FAILURE')!;
    expect(failure).toMatchObject({ node_id: 'node-1', result: { exc_type: 'OutOfMemoryError' } });
    expect(tasks[tasks.length - 1]).toBe(failure);
    expect(tasks.some((t) => /^Denoising/.test(t.step as string))).toBe(true);
    const errorAt = types.indexOf('generation.error');
    expect(errorAt).toBe(all.indexOf(failure) + 1);
    expect(all[errorAt]).toMatchObject({ node_id: 'node-1', task_id: plan.task_id, error: expect.stringContaining('CUDA out of memory') });
    expect(types).not.toContain('generation.completed');
    expect(tasks.map((t) => t.state)).not.toContain('SUCCESS');
    const progress = tasks.map((t) => t.progress as number);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expectAllAccepted(plan);
  });

  it('fails by failureRate: always at 1, never at 0 (without "fail" in the prompt)', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(planGeneration(request(), { seed, run: 1, failureRate: 1 }).outcome).toBe('failure');
      expect(planGeneration(request(), { seed, run: 1, failureRate: 0 }).outcome).toBe('success');
    }
    // "failure" or "failsafe" is not the word "fail".
    expect(planGeneration(request({ params: { prompt: 'a failsafe' } }), { seed: 1, run: 1, failureRate: 0 }).outcome).toBe('success');
  });

  it('every frame of many plans passes the client parser as an event', () => {
    for (let seed = 0; seed < 40; seed++) {
      const plan = planGeneration(
        request({ context: seed % 2 ? {} : request().context, params: seed % 3 ? {} : request().params, command_id: seed % 5 ? undefined : 'cmd' }),
        { seed, run: 1 + (seed % 4), failureRate: 0.5 },
      );
      expectAllAccepted(plan);
    }
  });

  // Whatever a client may send (the outbound schema's limits), the plan's frames stay valid.
  it.each<[string, Partial<GenerationRequest>]>([
    ['a 20,000-character prompt', { params: { prompt: 'p'.repeat(20_000) } }],
    ['a 256-character node id', { node_id: 'n'.repeat(256) }],
    ['a 1,000-character emotional beat', { context: { emotional_beat: 'b'.repeat(1_000) } }],
    ['an emotional beat named __proto__', { context: { emotional_beat: '__proto__' } }],
    ['an emotional beat named constructor', { context: { emotional_beat: 'constructor' } }],
    ['an emotional beat named toString', { context: { emotional_beat: 'toString' } }],
    ['an empty prompt and beat', { params: { prompt: '   ' }, context: { emotional_beat: '' } }],
  ])('stays valid for %s', (_, extra) => {
    for (const failureRate of [0, 1]) {
      const plan = planGeneration(request(extra), { seed: 11, run: 1, failureRate });
      expectAllAccepted(plan);
      if (failureRate === 0) {
        const completed = frames(plan).find((f) => f.type === 'generation.completed')!;
        const parsed = parseFrame(JSON.stringify(completed));
        expect(parsed.ok && parsed.kind === 'event' && (parsed.frame as { takes?: unknown[] }).takes).toHaveLength(1);
      }
    }
  });

  it('puts the boot nonce in task and take ids: the same seed and run after a restart never reuses an id', () => {
    const before = planGeneration(request(), { seed: 7, run: 1, boot: 'aaaaaa' });
    const after = planGeneration(request(), { seed: 7, run: 1, boot: 'bbbbbb' });
    expect(before.task_id).toContain('aaaaaa');
    expect(before.take_id).toContain('aaaaaa');
    expect(after.task_id).not.toBe(before.task_id);
    expect(after.take_id).not.toBe(before.take_id);
    expect(planGeneration(request(), { seed: 7, run: 1, boot: 'aaaaaa' }).task_id).toBe(before.task_id);
    expectAllAccepted(after);
  });

  it('keeps different long node ids apart in take ids', () => {
    const a = success({ node_id: `${'n'.repeat(255)}a` });
    const b = success({ node_id: `${'n'.repeat(255)}b` });
    expect(a.take_id).not.toBe(b.take_id);
  });
});

describe('createSimulator', () => {
  const context = { sessionId: 's-1', projectId: 'proj-1' };
  const start = (nodeId = 'node-1', extra: Record<string, unknown> = {}) => ({
    type: 'start_generation' as const,
    node_id: nodeId,
    params: { prompt: 'A lone rider at dusk', steps: 6 },
    command_id: `cmd-${nodeId}`,
    timestamp: 't',
    ...extra,
  });
  const cancel = (nodeId = 'node-1') => ({ type: 'cancel_generation' as const, node_id: nodeId, timestamp: 't' });

  function setup(options: { speed?: number; seed?: number; failureRate?: number; ambientEveryMs?: number; boot?: string } = {}) {
    const bus = createMemoryBus();
    const seen = collectBus(bus);
    const simulator = createSimulator({ bus, seed: 5, failureRate: 0, ambientEveryMs: 0, boot: 'b00t01', ...options });
    cleanups.add(() => bus.close());
    cleanups.add(() => simulator.stop());
    return { bus, seen, simulator };
  }

  it('publishes a whole run, in plan order, stamped, the narrative moving on just before the take', async () => {
    const { seen, simulator } = setup({ speed: 1_000 });
    simulator.handleCommand(start(), context);
    expect(simulator.activeRuns()).toEqual(['node-1']);
    await seen.until((events) => (events.some((e) => e.frame.type === 'agent.completed' && e.frame.agent_type === 'Editor') ? true : undefined), 'the end of the run');
    await eventually(() => simulator.activeRuns().length === 0, 'the run to end');

    const plan = planGeneration({ node_id: 'node-1', params: { prompt: 'A lone rider at dusk', steps: 6 }, command_id: 'cmd-node-1' }, { seed: 5, run: 1, failureRate: 0, boot: 'b00t01' });
    const published = seen.events.map((e) => e.frame);
    // No beat in this request: the narrative is the position alone, right before the take.
    const narrativeAt = published.findIndex((frame) => frame.type === 'narrative.progress');
    const [narrative] = published.splice(narrativeAt, 1);
    expect(published[narrativeAt]!.type).toBe('generation.completed');
    expect(narrative).toMatchObject({ type: 'narrative.progress', project_id: 'proj-1', current_shot: 'P001', seq: narrativeAt + 1 });
    expect(published).toHaveLength(plan.frames.length);
    published.forEach((frame, i) => {
      const { timestamp, project_id, seq, ...rest } = frame;
      expect(project_id).toBe('proj-1');
      expect(seq).toBe(i >= narrativeAt ? i + 2 : i + 1);
      expect(Number.isNaN(Date.parse(timestamp as string))).toBe(false);
      if (rest.type === 'generation.completed') {
        expect(rest.takes[0].created_at).toBe(timestamp);
        rest.takes = rest.takes.map((take: Record<string, unknown>) => ({ ...take, created_at: '' }));
      }
      expect(rest).toEqual(plan.frames[i]!.frame);
    });
    for (const frame of [...published, narrative!]) {
      expect(parseFrame(JSON.stringify(frame))).toMatchObject({ ok: true, kind: 'event' });
    }
  });

  it('overlapping runs: a beat with a take is reached, and the current beat and the story position always name the same shot', async () => {
    const { seen, simulator } = setup({ speed: 1_000 });
    const shots = {
      'node-a': { scene_id: 'S002', shot_id: 'P004', emotional_beat: 'Resolve' },
      'node-b': { scene_id: 'S001', shot_id: 'P001', emotional_beat: 'Wonder' },
    };
    simulator.handleCommand(start('node-a', { context: shots['node-a'] }), context);
    await seen.until((events) => (events.some((e) => e.frame.type === 'agent.assigned') ? true : undefined), 'run a under way');
    simulator.handleCommand(start('node-b', { context: shots['node-b'] }), context);
    await seen.until((events) => (events.filter((e) => e.frame.type === 'narrative.progress').length === 2 ? true : undefined), 'both takes');
    // After every frame, as the client sees it: a reached beat's place is where the story stands.
    for (const { state } of replayTimeline(seen.events.map((e) => e.frame))) {
      // A beat with a take is reached: never "not reached yet · 1 take".
      for (const beat of allEntities(state.narrative.beats)) {
        if (beat.take_ids.length > 0) expect(state.narrative.completed_beats).toContain(beat.beat_name);
      }
      const { current_beat, current_scene, current_shot } = state.narrative;
      if (current_beat === undefined) {
        expect(current_shot).toBeUndefined();
        continue;
      }
      expect(getEntity(state.narrative.beats, current_beat)).toMatchObject({ scene_id: current_scene, shot_id: current_shot });
    }
    const final = replayFrames(seen.events.map((e) => e.frame));
    expect(final.frames.rejected.total).toBe(0);
    expect(final.narrative.completed_beats).toHaveLength(2);
  });

  it('a second run of a node is run 2 (take 2)', async () => {
    const { seen, simulator } = setup({ speed: 1_000 });
    simulator.handleCommand(start(), context);
    await seen.until((events) => (events.some((e) => e.frame.type === 'narrative.progress') ? true : undefined), 'run 1 took');
    await eventually(() => simulator.activeRuns().length === 0, 'run 1 to end');
    simulator.handleCommand(start(), context);
    const completed = await seen.until(
      (events) => events.filter((e) => e.frame.type === 'generation.completed')[1]?.frame,
      'run 2 completed',
    );
    expect(completed.takes[0].take_number).toBe(2);
  });

  it('cancel_generation mid-run publishes REVOKED and stops the run (fake timers)', () => {
    vi.useFakeTimers();
    const { seen, simulator } = setup({ speed: 1 });
    simulator.handleCommand(start(), context);
    const isDenoising2 = () => seen.events.some((e) => e.frame.step === 'Denoising' && e.frame.current_step === 2);
    for (let i = 0; i < 1_000 && !isDenoising2(); i++) vi.advanceTimersToNextTimer();
    expect(isDenoising2()).toBe(true);
    const taskId = seen.events.find((e) => e.frame.type === 'generation.started')!.frame.task_id;
    const before = seen.events.length;

    simulator.handleCommand(cancel(), context);
    expect(seen.events).toHaveLength(before + 1);
    expect(seen.events[before]!.frame).toMatchObject({ type: 'task.progress', task_id: taskId, node_id: 'node-1', state: 'REVOKED', project_id: 'proj-1' });
    expect(parseFrame(JSON.stringify(seen.events[before]!.frame))).toMatchObject({ ok: true, kind: 'event' });
    expect(simulator.activeRuns()).toEqual([]);

    vi.runAllTimers();
    expect(seen.events).toHaveLength(before + 1);
    expect(seen.events.map((e) => e.frame.type)).not.toContain('generation.completed');
  });

  it('cancel_generation mid-run with real timers: REVOKED is the last frame of the run', async () => {
    const { seen, simulator } = setup({ speed: 50 });
    simulator.handleCommand(start(), context);
    await seen.until((events) => (events.some((e) => e.frame.step === 'Denoising' && e.frame.current_step === 1) ? true : undefined), 'denoising');
    simulator.handleCommand(cancel(), context);
    const revoked = seen.events.length;
    expect(seen.events[revoked - 1]!.frame.state).toBe('REVOKED');
    // A later run of another node completes; nothing more of the cancelled one arrives meanwhile.
    simulator.handleCommand(start('node-2'), context);
    await seen.until((events) => (events.some((e) => e.frame.type === 'narrative.progress') ? true : undefined), 'node-2 done');
    expect(seen.events.slice(revoked).every((e) => e.frame.node_id !== 'node-1')).toBe(true);
  });

  it('cancelling a node that is not running publishes nothing (the gateway answers the client)', () => {
    const { seen, simulator } = setup();
    simulator.handleCommand(cancel('idle-node'), context);
    expect(seen.events).toEqual([]);
  });

  it('a cancel of a run the gateway saw running that this worker does not have (lost in a restart) publishes its REVOKED', async () => {
    const { seen, simulator } = setup();
    simulator.handleCommand(cancel('lost-node'), { ...context, runningTaskId: 'celery-old-1' });
    const answer = await seen.until((events) => events[0]?.frame, 'the answer');
    expect(answer).toMatchObject({ type: 'task.progress', task_id: 'celery-old-1', node_id: 'lost-node', state: 'REVOKED', project_id: 'proj-1' });
    expect(parseFrame(JSON.stringify(answer))).toMatchObject({ ok: true, kind: 'event' });
    expect(seen.events).toHaveLength(1);
  });

  it('a new start for a running node revokes the old run and starts run 2', () => {
    vi.useFakeTimers();
    const { seen, simulator } = setup({ speed: 1 });
    simulator.handleCommand(start(), context);
    vi.advanceTimersToNextTimer();
    const firstTask = seen.events[0]!.frame.task_id;
    simulator.handleCommand(start(), context);
    const revoked = seen.events.find((e) => e.frame.state === 'REVOKED')!;
    expect(revoked.frame.task_id).toBe(firstTask);
    vi.runAllTimers();
    const after = seen.events.slice(seen.events.indexOf(revoked) + 1);
    expect(after[0]!.frame).toMatchObject({ type: 'generation.started' });
    expect(after.every((e) => e.frame.task_id !== firstTask)).toBe(true);
    expect(after.find((e) => e.frame.type === 'generation.completed')!.frame.takes[0].take_number).toBe(2);
  });

  it('two simulators (a restarted server) with the same seed give the same node different task and take ids', async () => {
    const ids: Array<{ task: string; take: string }> = [];
    for (const boot of [undefined, undefined]) {
      const { seen, simulator } = setup({ speed: 1_000, boot });
      simulator.handleCommand(start(), context);
      const completed = await seen.until((events) => events.find((e) => e.frame.type === 'generation.completed')?.frame, 'completed');
      ids.push({ task: completed.task_id as string, take: completed.takes[0].id as string });
    }
    expect(ids[1]!.task).not.toBe(ids[0]!.task);
    expect(ids[1]!.take).not.toBe(ids[0]!.take);
  });

  it('stop() stops every run and publishes nothing more', () => {
    vi.useFakeTimers();
    const { seen, simulator } = setup({ speed: 1, ambientEveryMs: 1_000 });
    simulator.handleCommand(start(), context);
    vi.advanceTimersToNextTimer();
    simulator.stop();
    const count = seen.events.length;
    vi.advanceTimersByTime(60_000);
    expect(seen.events).toHaveLength(count);
    expect(simulator.activeRuns()).toEqual([]);
    simulator.handleCommand(start('node-2'), context);
    expect(seen.events).toHaveLength(count);
  });

  it('publishes ambient project activity for projects it has seen, all valid events', () => {
    vi.useFakeTimers();
    const { seen, simulator } = setup({ speed: 1, ambientEveryMs: 1_000 });
    vi.advanceTimersByTime(5_000);
    expect(seen.events).toEqual([]); // no project seen yet
    simulator.handleCommand(cancel('nothing'), { sessionId: 's', projectId: 'proj-amb' });
    vi.advanceTimersByTime(4_000);
    const ambient = seen.events.map((e) => e.frame);
    expect(ambient).toHaveLength(4);
    for (const frame of ambient) {
      expect(['structure.changed', 'git.commit']).toContain(frame.type);
      expect(frame.project_id).toBe('proj-amb');
      expect(parseFrame(JSON.stringify(frame))).toMatchObject({ ok: true, kind: 'event' });
    }
  });

  it('a failing run publishes FAILURE and generation.error, and the narrative does not move', async () => {
    const { seen, simulator } = setup({ speed: 1_000, failureRate: 1 });
    simulator.handleCommand(start(), context);
    await seen.until((events) => (events.some((e) => e.frame.type === 'generation.error') ? true : undefined), 'the error');
    await eventually(() => simulator.activeRuns().length === 0, 'the run to end');
    const types = seen.events.map((e) => e.frame.type);
    expect(types).not.toContain('narrative.progress');
    expect(seen.events.some((e) => e.frame.state === 'FAILURE')).toBe(true);
    expect(types).not.toContain('generation.completed');
  });
});
