/**
 * canvas-realtime/svelte: the bridge from the store to Svelte 5, the story's API, and the
 * canvas components.
 */
export { fromSelector, type ReadableStore, type StateSource } from './fromSelector.js';
export { useSelector, type SelectorState } from './useSelector.js';
export { getRealtimeStore, resolveRealtimeStore, setRealtimeStore } from './context.js';
export * from './storyShapes.js';
export * from './websocket.js';
export { default as ConnectionStatus } from '../components/ConnectionStatus.svelte';
export { default as TaskProgress } from '../components/TaskProgress.svelte';
export { default as ProgressBar } from '../components/ProgressBar.svelte';
export { default as NodeStateVisuals } from '../components/NodeStateVisuals.svelte';
export { default as TakesGallery } from '../components/TakesGallery.svelte';
export { default as AgentActivityMonitor } from '../components/AgentActivityMonitor.svelte';
export { default as NarrativeProgress } from '../components/NarrativeProgress.svelte';
export { default as GenerationNode } from '../components/GenerationNode.svelte';
export type { TextToImageParams } from '../components/types.js';
