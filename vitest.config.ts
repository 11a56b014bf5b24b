import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Node 20 has no global WebSocket; msw's ws interceptor needs one to patch.
    execArgv: ['--experimental-websocket'],
    testTimeout: 15_000,
  },
});
