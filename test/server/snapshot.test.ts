/**
 * The `snapshot` and `task_status` extensions of the reference gateway on the memory bus:
 * project.snapshot on subscribe (no last_seq, a position older than the history, a reset stream),
 * consistent with the events that follow; the size bound; query_tasks -> one task.status per id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus } from '../../server/bus/types.js';
import { createProjectStates } from '../../server/state/projectStates.js';
import { buildSnapshot, MAX_SNAPSHOT_BYTES } from '../../server/state/snapshot.js';
import { parseFrame } from '../../src/protocol/index.js';
import { cleanupStack, startGateway, type Frame } from './helpers.js';
import { createMemoryBus } from '../../server/bus/memoryBus.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

const take = (id: string, extra: Record<string, unknown> = {}) => ({ id, take_number: 1, path: `/media/${id}.png`, created_at: '2026-01-01T00:00:00.000Z', ...extra });

async function completedRun(bus: EventBus, projectId: string, nodeId: string, taskId: string, takes = [take(`take-${taskId}`)]) {
  await bus.publish(projectId, { type: 'generation.started', node_id: nodeId, task_id: taskId });
  await bus.publish(projectId, { type: 'task.progress', node_id: nodeId, task_id: taskId, state: 'SUCCESS', progress: 100, result: { take_id: takes[0]!.id } });
  await bus.publish(projectId, { type: 'generation.completed', node_id: nodeId, task_id: taskId, output_path: `/media/${taskId}.png`, takes });
}

async function runningRun(bus: EventBus, projectId: string, nodeId: string, taskId: string) {
  await bus.publish(projectId, { type: 'generation.started', node_id: nodeId, task_id: taskId });
  await bus.publish(projectId, { type: 'task.progress', node_id: nodeId, task_id: taskId, state: 'PROGRESS', progress: 40, step: 'Denoising', current_step: 4, total_steps: 10 });
  await bus.publish(projectId, { type: 'agent.assigned', agent_type: 'Cinematographer', task_id: `${taskId}-cine`, task_description: 'Framing', node_id: nodeId });
}

/** The client library accepts it as a valid frame (the same parser a client uses). */
function expectAccepted(frame: Frame) {
  expect(parseFrame(JSON.stringify(frame)), JSON.stringify(frame).slice(0, 300)).toMatchObject({ ok: true, frame: { type: frame.type } });
}

const seqs = (frames: Frame[]) => frames.map((f) => f.seq as number);

