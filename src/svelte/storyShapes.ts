/**
 * The story's store shapes ($wsState, $taskProgress, $nodeStates, ...), derived from the
 * normalized state by memoized selectors, so the story's own components work unchanged.
 */
import type { AgentType, CeleryState, InboundFrame, StructureType, Take } from '../protocol/index.js';
import { createLatestSelector } from '../selectors/base.js';
import { allEntities, getEntity, type ConnectionStatus, type RealtimeState, type TakesState } from '../slices/index.js';

export interface WebSocketState {
  status: ConnectionStatus;
  error?: string;
  reconnectAttempts: number;
  sessionId?: string;
  lastHeartbeat?: number;
}

export interface TaskProgress {
  task_id: string;
  state: CeleryState;
  progress: number;
  message?: string;
  result?: unknown;
  node_id?: string;
  step?: string;
  total_steps?: number;
  current_step?: number;
}

export interface NodeState {
  node_id: string;
  status: 'idle' | 'generating' | 'completed' | 'error';
  progress?: number;
  message?: string;
  error?: string;
  output_path?: string;
  thumbnail?: string;
  takes?: Take[];
  current_take?: number;
  scene_id?: string;
  shot_id?: string;
  emotional_beat?: string;
  assigned_agent?: string;
}

export interface AgentActivity {
  agent_type: AgentType;
  task_id: string;
  status: 'idle' | 'working' | 'completed';
  current_task?: string;
  progress?: number;
  vram_usage?: number;
}

export interface NarrativeProgress {
  current_chapter?: number;
  current_scene?: string;
  current_shot?: string;
  current_beat?: string;
  completed_beats: string[];
  structure_type?: StructureType;
}

export type WSMessage = InboundFrame;

export const selectWsState = createLatestSelector(
  [(state: RealtimeState) => state.connection, (state: RealtimeState) => state.sync.sessionId],
  (connection, clientSessionId): WebSocketState => ({
    status: connection.status,
    error: connection.error,
    reconnectAttempts: connection.reconnectAttempts,
    // The story's client had its session id as soon as the socket opened (it made one or restored
    // it, then sent it in session.init). connection.sessionId is set only when the backend answers
    // session.init, which a story-only backend never does; the client's own id is what it holds.
    sessionId: clientSessionId ?? connection.sessionId,
    lastHeartbeat: connection.lastHeartbeatAt,
  }),
);

export const selectWsMessages = createLatestSelector(
  [(state: RealtimeState) => state.frames.recent],
  (recent): WSMessage[] => recent.map((entry) => entry.frame),
);

export const selectStoryTaskProgress = createLatestSelector(
  [(state: RealtimeState) => state.tasks.shards, (state: RealtimeState) => state.tasks.ids],
  (shards, ids): Record<string, TaskProgress> => {
    const out: Record<string, TaskProgress> = {};
    for (const task of allEntities({ ids, shards })) {
      out[task.task_id] = {
        task_id: task.task_id,
        state: task.state,
        progress: task.progress,
        message: task.message,
        result: task.result,
        node_id: task.node_id,
        step: task.step,
        total_steps: task.total_steps,
        current_step: task.current_step,
      };
    }
    return out;
  },
);

function takesOf(ids: readonly string[], table: TakesState): Take[] {
  const takes: Take[] = [];
  for (const id of ids) {
    const take = getEntity(table, id);
    if (take) takes.push(take);
  }
  return takes.sort((a, b) => a.take_number - b.take_number);
}

export const selectStoryNodeStates = createLatestSelector(
  [(state: RealtimeState) => state.nodes.shards, (state: RealtimeState) => state.nodes.ids, (state: RealtimeState) => state.takes],
  (shards, ids, takes): Record<string, NodeState> => {
    const out: Record<string, NodeState> = {};
    for (const node of allEntities({ ids, shards })) {
      // The story knows four statuses: a cancelled run shows as idle, saying so.
      const cancelled = node.status === 'cancelled';

      // The story's client showed a task.progress frame's step description as the node's
      // message (`step || message`): the spinner says what the generation is doing right now.
      const message = node.status === 'generating' ? (node.step ?? node.message) : node.message;

      out[node.node_id] = {
        node_id: node.node_id,
        status: node.status === 'cancelled' ? 'idle' : node.status,
        progress: node.progress,
        message: cancelled ? (node.message ?? 'Generation cancelled') : message,
        error: node.error,
        output_path: node.output_path,
        thumbnail: node.thumbnail,
        takes: node.take_ids.length > 0 ? takesOf(node.take_ids, takes) : undefined,
        current_take: node.current_take,
        scene_id: node.scene_id,
        shot_id: node.shot_id,
        emotional_beat: node.emotional_beat,
        assigned_agent: node.assigned_agent,
      };
    }
    return out;
  },
);

/** The story used a Set; it is rebuilt only when the set of generating nodes changes. */
export const selectActiveGenerationsSet = createLatestSelector(
  [(state: RealtimeState) => state.nodes.generating_ids],
  (ids): Set<string> => new Set(ids),
);

export const selectStoryAgentActivities = createLatestSelector(
  [(state: RealtimeState) => state.agents.shards, (state: RealtimeState) => state.agents.ids],
  (shards, ids): Record<string, AgentActivity> => {
    const out: Record<string, AgentActivity> = {};
    for (const agent of allEntities({ ids, shards })) {
      if (!agent) continue;
      out[agent.agent_type] = {
        agent_type: agent.agent_type,
        task_id: agent.task_id ?? '',
        status: agent.status,
        current_task: agent.current_step ?? agent.current_task,
        progress: agent.progress,
        vram_usage: agent.vram_usage,
      };
    }
    return out;
  },
);

export const selectStoryNarrativeProgress = createLatestSelector(
  [(state: RealtimeState) => state.narrative],
  (narrative): NarrativeProgress => ({
    current_chapter: narrative.current_chapter,
    current_scene: narrative.current_scene,
    current_shot: narrative.current_shot,
    current_beat: narrative.current_beat,
    completed_beats: narrative.completed_beats,
    structure_type: narrative.structure_type,
  }),
);
