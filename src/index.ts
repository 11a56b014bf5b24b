/**
 * canvas-realtime: the core entry. It imports no Svelte and touches no DOM at import time, so
 * it runs in the browser, in Node, in a worker and during SSR.
 */
export * from './protocol/index.js';
export * from './slices/index.js';
export * from './selectors/index.js';
export * from './replay/index.js';
export * from './middleware/index.js';
export * from './store/createRealtimeStore.js';
