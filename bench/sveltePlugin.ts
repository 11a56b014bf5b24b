/**
 * An esbuild plugin compiling .svelte files for the client with svelte/compiler, CSS injected,
 * production mode: what vite-plugin-svelte gives an app's bundle. Used by the bundle-size
 * measurement (./bundle.ts) and the browser latency page (./browserLatency.ts).
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';

export const svelteCompile: Plugin = {
  name: 'svelte',
  setup(b) {
    b.onLoad({ filter: /\.svelte$/ }, async (args) => {
      const { compile } = await import('svelte/compiler');
      const source = await readFile(args.path, 'utf8');
      const out = compile(source, { filename: args.path, generate: 'client', css: 'injected', dev: false });
      return { contents: out.js.code, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};
