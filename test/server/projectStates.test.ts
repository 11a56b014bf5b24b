/**
 * What the gateway knows of each project (server/state/projectStates.ts): the bus's events
 * reduced through the library's realtimeReducer, caught up on every read, checkpointed in the bus
 * so that a new reader (a restarted gateway) starts from the checkpoint, not from a history that
 * may have been trimmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../server/bus/memoryBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { createProjectStates } from '../../server/state/projectStates.js';
import { getEntity } from '../../src/slices/index.js';
import { cleanupStack, publishCompletedRun } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

function bus(historyLimit?: number) {
  const created = createMemoryBus(historyLimit === undefined ? {} : { historyLimit });
  cleanups.add(() => created.close());
  return created;
}

/** A run of node `nodeId` that completes; its task reported PROGRESS 50 on the way. */
const run = (target: EventBus, projectId: string, nodeId: string, taskId: string) =>
  publishCompletedRun(target, { projectId, nodeId, taskId, progress: { state: 'PROGRESS', progress: 50 } });

describe('project states', () => {
  it('a read reduces every event published so far, per project, like a client would', async () => {
    const b = bus();
    const states = createProjectStates({ bus: b, now: () => 1_000 });
    await run(b, 'p1', 'n1', 't1');
    await b.publish('p1', { type: 'generation.started', node_id: 'n2', task_id: 't2' });
    await b.publish('p2', { type: 'generation.started', node_id: 'other', task_id: 't9' });
    const { state, atSeq } = await states.read('p1');
    expect(atSeq).toBe(4);
    expect(getEntity(state.nodes, 'n1')).toMatchObject({ status: 'completed', task_id: 't1', take_ids: ['take-t1'] });
    expect(getEntity(state.nodes, 'n2')).toMatchObject({ status: 'generating', task_id: 't2' });
    expect(getEntity(state.nodes, 'other')).toBeUndefined();
    expect(getEntity(state.takes, 'take-t1')).toMatchObject({ node_id: 'n1' });
  });

  it('follows the live feed: a read after live events is caught up, once each', async () => {
    const b = bus();
    const states = createProjectStates({ bus: b });
    const off = b.subscribe((event) => states.observe(event));
    cleanups.add(off);
    await states.read('p1');
    await b.publish('p1', { type: 'generation.started', node_id: 'n1', task_id: 't1' });
    await b.publish('p1', { type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 30 });
    const { state, atSeq } = await states.read('p1');
    expect(atSeq).toBe(2);
    expect(getEntity(state.tasks, 't1')).toMatchObject({ state: 'PROGRESS', progress: 30 });
  });

  it('checkpoints in the bus: a new reader (a restarted gateway) has the state even after the history was trimmed', async () => {
    const b = bus(5);
    const first = createProjectStates({ bus: b, checkpointEvery: 3 });
    const off = b.subscribe((event) => first.observe(event));
    cleanups.add(off);
    await run(b, 'p1', 'n1', 't1');
    await first.read('p1');
    // Plenty more events: the history (5 events) no longer holds the first run.
    for (let i = 0; i < 12; i++) await b.publish('p1', { type: 'project.updated', project_id: 'p1', data: { i } });
    await first.read('p1');
    expect((await b.history('p1', 0, 100)).oldestAvailable).toBeGreaterThan(3);

    const second = createProjectStates({ bus: b });
    const { state, atSeq } = await second.read('p1');
    expect(atSeq).toBe(15);
    expect(getEntity(state.nodes, 'n1')).toMatchObject({ status: 'completed', take_ids: ['take-t1'] });
  });

  it('without a checkpoint a trimmed history gives what is left (best effort)', async () => {
    const b = bus(5);
    await run(b, 'p1', 'n1', 't1');
    for (let i = 0; i < 12; i++) await b.publish('p1', { type: 'project.updated', project_id: 'p1', data: { i } });
    const { state, atSeq } = await createProjectStates({ bus: b }).read('p1');
    expect(atSeq).toBe(15);
    expect(getEntity(state.nodes, 'n1')).toBeUndefined();
  });

  it('reset() forgets what it held: a bus that lost its data numbers from 1 again', async () => {
    // A bus whose data is lost: reads go to an empty one from then on (as Redis restarted empty).
    let current = bus();
    const lossy = new Proxy({} as EventBus, { get: (_, key) => (current as unknown as Record<string | symbol, unknown>)[key] });
    const states = createProjectStates({ bus: lossy });
    await run(current, 'p1', 'n1', 't1');
    expect((await states.read('p1')).atSeq).toBe(3);
    current = bus();
    await current.publish('p1', { type: 'generation.started', node_id: 'n5', task_id: 't5' });
    states.reset();
    const { state, atSeq } = await states.read('p1');
    expect(atSeq).toBe(1);
    expect(getEntity(state.nodes, 'n5')).toMatchObject({ status: 'generating' });
    expect(getEntity(state.nodes, 'n1')).toBeUndefined();
  });
});
