/**
 * The demo page's socket URL override (demo/src/lib/socketUrl.ts): `?ws=URL` and the fail-over
 * list `?ws=URL1,URL2` (each new socket goes to the next URL). The browser suite runs it for real
 * (test/browser/redisFailover.test.ts); this checks the parsing and the rotation without one.
 */
import { describe, expect, it } from 'vitest';
import type { WebSocketConstructor } from '../../src/index.js';
import { socketChoice, socketUrlsFromQuery } from '../../demo/src/lib/socketUrl.js';

const A = 'ws://127.0.0.1:8001/ws';
const B = 'ws://127.0.0.1:8002/ws';

class FakeSocket {
  static made: Array<{ url: string; protocols?: string | string[] }> = [];
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.made.push({ url, protocols });
  }
}
const Base = FakeSocket as unknown as WebSocketConstructor;

describe('demo socket URL override', () => {
  it('reads ws:// and wss:// URLs from ?ws=, comma-separated, and ignores anything else', () => {
    expect(socketUrlsFromQuery('')).toEqual([]);
    expect(socketUrlsFromQuery('?other=1')).toEqual([]);
    expect(socketUrlsFromQuery(`?ws=${encodeURIComponent(A)}`)).toEqual([A]);
    expect(socketUrlsFromQuery(`?ws=${A},${B}`)).toEqual([A, B]);
    expect(socketUrlsFromQuery(`?ws=${encodeURIComponent(`${A}, javascript:alert(1),http://x/ws,wss://canvas.example.com/ws`)}`)).toEqual([
      A,
      'wss://canvas.example.com/ws',
    ]);
  });

  it('without ?ws= changes nothing (same-origin /ws or PUBLIC_WS_URL)', () => {
    expect(socketChoice('', Base)).toEqual({ urls: [] });
  });

  it('one URL: the url option', () => {
    expect(socketChoice(`?ws=${A}`, Base)).toEqual({ url: A, urls: [A] });
  });

  it('a list: each new socket goes to the next URL, round robin, whatever URL the store asks for', () => {
    FakeSocket.made = [];
    const opened: string[] = [];
    const choice = socketChoice(`?ws=${A},${B}`, Base, (url) => opened.push(url));
    expect(choice.url).toBe(A);
    const Ctor = choice.WebSocket!;
    const sockets = [new Ctor(A, 'p'), new Ctor(A), new Ctor(A)];
    expect(sockets.map((s) => (s as unknown as FakeSocket).url)).toEqual([A, B, A]);
    expect(sockets[0]).toBeInstanceOf(FakeSocket);
    expect(FakeSocket.made[0]).toEqual({ url: A, protocols: 'p' });
    expect(opened).toEqual([A, B, A]);
  });
});
