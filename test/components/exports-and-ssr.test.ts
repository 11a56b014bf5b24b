// @vitest-environment node
/**
 * The components are exported next to ConnectionStatus, and render on the server (no window, no
 * document) from a store's state: what SvelteKit does on first load.
 */
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import * as entry from '../../src/svelte/index.js';
import { replayFrames } from '../../src/index.js';
import { fixture, makeStore } from './harness.js';

describe('components entry', () => {
  it('exports each component', () => {
    for (const name of [
      'ConnectionStatus',
      'TaskProgress',
      'NodeStateVisuals',
      'TakesGallery',
      'AgentActivityMonitor',
      'NarrativeProgress',
      'GenerationNode',
    ] as const) {
      expect(typeof entry[name], name).toBe('function');
    }
  });

  it('renders every component on the server from replayed state', () => {
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined');
    let state = replayFrames(fixture('generation-success'));
    state = replayFrames(fixture('agent-pipeline'), { initialState: state });
    state = replayFrames(fixture('narrative-progression'), { initialState: state });
    const store = makeStore(state);
    const node = 'node-t2i-7f3a';
    const html = (component: unknown, props: Record<string, unknown>) =>
      render(component as never, { props: { store, ...props } } as never).body;

    expect(html(entry.TaskProgress, { taskId: 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b' })).toContain('SUCCESS');
    expect(html(entry.NodeStateVisuals, { nodeId: node })).toContain('data-status="completed"');
    expect(html(entry.TakesGallery, { nodeId: node })).toContain('Take 3');
    expect(html(entry.AgentActivityMonitor, { showNarrative: true })).toContain('Sound Designer');
    expect(html(entry.NarrativeProgress, {})).toContain('midpoint');
    const generation = html(entry.GenerationNode, { nodeId: node, params: { prompt: 'Harbor' } });
    expect(generation).toContain('Generate');
    expect(generation).toContain('take-003.thumb.webp');
    store.dispose();
  });
});
