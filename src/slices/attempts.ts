/**
 * Celery runs one task id more than once, and each run is an attempt of its own:
 * - `self.retry()` reports RETRY, then the retried run reports STARTED and PROGRESS from 0;
 * - a worker killed under `acks_late` + `reject_on_worker_lost` has its task redelivered with the
 *   same id: STARTED again after PROGRESS.
 * A new attempt's progress, step and message replace the old attempt's, down as well as up.
 * Within one attempt progress never goes backwards, and a late PENDING changes nothing.
 */
import type { CeleryState } from '../protocol/index.js';

/** True when a frame in state `next` begins a new attempt of a task last seen in `previous`. */
export function startsNewAttempt(previous: CeleryState | undefined, next: CeleryState): boolean {
  if (previous === 'RETRY') return next === 'STARTED' || next === 'PROGRESS';
  return previous === 'PROGRESS' && next === 'STARTED';
}

/** The terminal Celery state a finished node status stands for (a snapshot's node, its run's task). */
export const TERMINAL_STATE_OF: Partial<Record<string, CeleryState>> = { completed: 'SUCCESS', error: 'FAILURE', cancelled: 'REVOKED' };
