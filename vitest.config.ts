import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  test: {
    testTimeout: 15_000,
    // Node 20 has no global WebSocket; msw's ws interceptor needs one to patch.
    execArgv: ['--experimental-websocket'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/components/**', 'test/svelte/dom/**', 'test/redis/**', 'test/browser/**', 'test/reliability/**'],
          environment: 'node',
        },
      },
      {
        // Chaos, fuzzing, soak, hostile input: `npm run test:reliability` (ci size) and
        // `npm run test:soak` (RELIABILITY_SCALE=full). Figures: docs/RELIABILITY.md.
        extends: true,
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          // --expose-gc: the soak samples the heap after a full collection.
          execArgv: ['--experimental-websocket', '--expose-gc'],
          testTimeout: 300_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Needs Debian's redis-server: `npm run test:redis` (CI installs it).
        extends: true,
        test: {
          name: 'redis',
          include: ['test/redis/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // Real Chromium (and redis-server for the two-gateway scenario): `npm run test:browser`,
        // which checks both and builds the demo first (CI installs them).
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 60_000,
          // One Chromium at a time: the scenarios time real pipelines.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        plugins: [svelteTesting()],
        test: {
          name: 'dom',
          include: ['test/components/**/*.test.ts', 'test/svelte/dom/**/*.test.ts'],
          environment: 'jsdom',
        },
      },
    ],
  },
});
