/**
 * From a project's state (./projectStates.ts) to the frames of the `snapshot` and `task_status`
 * extensions (docs/PROTOCOL.md): `project.snapshot`, capped and kept under the size bound, and
 * `task.status` for one task id.
 */
import { AGENT_TYPES, isTerminalCeleryState } from '../../src/protocol/index.js';
import { allEntities, getEntity, type NodeRecord, type TakeRecord } from '../../src/slices/index.js';
import type { ProjectState } from './projectStates.js';

/** The caps of docs/PROTOCOL.md (project.snapshot), which the client's schema checks too. */
export const SNAPSHOT_LIMITS = { nodes: 2_000, tasks: 500, takesPerNode: 8, agents: AGENT_TYPES.length } as const;

/** The encoded snapshot stays under this (docs/PROTOCOL.md), whatever the client's own limit. */
export const MAX_SNAPSHOT_BYTES = 512 * 1024;

type Frame = Record<string, unknown> & { type: string };

/** Copies the fields of `source` that are set (no `undefined` keys on the wire). */
function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

const NODE_FIELDS = [
  'task_id', 'progress', 'step', 'current_step', 'total_steps', 'message', 'error', 'thumbnail', 'output_path', 'current_take', 'scene_id', 'shot_id', 'emotional_beat',
] as const satisfies ReadonlyArray<keyof NodeRecord>;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

export function buildSnapshot(projectId: string, { state, atSeq }: ProjectState, maxBytes = MAX_SNAPSHOT_BYTES): Frame {
  const nodes = allEntities(state.nodes).slice(-SNAPSHOT_LIMITS.nodes);
  const tasks = allEntities(state.tasks)
    .filter((task) => !isTerminalCeleryState(task.state))
    .slice(-SNAPSHOT_LIMITS.tasks)
    .map((task) => ({ task_id: task.task_id, state: task.state, ...pick(task, ['node_id', 'progress', 'message', 'step', 'current_step', 'total_steps', 'attempt']) }));
  // The newest takes of each node, then all of them oldest first: the order they are dropped in.
  const takes: Array<{ take: Record<string, unknown>; receivedAt: number }> = [];
  for (const node of nodes) {
    const held = node.take_ids.map((id) => getEntity(state.takes, id)).filter((take): take is TakeRecord => take !== undefined);
    for (const record of held.slice(-SNAPSHOT_LIMITS.takesPerNode)) {
      const { receivedAt, task_id: _task, ...take } = record;
      takes.push({ take: { ...take, node_id: node.node_id }, receivedAt });
    }
  }
  takes.sort((a, b) => a.receivedAt - b.receivedAt);
  const agents = allEntities(state.agents)
    .slice(0, SNAPSHOT_LIMITS.agents)
    .map((agent) => ({ agent_type: agent.agent_type, status: agent.status, ...pick(agent, ['task_id', 'node_id', 'current_task', 'progress']) }));
  const story = state.narrative;
  const narrative = {
    ...pick(story, ['structure_type', 'current_beat']),
    ...(story.current_scene !== undefined && { scene_id: story.current_scene }),
    ...(story.current_shot !== undefined && { shot_id: story.current_shot }),
    ...(story.completed_beats.length > 0 && { completed_beats: story.completed_beats.slice(-1_000) }),
  };
  const frame: Frame = {
    type: 'project.snapshot',
    project_id: projectId,
    at_seq: atSeq,
    nodes: nodes.map((node) => ({ node_id: node.node_id, status: node.status, ...pick(node, NODE_FIELDS) })),
    tasks,
    takes: [] as unknown[],
    agents,
    ...(Object.keys(narrative).length > 0 && { narrative }),
    timestamp: new Date().toISOString(),
  };
  // Over the bound: the oldest takes go first (a client keeps the takes it has; the node's
  // current output stays in its node), then the nodes' thumbnails.
  let size = bytes(frame) + takes.reduce((sum, { take }) => sum + bytes(take) + 1, 0);
  let first = 0;
  while (size > maxBytes && first < takes.length) size -= bytes(takes[first++]!.take) + 1;
  frame.takes = takes.slice(first).map(({ take }) => take);
  if (size > maxBytes) {
    for (const node of frame.nodes as Array<Record<string, unknown>>) delete node.thumbnail;
  }
  return frame;
}

/** The `task.status` answer for one task id, from the project states that may know it. */
export function buildTaskStatus(taskId: string, projects: ReadonlyArray<{ projectId: string; project: ProjectState }>): Frame {
  const timestamp = new Date().toISOString();
  for (const { projectId, project } of projects) {
    const task = getEntity(project.state.tasks, taskId);
    if (task) {
      return {
        type: 'task.status',
        project_id: projectId,
        task_id: taskId,
        state: task.state,
        ...pick(task, ['node_id', 'progress', 'message', 'step', 'current_step', 'total_steps', 'result', 'attempt']),
        timestamp,
      };
    }
  }
  // Not in the tasks table (never reported by task.progress, or let go): a node whose run it is
  // still tells how the run stands.
  for (const { projectId, project } of projects) {
    for (const node of allEntities(project.state.nodes)) {
      if (node.task_id !== taskId) continue;
      const state = node.status === 'completed' ? 'SUCCESS' : node.status === 'error' ? 'FAILURE' : node.status === 'cancelled' ? 'REVOKED' : node.status === 'generating' ? 'STARTED' : 'UNKNOWN';
      return { type: 'task.status', project_id: projectId, task_id: taskId, state, node_id: node.node_id, ...(state === 'STARTED' && { progress: node.progress }), timestamp };
    }
  }
  return { type: 'task.status', task_id: taskId, state: 'UNKNOWN', timestamp };
}
