/**
 * The store as a browser app's bundler ships it: esbuild, browser platform, process.env.NODE_ENV
 * replaced (as Vite, webpack and esbuild do), run in a fresh context that has a `window` with
 * the Redux DevTools extension but no `process` (node:vm). The production build must leave
 * DevTools off and the state unfrozen, the development build must freeze it, and a production
 * bundle must not carry the development-only checks.
 */
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const ENTRY = `
import { createRealtimeStore, framesToActions, getEntity } from './src/index.ts';
export function probe() {
  const store = createRealtimeStore({ url: 'ws://127.0.0.1:1/ws', autoConnect: false });
  const frame = { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 5 };
  for (const action of framesToActions([frame])) store.dispatch(action);
  const state = store.getState();
  const node = getEntity(state.nodes, 'n1');
  store.dispose();
  return { applied: state.frames.applied, frozen: [Object.isFrozen(state.nodes), Object.isFrozen(node)] };
}
`;

interface Probe {
  applied: number;
  frozen: boolean[];
}

/** Bundles ENTRY with `define` for process.env.NODE_ENV and runs it where there is no `process`. */
async function runBundled(nodeEnv: string) {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'bundle',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    define: { 'process.env.NODE_ENV': nodeEnv },
    metafile: true,
    logLevel: 'silent',
  });
  const devToolsCalls: unknown[] = [];
  const window = {
    __REDUX_DEVTOOLS_EXTENSION_COMPOSE__: (options: unknown) => {
      devToolsCalls.push(options);
      return (...fns: Array<(arg: unknown) => unknown>) => (arg: unknown) => fns.reduceRight((value, fn) => fn(value), arg);
    },
  };
  const context = createContext({ window, console, setTimeout, clearTimeout, queueMicrotask, TextEncoder, TextDecoder });
  expect(runInContext('typeof process', context)).toBe('undefined');
  runInContext(result.outputFiles[0]!.text, context);
  const probe = runInContext('bundle.probe()', context) as Probe;
  const bundled = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([path]) => path);
  return { probe, devToolsCalls, bundled };
}

describe('a browser bundle (no process, process.env.NODE_ENV replaced)', () => {
  it('production: DevTools off, the state not frozen, no development checks in the bundle', async () => {
    const { probe, devToolsCalls, bundled } = await runBundled('"production"');
    expect(probe.applied).toBe(1);
    expect(devToolsCalls).toHaveLength(0);
    expect(probe.frozen).toEqual([false, false]);
    expect(bundled.some((path) => path.endsWith('src/store/createRealtimeStore.ts'))).toBe(true);
    expect(bundled.filter((path) => path.endsWith('src/store/serializableCheck.ts'))).toEqual([]);
  });

  it('development: DevTools on, the state frozen, the development checks in', async () => {
    const { probe, devToolsCalls, bundled } = await runBundled('"development"');
    expect(probe.applied).toBe(1);
    expect(devToolsCalls).toHaveLength(1);
    expect(probe.frozen).toEqual([true, true]);
    expect(bundled.some((path) => path.endsWith('src/store/serializableCheck.ts'))).toBe(true);
  });
});
