/**
 * A cancel_generation for a node with no running task is answered, never with silence: the
 * gateway reads the project's state (server/state/projectStates.ts) and answers the asking client
 * after the ack, while the cancel still goes to the workers (with the running task it knows).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../server/gateway.js';
import { NOTHING_TO_CANCEL } from '../../server/gateway.js';
import { parseFrame } from '../../src/protocol/index.js';
import { cleanupStack, startGateway, type Frame } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

const cancel = (nodeId: string, commandId?: string) => ({
  type: 'cancel_generation',
  node_id: nodeId,
  project_id: 'proj-1',
  ...(commandId && { command_id: commandId }),
  timestamp: new Date().toISOString(),
});

async function setup() {
  const calls: Array<{ frame: Frame; context: CommandContext }> = [];
  const gw = await startGateway(cleanups, { onCommand: (frame, context) => void calls.push({ frame, context: { ...context } }) });
  const { client } = await gw.session();
  return { gw, client, calls };
}

describe('gateway: a cancel of a run it does not know as running is answered', () => {
  it('a node never heard of: ack, then node.state_changed idle "Nothing to cancel" to that client; the cancel still reaches the workers', async () => {
    const { client, calls } = await setup();
    client.send(cancel('node-x', 'cmd-c1'));
    const answer = await client.next('node.state_changed');
    const ackAt = client.frames.findIndex((f) => f.type === 'ack');
    expect(ackAt).toBeGreaterThanOrEqual(0);
    expect(ackAt).toBeLessThan(client.frames.indexOf(answer));
    expect(client.frames[ackAt]).toMatchObject({ command_id: 'cmd-c1', status: 'accepted' });
    expect(answer).toMatchObject({ node_id: 'node-x', status: 'idle', message: NOTHING_TO_CANCEL, project_id: 'proj-1' });
    expect(answer.seq).toBeUndefined();
    expect(parseFrame(JSON.stringify(answer))).toMatchObject({ ok: true, kind: 'event' });
    expect(calls.map((c) => [c.frame.type, c.context.runningTaskId])).toEqual([['cancel_generation', undefined]]);
  });

  it('a cancel without command_id is answered too', async () => {
    const { client } = await setup();
    client.send(cancel('node-y'));
    expect(await client.next('node.state_changed')).toMatchObject({ node_id: 'node-y', status: 'idle' });
  });

  it('a node whose last run finished: its final status and task id (the run is over), not idle', async () => {
    const { gw, client } = await setup();
    await gw.bus.publish('proj-1', { type: 'generation.started', node_id: 'node-1', task_id: 'celery-t1' });
    await gw.bus.publish('proj-1', { type: 'task.progress', node_id: 'node-1', task_id: 'celery-t1', state: 'SUCCESS', progress: 100 });
    await gw.bus.publish('proj-1', {
      type: 'generation.completed',
      node_id: 'node-1',
      task_id: 'celery-t1',
      output_path: '/media/node-1/take-1.png',
      takes: [{ id: 'take-1', take_number: 1, path: '/media/node-1/take-1.png', created_at: '2026-01-01T00:00:00.000Z' }],
    });
    client.send(cancel('node-1', 'cmd-c2'));
    const answer = await client.next('node.state_changed');
    expect(answer).toMatchObject({ node_id: 'node-1', task_id: 'celery-t1', status: 'completed', output_path: '/media/node-1/take-1.png', project_id: 'proj-1' });
    expect(parseFrame(JSON.stringify(answer))).toMatchObject({ ok: true, kind: 'event' });
  });

  it('a node generating: no answer from the gateway; the workers get the cancel with the running task id', async () => {
    const { gw, client, calls } = await setup();
    await gw.bus.publish('proj-1', { type: 'generation.started', node_id: 'node-2', task_id: 'celery-t2' });
    await gw.bus.publish('proj-1', { type: 'task.progress', node_id: 'node-2', task_id: 'celery-t2', state: 'PROGRESS', progress: 40 });
    client.send(cancel('node-2', 'cmd-c3'));
    await client.next('ack');
    await client.barrier();
    expect(client.ofType('node.state_changed')).toEqual([]);
    expect(calls.map((c) => [c.frame.node_id, c.context.runningTaskId])).toEqual([['node-2', 'celery-t2']]);
  });
});
