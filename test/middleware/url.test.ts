import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/index.js';
import { currentUrlEnvironment, DEFAULT_SERVER_URL, resolveWebSocketUrl, type UrlEnvironment } from '../../src/middleware/url.js';
import { fakeWebSocket, makeStore } from './helpers.js';

const page = (protocol: string, host = 'canvas.example.com') => ({ protocol, host });

describe('resolveWebSocketUrl', () => {
  const cases: Array<[string, UrlEnvironment, string]> = [
    // the explicit option always wins
    ['explicit over everything (browser)', { explicit: 'wss://x.example/ws', publicUrl: 'wss://pub/ws', internalUrl: 'ws://backend:8000/ws', location: page('https:'), server: false }, 'wss://x.example/ws'],
    ['explicit over everything (server)', { explicit: 'ws://x.example/ws', publicUrl: 'wss://pub/ws', internalUrl: 'ws://backend:8000/ws', server: true }, 'ws://x.example/ws'],
    ['explicit path, same origin over https', { explicit: '/live', location: page('https:'), server: false }, 'wss://canvas.example.com/live'],
    ['explicit http becomes ws', { explicit: 'http://localhost:8000/ws', server: true }, 'ws://localhost:8000/ws'],
    ['explicit https becomes wss', { explicit: 'https://api.example.com/ws', server: false }, 'wss://api.example.com/ws'],
    ['scheme case is ignored', { explicit: 'HTTPS://api.example.com/ws', server: false }, 'wss://api.example.com/ws'],
    // browser
    ['browser: PUBLIC_WS_URL', { publicUrl: 'wss://realtime.example.com/ws', internalUrl: 'ws://backend:8000/ws', location: page('https:'), server: false }, 'wss://realtime.example.com/ws'],
    ['browser: PUBLIC_WS_URL as http(s)', { publicUrl: 'https://realtime.example.com/ws', location: page('http:'), server: false }, 'wss://realtime.example.com/ws'],
    ['browser: PUBLIC_WS_URL as a path', { publicUrl: '/socket', location: page('http:', 'localhost:5173'), server: false }, 'ws://localhost:5173/socket'],
    ['browser: never the internal service name', { internalUrl: 'ws://backend:8000/ws', location: page('http:', 'localhost:5173'), server: false }, 'ws://localhost:5173/ws'],
    ['browser: same-origin /ws over http', { location: page('http:', 'localhost:5173'), server: false }, 'ws://localhost:5173/ws'],
    ['browser: same-origin /ws, wss under https', { location: page('https:'), server: false }, 'wss://canvas.example.com/ws'],
    ['browser: keeps the port', { location: page('https:', 'canvas.example.com:8443'), server: false }, 'wss://canvas.example.com:8443/ws'],
    ['browser without location: default', { server: false }, DEFAULT_SERVER_URL],
    // server side (SSR, Node): Docker service names resolve there
    ['server: INTERNAL_WS_URL (service name)', { internalUrl: 'ws://backend:8000/ws', publicUrl: 'wss://pub/ws', server: true }, 'ws://backend:8000/ws'],
    ['server: INTERNAL_WS_URL as http', { internalUrl: 'http://backend:8000/ws', server: true }, 'ws://backend:8000/ws'],
    ['server: else PUBLIC_WS_URL', { publicUrl: 'wss://pub.example.com/ws', server: true }, 'wss://pub.example.com/ws'],
    ['server: else the default', { server: true }, DEFAULT_SERVER_URL],
    ['empty variables count as unset', { explicit: '', publicUrl: '', internalUrl: '', server: true }, DEFAULT_SERVER_URL],
  ];

  it.each(cases)('%s', (_name, env, expected) => {
    expect(resolveWebSocketUrl(env)).toBe(expected);
  });

  it('the default is a loopback URL, usable outside Docker', () => {
    expect(DEFAULT_SERVER_URL).toBe('ws://127.0.0.1:8000/ws');
  });

  it.each([
    ['ftp://example.com/ws', { server: true }],
    ['example.com/ws', { server: false, location: page('https:') }],
    ['javascript:alert(1)', { server: false, location: page('https:') }],
    ['/ws', { server: true }], // a path needs a page to be relative to
  ])('refuses %s with a clear TypeError', (url, env) => {
    expect(() => resolveWebSocketUrl({ explicit: url, ...env })).toThrow(TypeError);
    expect(() => resolveWebSocketUrl({ explicit: url, ...env })).toThrow(/WebSocket URL must be ws:\/\/, wss:\/\/, http\(s\):\/\/ or a path/);
  });
});

