/**
 * Where the socket connects, from the environment.
 *
 * In Docker a browser cannot resolve a compose service name such as `backend`: the browser
 * uses the public URL (PUBLIC_WS_URL) or the page's own origin (`/ws`, proxied), while code
 * running on the server (SSR, Node) may use an internal URL (INTERNAL_WS_URL=ws://backend:8000/ws).
 */

export interface UrlEnvironment {
  /** The `url` option, when given: always wins. */
  explicit?: string;
  /** PUBLIC_WS_URL: the URL a browser should use. */
  publicUrl?: string;
  /** INTERNAL_WS_URL: the URL server-side code should use (service names resolve there). */
  internalUrl?: string;
  /** The page's location, in a browser. */
  location?: { protocol: string; host: string };
  /** True when running outside a browser (Node, SSR, a worker without location). */
  server: boolean;
}

export const DEFAULT_PATH = '/ws';
export const DEFAULT_SERVER_URL = 'ws://127.0.0.1:8000/ws';

function normalize(url: string, location?: { protocol: string; host: string }): string {
  if (/^wss?:\/\//i.test(url)) return url;
  // http -> ws, https -> wss, whatever the case of the scheme ("HTTPS://" must not give "wsS://").
  if (/^https?:\/\//i.test(url)) return url.replace(/^http(s?):/i, (_, secure: string) => (secure ? 'wss:' : 'ws:'));
  if (url.startsWith('/') && location) return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${url}`;
  throw new TypeError(`WebSocket URL must be ws://, wss://, http(s):// or a path starting with "/" (got "${url}")`);
}

export function resolveWebSocketUrl(env: UrlEnvironment): string {
  if (env.explicit) return normalize(env.explicit, env.location);
  if (env.server) {
    if (env.internalUrl) return normalize(env.internalUrl);
    if (env.publicUrl) return normalize(env.publicUrl);
    return DEFAULT_SERVER_URL;
  }
  if (env.publicUrl) return normalize(env.publicUrl, env.location);
  if (env.location) return normalize(DEFAULT_PATH, env.location);
  return DEFAULT_SERVER_URL;
}

/**
 * Reads the environment this code runs in. `vars` defaults to process.env where it exists; in a
 * SvelteKit app pass `env` from `$env/dynamic/public` (a library cannot read the app's env
 * modules). Not named here in full: @sveltejs/package warns about Vite's env property of
 * import.meta wherever it appears in a source file, comments included.
 */
export function currentUrlEnvironment(explicit?: string, vars?: Record<string, string | undefined>): UrlEnvironment {
  const env = vars ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  const server = typeof (globalThis as { document?: unknown }).document === 'undefined';
  return {
    explicit,
    publicUrl: env.PUBLIC_WS_URL,
    internalUrl: env.INTERNAL_WS_URL,
    location: location && typeof location.host === 'string' && location.host ? location : undefined,
    server,
  };
}
