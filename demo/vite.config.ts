/**
 * The demo canvas: `npm run build:demo` builds it into demo/dist, which `npm start` serves next
 * to the gateway; `npm run dev:demo` serves it with hot reload and proxies /ws to a gateway
 * started with `npx tsx server/main.ts` (port 8000, or DEMO_BACKEND).
 *
 * The library is imported as a user would (`canvas-realtime`, `canvas-realtime/svelte`), aliased
 * to the sources so the demo never needs a package build.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const backend = process.env.DEMO_BACKEND ?? 'http://127.0.0.1:8000';

export default defineConfig({
  root: here('.'),
  base: './',
  envPrefix: ['VITE_', 'PUBLIC_'],
  plugins: [svelte({ configFile: here('../svelte.config.js') })],
  resolve: {
    alias: [
      { find: /^canvas-realtime$/, replacement: here('../src/index.ts') },
      { find: /^canvas-realtime\/svelte$/, replacement: here('../src/svelte/index.ts') },
    ],
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/ws': { target: backend, ws: true },
    },
  },
});
