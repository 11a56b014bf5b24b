/**
 * Where the demo's socket connects: same-origin /ws (or PUBLIC_WS_URL at build time) unless the
 * page's query says otherwise.
 *
 * - `?ws=ws://127.0.0.1:8001/ws` connects there instead.
 * - `?ws=ws://127.0.0.1:8001/ws,ws://127.0.0.1:8002/ws` (a comma-separated list) is a client-side
 *   fail-over for several gateways on one Redis: the first socket goes to the first URL, and every
 *   new socket (each reconnect) to the next one in the list, round robin. A page that loses its
 *   gateway thus resumes on the next, with its session (shared through Redis). The store's
 *   `connection.url` keeps naming the first URL; the URL each socket really used is listed in
 *   `window.__canvasSockets`.
 *
 * Only ws:// and wss:// URLs are taken; anything else in the list is ignored.
 */
import type { WebSocketConstructor } from 'canvas-realtime';

export interface SocketChoice {
  url?: string;
  WebSocket?: WebSocketConstructor;
  /** The URLs taken from the query, in order (empty: the default URL). */
  urls: string[];
}

export function socketUrlsFromQuery(search: string): string[] {
  const raw = new URLSearchParams(search).get('ws');
  if (!raw) return [];
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^wss?:\/\/[^\s/]+/i.test(part));
}

/**
 * Store options for the URLs in the query. `log` receives the URL of every socket opened
 * (the demo puts them on window.__canvasSockets).
 */
export function socketChoice(search: string, Base: WebSocketConstructor | undefined, log?: (url: string) => void): SocketChoice {
  const urls = socketUrlsFromQuery(search);
  if (urls.length === 0 || !Base) return { urls };
  if (urls.length === 1 && !log) return { url: urls[0], urls };
  let next = 0;
  const Rotating = function (this: unknown, _url: string, protocols?: string | string[]) {
    const url = urls[next % urls.length]!;
    next += 1;
    log?.(url);
    return new Base(url, protocols);
  } as unknown as WebSocketConstructor;
  // The middleware reads the readyState constants from the instance; keep the static ones too.
  Object.assign(Rotating, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  return { url: urls[0], WebSocket: Rotating, urls };
}
