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
