/**
 * The story's `client.send(data)`: a frame the outbound contract knows becomes the command that
 * sends it, so it goes the way every command goes (the outbox, a command id, kept while the link
 * is down, resent after a reconnect, deduplicated by an acking backend; subscriptions restored
 * after each reconnect). Anything else is refused with an error and never written to the socket
 * raw: a raw write would be lost while offline, run twice after a retry, and skip validation.
 */
import { encodeFrame, type OutboundFrame, type OutboundFrameOf } from '../protocol/index.js';
import { cancelGeneration, startGeneration, subscribeProject, unsubscribeProject } from '../slices/index.js';

/** The frame types `send` takes. */
export const SENDABLE_TYPES = ['start_generation', 'cancel_generation', 'subscribe', 'unsubscribe'] as const;
export type SendableFrame = Extract<OutboundFrame, { type: (typeof SENDABLE_TYPES)[number] }>;

/** session.init and ping belong to the connection: the client sends them itself. */
const OWN_TYPES = new Set(['session.init', 'ping']);

/**
 * Only checks the frame: the command's own time and id replace these when it is built, so a
 * caller's `timestamp` and `command_id` are not sent (nor is a `last_seq`: the client resumes
 * from the position it applied).
 */
const CHECK_TIMESTAMP = '1970-01-01T00:00:00.000Z';

function refuse(message: string): never {
  throw new TypeError(`WebSocketClient.send: ${message}; nothing was sent`);
}

function asFrame(data: unknown): Record<string, unknown> {
  let frame = data;
  if (typeof data === 'string') {
    try {
      frame = JSON.parse(data);
    } catch {
      refuse('a string must be the JSON text of a frame');
    }
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) refuse('takes a frame object (or its JSON text)');
  return frame as Record<string, unknown>;
}

export type FrameCommand =
  | ReturnType<typeof startGeneration>
  | ReturnType<typeof cancelGeneration>
  | ReturnType<typeof subscribeProject>
  | ReturnType<typeof unsubscribeProject>;

/** The action that sends `data`, or a TypeError saying why it cannot be sent. */
export function commandForFrame(data: unknown): FrameCommand {
  const frame = asFrame(data);
  const type = frame.type;
  if (typeof type !== 'string' || !(SENDABLE_TYPES as readonly string[]).includes(type)) {
    const own = typeof type === 'string' && OWN_TYPES.has(type) ? ` (${type} is the connection's own: the client sends it itself)` : '';
    refuse(`type ${JSON.stringify(type)?.slice(0, 100)} is not a command this client sends${own}; it sends ${SENDABLE_TYPES.join(', ')}`);
  }
  const checked = encodeFrame({ ...frame, timestamp: CHECK_TIMESTAMP, command_id: undefined } as unknown as OutboundFrame);
  if (!checked.ok) refuse(`invalid ${type} frame: ${checked.reason}`);
  switch (type as SendableFrame['type']) {
    case 'start_generation': {
      const f = frame as OutboundFrameOf<'start_generation'>;
      return startGeneration({
        nodeId: f.node_id,
        params: f.params,
        ...(f.context !== undefined && { context: f.context }),
        ...(f.project_id !== undefined && { projectId: f.project_id }),
      });
    }
    case 'cancel_generation': {
      const f = frame as OutboundFrameOf<'cancel_generation'>;
      return cancelGeneration({
        nodeId: f.node_id,
        ...(f.task_id !== undefined && { taskId: f.task_id }),
        ...(f.project_id !== undefined && { projectId: f.project_id }),
      });
    }
    case 'subscribe':
      return subscribeProject((frame as OutboundFrameOf<'subscribe'>).project_id);
    case 'unsubscribe':
      return unsubscribeProject((frame as OutboundFrameOf<'unsubscribe'>).project_id);
  }
}
