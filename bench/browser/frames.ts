/**
 * Pure helpers of the browser latency benchmark (bench/browserLatency.ts), shared by the Node
 * side and the page (bench/browser/page.ts), and unit-tested in test/bench/browserLatency.test.ts.
 *
 * Frame k is a task.progress frame whose `current_step` is k and whose message reads
 * "frame k": the page's TaskProgress shows that message, so the DOM text names the frame. The
 * middleware reduces the frames that arrived in one tick as one action, so the DOM may skip
 * frames: frame k counts as shown when the DOM first shows k or a later frame.
 */

/** The message TaskProgress renders for frame k. */
export const frameMessage = (k: number) => `frame ${k}`;

/** Frame k of `total` for task `taskId`: a PROGRESS frame as a Celery worker sends one per step. */
export function progressFrame(taskId: string, nodeId: string, k: number, total: number) {
  return {
    type: 'task.progress' as const,
    task_id: taskId,
    node_id: nodeId,
    state: 'PROGRESS' as const,
    progress: Math.min(99, Math.floor((k * 100) / total)),
    step: 'Denoising',
    current_step: k,
    total_steps: total,
    message: frameMessage(k),
    timestamp: new Date().toISOString(),
  };
}

const MESSAGE = /^frame (\d+)$/;
const RAW_STEP = /"current_step":(\d+)/;

/** The frame a rendered message names (`frame k`), else undefined. */
export function frameOfMessage(text: string | null | undefined): number | undefined {
  const match = text ? MESSAGE.exec(text.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

/** The frame a raw WebSocket message carries (its current_step), without parsing the JSON. */
export function frameOfRaw(data: unknown): number | undefined {
  if (typeof data !== 'string') return undefined;
  const match = RAW_STEP.exec(data);
  return match ? Number(match[1]) : undefined;
}

export interface Matched {
  /** Latency (ms) of each frame first..first+sentAt.length-1 that the DOM showed, in frame order. */
  latencies: number[];
  /** When the DOM showed each of those frames (or a later one), in frame order. */
  shownAtOf: number[];
  /** Frames the DOM never showed (neither them nor any later frame). */
  unmatched: number;
  /** DOM updates that showed a frame of the range (each one settles one or more frames). */
  updates: number;
}

/**
 * Matches frames to DOM updates: `sentAt[i]` is when frame first + i was sent; `shownK[j]` the
 * frame the DOM showed at `shownAt[j]` (in the order the page recorded them; a frame may be
 * skipped, never shown twice). Frame k's latency is the time of the first update showing k or
 * later, minus its send time. Updates outside the range (warm-up frames) are ignored.
 */
export function matchLatencies(first: number, sentAt: ArrayLike<number>, shownK: ArrayLike<number>, shownAt: ArrayLike<number>): Matched {
  const count = sentAt.length;
  const last = first + count - 1;
  const latencies: number[] = [];
  const shownAtOf: number[] = [];
  let next = first; // the first frame not yet settled
  let updates = 0;
  for (let j = 0; j < shownK.length && next <= last; j++) {
    const k = shownK[j]!;
    if (k < next) continue;
    updates += 1;
    const settled = Math.min(k, last);
    for (; next <= settled; next++) {
      latencies.push(shownAt[j]! - sentAt[next - first]!);
      shownAtOf.push(shownAt[j]!);
    }
  }
  return { latencies, shownAtOf, unmatched: last - next + 1, updates };
}

/**
 * Estimates the offset between two clocks from round trips: each sample is a local time before
 * and after asking, and the remote time in between. The sample with the shortest round trip
 * gives offset = remote - midpoint, good to within half that round trip (assuming nothing of the
 * asymmetry of the two legs).
 */
export function clockOffset(samples: ReadonlyArray<{ before: number; remote: number; after: number }>): { offset: number; roundTrip: number } {
  let best: { offset: number; roundTrip: number } | undefined;
  for (const { before, remote, after } of samples) {
    const roundTrip = after - before;
    if (!best || roundTrip < best.roundTrip) best = { offset: remote - (before + after) / 2, roundTrip };
  }
  if (!best) throw new Error('clockOffset needs at least one sample');
  return best;
}
