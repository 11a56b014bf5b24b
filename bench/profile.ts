/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function, highest first.
 *
 *   npx tsx bench/profile.ts file.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface SelfTime {
  function: string;
  where: string;
  ms: number;
  percent: number;
}

/** Bundled sources keep their module path in esbuild's "// src/x.ts" comments; name by file. */
function locate(url: string, line: number, sources: Map<string, string[]>): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!path.endsWith('.mjs') || !path.includes('.build')) return `${path.split('/').slice(-2).join('/')}:${line + 1}`;
  let lines = sources.get(path);
  if (!lines) {
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sources.set(path, lines);
  }
  for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
    const match = /^\/\/ (.+\.(?:ts|mjs|js))$/.exec(lines[i]!);
    if (match) return match[1]!.replace(/^node_modules\//, '').replace(/^\.\.\//, '');
  }
  return `${path.split('/').pop()}:${line + 1}`;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time per function. */
  functions: SelfTime[];
  /**
   * Time per function of this library (src/), including everything it calls outside src/
   * (valibot, reselect, Redux): each sample goes to its nearest src/ frame.
   */
  bySource: SelfTime[];
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sources = new Map<string, string[]>();
  const whereOf = new Map<number, string>();
  const where = (id: number) => {
    let w = whereOf.get(id);
    if (w === undefined) {
      const node = byId.get(id)!;
      w = locate(node.callFrame.url, node.callFrame.lineNumber, sources);
      whereOf.set(id, w);
    }
    return w;
  };
  const self = new Map<string, { fn: string; where: string; us: number }>();
  const owned = new Map<string, { fn: string; where: string; us: number }>();
  const add = (map: typeof self, fn: string, w: string, us: number) => {
    const key = `${fn}\u0000${w}`;
    const entry = map.get(key) ?? { fn, where: w, us: 0 };
    entry.us += us;
    map.set(key, entry);
  };
  // The profiler's own calls (Profiler.start and stop, sent through node:inspector from the
  // scenario) are sampled too: left out, they are not the live path's time.
  const inspectorOf = new Map<number, boolean>();
  const underInspector = (id: number): boolean => {
    let known = inspectorOf.get(id);
    if (known === undefined) {
      const up = parent.get(id);
      known = byId.get(id)!.callFrame.url.startsWith('node:inspector') || (up !== undefined && underInspector(up));
      inspectorOf.set(id, known);
    }
    return known;
  };
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (underInspector(id)) return;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const node = byId.get(id)!;
    add(self, node.callFrame.functionName || '(anonymous)', where(id), us);
    let owner: number | undefined = id;
    while (owner !== undefined && !where(owner).startsWith('src/')) owner = parent.get(owner);
    const o = byId.get(owner ?? id)!;
    add(owned, o.callFrame.functionName || '(anonymous)', where(owner ?? id), us);
  });
  const list = (map: typeof self) =>
    [...map.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({ function: entry.fn, where: entry.where, ms: Math.round(entry.us / 100) / 10, percent: Math.round((entry.us / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), functions: list(self), bySource: list(owned) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const summary = summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 30));
  console.log(`self time (${summary.totalMs} ms)`);
  for (const f of summary.functions) console.log(`${f.percent.toFixed(1).padStart(5)}% ${f.ms.toFixed(0).padStart(7)} ms  ${f.function}  ${f.where}`);
  console.log('\nby function of src/ (with what it calls outside src/)');
  for (const f of summary.bySource) console.log(`${f.percent.toFixed(1).padStart(5)}% ${f.ms.toFixed(0).padStart(7)} ms  ${f.function}  ${f.where}`);
}
