import { render, screen } from '@testing-library/svelte';
import { createRawSnippet, flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import NodeStateVisuals from '../../src/components/NodeStateVisuals.svelte';
import { nodesMarkedStale, replayFrames, startGeneration, type RealtimeStore } from '../../src/index.js';
import {
  HOSTILE_IMG,
  HOSTILE_SCRIPT,
  actionsOf,
  at,
  expectNoInjectedMarkup,
  fixture,
  indexOfFrame,
  makeStore,
  play,
  playEach,
} from './harness.js';
import { allEntities, getEntity, tableFrom } from '../../src/slices/table.js';

const SUCCESS_NODE = 'node-t2i-7f3a';
const FAILURE_NODE = 'node-t2i-c41d';
const CANCEL_NODE = 'node-t2i-9e07';

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function node(container: HTMLElement) {
  return container.querySelector('.cr-node') as HTMLElement;
}

const content = createRawSnippet(() => ({ render: () => '<p class="node-body">Text to Image</p>' }));

describe('NodeStateVisuals', () => {
  it('draws its children inside an idle border', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: SUCCESS_NODE, children: content } });
    expect(node(container).dataset.status).toBe('idle');
    expect(container.querySelector('.node-body')!.textContent).toBe('Text to Image');
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
  });

  it('generating: border, spinner, rising progress with "Step k of N", then completed with a thumbnail', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: SUCCESS_NODE, children: content } });
    const statuses: string[] = [];
    const steps = new Set<string>();
    let last = -1;
    playEach(store, actionsOf('generation-success'), () => {
      const status = node(container).dataset.status!;
      if (statuses.at(-1) !== status) statuses.push(status);
      if (status !== 'generating') return;
      expect(container.querySelector('.cr-spinner')).not.toBeNull();
      expect(node(container).getAttribute('aria-busy')).toBe('true');
      const bar = screen.getByRole('progressbar', { name: 'Generation progress' });
      const now = Number(bar.getAttribute('aria-valuenow'));
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
      expect(bar.textContent!.trim()).toBe(`${now}%`);
      const step = screen.getByRole('status').textContent!;
      if (step) steps.add(step);
      // Nothing of a finished run while it runs.
      expect(container.querySelector('img')).toBeNull();
      expect(screen.queryByRole('alert')).toBeNull();
    });
    expect(statuses).toEqual(['idle', 'generating', 'completed']);
    expect(last).toBe(97);
    for (const k of [5, 10, 15, 20, 25, 30]) expect(steps).toContain(`Step ${k} of 30: Denoising`);
    expect(steps).toContain('Loading model sdxl-base-1.0');

    // Completed: still border, no spinner, the thumbnail of the latest output.
    expect(container.querySelector('.cr-spinner')).toBeNull();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(node(container).getAttribute('aria-busy')).toBe('false');
    const img = screen.getByRole('img', { name: 'Generated output' }) as HTMLImageElement;
    expect(img.getAttribute('src')).toBe('/media/proj-aurora/S001/P003/take-003.thumb.webp');
    expect(container.querySelector('.node-body')).not.toBeNull();
  });

  it('error: red border and the error text, no spinner', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: FAILURE_NODE, children: content } });
    const actions = actionsOf('generation-failure');
    const failure = indexOfFrame(actions, (f) => f.type === 'task.progress' && f.state === 'FAILURE');
    play(store, actions.slice(0, failure));
    expect(node(container).dataset.status).toBe('generating');
    play(store, actions.slice(failure));
    expect(node(container).dataset.status).toBe('error');
    expect(container.querySelector('.cr-spinner')).toBeNull();
    expect(screen.getByRole('alert').textContent).toContain('CUDA out of memory. Tried to allocate 2.00 GiB');
    expect(container.querySelector('img')).toBeNull();
  });

  it('cancelled: the run stops, then the backend reports the node idle', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: CANCEL_NODE } });
    const actions = actionsOf('generation-cancel');
    const revoked = indexOfFrame(actions, (f) => f.state === 'REVOKED');
    play(store, actions.slice(0, revoked));
    expect(node(container).dataset.status).toBe('generating');
    expect(screen.getByRole('status').textContent).toBe('Step 16 of 40: Denoising');
    play(store, actions.slice(revoked, revoked + 1));
    expect(node(container).dataset.status).toBe('cancelled');
    expect(container.querySelector('.cr-spinner')).toBeNull();
    expect(screen.getByRole('status').textContent).toBe('Generation cancelled');
    // node.state_changed idle, then a late PROGRESS of the revoked task: stays idle, no spinner.
    play(store, actions.slice(revoked + 1));
    expect(node(container).dataset.status).toBe('idle');
    expect(container.querySelector('.cr-spinner')).toBeNull();
  });

  it('shows a spinner while a start is pending, and "waiting for backend…" when the node is stale', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: SUCCESS_NODE } });
    store.dispatch(startGeneration({ nodeId: SUCCESS_NODE, params: { prompt: 'harbor' } }));
    flushSync();
    expect(node(container).dataset.pending).toBe('start');
    expect(container.querySelector('.cr-spinner')).not.toBeNull();
    expect(screen.getByRole('status').textContent).toBe('Starting generation…');

    const actions = actionsOf('generation-success');
    const midway = indexOfFrame(actions, (f) => f.current_step === 10);
    play(store, actions.slice(0, midway + 1));
    expect(node(container).dataset.pending).toBeUndefined();
    expect(container.querySelector('.cr-stale')).toBeNull();

    // The backend restarted: the middleware marks generating nodes stale until a frame confirms them.
    store.dispatch(nodesMarkedStale({ nodeIds: [SUCCESS_NODE], at: Date.now() }));
    flushSync();
    expect(node(container).dataset.stale).toBe('');
    expect(container.querySelector('.cr-stale')!.textContent).toBe('Waiting for backend…');
    expect(container.querySelector('.cr-spinner')).not.toBeNull();

    play(store, actions.slice(midway + 1, midway + 2));
    expect(node(container).dataset.stale).toBeUndefined();
    expect(container.querySelector('.cr-stale')).toBeNull();
  });

  it('follows a new nodeId prop', async () => {
    store = makeStore();
    play(store, actionsOf('generation-success'));
    play(store, actionsOf('generation-failure'));
    const { container, rerender } = render(NodeStateVisuals, { props: { store, nodeId: SUCCESS_NODE } });
    expect(node(container).dataset.status).toBe('completed');
    await rerender({ store, nodeId: FAILURE_NODE });
    expect(node(container).dataset.status).toBe('error');
  });

  it('renders hostile messages and errors as text', () => {
    store = makeStore();
    const { container } = render(NodeStateVisuals, { props: { store, nodeId: 'node-evil' } });
    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(1), task_id: 't-evil', node_id: 'node-evil', state: 'PROGRESS', progress: 5, step: HOSTILE_SCRIPT },
      ]),
    );
    expect(screen.getByRole('status').textContent).toBe(HOSTILE_SCRIPT);
    expectNoInjectedMarkup(container);
    play(
      store,
      actionsOf([
        { type: 'generation.error', timestamp: at(2), task_id: 't-evil', node_id: 'node-evil', error: HOSTILE_IMG, message: HOSTILE_SCRIPT },
      ]),
    );
    expect(screen.getByRole('alert').textContent).toContain(HOSTILE_IMG);
    expectNoInjectedMarkup(container);
  });

  it('never binds a javascript: thumbnail to an img src', () => {
    // The wire drops unsafe URLs, so state can only get one by being handed it: load a state
    // whose completed node carries one, as a corrupted saved state or a buggy reducer would.
    const replayed = replayFrames(fixture('generation-success'));
    const completed = getEntity(replayed.nodes, SUCCESS_NODE)!;
    expect(completed.status).toBe('completed');
    for (const evil of ['javascript:alert(1)', ' javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', 'data:image/svg+xml,<svg onload=alert(1)>']) {
      const preloaded = {
        ...replayed,
        nodes: { ...replayed.nodes, ...tableFrom([...allEntities(replayed.nodes).filter((n) => n.node_id !== SUCCESS_NODE), { ...completed, thumbnail: evil }], (n) => n.node_id) },
      };
      const local = makeStore(preloaded);
      const { container, unmount } = render(NodeStateVisuals, { props: { store: local, nodeId: SUCCESS_NODE } });
      expect(node(container).dataset.status).toBe('completed');
      expect(container.querySelector('img')).toBeNull();
      expectNoInjectedMarkup(container);
      unmount();
      local.dispose();
    }
  });
});
