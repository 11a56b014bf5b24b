/**
 * Sizes of the reliability suites, and where their figures go.
 *
 * RELIABILITY_SCALE=ci (default): reduced sizes for CI (`npm run test:reliability`), still large
 * enough to find the bugs the full runs found. RELIABILITY_SCALE=full: the sizes the issue asks
 * for (`npm run test:soak`). Any other value is an error, so a typo never runs the wrong size.
 *
 * Every suite reports its figures with `report(name, figures)`: printed, and written to
 * test-results/reliability/<scale>/<name>.json (git-ignored) for docs/RELIABILITY.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Scale = 'ci' | 'full';

function readScale(): Scale {
  const value = process.env.RELIABILITY_SCALE ?? 'ci';
  if (value !== 'ci' && value !== 'full') {
    throw new Error(`RELIABILITY_SCALE must be "ci" or "full" (got ${JSON.stringify(value)})`);
  }
  return value;
}

export const SCALE: Scale = readScale();

/** The ci value, or the full one. */
export function sized<T>(ci: T, full: T): T {
  return SCALE === 'full' ? full : ci;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function machine() {
  return {
    scale: SCALE,
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** Prints the figures and writes them to test-results/reliability/<scale>/<name>.json. */
export function report(name: string, figures: Record<string, unknown>): void {
  const file = join(ROOT, 'test-results', 'reliability', SCALE, `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const body = { name, ...machine(), figures };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  console.log(`[reliability:${SCALE}] ${name}\n${JSON.stringify(figures, null, 2)}`);
}

/**
 * Runs `body` with Redux Toolkit's development checks (immutability, serializability) off, as a
 * production build runs: stores created inside keep them off.
 */
export function asProduction<T>(body: () => T): T {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    return body();
  } finally {
    process.env.NODE_ENV = previous;
  }
}
