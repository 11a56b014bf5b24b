/**
 * The floor: what a hand-written client would do at the least. JSON.parse, then a switch on the
 * type writing mutable Maps. No validation, no sanitizing, no actions, no immutability, no
 * subscribers, no seq bookkeeping: the cost below which the live path cannot go.
 */

interface FloorNode {
  status: string;
  task_id?: string;
  progress: number;
  step?: string;
  current_step?: number;
  total_steps?: number;
  message?: string;
  error?: string;
  output_path?: string;
  thumbnail?: string;
  take_ids: string[];
  assigned_agent?: string;
}

export interface FloorState {
  nodes: Map<string, FloorNode>;
  tasks: Map<string, Record<string, unknown>>;
  takes: Map<string, unknown>;
  agents: Map<string, Record<string, unknown>>;
  prompts: Map<string, unknown>;
  beats: Map<string, { scene_id?: string; node_ids: string[] }>;
  handoffs: unknown[];
  activity: unknown[];
  narrative: Record<string, unknown>;
  lastSeq: number;
  heartbeatAt: number;
}

export function createFloorState(): FloorState {
  return {
    nodes: new Map(),
    tasks: new Map(),
    takes: new Map(),
    agents: new Map(),
    prompts: new Map(),
    beats: new Map(),
    handoffs: [],
    activity: [],
    narrative: {},
    lastSeq: 0,
    heartbeatAt: 0,
  };
}

function node(state: FloorState, id: string): FloorNode {
  let record = state.nodes.get(id);
  if (!record) {
    record = { status: 'idle', progress: 0, take_ids: [] };
    state.nodes.set(id, record);
  }
  return record;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function applyFloorFrame(state: FloorState, raw: string): void {
  const f: any = JSON.parse(raw);
  if (typeof f.seq === 'number') state.lastSeq = f.seq;
  switch (f.type) {
    case 'task.progress': {
      let task = state.tasks.get(f.task_id);
      if (!task) state.tasks.set(f.task_id, (task = { task_id: f.task_id }));
      task.state = f.state;
      if (f.progress !== undefined) task.progress = f.progress;
      if (f.step !== undefined) task.step = f.step;
      if (f.current_step !== undefined) task.current_step = f.current_step;
      if (f.total_steps !== undefined) task.total_steps = f.total_steps;
      if (f.result !== undefined) task.result = f.result;
      if (f.node_id) {
        const n = node(state, f.node_id);
        n.task_id = f.task_id;
        n.status = f.state === 'SUCCESS' ? 'completed' : f.state === 'FAILURE' ? 'error' : f.state === 'REVOKED' ? 'cancelled' : 'generating';
        if (f.progress !== undefined) n.progress = f.progress;
        if (f.step !== undefined) n.step = f.step;
        n.current_step = f.current_step;
        n.total_steps = f.total_steps;
        if (f.message !== undefined) n.message = f.message;
      }
      break;
    }
    case 'node.state_changed': {
      const n = node(state, f.node_id);
      n.status = f.status;
      if (f.task_id !== undefined) n.task_id = f.task_id;
      if (f.progress !== undefined) n.progress = f.progress;
      if (f.message !== undefined) n.message = f.message;
      if (f.error !== undefined) n.error = f.error;
      if (f.output_path !== undefined) n.output_path = f.output_path;
      if (f.thumbnail !== undefined) n.thumbnail = f.thumbnail;
      if (f.takes) for (const take of f.takes) if (!state.takes.has(take.id)) { state.takes.set(take.id, take); n.take_ids.push(take.id); }
      if (f.assigned_agent !== undefined) n.assigned_agent = f.assigned_agent;
      break;
    }
    case 'generation.started': {
      const n = node(state, f.node_id);
      n.status = 'generating';
      n.task_id = f.task_id;
      n.progress = 0;
      break;
    }
    case 'generation.completed': {
      const n = node(state, f.node_id);
      n.status = 'completed';
      n.progress = 100;
      n.output_path = f.output_path;
      if (f.thumbnail !== undefined) n.thumbnail = f.thumbnail;
      if (f.takes) for (const take of f.takes) if (!state.takes.has(take.id)) { state.takes.set(take.id, take); n.take_ids.push(take.id); }
      break;
    }
    case 'generation.error': {
      const n = node(state, f.node_id);
      n.status = 'error';
      n.error = f.error;
      break;
    }
    case 'agent.assigned':
      state.agents.set(f.agent_type, { status: 'working', task_id: f.task_id, current_task: f.task_description, progress: 0 });
      if (f.node_id) node(state, f.node_id).assigned_agent = f.agent_type;
      break;
    case 'agent.progress': {
      const agent = state.agents.get(f.agent_type) ?? { status: 'working' };
      agent.progress = f.progress;
      if (f.current_step !== undefined) agent.current_step = f.current_step;
      if (f.vram_usage !== undefined) agent.vram_usage = f.vram_usage;
      state.agents.set(f.agent_type, agent);
      break;
    }
    case 'agent.completed': {
      const agent = state.agents.get(f.agent_type) ?? {};
      agent.status = 'completed';
      agent.progress = 100;
      agent.handoff_to = f.handoff_to;
      state.agents.set(f.agent_type, agent);
      break;
    }
    case 'agent.handoff':
      state.handoffs.push(f);
      if (state.handoffs.length > 50) state.handoffs.shift();
      break;
    case 'prompt.composite':
      if (f.node_id) state.prompts.set(f.node_id, f.composite_prompt);
      break;
    case 'narrative.beat': {
      let beat = state.beats.get(f.beat_name);
      if (!beat) state.beats.set(f.beat_name, (beat = { node_ids: [] }));
      beat.scene_id = f.scene_id;
      if (f.node_id && !beat.node_ids.includes(f.node_id)) beat.node_ids.push(f.node_id);
      state.narrative.current_beat = f.beat_name;
      break;
    }
    case 'narrative.progress':
      Object.assign(state.narrative, f);
      break;
    case 'system.heartbeat':
      state.heartbeatAt = f.server_time ?? 0;
      break;
    case 'structure.changed':
    case 'git.commit':
    case 'git.push':
    case 'git.pull':
    case 'file.uploaded':
    case 'file.deleted':
    case 'process.started':
    case 'process.progress':
    case 'process.completed':
    case 'project.created':
    case 'project.updated':
    case 'project.deleted':
      state.activity.push(f);
      if (state.activity.length > 200) state.activity.shift();
      break;
    default:
      break;
  }
}

export interface FloorRun {
  totalMs: number;
  /** Process CPU time (user + system) over the whole log, in ms: less sensitive to a busy machine. */
  cpuMs: number;
  /** Time spent on frames from `segmentStart` to the end. */
  segmentMs: number;
  /** CPU time spent on them. */
  segmentCpuMs: number;
  state: FloorState;
}

/** Runs every frame through the floor; times the whole log and the segment from `segmentStart`. */
export function runFloor(frames: readonly string[], segmentStart = Math.max(0, frames.length - 5_000)): FloorRun {
  const state = createFloorState();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < segmentStart; i++) applyFloorFrame(state, frames[i]!);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (let i = segmentStart; i < frames.length; i++) applyFloorFrame(state, frames[i]!);
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  const segmentCpu = process.cpuUsage(c1);
  return { totalMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000, segmentMs: t2 - t1, segmentCpuMs: (segmentCpu.user + segmentCpu.system) / 1000, state };
}