describe('gateway: project.snapshot on subscribe', () => {
  it('no last_seq: the project state (completed node with its take, generating node with its task, agents, story), then live events after at_seq', async () => {
    const gw = await startGateway(cleanups);
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    await runningRun(gw.bus, 'proj-1', 'node-2', 'celery-2');
    await gw.bus.publish('proj-1', { type: 'narrative.progress', structure_type: 'three-act', current_scene: 'S001', current_shot: 'P002' });
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    const snapshot = await client.next('project.snapshot');
    expect(client.frames.filter((f) => f.type !== 'session.init')[0]).toBe(snapshot);
    expectAccepted(snapshot);
    expect(snapshot.seq).toBeUndefined();
    expect(snapshot).toMatchObject({ project_id: 'proj-1', at_seq: 7, narrative: { structure_type: 'three-act', scene_id: 'S001', shot_id: 'P002' } });
    expect(snapshot.nodes).toEqual([
      expect.objectContaining({ node_id: 'node-1', status: 'completed', task_id: 'celery-1', output_path: '/media/celery-1.png' }),
      expect.objectContaining({ node_id: 'node-2', status: 'generating', task_id: 'celery-2', progress: 40, current_step: 4, total_steps: 10 }),
    ]);
    expect(snapshot.tasks).toEqual([expect.objectContaining({ task_id: 'celery-2', node_id: 'node-2', state: 'PROGRESS', progress: 40 })]);
    expect(snapshot.takes).toEqual([expect.objectContaining({ id: 'take-celery-1', node_id: 'node-1' })]);
    expect(snapshot.agents).toEqual([expect.objectContaining({ agent_type: 'Cinematographer', status: 'working', node_id: 'node-2' })]);

    await gw.bus.publish('proj-1', { type: 'task.progress', node_id: 'node-2', task_id: 'celery-2', state: 'PROGRESS', progress: 60 });
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([8]);
  });

  it('an empty project: a snapshot at_seq 0 with nothing in it', async () => {
    const gw = await startGateway(cleanups);
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-new' });
    const snapshot = await client.next('project.snapshot');
    expect(snapshot).toMatchObject({ project_id: 'proj-new', at_seq: 0, nodes: [], tasks: [], takes: [], agents: [] });
    expectAccepted(snapshot);
  });

  it('events published while the client subscribes are each either in the snapshot or delivered after it, once', async () => {
    const gw = await startGateway(cleanups);
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    const { client } = await gw.session();
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing && i < 400; i++) {
        await gw.bus.publish('proj-1', { type: 'task.progress', node_id: 'node-9', task_id: 'celery-9', state: 'PROGRESS', progress: i % 100 });
        if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    const snapshot = await client.next('project.snapshot');
    publishing = false;
    await publisher;
    await client.barrier();
    const last = await gw.bus.lastSeq('proj-1');
    const after = seqs(client.events('proj-1'));
    expect(after).toEqual(Array.from({ length: last - snapshot.at_seq }, (_, i) => snapshot.at_seq + 1 + i));
  });

  it('last_seq older than the history: a snapshot instead of replay.gap, then what follows', async () => {
    const gw = await startGateway(cleanups, { memory: { historyLimit: 3 } });
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    for (let i = 0; i < 5; i++) await gw.bus.publish('proj-1', { type: 'project.updated', project_id: 'proj-1', data: { i } });
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 1 });
    const snapshot = await client.next('project.snapshot');
    await client.barrier();
    expect(client.ofType('replay.gap')).toEqual([]);
    expect(snapshot.at_seq).toBe(8);
    expect(snapshot.nodes).toEqual([expect.objectContaining({ node_id: 'node-1', status: 'completed' })]);
    expect(client.events('proj-1')).toEqual([]);
  });

  it('last_seq above the stream (a reset, e.g. a restarted memory bus): a snapshot at the current seq', async () => {
    const gw = await startGateway(cleanups);
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 40 });
    const snapshot = await client.next('project.snapshot');
    expect(snapshot.at_seq).toBe(3);
    await gw.bus.publish('proj-1', { type: 'project.updated', project_id: 'proj-1', data: {} });
    await client.barrier();
    expect(seqs(client.events('proj-1'))).toEqual([4]);
    expect(client.ofType('replay.gap')).toEqual([]);
  });

  it('last_seq within the history: replayed as before, no snapshot', async () => {
    const gw = await startGateway(cleanups);
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 1 });
    await client.barrier();
    expect(client.ofType('project.snapshot')).toEqual([]);
    expect(seqs(client.events('proj-1'))).toEqual([2, 3]);
  });

  it('a new gateway on the same bus (a gateway restart) still knows the project', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const first = await startGateway(cleanups, { bus });
    await completedRun(bus, 'proj-1', 'node-1', 'celery-1');
    await first.gateway.terminate();
    const second = await startGateway(cleanups, { bus });
    const { client } = await second.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    const snapshot = await client.next('project.snapshot');
    expect(snapshot.nodes).toEqual([expect.objectContaining({ node_id: 'node-1', status: 'completed' })]);
    expect(snapshot.takes).toHaveLength(1);
  });

  it('with snapshot: false it is not announced and a fresh subscription starts from now', async () => {
    const gw = await startGateway(cleanups, { snapshot: false, taskStatus: false });
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    const { client, reply } = await gw.session();
    expect(reply.capabilities).toEqual(['ack', 'seq', 'replay']);
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    await client.barrier();
    expect(client.ofType('project.snapshot')).toEqual([]);
  });
});

