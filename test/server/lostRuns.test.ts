/**
 * Worker lost (server/simulator/lostRuns.ts): a simulator started on a bus that holds runs of a
 * previous process (a memory bus restored from its file) fails each unfinished one with
 * WorkerLostError's message, so no node is left generating and Generate works again; finished
 * runs are left alone, and a second start finds nothing to retire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import { WORKER_LOST } from '../../server/simulator/lostRuns.js';
import { planGeneration } from '../../server/simulator/plan.js';
import { createSimulator } from '../../server/simulator/simulator.js';
import { allEntities, getEntity, replayFrames } from '../../src/index.js';
import { cleanupStack, eventually } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

const plan = (node_id: string, boot: string) =>
  planGeneration({ node_id, params: { prompt: 'A lone rider at dusk', steps: 12 } as never, command_id: `cmd-${node_id}` }, { seed: 7, run: 1, failureRate: 0, boot });

function simulator(bus: ReturnType<typeof createMemoryBus>) {
  const sim = createSimulator({ bus, seed: 7, speed: 50, failureRate: 0, ambientEveryMs: 0 });
  cleanups.add(() => sim.stop());
  return sim;
}

async function projectState(bus: ReturnType<typeof createMemoryBus>) {
  return replayFrames((await bus.history('proj-1', 0, 10_000)).events.map((event) => event.frame));
}

describe('a simulator started on a bus with runs of a previous process', () => {
  it('fails every unfinished run with the worker-lost message and leaves finished runs alone', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    // node-1 ran to the end; node-2 was cut off mid-run (its agents working) by the "kill".
    for (const { frame } of plan('node-1', 'old').frames) await bus.publish('proj-1', frame);
    const cut = plan('node-2', 'old');
    // Cut while the Screenwriter works on it (before the GPU task starts: only PENDING seen).
    const midRun = cut.frames.findIndex(({ frame }) => frame.type === 'agent.progress' && frame.agent_type === 'Screenwriter');
    for (const { frame } of cut.frames.slice(0, midRun + 1)) await bus.publish('proj-1', frame);
    const before = await projectState(bus);
    expect(getEntity(before.nodes, 'node-2')).toMatchObject({ status: 'generating' });
    expect(allEntities(before.agents).some((agent) => agent.status === 'working')).toBe(true);

    const sim = simulator(bus);
    expect(await sim.recovered).toBe(1);
    const after = await projectState(bus);
    expect(after.nodes.generating_ids).toEqual([]);
    expect(getEntity(after.nodes, 'node-2')).toMatchObject({ status: 'error', error: WORKER_LOST, task_id: cut.task_id });
    expect(getEntity(after.tasks, cut.task_id)).toMatchObject({ state: 'FAILURE', result: { exc_type: 'WorkerLostError' } });
    expect(getEntity(after.nodes, 'node-1')).toMatchObject({ status: 'completed' });
    expect(allEntities(after.agents).filter((agent) => agent.status === 'working')).toEqual([]);
    expect(after.frames.rejected.total).toBe(0);

    // Generate works again: a new run of node-2 completes.
    sim.handleCommand({ type: 'start_generation', node_id: 'node-2', project_id: 'proj-1', params: { prompt: 'Again', steps: 6 }, command_id: 'cmd-again' } as never, { sessionId: 's', projectId: 'proj-1' });
    await eventually(() => sim.activeRuns().length === 0, 'the new run to end', 10_000);
    expect(getEntity((await projectState(bus)).nodes, 'node-2')).toMatchObject({ status: 'completed' });

    // A later start finds nothing left to retire.
    sim.stop();
    expect(await simulator(bus).recovered).toBe(0);
  });

  it('a bus with no runs of a previous process: nothing is published', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    for (const { frame } of plan('node-1', 'old').frames) await bus.publish('proj-1', frame);
    const seq = await bus.lastSeq('proj-1');
    expect(await simulator(bus).recovered).toBe(0);
    expect(await bus.lastSeq('proj-1')).toBe(seq);
  });
});