describe('currentUrlEnvironment', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('in Node: server side, variables from the env given', () => {
    const env = currentUrlEnvironment(undefined, { PUBLIC_WS_URL: 'wss://pub/ws', INTERNAL_WS_URL: 'ws://backend:8000/ws' });
    expect(env).toMatchObject({ server: true, publicUrl: 'wss://pub/ws', internalUrl: 'ws://backend:8000/ws', location: undefined });
    expect(resolveWebSocketUrl(env)).toBe('ws://backend:8000/ws');
  });

  it('reads process.env when no env is given', () => {
    vi.stubEnv('INTERNAL_WS_URL', 'ws://backend:9000/ws');
    try {
      expect(currentUrlEnvironment().internalUrl).toBe('ws://backend:9000/ws');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('in a browser: the page location, not the server', () => {
    vi.stubGlobal('document', {});
    vi.stubGlobal('location', { protocol: 'https:', host: 'canvas.example.com' });
    const env = currentUrlEnvironment(undefined, { INTERNAL_WS_URL: 'ws://backend:8000/ws' });
    expect(env.server).toBe(false);
    expect(resolveWebSocketUrl(env)).toBe('wss://canvas.example.com/ws');
  });
});

describe('the middleware resolves the URL at connect time', () => {
  it('opens the socket on the resolved URL', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ url: undefined, env: { INTERNAL_WS_URL: 'http://backend:8000/ws' }, WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    expect(fake.last().url).toBe('ws://backend:8000/ws');
    expect(t.connection().url).toBe('ws://backend:8000/ws');
    t.store.dispose();
  });

  it('connect({ url }) overrides the option', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ WebSocket: fake.WebSocket });
    t.store.dispatch(connect({ url: 'https://other.example.com/ws' }));
    expect(fake.last().url).toBe('wss://other.example.com/ws');
    t.store.dispose();
  });

  it('a bad URL gives status error with the message, no socket and no retry', () => {
    const fake = fakeWebSocket();
    const t = makeStore({ url: 'localhost:8000/ws', WebSocket: fake.WebSocket });
    t.store.dispatch(connect());
    expect(t.status()).toBe('error');
    expect(t.connection().error).toMatch(/WebSocket URL must be .* \(got "localhost:8000\/ws"\)/);
    expect(fake.sockets).toHaveLength(0);
    t.clock.advance(0); // the session save that follows each change
    expect(t.clock.pending()).toBe(0);
    expect(t.store.resources().socket).toBe(false);
    t.store.dispose();
  });

  it('a URL the WebSocket constructor refuses gives status error with its message', () => {
    const Throwing = class {
      constructor(url: string) {
        throw new SyntaxError(`Invalid URL: ${url}`);
      }
    };
    const t = makeStore({ url: 'ws://bad host/ws', WebSocket: Throwing as never });
    t.store.dispatch(connect());
    expect(t.status()).toBe('error');
    expect(t.connection().error).toBe('Cannot open ws://bad host/ws: Invalid URL: ws://bad host/ws');
    t.clock.advance(0);
    expect(t.clock.pending()).toBe(0);
    t.store.dispose();
  });

  it('no WebSocket implementation: status error that says what to pass', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      const t = makeStore();
      t.store.dispatch(connect());
      expect(t.status()).toBe('error');
      expect(t.connection().error).toMatch(/No WebSocket implementation/);
      t.store.dispose();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
