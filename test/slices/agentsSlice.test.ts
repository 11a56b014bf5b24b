import { describe, expect, it } from 'vitest';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import { AGENT_TYPES, type AgentType } from '../../src/protocol/index.js';
import { MAX_HANDOFFS } from '../../src/slices/index.js';
import { fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';

const TASK = 'pipeline-S004-P014';
const NODE = 'node-shot-P014';

const assigned = (agent_type: AgentType, task_id: string, fields: Record<string, unknown> = {}) => ({
  type: 'agent.assigned',
  agent_type,
  task_id,
  task_description: `${agent_type} on ${task_id}`,
  ...fields,
});
const progressed = (agent_type: AgentType, task_id: string, progress: number, fields: Record<string, unknown> = {}) => ({
  type: 'agent.progress',
  agent_type,
  task_id,
  progress,
  ...fields,
});
const completed = (agent_type: AgentType, task_id: string, fields: Record<string, unknown> = {}) => ({
  type: 'agent.completed',
  agent_type,
  task_id,
  ...fields,
});
const handoff = (from_agent: AgentType, to_agent: AgentType, task_id: string) => ({ type: 'agent.handoff', from_agent, to_agent, task_id });

describe('agents slice', () => {
  describe('agent-pipeline fixture', () => {
    it('all seven agents are assigned, progress and complete', () => {
      const state = replayFrames(readFixture('agent-pipeline'));
      expect([...state.agents.ids].sort()).toEqual([...AGENT_TYPES].sort());
      AGENT_TYPES.forEach((agent, index) => {
        expect(getEntity(state.agents, agent), agent).toMatchObject({
          agent_type: agent,
          status: 'completed',
          progress: 100,
          task_id: TASK,
          node_id: NODE,
          handoff_to: AGENT_TYPES[index + 1],
        });
      });
      expect(getEntity(state.agents, 'Producer')).toMatchObject({
        vram_usage: 11.9,
        current_task: 'Budget the shot and schedule GPU time',
        current_step: 'Reserving gpu-worker-1',
        estimated_duration: 20,
      });
      expect(getEntity(state.agents, 'Editor')?.current_step).toBe('Exporting the EDL');
    });

    it('agents take their turn in hand-off order, one working at a time', () => {
      const started: AgentType[] = [];
      for (const { state, index } of replayTimeline(readFixture('agent-pipeline'))) {
        const working = AGENT_TYPES.filter((agent) => getEntity(state.agents, agent)?.status === 'working');
        expect(working.length, `#${index}`).toBeLessThanOrEqual(1);
        if (working[0] && working[0] !== started[started.length - 1]) started.push(working[0]);
      }
      expect(started).toEqual([...AGENT_TYPES]);
    });

    it('records the six hand-offs in order, with their notes and receive times', () => {
      const state = replayFrames(readFixture('agent-pipeline'));
      const frames = fixtureFrames('agent-pipeline').filter((f) => f.type === 'agent.handoff');
      expect(state.agents.handoffs).toHaveLength(6);
      expect(state.agents.handoffs.map((h) => [h.from_agent, h.to_agent])).toEqual(
        AGENT_TYPES.slice(0, -1).map((agent, i) => [agent, AGENT_TYPES[i + 1]]),
      );
      expect(state.agents.handoffs[0]).toEqual({
        from_agent: 'Producer',
        to_agent: 'Screenwriter',
        task_id: TASK,
        node_id: NODE,
        notes: 'Producer hands S004/P014 to Screenwriter',
        at: Date.parse(frames[0]!.timestamp!),
      });
    });

    it('the Producer reports VRAM as it goes', () => {
      const vram = replayTimeline(readFixture('agent-pipeline'))
        .map(({ state }) => getEntity(state.agents, 'Producer')?.vram_usage)
        .filter((v, i, all) => v !== undefined && v !== all[i - 1]);
      expect(vram).toEqual([2.1, 7.5, 11.9]);
    });
  });

  it('generation-success fixture: the Producer, Art Director and Cinematographer worked on the node', () => {
    const state = replayFrames(readFixture('generation-success'));
    expect(state.agents.ids).toEqual(['Producer', 'ArtDirector', 'Cinematographer']);
    expect(getEntity(state.agents, 'Producer')).toMatchObject({ status: 'completed', vram_usage: 9.8, handoff_to: 'ArtDirector' });
    expect(state.agents.handoffs.map((h) => `${h.from_agent}->${h.to_agent}`)).toEqual(['Producer->ArtDirector', 'ArtDirector->Cinematographer']);
  });

  describe('progress', () => {
    it('is clamped to 0..100 and shows the latest figure of the assignment, down as well as up', () => {
      const log = stamped([
        assigned('Producer', 't1'),
        progressed('Producer', 't1', 140),
        assigned('Editor', 't2'),
        progressed('Editor', 't2', 60),
        progressed('Editor', 't2', 40),
        progressed('Screenwriter', 't3', -10),
      ]);
      const state = replayFrames(log);
      expect(getEntity(state.agents, 'Producer')?.progress).toBe(100);
      expect(getEntity(state.agents, 'Editor')?.progress).toBe(40);
      expect(getEntity(state.agents, 'Screenwriter')?.progress).toBe(0);
    });

    it('a repeated agent.assigned for the task under way does not reset its progress', () => {
      const log = stamped([assigned('Producer', 't1'), progressed('Producer', 't1', 55), assigned('Producer', 't1')]);
      expect(getEntity(replayFrames(log).agents, 'Producer')).toMatchObject({ status: 'working', progress: 55 });
    });

    it('a new assignment starts from 0 and keeps the last VRAM reading', () => {
      const log = stamped([
        assigned('Producer', 't1'),
        progressed('Producer', 't1', 90, { vram_usage: 12.5 }),
        completed('Producer', 't1'),
        assigned('Producer', 't2', { task_description: 'Schedule the next shot' }),
      ]);
      expect(getEntity(replayFrames(log).agents, 'Producer')).toMatchObject({
        status: 'working',
        task_id: 't2',
        progress: 0,
        vram_usage: 12.5,
        current_task: 'Schedule the next shot',
      });
    });
  });

  describe('late frames', () => {
    it('a late agent.progress does not reopen a completed assignment', () => {
      const log = stamped([assigned('Editor', 't1'), progressed('Editor', 't1', 50), completed('Editor', 't1'), progressed('Editor', 't1', 70, { current_step: 'late' })]);
      const agent = getEntity(replayFrames(log).agents, 'Editor');
      expect(agent).toMatchObject({ status: 'completed', progress: 100, updatedAt: timeOf(log, 2) });
      expect(agent?.current_step).toBeUndefined();
    });

    it('frames of an earlier assignment do not touch the current one', () => {
      const log = stamped([
        assigned('Cinematographer', 't1'),
        progressed('Cinematographer', 't1', 40),
        assigned('Cinematographer', 't2'),
        progressed('Cinematographer', 't2', 20),
        progressed('Cinematographer', 't1', 90),
        completed('Cinematographer', 't1'),
      ]);
      const before = replayFrames(log.slice(0, 4));
      const after = replayFrames(log);
      expect(getEntity(after.agents, 'Cinematographer')).toEqual(getEntity(before.agents, 'Cinematographer'));
      expect(getEntity(after.agents, 'Cinematographer')).toMatchObject({ status: 'working', task_id: 't2', progress: 20 });
    });

    it('a late agent.completed of an earlier assignment does not replace the current, completed one', () => {
      const log = stamped([
        assigned('Producer', 't1'),
        completed('Producer', 't1', { handoff_to: 'Screenwriter' }),
        assigned('Producer', 't2'),
        completed('Producer', 't2', { handoff_to: 'Editor' }),
        completed('Producer', 't1', { handoff_to: 'Screenwriter' }),
      ]);
      const before = replayFrames(log.slice(0, 4));
      const after = replayFrames(log);
      expect(getEntity(after.agents, 'Producer')).toEqual(getEntity(before.agents, 'Producer'));
      expect(getEntity(after.agents, 'Producer')).toMatchObject({ status: 'completed', task_id: 't2', handoff_to: 'Editor' });
    });

    it('progress for an agent never seen assigned (joined mid-flow) starts its record', () => {
      const log = stamped([progressed('SoundDesigner', 't9', 35, { current_step: 'Layering rain' })]);
      expect(getEntity(replayFrames(log).agents, 'SoundDesigner')).toMatchObject({ status: 'working', task_id: 't9', progress: 35, current_step: 'Layering rain' });
    });
  });

  describe('hand-offs', () => {
    it('a repeated hand-off frame is recorded once', () => {
      const log = stamped([handoff('Producer', 'Screenwriter', 't1'), handoff('Producer', 'Screenwriter', 't1'), handoff('Screenwriter', 'CastingDirector', 't1')]);
      expect(replayFrames(log).agents.handoffs.map((h) => h.to_agent)).toEqual(['Screenwriter', 'CastingDirector']);
    });

    it(`keeps at most MAX_HANDOFFS (${MAX_HANDOFFS}), newest last`, () => {
      const total = MAX_HANDOFFS * 3 + 7;
      const frames = Array.from({ length: total }, (_, i) => handoff(AGENT_TYPES[i % 7]!, AGENT_TYPES[(i + 1) % 7]!, `t${i}`));
      const log = stamped(frames);
      const { handoffs } = replayFrames(log).agents;
      expect(handoffs).toHaveLength(MAX_HANDOFFS);
      expect(handoffs[0]?.task_id).toBe(`t${total - MAX_HANDOFFS}`);
      expect(handoffs[MAX_HANDOFFS - 1]).toMatchObject({ task_id: `t${total - 1}`, at: timeOf(log, total - 1) });
    });
  });
});