describe('project.snapshot: bounds', () => {
  it('8 takes per node (the newest), and under the byte bound by dropping the oldest takes first', async () => {
    const bus = createMemoryBus();
    cleanups.add(() => bus.close());
    const thumbnail = `data:image/png;base64,${'A'.repeat(5_000)}`;
    for (let n = 0; n < 4; n++) {
      for (let t = 0; t < 10; t++) await completedRun(bus, 'proj-1', `node-${n}`, `celery-${n}-${t}`, [take(`take-${n}-${t}`, { thumbnail })]);
    }
    const project = await createProjectStates({ bus }).read('proj-1');
    const full = buildSnapshot('proj-1', project);
    expect(Buffer.byteLength(JSON.stringify(full))).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES);
    expect(full.takes as Frame[]).toHaveLength(4 * 8);
    expect((full.takes as Frame[]).filter((t) => t.node_id === 'node-0').map((t) => t.id)).toEqual(Array.from({ length: 8 }, (_, i) => `take-0-${i + 2}`));
    expectAccepted(full);

    const bounded = buildSnapshot('proj-1', project, 100_000);
    const size = Buffer.byteLength(JSON.stringify(bounded));
    expect(size).toBeLessThanOrEqual(100_000);
    const kept = (bounded.takes as Frame[]).map((t) => t.id as string);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(32);
    // The newest take of all is kept; the oldest ones went.
    expect(kept).toContain('take-3-9');
    expect(kept).not.toContain('take-0-2');
    expect(bounded.nodes as Frame[]).toHaveLength(4);
    expectAccepted(bounded);
  });
});

describe('gateway: query_tasks -> task.status', () => {
  it('one task.status per id: a running task, a finished one with its result, and UNKNOWN for one never heard of', async () => {
    const gw = await startGateway(cleanups);
    await completedRun(gw.bus, 'proj-1', 'node-1', 'celery-1');
    await runningRun(gw.bus, 'proj-1', 'node-2', 'celery-2');
    const { client } = await gw.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 6 });
    client.send({ type: 'query_tasks', task_ids: ['celery-2', 'celery-1', 'celery-gone'], timestamp: new Date().toISOString() });
    await client.barrier();
    const answers = client.ofType('task.status');
    for (const answer of answers) {
      expectAccepted(answer);
      expect(answer.seq).toBeUndefined();
    }
    expect(answers).toEqual([
      expect.objectContaining({ task_id: 'celery-2', state: 'PROGRESS', node_id: 'node-2', progress: 40, current_step: 4, project_id: 'proj-1' }),
      expect.objectContaining({ task_id: 'celery-1', state: 'SUCCESS', node_id: 'node-1', result: { take_id: 'take-celery-1' } }),
      expect.objectContaining({ task_id: 'celery-gone', state: 'UNKNOWN' }),
    ]);
  });

  it('a project_id on the query finds tasks of a project the client is not subscribed to', async () => {
    const gw = await startGateway(cleanups);
    await runningRun(gw.bus, 'proj-2', 'node-2', 'celery-22');
    const { client } = await gw.session();
    client.send({ type: 'query_tasks', task_ids: ['celery-22'], project_id: 'proj-2', timestamp: new Date().toISOString() });
    expect(await client.next('task.status')).toMatchObject({ task_id: 'celery-22', state: 'PROGRESS', project_id: 'proj-2' });
  });

  it('a restarted memory-bus server (a new bus) answers UNKNOWN for the tasks of the old one', async () => {
    const old = await startGateway(cleanups);
    await runningRun(old.bus, 'proj-1', 'node-2', 'celery-2');
    const fresh = await startGateway(cleanups);
    const { client } = await fresh.session();
    client.send({ type: 'subscribe', project_id: 'proj-1', last_seq: 3 });
    client.send({ type: 'query_tasks', task_ids: ['celery-2'], project_id: 'proj-1', timestamp: new Date().toISOString() });
    expect(await client.next('task.status')).toMatchObject({ task_id: 'celery-2', state: 'UNKNOWN' });
  });
});
