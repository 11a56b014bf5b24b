/**
 * Bundle size of the two entries, as a user's bundler would ship them: esbuild, ESM, browser
 * platform, process.env.NODE_ENV = "production", tree-shaken and minified, then gzipped (level 9).
 *
 * - "realistic import": an app entry importing what a canvas uses (the README's API tour);
 * - "whole entry": `export *` of the entry (an upper bound; nothing tree-shaken away).
 *
 * Each is measured twice: "own code" with every package external (only this library's code),
 * and "with dependencies" with Redux Toolkit (and immer, when anything uses it), reselect and valibot bundled in. The peer
 * dependencies (svelte, msw) are always external. Svelte components are compiled with
 * svelte/compiler, as vite-plugin-svelte would.
 */
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { svelteCompile } from './sveltePlugin.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = ['svelte', 'msw'];

export const CORE_REALISTIC = `
import {
  createRealtimeStore, connect, subscribeProject, startGeneration, cancelGeneration,
  selectConnectionStatus, selectNodeVisual, selectActiveGenerationIds, selectTakesByNode,
  selectTaskById, selectAgentActivities, selectHandoffs, selectNarrativeProgress,
} from './src/index.ts';
const store = createRealtimeStore({ url: 'wss://canvas.example.com/ws' });
store.dispatch(connect());
store.dispatch(subscribeProject('proj-1'));
export const api = {
  store, startGeneration, cancelGeneration, selectConnectionStatus, selectNodeVisual,
  selectActiveGenerationIds, selectTakesByNode, selectTaskById, selectAgentActivities,
  selectHandoffs, selectNarrativeProgress,
};
`;

export const SVELTE_REALISTIC = `
import { createRealtimeStore } from './src/index.ts';
import {
  setRealtimeStore, useSelector, fromSelector, ConnectionStatus, NodeStateVisuals, TaskProgress,
  TakesGallery, AgentActivityMonitor, NarrativeProgress, GenerationNode,
} from './src/svelte/index.ts';
export const api = {
  createRealtimeStore, setRealtimeStore, useSelector, fromSelector, ConnectionStatus,
  NodeStateVisuals, TaskProgress, TakesGallery, AgentActivityMonitor, NarrativeProgress, GenerationNode,
};
`;

export interface BundleFigure {
  minified: number;
  gzipped: number;
}

export interface Bundled {
  figure: BundleFigure;
  /**
   * Bytes of the minified output from each input file, by path as esbuild's metafile names it
   * (relative to the working directory). Only files with code left after tree-shaking: a
   * package imported but shaken away entirely (immer, which Redux Toolkit's entry imports) is
   * in the module graph but not here.
   */
  inputs: Record<string, number>;
}

/**
 * Bundles an entry's source (see CORE_REALISTIC) the way measureBundles does: `ownCodeOnly`
 * keeps every package external. For tests: the size, and which files the code came from.
 */
export async function bundleEntry(contents: string, ownCodeOnly: boolean): Promise<Bundled> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    treeShaking: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    external: PEERS.flatMap((name) => [name, `${name}/*`]),
    packages: ownCodeOnly ? 'external' : undefined,
    plugins: [svelteCompile],
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const inputs: Record<string, number> = {};
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0) inputs[path] = (inputs[path] ?? 0) + bytesInOutput;
    }
  }
  return { figure: { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength }, inputs };
}

async function measure(contents: string, ownCodeOnly: boolean): Promise<BundleFigure> {
  return (await bundleEntry(contents, ownCodeOnly)).figure;
}

export interface BundleResult {
  core: { realistic: { own: BundleFigure; withDeps: BundleFigure }; whole: { own: BundleFigure; withDeps: BundleFigure } };
  svelte: { realistic: { own: BundleFigure; withDeps: BundleFigure }; whole: { own: BundleFigure; withDeps: BundleFigure } };
}

export async function measureBundles(): Promise<BundleResult> {
  const coreWhole = `export * from './src/index.ts';`;
  const svelteWhole = `export * from './src/svelte/index.ts';`;
  const [a, b, c, d, e, f, g, h] = await Promise.all([
    measure(CORE_REALISTIC, true),
    measure(CORE_REALISTIC, false),
    measure(coreWhole, true),
    measure(coreWhole, false),
    measure(SVELTE_REALISTIC, true),
    measure(SVELTE_REALISTIC, false),
    measure(svelteWhole, true),
    measure(svelteWhole, false),
  ]);
  return {
    core: { realistic: { own: a, withDeps: b }, whole: { own: c, withDeps: d } },
    svelte: { realistic: { own: e, withDeps: f }, whole: { own: g, withDeps: h } },
  };
}

/** Minified bytes of the core's realistic import (own code), per directory of src/ and per file. */
export async function ownCodeByFile(): Promise<{ byDirectory: Record<string, number>; byFile: Record<string, number> }> {
  const { inputs } = await bundleEntry(CORE_REALISTIC, true);
  const byFile = Object.fromEntries(Object.entries(inputs).sort((a, b) => b[1] - a[1]));
  const byDirectory: Record<string, number> = {};
  for (const [path, bytes] of Object.entries(inputs)) {
    const directory = path.startsWith('src/') ? path.split('/').slice(0, 2).join('/') : path;
    byDirectory[directory] = (byDirectory[directory] ?? 0) + bytes;
  }
  return { byDirectory, byFile };
}

/**
 * Own code (packages external) of parts of the core, each bundled alone: how much of the 10 kB
 * target the state alone takes, before the socket middleware and the parser.
 */
export const CORE_AREAS: Record<string, string> = {
  'wire contract (parseFrame, encodeFrame)': `export { parseFrame, encodeFrame } from './src/protocol/index.ts';`,
  'reducers (realtimeReducer, with the protocol code they use)': `export { realtimeReducer } from './src/slices/rootReducer.ts';`,
  'reducers and the selectors of the realistic import': `export { realtimeReducer } from './src/slices/rootReducer.ts';
export { selectConnectionStatus, selectNodeVisual, selectActiveGenerationIds, selectTakesByNode, selectTaskById, selectAgentActivities, selectHandoffs, selectNarrativeProgress } from './src/selectors/index.ts';`,
  'realistic import': CORE_REALISTIC,
};

export async function ownCodeByArea(): Promise<Record<string, BundleFigure>> {
  const out: Record<string, BundleFigure> = {};
  for (const [name, contents] of Object.entries(CORE_AREAS)) out[name] = (await bundleEntry(contents, true)).figure;
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // --by-file: where the core's own code comes from (minified bytes per file, before gzip, and
  // parts of the core bundled alone, minified and gzipped).
  const byFile = process.argv.includes('--by-file');
  console.log(JSON.stringify(byFile ? { ...(await ownCodeByFile()), byArea: await ownCodeByArea() } : await measureBundles(), null, 2));
}
