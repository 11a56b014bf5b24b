/**
 * What each of the seven creative agents is doing, keyed by agent type, and the hand-offs
 * between them (a bounded feed, newest last).
 *
 * A frame about a task other than the agent's current assignment is a late frame of an earlier
 * assignment and is ignored; a completed assignment is not reopened by a late progress frame.
 */
import type { AgentType } from '../protocol/index.js';
import { appendBounded, clampPercent } from './bounded.js';
import { agentAssigned, agentCompleted, agentHandedOff, agentProgressed, snapshotReceived } from './frameEvents.js';
import { freeze, freezeDeep, passCaseFor, passReducer, settleArray, TableWork } from './cow.js';
import { emptyTable, type Table } from './table.js';

export type AgentStatus = 'idle' | 'working' | 'completed';

export interface AgentRecord {
  agent_type: AgentType;
  status: AgentStatus;
  task_id?: string;
  node_id?: string;
  current_task?: string;
  /** Latest step the agent reported within its task. */
  current_step?: string;
  progress: number;
  /** GB of GPU memory in use (reported by the Producer). */
  vram_usage?: number;
  estimated_duration?: number;
  handoff_to?: AgentType;
  updatedAt: number;
}

export interface Handoff {
  from_agent: AgentType;
  to_agent: AgentType;
  task_id: string;
  node_id?: string;
  notes?: string;
  at: number;
}

export const MAX_HANDOFFS = 50;

/** Keyed by agent type (an agent not heard from yet has no record: see selectAgentActivities). */
export interface AgentsState extends Table<AgentRecord> {
  handoffs: Handoff[];
}

/** One copy-on-write pass of frames over the agents (see ./cow.ts). */
class AgentsPass {
  readonly table: TableWork<AgentRecord>;
  /** The hand-off list, copied on the first hand-off of the pass (most passes have none). */
  private written?: Handoff[];

  constructor(readonly base: AgentsState) {
    this.table = new TableWork(base, (agent) => ({ ...agent }));
  }

  get handoffs(): readonly Handoff[] {
    return this.written ?? this.base.handoffs;
  }

  writableHandoffs(): Handoff[] {
    return (this.written ??= [...this.base.handoffs]);
  }

  commit(): AgentsState {
    const table = this.table.commit();
    const handoffs = this.written ? (settleArray(this.written, this.base.handoffs) as Handoff[]) : this.base.handoffs;
    if (!table && handoffs === this.base.handoffs) return this.base;
    return freeze({ ...this.base, ...table, handoffs });
  }
}

const on = passCaseFor<AgentsPass>();

export const agentsReducer = passReducer<AgentsState, AgentsPass>({
  initialState: freezeDeep({ ...emptyTable<AgentRecord>(), handoffs: [] as Handoff[] }),
  open: (state) => new AgentsPass(state),
  commit: (pass) => pass.commit(),
  cases: new Map([
    on(agentAssigned, (pass, { payload: { frame, receivedAt } }) => {
      const existing = pass.table.peek(frame.agent_type);
      // A repeated assigned frame for a task already under way does not reset its progress.
      if (existing && existing.task_id === frame.task_id && existing.status !== 'idle') return;
      pass.table.set(frame.agent_type, {
        agent_type: frame.agent_type,
        status: 'working',
        task_id: frame.task_id,
        node_id: frame.node_id,
        current_task: frame.task_description,
        progress: 0,
        vram_usage: existing?.vram_usage,
        estimated_duration: frame.estimated_duration,
        updatedAt: receivedAt,
      });
    }),
    on(agentProgressed, (pass, { payload: { frame, receivedAt } }) => {
      const existing = pass.table.peek(frame.agent_type);
      // Only the current assignment moves; progress for an agent never seen assigned (joined
      // mid-flow) starts from here.
      let agent = existing?.task_id === frame.task_id ? pass.table.edit(frame.agent_type) : undefined;
      if (!existing) {
        agent = pass.table.add(frame.agent_type, {
          agent_type: frame.agent_type,
          status: 'working',
          task_id: frame.task_id,
          node_id: frame.node_id,
          progress: 0,
          updatedAt: receivedAt,
        });
      }
      if (!agent || agent.status === 'completed') return;
      agent.status = 'working';
      // The latest figure the agent reported for this assignment, down as well as up: an agent
      // that re-plans reports less than before, and a clamp would show a figure it never sent.
      agent.progress = clampPercent(frame.progress);
      if (frame.current_step !== undefined) agent.current_step = frame.current_step;
      if (frame.vram_usage !== undefined) agent.vram_usage = frame.vram_usage;
      agent.updatedAt = receivedAt;
    }),
    on(agentCompleted, (pass, { payload: { frame, receivedAt } }) => {
      const existing = pass.table.peek(frame.agent_type);
      // About another task than the current assignment (working or already completed): a late
      // frame of an earlier one, like agent.progress. Only agent.assigned moves to a new task.
      if (existing && existing.task_id !== frame.task_id && existing.status !== 'idle') return;
      pass.table.set(frame.agent_type, {
        ...(existing ?? { agent_type: frame.agent_type }),
        status: 'completed',
        task_id: frame.task_id,
        node_id: frame.node_id ?? existing?.node_id,
        progress: 100,
        handoff_to: frame.handoff_to,
        updatedAt: receivedAt,
      });
    }),
    on(snapshotReceived, (pass, { payload: { frame, receivedAt } }) => {
      // The agents the snapshot lists take its assignment; the others are left as they were.
      for (const entry of frame.agents) {
        pass.table.set(entry.agent_type, {
          ...entry,
          progress: clampPercent(entry.progress ?? (entry.status === 'completed' ? 100 : 0)),
          vram_usage: pass.table.peek(entry.agent_type)?.vram_usage,
          updatedAt: receivedAt,
        });
      }
    }),
    on(agentHandedOff, (pass, { payload: { frame, receivedAt } }) => {
      const last = pass.handoffs[pass.handoffs.length - 1];
      const repeated =
        last?.from_agent === frame.from_agent && last.to_agent === frame.to_agent && last.task_id === frame.task_id;
      if (repeated) return;
      appendBounded(
        pass.writableHandoffs(),
        [
          {
            from_agent: frame.from_agent,
            to_agent: frame.to_agent,
            task_id: frame.task_id,
            node_id: frame.node_id,
            notes: frame.notes,
            at: receivedAt,
          },
        ],
        MAX_HANDOFFS,
      );
    }),
  ]),
});
