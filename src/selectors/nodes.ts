import { getEntity, type NodeRecord, type NodeStatus, type RealtimeState } from '../slices/index.js';
import { createRealtimeSelector } from './base.js';

export const selectNodeById = (state: RealtimeState, nodeId: string): NodeRecord | undefined => getEntity(state.nodes, nodeId);

/** Ids of nodes generating now; the same array until a node starts or stops. */
export const selectActiveGenerationIds = (state: RealtimeState): readonly string[] => state.nodes.generating_ids;

export const selectIsNodeGenerating = (state: RealtimeState, nodeId: string): boolean =>
  getEntity(state.nodes, nodeId)?.status === 'generating';

export interface NodeVisual {
  status: NodeStatus;
  /** Border style to draw: one per status. */
  border: NodeStatus;
  /** Pulse the border (generating). */
  pulse: boolean;
  showSpinner: boolean;
  /** 0..100, rounded. */
  progress: number;
  /** "42%" while generating, else undefined. */
  progressText?: string;
  /** "Step 3 of 30: Denoising" when the backend reports steps, else its message. */
  stepText?: string;
  message?: string;
  error?: string;
  /** Safe URL of the latest output, shown once completed. */
  thumbnail?: string;
  /** Waiting for the backend to answer a start or cancel. */
  pending?: 'start' | 'cancel';
  canGenerate: boolean;
  canCancel: boolean;
}

const IDLE: NodeVisual = Object.freeze({
  status: 'idle',
  border: 'idle',
  pulse: false,
  showSpinner: false,
  progress: 0,
  canGenerate: true,
  canCancel: false,
}) as NodeVisual;

export function stepText(node: Pick<NodeRecord, 'step' | 'current_step' | 'total_steps' | 'message'>): string | undefined {
  if (node.step !== undefined) {
    if (node.current_step !== undefined && node.total_steps !== undefined) {
      return `Step ${node.current_step} of ${node.total_steps}: ${node.step}`;
    }
    return node.step;
  }
  return node.message;
}

/** Everything a node card draws, derived from the node record; memoized per node. */
export const selectNodeVisual = createRealtimeSelector([selectNodeById], (node): NodeVisual => {
  if (!node) return IDLE;
  const generating = node.status === 'generating';
  const progress = Math.round(node.progress);
  return {
    status: node.status,
    border: node.status,
    pulse: generating,
    showSpinner: generating || node.pending?.kind === 'start',
    progress,
    progressText: generating ? `${progress}%` : undefined,
    stepText: generating ? stepText(node) : undefined,
    message: node.message,
    error: node.status === 'error' ? node.error : undefined,
    thumbnail: node.status === 'completed' ? node.thumbnail : undefined,
    pending: node.pending?.kind,
    canGenerate: !generating && node.pending === undefined,
    canCancel: generating && node.pending?.kind !== 'cancel',
  };
});
