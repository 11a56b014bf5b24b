import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import TakesGallery from '../../src/components/TakesGallery.svelte';
import type { RealtimeStore, TakeRecord } from '../../src/index.js';
import TakesGalleryHost from './hosts/TakesGalleryHost.svelte';
import {
  HOSTILE_SCRIPT,
  actionsOf,
  at,
  expectNoInjectedMarkup,
  fixture,
  indexOfFrame,
  makeStore,
  play,
} from './harness.js';
import { allEntities, getEntity, tableFrom } from '../../src/slices/table.js';

const NODE = 'node-t2i-7f3a';

let store: RealtimeStore | undefined;
afterEach(() => {
  vi.useRealTimers();
  store?.dispose();
  store = undefined;
});

/** The takes of the last frame of generation-success: takes 1, 2 and 3 of S001/P003. */
function recordedTakes(): Array<Record<string, unknown>> {
  const last = JSON.parse(fixture('generation-success').find((line) => line.includes('"status":"completed"'))!);
  return last.takes;
}

/** The node as an earlier session left it: takes 1 and 2, idle. */
function earlierSession() {
  return actionsOf([
    { type: 'node.state_changed', timestamp: at(0), node_id: NODE, status: 'idle', takes: recordedTakes().slice(0, 2), current_take: 2 },
  ]);
}

function takeButtons(container: HTMLElement) {
  return Array.from(container.querySelectorAll<HTMLButtonElement>('button.cr-take'));
}

function numbers(container: HTMLElement) {
  return takeButtons(container).map((button) => Number(button.dataset.take));
}

function pressed(container: HTMLElement) {
  return takeButtons(container)
    .filter((button) => button.getAttribute('aria-pressed') === 'true')
    .map((button) => Number(button.dataset.take));
}

function fresh(container: HTMLElement) {
  return takeButtons(container)
    .filter((button) => button.hasAttribute('data-new'))
    .map((button) => Number(button.dataset.take));
}

