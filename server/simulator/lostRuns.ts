/**
 * Worker lost: a simulator started on a bus restored from its file (a `kill -9` and a restart of
 * `npm start`) finds runs that the project state shows unfinished. They belonged to the previous
 * process, which is gone, so nobody will finish them: each gets what Celery reports for a task
 * whose worker died (WorkerLostError), a FAILURE and a generation.error, and the agents still
 * working are completed, so no node or agent is left spinning and Generate works again.
 *
 * Only for a bus whose every worker is this process (the memory bus, which lists its projects):
 * on Redis other workers may still be running those tasks.
 */
import { allEntities, type RealtimeState } from '../../src/slices/index.js';
import type { EventBus } from '../bus/types.js';
import { createProjectStates } from '../state/projectStates.js';
import type { Frame } from './plan.js';

export const WORKER_LOST = 'The worker was lost when the server restarted';

const UNFINISHED = new Set(['PENDING', 'STARTED', 'PROGRESS', 'RETRY']);

/** The frames that retire the project's unfinished runs (none when it has none). */
export function lostRunFrames(state: RealtimeState): Frame[] {
  const lost = new Map<string, string | undefined>();
  for (const task of allEntities(state.tasks)) if (UNFINISHED.has(task.state)) lost.set(task.task_id, task.node_id);
  // A node that shows a run the tasks table does not (only generation.started was seen).
  for (const node of allEntities(state.nodes)) if (node.status === 'generating' && node.task_id && !lost.has(node.task_id)) lost.set(node.task_id, node.node_id);
  const frames: Frame[] = [];
  for (const [task_id, node_id] of lost) {
    frames.push({ type: 'task.progress', task_id, ...(node_id ? { node_id } : {}), state: 'FAILURE', message: WORKER_LOST, result: { exc_type: 'WorkerLostError', exc_message: WORKER_LOST } });
    if (node_id) {
      frames.push({ type: 'generation.error', node_id, task_id, error: WORKER_LOST, message: 'Generate again to start a new run.' });
    }
  }
  // Every agent still working worked for the previous process (this bus has no other worker).
  for (const agent of allEntities(state.agents)) {
    if (agent.status === 'working' && agent.task_id) frames.push({ type: 'agent.completed', agent_type: agent.agent_type, task_id: agent.task_id, ...(agent.node_id ? { node_id: agent.node_id } : {}), output: { note: WORKER_LOST } });
  }
  return frames;
}

/**
 * Publishes the lost-run frames of every project the bus holds. `running(taskId)`: a run this
 * process started meanwhile (a command that arrived during the scan), which is not lost.
 */
export async function retireLostRuns(bus: EventBus, publish: (projectId: string, frame: Frame) => Promise<unknown>, running: (taskId: string) => boolean, log: (line: string) => void) {
  if (!bus.projectIds) return 0;
  const states = createProjectStates({ bus, log });
  let retired = 0;
  for (const projectId of await bus.projectIds()) {
    const { state } = await states.read(projectId);
    for (const frame of lostRunFrames(state)) {
      if (typeof frame.task_id === 'string' && running(frame.task_id)) continue;
      if (frame.type === 'generation.error') retired += 1;
      await publish(projectId, frame);
    }
  }
  if (retired > 0) log(`simulator: ${retired} run(s) of the previous process retired (${WORKER_LOST})`);
  return retired;
}
