import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { render, screen, within } from '@testing-library/svelte';
import { compile } from 'svelte/compiler';
import { afterEach, describe, expect, it } from 'vitest';
import AgentActivityMonitor from '../../src/components/AgentActivityMonitor.svelte';
import ProgressBar from '../../src/components/ProgressBar.svelte';
import TaskProgress from '../../src/components/TaskProgress.svelte';
import * as entry from '../../src/svelte/index.js';
import type { RealtimeStore } from '../../src/index.js';
import { actionsOf, at, makeStore, play } from './harness.js';

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function bar(name = 'Upload') {
  return screen.getByRole('progressbar', { name });
}

function fill(element: HTMLElement) {
  return element.querySelector('.cr-progress-fill') as HTMLElement;
}

/** The component's CSS as the compiler emits it (from the project root: vitest's cwd, as in harness.ts). */
function cssOf(file: string): string {
  const source = readFileSync(resolve(process.cwd(), 'src/components', file), 'utf8');
  return compile(source, { filename: file, css: 'external' }).css?.code ?? '';
}

describe('ProgressBar', () => {
  it('renders the track and fill with the value, label and value text', () => {
    const { container } = render(ProgressBar, { props: { value: 42, label: 'Upload', valueText: '42%: sending' } });
    const progress = bar();
    expect(progress.classList.contains('cr-progress')).toBe(true);
    expect(progress.getAttribute('aria-valuemin')).toBe('0');
    expect(progress.getAttribute('aria-valuemax')).toBe('100');
    expect(progress.getAttribute('aria-valuenow')).toBe('42');
    expect(progress.getAttribute('aria-valuetext')).toBe('42%: sending');
    expect(progress.children).toHaveLength(1);
    expect(fill(progress).style.width).toBe('42%');
    expect(container.querySelectorAll('.cr-progress')).toHaveLength(1);
  });

  it('omits aria-valuetext when none is given', () => {
    render(ProgressBar, { props: { value: 10, label: 'Upload' } });
    expect(bar().hasAttribute('aria-valuetext')).toBe(false);
  });

  it.each([
    [42.4, '42'],
    [42.6, '43'],
    [150, '100'],
    [-5, '0'],
    [Number.NaN, '0'],
    [Number.POSITIVE_INFINITY, '0'],
    [undefined, '0'],
  ])('clamps and rounds %s to %s, as the components did', (value, expected) => {
    render(ProgressBar, { props: { value, label: 'Upload' } });
    expect(bar().getAttribute('aria-valuenow')).toBe(expected);
    expect(fill(bar()).style.width).toBe(`${expected}%`);
  });

  it('follows new props', async () => {
    const { rerender } = render(ProgressBar, { props: { value: 5, label: 'Upload' } });
    await rerender({ value: 80, label: 'Upload', valueText: 'almost', tone: 'success' });
    expect(bar().getAttribute('aria-valuenow')).toBe('80');
    expect(bar().getAttribute('aria-valuetext')).toBe('almost');
    expect(bar().dataset.tone).toBe('success');
    expect(fill(bar()).style.width).toBe('80%');
  });

  it('takes its tone from a prop, accent by default', () => {
    render(ProgressBar, { props: { value: 1, label: 'Upload' } });
    expect(bar().dataset.tone).toBe('accent');
    for (const tone of ['success', 'error', 'muted'] as const) {
      render(ProgressBar, { props: { value: 1, label: tone, tone } });
      expect(bar(tone).dataset.tone).toBe(tone);
    }
  });

  it('keeps the theme variables, tones and reduced motion in its CSS', () => {
    const css = cssOf('ProgressBar.svelte');
    for (const variable of [
      '--cr-progress-height',
      '--cr-progress-bar-height',
      '--cr-progress-radius',
      '--cr-progress-track',
      '--cr-progress-fill',
      '--cr-color-accent',
      '--cr-color-success',
      '--cr-color-error',
      '--cr-color-muted',
    ]) {
      expect(css, variable).toContain(variable);
    }
    expect(css).toMatch(/\[data-tone='success'\]/);
    expect(css).toMatch(/\[data-tone='error'\]/);
    expect(css).toMatch(/\[data-tone='muted'\]/);
    expect(css).toContain('prefers-reduced-motion');
  });

  it("keeps the agent monitor's own bar height variable", () => {
    expect(cssOf('AgentActivityMonitor.svelte')).toMatch(
      /--cr-progress-bar-height:\s*var\(--cr-agent-progress-height,\s*4px\)/,
    );
  });

  it('is exported from the svelte entry', () => {
    expect(entry.ProgressBar).toBe(ProgressBar);
  });
});

describe('ProgressBar in the components', () => {
  it('TaskProgress: accent while running, success, error, muted when cancelled', () => {
    store = makeStore();
    play(store, actionsOf('generation-success'));
    play(store, actionsOf('generation-failure'));
    play(store, actionsOf('generation-cancel'));
    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(1), task_id: 't-run', state: 'PROGRESS', progress: 33.3 },
      ]),
    );
    const toneOf = (taskId: string) => {
      const { container } = render(TaskProgress, { props: { store: store!, taskId } });
      return (within(container).getByRole('progressbar', { name: 'Task progress' }) as HTMLElement).dataset.tone;
    };
    expect(toneOf('t-run')).toBe('accent');
    expect(toneOf('celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b')).toBe('success');
    expect(toneOf('celery-8d1f2e3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a')).toBe('error');
    expect(toneOf('celery-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d')).toBe('muted');
  });

  it('AgentActivityMonitor: accent while working, success when completed', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store } });
    play(store, actionsOf('agent-pipeline'));
    const tones = new Set(
      Array.from(container.querySelectorAll<HTMLElement>('.cr-agent')).map((card) => {
        const progress = card.querySelector<HTMLElement>('[role="progressbar"]');
        if (progress === null) return `${card.dataset.status}:none`;
        expect(progress.getAttribute('aria-label')).toMatch(/ progress$/);
        expect(fill(progress).style.width).toBe(`${progress.getAttribute('aria-valuenow')}%`);
        return `${card.dataset.status}:${progress.dataset.tone}`;
      }),
    );
    for (const tone of tones) expect(['idle:none', 'working:accent', 'completed:success']).toContain(tone);
    expect(tones).toContain('completed:success');
  });
});
