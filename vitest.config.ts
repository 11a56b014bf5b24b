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
          exclude: ['test/components/**', 'test/svelte/dom/**', 'test/redis/**', 'test/browser/**'],
          environment: 'node',
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
