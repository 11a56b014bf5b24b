/**
 * With the `ws` package, the WebSocket a Node application passes in, against a loopback TCP
 * server. No msw here: its interceptor would catch the upgrade request.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { connect, disconnect } from '../../src/index.js';
import { FakeClock, makeStore } from './helpers.js';

describe('with the ws package (Node) and a loopback server that never completes the handshake', () => {
  /**
   * `ws` reports closing a socket that is still connecting as an 'error' event; an EventEmitter
   * 'error' nobody listens to is thrown, and would crash Node.
   */
  async function stalledServer() {
    const accepted: net.Socket[] = [];
    let onAccept: () => void = () => undefined;
    const server = net.createServer((socket) => {
      accepted.push(socket);
      onAccept();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
      url: `ws://127.0.0.1:${port}/ws`,
      accepted: () => new Promise<void>((resolve) => (accepted.length > 0 ? resolve() : (onAccept = resolve))),
      close: () => {
        for (const socket of accepted) socket.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  async function uncaughtDuring(run: () => Promise<void>): Promise<unknown[]> {
    const errors: unknown[] = [];
    const listener = (error: unknown) => errors.push(error);
    process.on('uncaughtException', listener);
    try {
      await run();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', listener);
    }
    return errors;
  }

  it.each([
    ['the connect timeout', 'timeout'],
    ['disconnect()', 'disconnect'],
    ['dispose()', 'dispose'],
  ])('giving up a connecting socket by %s raises nothing', async (_name, how) => {
    const backend = await stalledServer();
    const clock = new FakeClock();
    const t = makeStore({ url: backend.url, WebSocket: NodeWebSocket, clock, connectTimeoutMs: 1_000, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    const errors = await uncaughtDuring(async () => {
      t.store.dispatch(connect());
      await backend.accepted();
      if (how === 'timeout') clock.advance(1_000);
      else if (how === 'disconnect') t.store.dispatch(disconnect());
      else t.store.dispose();
    });
    expect(errors.map(String)).toEqual([]);
    expect(t.status()).toBe(how === 'timeout' ? 'reconnecting' : 'disconnected');
    t.store.dispose();
    await backend.close();
  });
});

describe('with the ws package: why a connection failed is recorded (connection.lastError)', () => {
  /** A loopback port with nothing listening: taken from the system, then released. */
  async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  /** An HTTP server that answers every WebSocket upgrade with 404 (a wrong path). */
  async function notFoundServer() {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    server.on('upgrade', (_request, socket: net.Socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/wrong-path`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  /** Connects, and resolves once the first socket closed (the retry waits on the test clock). */
  async function firstClose(url: string) {
    const t = makeStore({ url, WebSocket: NodeWebSocket as never, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    const closed = new Promise<void>((resolve) => {
      const off = t.store.subscribe(() => {
        if (t.connection().lastClose) {
          off();
          resolve();
        }
      });
    });
    t.store.dispatch(connect());
    await closed;
    return t;
  }

  it('a refused port: reconnecting, and lastError says the connection was refused', async () => {
    const port = await freePort();
    const t = await firstClose(`ws://127.0.0.1:${port}/ws`);
    expect(t.connection()).toMatchObject({
      status: 'reconnecting',
      lastClose: { code: 1006 },
      lastError: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    t.store.dispose();
  });

  it('an upgrade answered with 404: lastError gives the HTTP status', async () => {
    const backend = await notFoundServer();
    const t = await firstClose(backend.url);
    expect(t.connection()).toMatchObject({ status: 'reconnecting', lastClose: { code: 1006 }, lastError: 'Unexpected server response: 404' });
    t.store.dispose();
    await backend.close();
  });
});
