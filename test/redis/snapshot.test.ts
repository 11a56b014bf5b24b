/**
 * The `snapshot` and `task_status` extensions on the Redis bus: the project state lives in Redis
 * (a checkpoint per project plus the stream), so a restarted gateway, or another instance, still
 * answers with it; a completion published while the only gateway was down shows as completed.
 */
import { describe, expect, it } from 'vitest';
import { useFileRedis } from './fileRedis.js';
import type { EventBus } from '../../server/bus/types.js';
import { parseFrame } from '../../src/protocol/index.js';
import { publishCompletedRun, startGateway } from '../server/helpers.js';

const world = useFileRedis('snap');
const { cleanups, newPrefix, bus } = world;

/** A run that completes; its task reported SUCCESS with a result on the way. */
const completedRun = (target: EventBus, projectId: string, nodeId: string, taskId: string) =>
  publishCompletedRun(target, { projectId, nodeId, taskId, progress: { state: 'SUCCESS', progress: 100, result: { ok: true } } });

describe('Redis bus: project state checkpoints', () => {
  it('a checkpoint replaces the stored one only when newer', async () => {
    const a = await bus(newPrefix());
    expect(await a.loadCheckpoint!('p1')).toBeUndefined();
    await a.saveCheckpoint!('p1', 5, '{"v":5}');
    await a.saveCheckpoint!('p1', 3, '{"v":3}');
    expect(await a.loadCheckpoint!('p1')).toEqual({ at_seq: 5, state: '{"v":5}' });
    await a.saveCheckpoint!('p1', 9, '{"v":9}');
    expect(await a.loadCheckpoint!('p1')).toEqual({ at_seq: 9, state: '{"v":9}' });
  });
});

describe('gateway on Redis: snapshot and task status survive a gateway restart', () => {
  it('a restarted gateway (new process: new bus connection) sends the completed node and its take; its history gone, the checkpoint in Redis still has them', async () => {
    const prefix = newPrefix();
    const first = await startGateway(cleanups, { bus: await bus(prefix) });
    const worker = await bus(prefix);
    await completedRun(worker, 'proj-1', 'node-1', 'celery-1');
    // The gateway followed the run live; a graceful stop writes its checkpoint to Redis.
    await first.gateway.projectStates.read('proj-1');
    await first.gateway.shutdown();
    // Everything the stream held is gone (trimmed): only the checkpoint can tell.
    await world.admin.del(`${prefix}stream:proj-1`);

    const second = await startGateway(cleanups, { bus: await bus(prefix) });
    const { client } = await second.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    const snapshot = await client.next('project.snapshot');
    expect(parseFrame(JSON.stringify(snapshot))).toMatchObject({ ok: true });
    expect(snapshot.at_seq).toBe(3);
    expect(snapshot.nodes).toEqual([expect.objectContaining({ node_id: 'node-1', status: 'completed', task_id: 'celery-1' })]);
    expect(snapshot.takes).toEqual([expect.objectContaining({ id: 'take-celery-1', node_id: 'node-1' })]);
  });

  it('a completion published while the only gateway is down: after the restart, the snapshot shows it completed and task.status says SUCCESS', async () => {
    const prefix = newPrefix();
    const worker = await bus(prefix);
    const first = await startGateway(cleanups, { bus: await bus(prefix) });
    await worker.publish('proj-1', { type: 'generation.started', node_id: 'node-1', task_id: 'celery-7' });
    await worker.publish('proj-1', { type: 'task.progress', node_id: 'node-1', task_id: 'celery-7', state: 'PROGRESS', progress: 50 });
    await first.gateway.terminate();
    // Published with no gateway running (plain pub/sub: nobody receives it live).
    await worker.publish('proj-1', { type: 'task.progress', node_id: 'node-1', task_id: 'celery-7', state: 'SUCCESS', progress: 100, result: { take_id: 'take-7' } });
    await worker.publish('proj-1', {
      type: 'generation.completed',
      node_id: 'node-1',
      task_id: 'celery-7',
      output_path: '/media/take-7.png',
      takes: [{ id: 'take-7', take_number: 1, path: '/media/take-7.png', created_at: '2026-01-01T00:00:00.000Z' }],
    });

    const second = await startGateway(cleanups, { bus: await bus(prefix) });
    const { client } = await second.session();
    client.send({ type: 'subscribe', project_id: 'proj-1' });
    client.send({ type: 'query_tasks', task_ids: ['celery-7', 'celery-never'], project_id: 'proj-1', timestamp: new Date().toISOString() });
    const snapshot = await client.next('project.snapshot');
    expect(snapshot.nodes).toEqual([expect.objectContaining({ node_id: 'node-1', status: 'completed', task_id: 'celery-7' })]);
    expect(snapshot.tasks).toEqual([]);
    await client.barrier();
    expect(client.ofType('task.status')).toEqual([
      expect.objectContaining({ task_id: 'celery-7', state: 'SUCCESS', result: { take_id: 'take-7' }, project_id: 'proj-1' }),
      expect.objectContaining({ task_id: 'celery-never', state: 'UNKNOWN' }),
    ]);
  });
});
