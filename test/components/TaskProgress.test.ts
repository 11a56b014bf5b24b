import { render, screen } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import TaskProgress from '../../src/components/TaskProgress.svelte';
import type { RealtimeStore } from '../../src/index.js';
import {
  HOSTILE_IMG,
  HOSTILE_SCRIPT,
  actionsOf,
  at,
  expectNoInjectedMarkup,
  makeStore,
  play,
  playEach,
} from './harness.js';

const SUCCESS_TASK = 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b';
const FAILURE_TASK = 'celery-8d1f2e3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a';
const CANCEL_TASK = 'celery-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function bar() {
  return screen.getByRole('progressbar', { name: 'Task progress' });
}

function root(container: HTMLElement) {
  return container.querySelector('.cr-task-progress') as HTMLElement;
}

describe('TaskProgress', () => {
  it('waits for an unknown task', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: 'celery-unknown' } });
    expect(root(container).dataset.state).toBe('unknown');
    expect(screen.getByRole('status').textContent).toBe('Waiting for the task to report…');
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('follows a task through PENDING, STARTED, PROGRESS with steps, and SUCCESS with a result', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: SUCCESS_TASK } });
    const states = new Set<string>();
    const steps = new Set<string>();
    let lastProgress = -1;
    playEach(store, actionsOf('generation-success'), () => {
      const state = root(container).dataset.state!;
      states.add(state);
      if (state === 'unknown') return;
      const now = Number(bar().getAttribute('aria-valuenow'));
      expect(now).toBeGreaterThanOrEqual(lastProgress);
      lastProgress = now;
      const step = container.querySelector('.cr-task-step')?.textContent;
      if (step) steps.add(step);
      expect(container.querySelector('.cr-task-state')!.textContent).toBe(state);
    });
    expect([...states]).toEqual(['unknown', 'PENDING', 'STARTED', 'PROGRESS', 'SUCCESS']);
    expect(steps).toContain('Loading model sdxl-base-1.0');
    expect(steps).toContain('Step 5 of 30: Denoising');
    expect(steps).toContain('Step 30 of 30: Denoising');

    // Finished: full bar, the final message, a result summary as text, no step line.
    expect(bar().getAttribute('aria-valuenow')).toBe('100');
    expect(bar().getAttribute('aria-valuemin')).toBe('0');
    expect(bar().getAttribute('aria-valuemax')).toBe('100');
    expect(container.querySelector('.cr-task-step')).toBeNull();
    expect(screen.getByRole('status').textContent).toBe('Take 3 saved');
    const result = container.querySelector('.cr-task-result-text')!.textContent!;
    expect(result.startsWith('{"output_path":"/media/proj-aurora/S001/P003/take-003.png"')).toBe(true);
    expect(root(container).getAttribute('aria-busy')).toBe('false');
  });

  it('draws the result with the `result` snippet instead of its JSON, on SUCCESS only', () => {
    store = makeStore();
    const seen: unknown[] = [];
    const takeOf = createRawSnippet((result: () => unknown) => ({
      render: () => {
        seen.push(result());
        return '<span class="take-label">the take</span>';
      },
    }));
    const { container } = render(TaskProgress, { props: { store, taskId: SUCCESS_TASK, result: takeOf } });
    const before = new Set<string>();
    playEach(store, actionsOf('generation-success'), () => {
      if (root(container).dataset.state !== 'SUCCESS') before.add(String(container.querySelector('.take-label')));
    });
    expect([...before]).toEqual(['null']); // nothing drawn before SUCCESS
    expect(root(container).dataset.state).toBe('SUCCESS');
    expect(container.querySelector('.cr-task-result .take-label')!.textContent).toBe('the take');
    expect(container.querySelector('.cr-task-result-text')).toBeNull();
    expect(container.textContent).not.toContain('output_path');
    expect(seen.at(-1)).toMatchObject({ output_path: '/media/proj-aurora/S001/P003/take-003.png' });
  });

  it('truncates a long result', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: 't-long', resultMaxLength: 40 } });
    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(1), task_id: 't-long', state: 'SUCCESS', result: { text: 'x'.repeat(500) } },
      ]),
    );
    const text = container.querySelector('.cr-task-result-text')!.textContent!;
    expect(Array.from(text)).toHaveLength(40);
    expect(text.endsWith('…')).toBe(true);
  });

  it('shows the error on FAILURE', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: FAILURE_TASK } });
    play(store, actionsOf('generation-failure'));
    expect(root(container).dataset.state).toBe('FAILURE');
    expect(root(container).dataset.tone).toBe('error');
    expect(screen.getByRole('alert').textContent).toContain('CUDA out of memory at denoising step 14/30');
    expect(container.querySelector('.cr-task-result')).toBeNull();
    expect(Number(bar().getAttribute('aria-valuenow'))).toBe(41);
  });

  it('says Cancelled on REVOKED, and a late progress frame does not undo it', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: CANCEL_TASK } });
    play(store, actionsOf('generation-cancel'));
    expect(root(container).dataset.state).toBe('REVOKED');
    expect(container.querySelector('.cr-task-cancelled')!.textContent).toBe('Cancelled');
    expect(screen.getByRole('status').textContent).toBe('Cancelled by user');
    expect(container.querySelector('.cr-task-step')).toBeNull();
  });

  it('follows a new taskId prop', async () => {
    store = makeStore();
    play(store, actionsOf('generation-failure'));
    play(store, actionsOf('generation-cancel'));
    const { container, rerender } = render(TaskProgress, { props: { store, taskId: FAILURE_TASK } });
    expect(root(container).dataset.state).toBe('FAILURE');
    await rerender({ store, taskId: CANCEL_TASK });
    expect(root(container).dataset.state).toBe('REVOKED');
  });

  it('renders hostile backend text as text', () => {
    store = makeStore();
    const { container } = render(TaskProgress, { props: { store, taskId: 't-evil' } });
    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(1), task_id: 't-evil', state: 'PROGRESS', progress: 10, step: HOSTILE_IMG, current_step: 1, total_steps: 2, message: HOSTILE_SCRIPT },
      ]),
    );
    expect(container.querySelector('.cr-task-step')!.textContent).toBe(`Step 1 of 2: ${HOSTILE_IMG}`);
    expect(screen.getByRole('status').textContent).toBe(HOSTILE_SCRIPT);
    expectNoInjectedMarkup(container);

    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(2), task_id: 't-evil', state: 'FAILURE', message: HOSTILE_IMG },
      ]),
    );
    expect(screen.getByRole('alert').textContent).toContain(HOSTILE_IMG);
    expectNoInjectedMarkup(container);

    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(3), task_id: 't-evil-2', state: 'SUCCESS', result: { html: HOSTILE_SCRIPT } },
      ]),
    );
    const other = render(TaskProgress, { props: { store, taskId: 't-evil-2' } });
    expect(other.container.querySelector('.cr-task-result-text')!.textContent).toBe(JSON.stringify({ html: HOSTILE_SCRIPT }));
    expectNoInjectedMarkup(other.container);
  });
});
