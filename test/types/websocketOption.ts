/**
 * A type test, compiled (never run) by `npm run typecheck` (tsc -p . takes in test/): the
 * `WebSocket` option takes `ws`'s constructor, as the README tells Node users to pass it, and the
 * browser's, without a cast; something that is not a WebSocket is still refused.
 */
import WebSocket, { WebSocket as NamedWebSocket } from 'ws';
import { connect, createRealtimeStore, subscribeProject } from 'canvas-realtime';

/** The README's Node snippet. */
export function nodeSnippet() {
  const store = createRealtimeStore({ url: 'ws://127.0.0.1:8000/ws', WebSocket });
  store.dispatch(connect());
  store.dispatch(subscribeProject('proj-1'));
  return store;
}

export function otherConstructors() {
  createRealtimeStore({ WebSocket: NamedWebSocket });
  // The browser's (lib.dom), and Node 22's global, which is undici's with the same type.
  createRealtimeStore({ WebSocket: globalThis.WebSocket });
}

export function notAWebSocket() {
  class NoSend {
    readyState = 0;
    close() {}
  }
  // @ts-expect-error: no send, no handlers
  createRealtimeStore({ WebSocket: NoSend });
}
