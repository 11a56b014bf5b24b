/**
 * The pipeline simulator: publishes onto the bus exactly what Celery workers and the agent
 * system would, in response to start_generation / cancel_generation, plus the project activity
 * that arrives from elsewhere (structure changes, Git commits, narrative progress).
 * Deterministic for a seed; `speed` scales every delay (2 = twice as fast).
 */
import { randomBytes } from 'node:crypto';
import { isSafeKey, type OutboundFrameOf } from '../../src/protocol/index.js';
import type { EventBus } from '../bus/types.js';
import type { CommandContext } from '../gateway.js';
import { retireLostRuns } from './lostRuns.js';
import { planGeneration, type Frame, type Plan } from './plan.js';
import { seededRandom } from './random.js';

export const LOST_RUN_REVOKED = 'Cancelled: this run was lost when the worker restarted';

export interface SimulatorOptions {
  bus: EventBus;
  seed?: number;
  speed?: number;
  /** Chance that a run fails at random; default 0 (a prompt with the word "fail" always fails). */
  failureRate?: number;
  /** Publish background project activity (structure.changed, git.*) every this many ms at speed 1; 0 = never. Default 9000. */
  ambientEveryMs?: number;
  /**
   * Part of every task and take id (see PlanOptions.boot). Default: random per simulator, so ids
   * differ across server restarts even for the same seed; tests pin it for deterministic ids.
   */
  boot?: string;
  log?: (message: string) => void;
}

interface Run {
  plan: Plan;
  projectId: string;
  index: number;
  timer?: ReturnType<typeof setTimeout>;
}

export interface Simulator {
  handleCommand(frame: OutboundFrameOf<'start_generation'> | OutboundFrameOf<'cancel_generation'>, context: CommandContext): void;
  /** Runs under way, by node id. */
  activeRuns(): string[];
  /**
   * Resolves once the runs of a previous process found on a restored bus are retired
   * (./lostRuns.ts), with how many; 0 at once on a bus that does not list its projects.
   */
  recovered: Promise<number>;
  stop(): void;
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const bus = options.bus;
  const seed = options.seed ?? 2026;
  const speed = options.speed ?? 1;
  const log = options.log ?? (() => {});
  const boot = options.boot ?? randomBytes(3).toString('hex');
  const runs = new Map<string, Run>();
  const runCounts = new Map<string, number>();
  const projects = new Set<string>();
  const ambientRandom = seededRandom(seed ^ 0x5eed);
  let stopped = false;

  const publish = (projectId: string, frame: Frame) => {
    const stamped: Frame = { ...frame, timestamp: new Date().toISOString() };
    if (stamped.type === 'generation.completed' && Array.isArray(stamped.takes)) {
      stamped.takes = (stamped.takes as Array<Record<string, unknown>>).map((take) => ({ ...take, created_at: stamped.timestamp }));
    }
    return bus.publish(projectId, stamped).catch((error: unknown) => log(`simulator: publish failed: ${(error as Error).message}`));
  };

  function step(nodeId: string) {
    const run = runs.get(nodeId);
    if (!run || stopped) return;
    const planned = run.plan.frames[run.index];
    if (!planned) {
      runs.delete(nodeId);
      return;
    }
    run.index += 1;
    // The story reaches the shot's beat just before its take arrives (a take for a beat "not
    // reached yet" would contradict itself), both narrative frames at once: no other run's
    // narrative comes between them.
    if (planned.frame.type === 'generation.completed') for (const frame of run.plan.narrative) void publish(run.projectId, frame);
    void publish(run.projectId, planned.frame);
    const next = run.plan.frames[run.index];
    run.timer = setTimeout(() => step(nodeId), next ? next.delayMs / speed : 0);
  }

  /** Stops the node's run (REVOKED); false when it runs nothing for the node. */
  function cancel(nodeId: string): boolean {
    const run = runs.get(nodeId);
    if (!run) return false;
    clearTimeout(run.timer);
    runs.delete(nodeId);
    void publish(run.projectId, { type: 'task.progress', task_id: run.plan.task_id, node_id: nodeId, state: 'REVOKED', message: 'Cancelled by the user' });
    return true;
  }

  const ambientEvery = options.ambientEveryMs ?? 9_000;
  let ambientCount = 0;
  const ambient =
    ambientEvery > 0
      ? setInterval(() => {
          for (const projectId of projects) {
            ambientCount += 1;
            const kind = ambientRandom();
            if (kind < 0.5) {
              void publish(projectId, {
                type: 'structure.changed',
                project_id: projectId,
                changes: { added: [`shots/P${String(ambientCount).padStart(3, '0')}.json`], modified: ['storyboard.json'], deleted: [] },
              });
            } else {
              void publish(projectId, {
                type: 'git.commit',
                project_id: projectId,
                ref: 'main',
                message: `Storyboard revision ${ambientCount}`,
                author: ['ana@studio', 'li@studio', 'sam@studio'][ambientCount % 3],
              });
            }
          }
        }, ambientEvery / speed)
      : undefined;
  ambient?.unref?.();

  const recovered = retireLostRuns(
    bus,
    (projectId, frame) => (stopped ? Promise.resolve() : publish(projectId, frame)),
    (taskId) => Array.from(runs.values()).some((run) => run.plan.task_id === taskId),
    log,
  ).catch((error: unknown) => {
    log(`simulator: retiring the runs of the previous process failed: ${(error as Error).message}`);
    return 0;
  });

  return {
    recovered,
    handleCommand(frame, context) {
      if (stopped) return;
      projects.add(context.projectId);
      if (frame.type === 'cancel_generation') {
        // A cancel of a run the gateway saw running that this worker does not have (it died
        // with a previous process) ends that run for everyone: its REVOKED. A node the gateway
        // knew no run of was answered by the gateway itself.
        if (!cancel(frame.node_id) && typeof context.runningTaskId === 'string' && isSafeKey(context.runningTaskId)) {
          void publish(context.projectId, { type: 'task.progress', task_id: context.runningTaskId, node_id: frame.node_id, state: 'REVOKED', message: LOST_RUN_REVOKED });
        }
        return;
      }
      // A new start for a node already running replaces that run.
      cancel(frame.node_id);
      const run = (runCounts.get(frame.node_id) ?? 0) + 1;
      runCounts.set(frame.node_id, run);
      const plan = planGeneration(
        { node_id: frame.node_id, params: frame.params as never, context: frame.context, command_id: frame.command_id },
        { seed, run, failureRate: options.failureRate, boot },
      );
      runs.set(frame.node_id, { plan, projectId: context.projectId, index: 0 });
      log(`simulator: ${frame.node_id} run ${run} -> ${plan.outcome} (${plan.frames.length} frames)`);
      step(frame.node_id);
    },
    activeRuns: () => Array.from(runs.keys()),
    stop() {
      stopped = true;
      if (ambient) clearInterval(ambient);
      for (const run of runs.values()) clearTimeout(run.timer);
      runs.clear();
    },
  };
}
