import { AGENT_TYPES, type AgentType } from '../protocol/index.js';
import { getEntity, type AgentRecord, type RealtimeState } from '../slices/index.js';
import { createLatestSelector, createRealtimeSelector } from './base.js';

const idle = (agent_type: AgentType): AgentRecord => ({ agent_type, status: 'idle', progress: 0, updatedAt: 0 });
const IDLE_AGENTS: Record<AgentType, AgentRecord> = Object.fromEntries(
  AGENT_TYPES.map((type) => [type, Object.freeze(idle(type))]),
) as Record<AgentType, AgentRecord>;

/** All seven agents in pipeline order, idle where nothing was heard from them. */
export const selectAgentActivities = createLatestSelector(
  // The shards, not the slice: a new hand-off alone must not hand out a new array.
  [(state: RealtimeState) => state.agents.shards],
  (shards): readonly AgentRecord[] => AGENT_TYPES.map((type) => getEntity({ shards }, type) ?? IDLE_AGENTS[type]),
);

export const selectAgent = (state: RealtimeState, agentType: AgentType): AgentRecord =>
  getEntity(state.agents, agentType) ?? IDLE_AGENTS[agentType];

export const selectHandoffs = (state: RealtimeState) => state.agents.handoffs;
