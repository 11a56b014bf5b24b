import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import { selectAgent, selectAgentActivities, selectHandoffs } from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';

/** The story's seven agents, in pipeline order (written out, not imported, so the order is checked). */
const PIPELINE = ['Producer', 'Screenwriter', 'CastingDirector', 'ArtDirector', 'Cinematographer', 'SoundDesigner', 'Editor'];

const assigned = (agent_type: string, task_id: string, task_description: string) => ({
  type: 'agent.assigned',
  timestamp: TS,
  agent_type,
  task_id,
  task_description,
});
const agentProgress = (agent_type: string, task_id: string, progress: number, extra: object = {}) => ({
  type: 'agent.progress',
  timestamp: TS,
  agent_type,
  task_id,
  progress,
  ...extra,
});
const heartbeat = { type: 'system.heartbeat', timestamp: TS };
const gitCommit = { type: 'git.commit', timestamp: TS, project_id: 'proj-1', message: 'Lock script' };

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  expect(warn).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('selectAgentActivities: contents', () => {
  it('lists all seven agents in pipeline order, idle when nothing was heard', () => {
    const agents = selectAgentActivities(initial());
    expect(agents.map((a) => a.agent_type)).toEqual(PIPELINE);
    for (const agent of agents) {
      expect(agent).toMatchObject({ status: 'idle', progress: 0 });
      expect(agent.task_id).toBeUndefined();
      expect(agent.current_task).toBeUndefined();
    }
  });

  it('keeps pipeline order whatever order the agents report in, with idle defaults for the rest', () => {
    const state = apply(
      initial(),
      assigned('Editor', 'a-ed', 'Rough cut of scene 1'),
      assigned('Cinematographer', 'a-cin', 'Plan camera angles for scene 1'),
      agentProgress('Producer', 'a-prod', 35, { current_step: 'Scheduling GPU', vram_usage: 11.5 }),
    );
    const agents = selectAgentActivities(state);
    expect(agents.map((a) => a.agent_type)).toEqual(PIPELINE);
    expect(agents.map((a) => a.status)).toEqual(['working', 'idle', 'idle', 'idle', 'working', 'idle', 'working']);
    expect(agents[0]).toMatchObject({ progress: 35, current_step: 'Scheduling GPU', vram_usage: 11.5 });
    expect(agents[4]).toMatchObject({ task_id: 'a-cin', current_task: 'Plan camera angles for scene 1', progress: 0 });
    expect(agents[6]).toMatchObject({ task_id: 'a-ed', current_task: 'Rough cut of scene 1' });
    expect(selectAgent(state, 'Screenwriter')).toMatchObject({ agent_type: 'Screenwriter', status: 'idle', progress: 0 });
  });

  it('follows an agent from assigned through progress to completed', () => {
    let state = apply(initial(), assigned('Screenwriter', 'w1', 'Draft scene 2'));
    state = apply(state, agentProgress('Screenwriter', 'w1', 60, { current_step: 'Dialogue pass' }));
    expect(selectAgentActivities(state)[1]).toMatchObject({ status: 'working', progress: 60, current_step: 'Dialogue pass' });
    state = apply(state, {
      type: 'agent.completed',
      timestamp: TS,
      agent_type: 'Screenwriter',
      task_id: 'w1',
      handoff_to: 'CastingDirector',
    });
    expect(selectAgentActivities(state)[1]).toMatchObject({ status: 'completed', progress: 100, handoff_to: 'CastingDirector' });
    // A late progress frame does not reopen the finished assignment.
    state = apply(state, agentProgress('Screenwriter', 'w1', 80));
    expect(selectAgentActivities(state)[1]).toMatchObject({ status: 'completed', progress: 100 });
  });
});

describe('selectAgentActivities: memoization', () => {
  const base = () => apply(initial(), assigned('Producer', 'p1', 'Schedule renders'), assigned('Cinematographer', 'c1', 'Shot list'));

  it.each([
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a task.progress frame', { type: 'task.progress', timestamp: TS, task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 10 }],
    ['an agent.handoff (hand-offs are a separate feed)', { type: 'agent.handoff', timestamp: TS, from_agent: 'Producer', to_agent: 'Cinematographer', task_id: 'p1' }],
    ['a narrative.beat', { type: 'narrative.beat', timestamp: TS, beat_name: 'Midpoint', scene_id: 'S004' }],
    ['a late agent.progress for a previous assignment', agentProgress('Producer', 'p0-old', 90)],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = base();
    const agents = selectAgentActivities(before);
    const after = apply(before, frame);
    expect(selectAgentActivities(after)).toBe(agents);
  });

  it('returns a new list when an agent changes, sharing the agents that did not', () => {
    const before = base();
    const agents = selectAgentActivities(before);
    const after = apply(before, agentProgress('Cinematographer', 'c1', 45, { current_step: 'Blocking' }));
    const next = selectAgentActivities(after);
    expect(next).not.toBe(agents);
    expect(next[4]).toMatchObject({ progress: 45, current_step: 'Blocking' });
    for (const i of [0, 1, 2, 3, 5, 6]) expect(next[i]).toBe(agents[i]);
  });

  it('records hand-offs in order without repeating an identical one', () => {
    const handoff = { type: 'agent.handoff', timestamp: TS, from_agent: 'Screenwriter', to_agent: 'CastingDirector', task_id: 'w1', notes: 'Script locked' };
    const state = apply(initial(), handoff, handoff, { ...handoff, from_agent: 'CastingDirector', to_agent: 'ArtDirector' });
    expect(selectHandoffs(state).map((h) => `${h.from_agent}>${h.to_agent}`)).toEqual([
      'Screenwriter>CastingDirector',
      'CastingDirector>ArtDirector',
    ]);
  });
});
