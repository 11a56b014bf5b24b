import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import NarrativeProgress from '../../src/components/NarrativeProgress.svelte';
import { startGeneration, type RealtimeStore } from '../../src/index.js';
import { HOSTILE_IMG, HOSTILE_SCRIPT, actionsOf, at, expectNoInjectedMarkup, makeStore, play, playEach } from './harness.js';

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function field(container: HTMLElement, name: string) {
  return container.querySelector(`[data-field="${name}"] dd`)?.textContent;
}

function beatNames(container: HTMLElement) {
  return Array.from(container.querySelectorAll<HTMLElement>('.cr-beat')).map((li) => li.dataset.beat!);
}

function counts(container: HTMLElement, beat: string) {
  return container.querySelector(`[data-beat="${beat}"] .cr-beat-counts`)!.textContent;
}

describe('NarrativeProgress', () => {
  it('says so before any narrative event', () => {
    store = makeStore();
    const { container } = render(NarrativeProgress, { props: { store } });
    expect(container.querySelector('.cr-narrative-empty')!.textContent).toBe('No narrative progress yet');
    expect(beatNames(container)).toEqual([]);
  });

  it('follows Chapter/Scene/Shot and the beats, once each, with their generations and takes', () => {
    store = makeStore();
    const { container } = render(NarrativeProgress, { props: { store } });
    const currents: string[] = [];
    playEach(store, actionsOf('narrative-progression'), () => {
      const names = beatNames(container);
      // Never a beat twice, even when the backend repeats one.
      expect(new Set(names).size).toBe(names.length);
      const current = container.querySelector('[aria-current="step"]')?.getAttribute('data-beat');
      if (current && currents.at(-1) !== current) currents.push(current);
      if (current) expect(field(container, 'beat')).toBe(current);
    });
    expect(currents).toEqual(['opening-image', 'inciting-incident', 'midpoint']);

    expect(field(container, 'structure')).toBe('Three-act');
    expect(field(container, 'chapter')).toBe('2 of 3');
    expect(field(container, 'scene')).toBe('S007 of 12');
    expect(field(container, 'shot')).toBe('P025 of 48');

    expect(beatNames(container)).toEqual(['opening-image', 'inciting-incident', 'midpoint']);
    const list = screen.getByRole('list');
    expect(list.tagName).toBe('OL');
    expect(screen.getAllByRole('listitem')).toHaveLength(3);
    for (const beat of ['opening-image', 'inciting-incident', 'midpoint']) {
      expect(counts(container, beat)).toBe('1 generation · 1 take');
    }
    expect(container.querySelector('[data-beat="opening-image"] .cr-beat-place')!.textContent).toBe(
      'Chapter 1 · Scene S001 · Shot P001',
    );
    expect(container.querySelector('[data-beat="midpoint"] .cr-beat-current')!.textContent).toBe('Current');
    expect(container.querySelector('[data-beat="opening-image"]')!.getAttribute('aria-current')).toBeNull();
  });

  it('shows the position without totals when the backend sends none', () => {
    store = makeStore();
    const { container } = render(NarrativeProgress, { props: { store } });
    play(store, actionsOf([{ type: 'narrative.progress', timestamp: at(1), current_chapter: 4, current_scene: 'S010', current_shot: 'P040' }]));
    expect(field(container, 'chapter')).toBe('4');
    expect(field(container, 'scene')).toBe('S010');
    expect(field(container, 'shot')).toBe('P040');
    expect(field(container, 'structure')).toBeUndefined();
    expect(beatNames(container)).toEqual([]);
  });

  it('lists a beat that has generations but was not reached yet, after the reached ones', () => {
    store = makeStore();
    const { container } = render(NarrativeProgress, { props: { store } });
    // generation-success links its generation and takes to "inciting-incident" without a beat frame.
    play(store, actionsOf('generation-success'));
    expect(beatNames(container)).toEqual(['inciting-incident']);
    const row = container.querySelector('[data-beat="inciting-incident"]') as HTMLElement;
    expect(row.dataset.reached).toBe('false');
    expect(row.querySelector('.cr-beat-upcoming')!.textContent).toBe('Not reached yet');
    expect(counts(container, 'inciting-incident')).toBe('1 generation · 3 takes');

    // A generation asked for by the user for another beat, not started yet.
    store.dispatch(startGeneration({ nodeId: 'n-x', params: { prompt: 'p' }, context: { emotional_beat: 'all-is-lost' } }));
    play(store, actionsOf([{ type: 'narrative.beat', timestamp: at(1), beat_name: 'opening-image', scene_id: 'S001', keywords: [] }]));
    expect(beatNames(container)).toEqual(['opening-image', 'inciting-incident', 'all-is-lost']);
    expect(counts(container, 'all-is-lost')).toBe('0 generations · 0 takes');
    expect(container.querySelector('[aria-current="step"]')!.getAttribute('data-beat')).toBe('opening-image');
  });

  it('renders hostile beat names as text', () => {
    store = makeStore();
    const { container } = render(NarrativeProgress, { props: { store } });
    play(
      store,
      actionsOf([
        { type: 'narrative.beat', timestamp: at(1), beat_name: HOSTILE_SCRIPT, scene_id: 'S001', keywords: [] },
        { type: 'narrative.beat', timestamp: at(2), beat_name: HOSTILE_IMG, scene_id: 'S002', keywords: [] },
      ]),
    );
    expect(beatNames(container)).toEqual([HOSTILE_SCRIPT, HOSTILE_IMG]);
    expect(container.querySelector('.cr-current-beat')!.textContent).toBe(HOSTILE_IMG);
    expectNoInjectedMarkup(container);
  });
});
