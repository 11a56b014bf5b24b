/**
 * The closed vocabularies of the wire format. Each is a readonly tuple so that one list gives
 * both the TypeScript union and the runtime schema (see ./inbound.ts).
 */

/** Celery's real task states, as its result backend reports them. */
export const CELERY_STATES = [
  'PENDING',
  'STARTED',
  'PROGRESS',
  'SUCCESS',
  'FAILURE',
  'RETRY',
  'REVOKED',
] as const;
export type CeleryState = (typeof CELERY_STATES)[number];

/** States after which Celery never reports anything else for the same task id. */
export const TERMINAL_CELERY_STATES: readonly CeleryState[] = ['SUCCESS', 'FAILURE', 'REVOKED'];

export function isTerminalCeleryState(state: CeleryState): boolean {
  return state === 'SUCCESS' || state === 'FAILURE' || state === 'REVOKED';
}

/** The seven creative agents of the filmmaking pipeline, in their usual hand-off order. */
export const AGENT_TYPES = [
  'Producer',
  'Screenwriter',
  'CastingDirector',
  'ArtDirector',
  'Cinematographer',
  'SoundDesigner',
  'Editor',
] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

/** Node statuses the backend sends in node.state_changed. */
export const WIRE_NODE_STATUSES = ['idle', 'generating', 'completed', 'error'] as const;
export type WireNodeStatus = (typeof WIRE_NODE_STATUSES)[number];

/** Node statuses a project.snapshot reports: the wire ones plus the end of a cancelled run. */
export const SNAPSHOT_NODE_STATUSES = ['idle', 'generating', 'completed', 'error', 'cancelled'] as const;
export type SnapshotNodeStatus = (typeof SNAPSHOT_NODE_STATUSES)[number];

/** What task.status can answer: Celery's states, or UNKNOWN for a task the backend never heard of. */
export const TASK_STATUS_STATES = [...CELERY_STATES, 'UNKNOWN'] as const;
export type TaskStatusState = (typeof TASK_STATUS_STATES)[number];

/** An agent's status in a project.snapshot. */
export const SNAPSHOT_AGENT_STATUSES = ['idle', 'working', 'completed'] as const;

export const STRUCTURE_TYPES = ['three-act', 'hero-journey', 'beat-sheet', 'story-circle'] as const;
export type StructureType = (typeof STRUCTURE_TYPES)[number];

export const QUALITY_PRESETS = ['low', 'standard', 'high'] as const;
export type QualityPreset = (typeof QUALITY_PRESETS)[number];

/**
 * Optional features a backend announces in session.init / session.restored. A backend that
 * announces none speaks only the story's frames, and the client asks nothing more of it.
 */
export const CAPABILITIES = ['ack', 'seq', 'replay', 'snapshot', 'task_status'] as const;
export type Capability = (typeof CAPABILITIES)[number];
