import { mount } from 'svelte';
import { createRealtimeStore, subscribeProject, type WebSocketConstructor } from 'canvas-realtime';
import App from './App.svelte';
import { PROJECT } from './lib/shots.js';
import { socketChoice } from './lib/socketUrl.js';
import './app.css';

declare global {
  interface Window {
    /** The demo's store, for browser tests and the console. */
    __canvasStore?: typeof store;
    /** The URL each socket was opened to, in order. */
    __canvasSockets?: string[];
  }
}

// Same-origin /ws unless PUBLIC_WS_URL is set at build time, or the page is opened with
// ?ws=URL (or ?ws=URL1,URL2: each reconnect goes to the next; see lib/socketUrl.ts).
// Connects at once in a browser.
const sockets: string[] = (window.__canvasSockets = []);
const choice = socketChoice(location.search, globalThis.WebSocket as unknown as WebSocketConstructor | undefined, (url) => sockets.push(url));
const store = createRealtimeStore({
  env: import.meta.env,
  ...(choice.url !== undefined && { url: choice.url }),
  ...(choice.WebSocket !== undefined && { WebSocket: choice.WebSocket }),
});
store.dispatch(subscribeProject(PROJECT.id));
window.__canvasStore = store;

const app = mount(App, { target: document.getElementById('app')!, props: { store } });

if (import.meta.hot) {
  import.meta.hot.dispose(() => {
    store.dispose();
    void app;
  });
}

export default app;
