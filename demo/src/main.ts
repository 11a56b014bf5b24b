import { mount } from 'svelte';
import { createRealtimeStore, subscribeProject } from 'canvas-realtime';
import App from './App.svelte';
import { PROJECT } from './lib/shots.js';
import './app.css';

// Same-origin /ws unless PUBLIC_WS_URL is set at build time; connects at once in a browser.
const store = createRealtimeStore({ env: import.meta.env });
store.dispatch(subscribeProject(PROJECT.id));

declare global {
  interface Window {
    /** The demo's store, for browser tests and the console. */
    __canvasStore?: typeof store;
  }
}
window.__canvasStore = store;

const app = mount(App, { target: document.getElementById('app')!, props: { store } });

if (import.meta.hot) {
  import.meta.hot.dispose(() => {
    store.dispose();
    void app;
  });
}

export default app;
