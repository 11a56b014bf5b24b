/**
 * The test helper's msw backend (./helpers.ts) shares one msw link per URL: each ws.link() adds a
 * listener to msw's one BroadcastChannel for good, and a file making a backend per test printed
 * MaxListenersExceededWarning in `npm test`.
 */
import { setupServer } from 'msw/node';
import { describe, expect, it, vi } from 'vitest';
import { mswBackend } from './helpers.js';

describe('mswBackend', () => {
  it('a dozen backends on one URL add at most one listener to msw\'s BroadcastChannel', () => {
    const server = setupServer();
    const added = vi.spyOn(BroadcastChannel.prototype, 'addEventListener');
    try {
      for (let i = 0; i < 12; i++) mswBackend(server, 'ws://many.test/ws');
      expect(added.mock.calls.filter(([type]) => type === 'message').length).toBeLessThanOrEqual(1);
    } finally {
      added.mockRestore();
      server.close();
    }
  });
});
