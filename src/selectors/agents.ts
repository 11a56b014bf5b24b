import { AGENT_TYPES, type AgentType } from '../protocol/index.js';
import type { AgentRecord, RealtimeState } from '../slices/index.js';
import { createRealtimeSelector } from './base.js';

const idle = (agent_type: AgentType): AgentRecord => ({ agent_type, status: 'idle', progress: 0, updatedAt: 0 });
const IDLE_AGENTS: Record<AgentType, AgentRecord> = Object.fromEntries(
  AGENT_TYPES.map((type) => [type, Object.freeze(idle(type))]),
) as Record<AgentType, AgentRecord>;

/** All seven agents in pipeline order, idle where nothing was heard from them. */
export const selectAgentActivities = createRealtimeSelector(
  [(state: RealtimeState) => state.agents.entities],
  (entities): readonly AgentRecord[] => AGENT_TYPES.map((type) => entities[type] ?? IDLE_AGENTS[type]),
);

export const selectAgent = (state: RealtimeState, agentType: AgentType): AgentRecord =>
  state.agents.entities[agentType] ?? IDLE_AGENTS[agentType];

export const selectHandoffs = (state: RealtimeState) => state.agents.handoffs;
