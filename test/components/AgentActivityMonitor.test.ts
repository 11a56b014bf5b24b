import { render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import AgentActivityMonitor from '../../src/components/AgentActivityMonitor.svelte';
import { AGENT_TYPES, type RealtimeStore } from '../../src/index.js';
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

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function card(container: HTMLElement, agent: string) {
  return container.querySelector(`[data-agent="${agent}"]`) as HTMLElement;
}

function statuses(container: HTMLElement) {
  return Object.fromEntries(AGENT_TYPES.map((agent) => [agent, card(container, agent).dataset.status]));
}

function routes(container: HTMLElement) {
  return Array.from(container.querySelectorAll('.cr-handoff')).map(
    (item) => `${item.querySelector('.cr-handoff-from')!.textContent} -> ${item.querySelector('.cr-handoff-to')!.textContent}`,
  );
}

describe('AgentActivityMonitor', () => {
  it('lists the seven agents, idle, with their icons', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store } });
    const cards = Array.from(container.querySelectorAll<HTMLElement>('.cr-agent'));
    expect(cards.map((c) => c.dataset.agent)).toEqual([...AGENT_TYPES]);
    expect(cards.map((c) => c.querySelector('.cr-agent-name')!.textContent)).toEqual([
      'Producer',
      'Screenwriter',
      'Casting Director',
      'Art Director',
      'Cinematographer',
      'Sound Designer',
      'Editor',
    ]);
    expect(cards.every((c) => c.dataset.status === 'idle')).toBe(true);
    expect(cards.every((c) => c.querySelector('.cr-agent-status')!.textContent === 'Idle')).toBe(true);
    expect(card(container, 'Producer').querySelector('.cr-agent-icon')!.textContent).toBe('🎬');
    expect(screen.queryAllByRole('progressbar')).toHaveLength(0);
    expect(container.querySelector('.cr-handoffs')).toBeNull();
    expect(container.querySelector('.cr-narrative-status')).toBeNull();
  });

  it('lights the agents up one after another through the pipeline, with progress, task and hand-offs', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store } });
    const litInOrder: string[] = [];
    playEach(store, actionsOf('agent-pipeline'), () => {
      const working = AGENT_TYPES.filter((agent) => card(container, agent).dataset.status === 'working');
      expect(working.length).toBeLessThanOrEqual(1);
      const agent = working[0];
      if (agent === undefined) return;
      if (litInOrder.at(-1) !== agent) litInOrder.push(agent);
      const bar = within(card(container, agent)).getByRole('progressbar');
      expect(bar.getAttribute('aria-label')).toMatch(/ progress$/);
      expect(container.querySelector('.cr-agents')!.getAttribute('data-working')).toBe('1');
    });
    expect(litInOrder).toEqual([...AGENT_TYPES]);
    expect(Object.values(statuses(container)).every((status) => status === 'completed')).toBe(true);

    const producer = card(container, 'Producer');
    expect(producer.querySelector('.cr-agent-status')!.textContent).toBe('✓ Completed');
    expect(producer.querySelector('.cr-agent-task')!.textContent).toBe('Budget the shot and schedule GPU time');
    expect(within(producer).getByRole('progressbar', { name: 'Producer progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(producer.querySelector('.cr-agent-vram')!.textContent).toBe('VRAM: 11.9 GB');
    expect(card(container, 'Editor').querySelector('.cr-agent-vram')).toBeNull();

    // Hand-offs: the five most recent, newest first, with their notes.
    expect(routes(container)).toEqual([
      'Sound Designer -> Editor',
      'Cinematographer -> Sound Designer',
      'Art Director -> Cinematographer',
      'Casting Director -> Art Director',
      'Screenwriter -> Casting Director',
    ]);
    expect(container.querySelector('.cr-handoff-notes')!.textContent).toBe('SoundDesigner hands S004/P014 to Editor');
  });

  it('shows a working agent with its current step, progress and VRAM', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store, maxHandoffs: 10 } });
    const actions = actionsOf('agent-pipeline');
    play(store, actions.slice(0, 4));
    const producer = card(container, 'Producer');
    expect(producer.dataset.status).toBe('working');
    expect(producer.querySelector('.cr-agent-status')!.textContent).toBe('Working');
    expect(producer.querySelector('.cr-agent-step')!.textContent).toBe('Estimating GPU time');
    expect(producer.querySelector('.cr-agent-vram')!.textContent).toBe('VRAM: 7.5 GB');
    expect(within(producer).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('50');
    play(store, actions.slice(4));
    // All six hand-offs fit in maxHandoffs = 10; the oldest is last.
    expect(routes(container)).toHaveLength(6);
    expect(routes(container).at(-1)).toBe('Producer -> Screenwriter');
  });

  it('shows the narrative beat and scene at the top when asked', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store, showNarrative: true } });
    expect(container.querySelector('.cr-narrative-status')).toBeNull();
    play(store, actionsOf('narrative-progression'));
    expect(container.querySelector('.cr-current-beat')!.textContent).toBe('midpoint');
    expect(container.querySelector('.cr-current-scene')!.textContent).toBe('S007');
  });

  it('renders hostile agent text as text', () => {
    store = makeStore();
    const { container } = render(AgentActivityMonitor, { props: { store } });
    play(
      store,
      actionsOf([
        { type: 'agent.assigned', timestamp: at(1), agent_type: 'Screenwriter', task_id: 't-evil', task_description: HOSTILE_SCRIPT },
        { type: 'agent.progress', timestamp: at(2), agent_type: 'Screenwriter', task_id: 't-evil', progress: 10, current_step: HOSTILE_IMG },
        { type: 'agent.handoff', timestamp: at(3), from_agent: 'Screenwriter', to_agent: 'Editor', task_id: 't-evil', notes: HOSTILE_IMG },
      ]),
    );
    const writer = card(container, 'Screenwriter');
    expect(writer.querySelector('.cr-agent-task')!.textContent).toBe(HOSTILE_SCRIPT);
    expect(writer.querySelector('.cr-agent-step')!.textContent).toBe(HOSTILE_IMG);
    expect(container.querySelector('.cr-handoff-notes')!.textContent).toBe(HOSTILE_IMG);
    expectNoInjectedMarkup(container);
  });
});
