/**
 * From raw inbound data to the action that records it. Shared by the socket middleware and
 * replayFrames so that live traffic and recorded logs go through the same validation.
 */
import { parseFrame, type InboundFrame, type ParseOptions, type UnknownFrame } from '../protocol/index.js';
import { frameRejected, toFrameAction, unknownFrameReceived, type IngestAction } from './frameEvents.js';

export interface Ingested {
  action: IngestAction;
  /** The frame for listeners: a valid frame, or an unknown type kept for forward compatibility. */
  frame?: InboundFrame | UnknownFrame;
}

export function ingestFrame(raw: unknown, receivedAt: number, options?: ParseOptions): Ingested {
  const parsed = parseFrame(raw, options);
  if (!parsed.ok) {
    return {
      action: frameRejected({ reason: parsed.reason, detail: parsed.detail, type: parsed.type, receivedAt }),
    };
  }
  if (parsed.kind === 'unknown') {
    return { action: unknownFrameReceived({ type: parsed.frame.type, receivedAt }), frame: parsed.frame as UnknownFrame };
  }
  return { action: toFrameAction(parsed.frame, receivedAt), frame: parsed.frame };
}
