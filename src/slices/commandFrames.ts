/**
 * The outbound frame each command becomes. Pure: the time comes from the command's payload, so
 * the outbox (state) and the socket (middleware) build the very same frame.
 */
import type { OutboundFrameOf } from '../protocol/index.js';
import type { cancelGeneration, startGeneration } from './commands.js';

export type CommandFrame = OutboundFrameOf<'start_generation'> | OutboundFrameOf<'cancel_generation'>;

export function startGenerationFrame(payload: ReturnType<typeof startGeneration>['payload']): CommandFrame {
  return {
    type: 'start_generation',
    node_id: payload.nodeId,
    params: payload.params as OutboundFrameOf<'start_generation'>['params'],
    ...(payload.context !== undefined && { context: payload.context }),
    ...(payload.projectId !== undefined && { project_id: payload.projectId }),
    command_id: payload.commandId,
    timestamp: new Date(payload.requestedAt).toISOString(),
  };
}

export function cancelGenerationFrame(payload: ReturnType<typeof cancelGeneration>['payload']): CommandFrame {
  return {
    type: 'cancel_generation',
    node_id: payload.nodeId,
    ...(payload.taskId !== undefined && { task_id: payload.taskId }),
    ...(payload.projectId !== undefined && { project_id: payload.projectId }),
    command_id: payload.commandId,
    timestamp: new Date(payload.requestedAt).toISOString(),
  };
}