describe('TakesGallery', () => {
  it('says so when the node has no takes', () => {
    store = makeStore();
    const { container } = render(TakesGallery, { props: { store, nodeId: NODE } });
    expect(container.querySelector('.cr-takes-empty')!.textContent).toBe('No takes yet');
    expect(takeButtons(container)).toHaveLength(0);
  });

  it('refreshes when a generation completes: the new take highlighted, in take order, with its labels', () => {
    vi.useFakeTimers();
    store = makeStore();
    play(store, earlierSession());
    const { container } = render(TakesGallery, { props: { store, nodeId: NODE, highlightMs: 4000 } });
    expect(numbers(container)).toEqual([1, 2]);
    expect(fresh(container)).toEqual([]);
    expect(pressed(container)).toEqual([2]);

    const actions = actionsOf('generation-success');
    const completed = indexOfFrame(actions, (f) => f.type === 'generation.completed');
    play(store, actions.slice(0, completed));
    expect(numbers(container)).toEqual([1, 2]);

    play(store, actions.slice(completed));
    expect(numbers(container)).toEqual([1, 2, 3]);
    expect(fresh(container)).toEqual([3]);
    // The node's current take moved to the new one.
    expect(pressed(container)).toEqual([3]);
    expect(screen.getByRole('status').textContent).toBe('New take 3');

    const third = takeButtons(container)[2]!;
    expect(third.querySelector('.cr-take-new')!.textContent).toBe('New');
    expect(third.querySelector('.cr-take-place')!.textContent).toBe('Scene S001 · Shot P003');
    expect(third.querySelector('.cr-take-quality')!.textContent).toBe('high quality');
    expect(third.querySelector('img')!.getAttribute('src')).toBe('/media/proj-aurora/S001/P003/take-003.thumb.webp');
    expect(takeButtons(container)[0]!.querySelector('img')!.getAttribute('src')).toBe(
      '/media/proj-aurora/S001/P003/take-001.thumb.webp',
    );

    // The highlight fades after a few seconds.
    vi.advanceTimersByTime(3999);
    flushSync();
    expect(fresh(container)).toEqual([3]);
    vi.advanceTimersByTime(1);
    flushSync();
    expect(fresh(container)).toEqual([]);
    expect(third.querySelector('.cr-take-new')).toBeNull();
  });

  it('orders takes by take number whatever order they arrive in', () => {
    store = makeStore();
    const { container } = render(TakesGallery, { props: { store, nodeId: 'n-order' } });
    const take = (n: number) => ({ id: `take-${n}`, take_number: n, path: `/media/t${n}.png`, created_at: at(n) });
    const [first, ...rest] = actionsOf([
      { type: 'generation.completed', timestamp: at(1), node_id: 'n-order', task_id: 't5', output_path: '/media/t5.png', takes: [take(5)] },
      { type: 'generation.completed', timestamp: at(2), node_id: 'n-order', task_id: 't2', output_path: '/media/t2.png', takes: [take(2), take(4)] },
      { type: 'generation.completed', timestamp: at(3), node_id: 'n-order', task_id: 't3', output_path: '/media/t3.png', takes: [take(3), take(5)] },
    ]);
    play(store, [first!]);
    expect(numbers(container)).toEqual([5]);
    expect(screen.getByRole('status').textContent).toBe('New take 5');
    play(store, rest);
    expect(numbers(container)).toEqual([2, 3, 4, 5]);
    expect(fresh(container)).toEqual([2, 3, 4, 5]);
    expect(screen.getByRole('status').textContent).toBe('3 new takes');
    // No thumbnail: the take's own path is the picture.
    expect(takeButtons(container)[0]!.querySelector('img')!.getAttribute('src')).toBe('/media/t2.png');
  });

  it('selects a take by click, clears its highlight, calls onselect and updates the binding', async () => {
    store = makeStore();
    play(store, earlierSession());
    const onselect = vi.fn<(take: TakeRecord) => void>();
    const { container } = render(TakesGalleryHost, { props: { store, nodeId: NODE, onselect } });
    expect(screen.getByTestId('selected').textContent).toBe('none');
    expect(pressed(container)).toEqual([2]);

    play(store, actionsOf('generation-success'));
    expect(fresh(container)).toEqual([3]);

    await fireEvent.click(takeButtons(container)[2]!);
    expect(onselect).toHaveBeenCalledTimes(1);
    expect(onselect.mock.calls[0]![0]).toMatchObject({ id: 'take-S001-P003-003', take_number: 3, node_id: NODE });
    expect(fresh(container)).toEqual([]);
    expect(screen.getByTestId('selected').textContent).toBe('3');

    await fireEvent.click(takeButtons(container)[0]!);
    expect(pressed(container)).toEqual([1]);
    expect(screen.getByTestId('selected').textContent).toBe('1');

    // And the other way: the parent sets the bound value.
    await fireEvent.click(takeButtons(container)[1]!);
    expect(pressed(container)).toEqual([2]);
    await fireEvent.click(screen.getByRole('button', { name: 'Pick take 1' }));
    expect(pressed(container)).toEqual([1]);
  });

  it('is usable from the keyboard: buttons, arrows, Home and End', async () => {
    store = makeStore();
    play(store, actionsOf('generation-success'));
    const { container } = render(TakesGallery, { props: { store, nodeId: NODE } });
    const buttons = takeButtons(container);
    expect(buttons.every((button) => button.type === 'button' && !button.disabled && button.tabIndex === 0)).toBe(true);
    buttons[0]!.focus();
    await fireEvent.keyDown(buttons[0]!, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(buttons[1]);
    await fireEvent.keyDown(buttons[1]!, { key: 'End' });
    expect(document.activeElement).toBe(buttons[2]);
    await fireEvent.keyDown(buttons[2]!, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(buttons[2]);
    await fireEvent.keyDown(buttons[2]!, { key: 'Home' });
    expect(document.activeElement).toBe(buttons[0]);
    await fireEvent.keyDown(buttons[0]!, { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(buttons[0]);
  });

  it('does not treat the takes of another node as new when nodeId changes', async () => {
    store = makeStore();
    play(store, actionsOf('generation-success'));
    play(store, actionsOf('narrative-progression'));
    const { container, rerender } = render(TakesGallery, { props: { store, nodeId: NODE } });
    expect(numbers(container)).toEqual([1, 2, 3]);
    await rerender({ store, nodeId: 'node-t2i-0001' });
    expect(numbers(container)).toEqual([1]);
    expect(fresh(container)).toEqual([]);
  });

  it('renders take text as text and never binds an unsafe URL', () => {
    const evil = 'javascript:alert(1)';
    store = makeStore();
    const { container } = render(TakesGallery, { props: { store, nodeId: 'n-evil', label: HOSTILE_SCRIPT } });
    play(
      store,
      actionsOf([
        {
          type: 'generation.completed',
          timestamp: at(1),
          node_id: 'n-evil',
          task_id: 't-evil',
          output_path: evil,
          // Unsafe URLs are dropped at the wire; the take still arrives, without a picture.
          takes: [{ id: 'take-evil', take_number: 1, path: evil, thumbnail: evil, created_at: at(1) }],
        },
      ]),
    );
    expect(numbers(container)).toEqual([1]);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('.cr-takes-title')!.textContent).toBe(HOSTILE_SCRIPT);
    expectNoInjectedMarkup(container);

    // A state that holds one anyway (restored from elsewhere, or a reducer bug) draws no picture.
    const state = store.getState();
    const take = getEntity(state.takes, 'take-evil')!;
    const local = makeStore({
      ...state,
      takes: { ...state.takes, ...tableFrom([...allEntities(state.takes).filter((t) => t.id !== 'take-evil'), { ...take, path: evil, thumbnail: ` ${evil}` }], (t) => t.id) },
    });
    const other = render(TakesGallery, { props: { store: local, nodeId: 'n-evil' } });
    expect(numbers(other.container)).toEqual([1]);
    expect(other.container.querySelector('img')).toBeNull();
    expectNoInjectedMarkup(other.container);
    local.dispose();
  });
});
