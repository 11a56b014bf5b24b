/**
 * What the browser latency benchmark (bench/browserLatency.ts) returns, and how it is printed:
 * kept apart so that bench/run.ts reads it without loading the server or the browser driver.
 */
import type { Percentiles } from '../latency.js';

export interface BrowserLatencyOptions {
  runs: number;
  warmupFrames: number;
  frames: number;
  /** Frames per second. */
  rate: number;
  /** Longest wait for any page condition. */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Receives each run's raw record (send times, arrivals, DOM updates), for a closer look. */
  dump?: unknown[];
}

export interface BrowserLatencyRun {
  rate: number;
  achievedRate: number;
  frames: number;
  /** Gateway send to the DOM showing the frame (or a later one). */
  dom: Percentiles;
  /** Gateway send to the page's WebSocket message event. */
  arrival: Percentiles;
  /** The page's WebSocket message event to the DOM update (one clock, the page's). */
  inPage: Percentiles;
  /** DOM updates during the measured frames (frames per update: the coalescing). */
  domUpdates: number;
  /** Frames whose DOM update was never seen (0 expected). */
  unmatched: number;
  /** Page clock minus this process's clock, as estimated, and the round trip it was estimated over. */
  clock: { offset: number; roundTrip: number };
}

export interface BrowserLatencyResult {
  /** Why it did not run (no Chromium). */
  skipped?: string;
  /** Why it failed (set by bench/run.ts when the child process failed). */
  failed?: string;
  browser?: string;
  options: Omit<BrowserLatencyOptions, 'log' | 'dump'>;
  runs: BrowserLatencyRun[];
  /** Index in `runs` of the median run, by DOM p99. */
  median?: number;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

/** The result as markdown table rows (what bench/run.ts prints too). */
export function browserLatencyLines(result: BrowserLatencyResult): string[] {
  if (result.failed) return [`Browser latency: ${result.failed}.`];
  if (result.skipped) return [`Browser latency: skipped (${result.skipped}).`];
  const lines = [
    `| browser latency (headless ${result.browser ?? 'Chromium'}) | run | p50 | p90 | p99 | max | samples |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  result.runs.forEach((run, i) => {
    const mark = i === result.median && result.runs.length > 1 ? ` ${i + 1} (median)` : ` ${i + 1}`;
    const rate = `steady ${run.rate} frames/s (achieved ${run.achievedRate}/s)`;
    lines.push(`| ${rate}, gateway send to DOM update |${mark} | ${ms(run.dom.p50)} | ${ms(run.dom.p90)} | ${ms(run.dom.p99)} | ${ms(run.dom.max)} | ${run.dom.count} |`);
    lines.push(`| ${rate}, gateway send to WebSocket message event |${mark} | ${ms(run.arrival.p50)} | ${ms(run.arrival.p90)} | ${ms(run.arrival.p99)} | ${ms(run.arrival.max)} | ${run.arrival.count} |`);
    lines.push(`| ${rate}, WebSocket message event to DOM update (page clock only) |${mark} | ${ms(run.inPage.p50)} | ${ms(run.inPage.p90)} | ${ms(run.inPage.p99)} | ${ms(run.inPage.max)} | ${run.inPage.count} |`);
  });
  lines.push('');
  lines.push(
    `One TaskProgress on the real store, page served by the reference gateway on loopback; ${result.options.warmupFrames} warm-up frames, then ${result.options.frames} measured, per run. ` +
      result.runs
        .map(
          (run, i) =>
            `Run ${i + 1}: ${run.domUpdates} DOM updates for ${run.frames} frames${run.unmatched ? ` (${run.unmatched} never shown)` : ''}, ` +
            `clock check page - Node ${run.clock.offset >= 0 ? '+' : ''}${run.clock.offset.toFixed(2)} ms ± ${(run.clock.roundTrip / 2).toFixed(2)} ms.`,
        )
        .join(' '),
  );
  return lines;
}
