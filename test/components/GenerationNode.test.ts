import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import GenerationNode from '../../src/components/GenerationNode.svelte';
import { flushSync } from 'svelte';
import { contactLost, encodeFrame, nodesMarkedStale, type RealtimeStore } from '../../src/index.js';
import GenerationNodeHost from './hosts/GenerationNodeHost.svelte';
import {
  HOSTILE_IMG,
  HOSTILE_SCRIPT,
  actionsOf,
  at,
  expectNoInjectedMarkup,
  indexOfFrame,
  makeStore,
  play,
} from './harness.js';

const SUCCESS_NODE = 'node-t2i-7f3a';
const SUCCESS_TASK = 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b';
const CANCEL_NODE = 'node-t2i-9e07';
const CANCEL_TASK = 'celery-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const FAILURE_NODE = 'node-t2i-c41d';

const CONTEXT = {
  scene_id: 'S001',
  shot_id: 'P003',
  emotional_beat: 'inciting-incident',
  character_refs: ['char-mara'],
  style_refs: ['style-noir-01'],
  location_ref: 'loc-harbor',
};

let store: RealtimeStore | undefined;
afterEach(() => {
  store?.dispose();
  store = undefined;
});

function generateButton() {
  return screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement;
}

function cancelButton() {
  return screen.queryByRole('button', { name: /^Cancel/ }) as HTMLButtonElement | null;
}

function status(container: HTMLElement) {
  return (container.querySelector('.cr-node') as HTMLElement).dataset.status;
}

function outboxFrames() {
  return store!.getState().outbox.entries.map((entry) => entry.frame);
}

async function type(label: string, value: string) {
  await fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe('GenerationNode', () => {
  it('has a labelled input for each parameter, seeded from the initial params', () => {
    store = makeStore();
    render(GenerationNode, {
      props: { store, nodeId: SUCCESS_NODE, params: { prompt: 'Harbor at night', width: 1344, height: 768, seed: 42 } },
    });
    expect(screen.getByRole('heading', { level: 3, name: 'Text to Image' })).toBeTruthy();
    expect(screen.getByRole('form', { name: 'Text to Image' })).toBeTruthy();
    expect((screen.getByLabelText('Prompt') as HTMLTextAreaElement).value).toBe('Harbor at night');
    expect((screen.getByLabelText('Negative prompt') as HTMLTextAreaElement).value).toBe('');
    expect((screen.getByLabelText('Width') as HTMLInputElement).value).toBe('1344');
    expect((screen.getByLabelText('Height') as HTMLInputElement).value).toBe('768');
    expect((screen.getByLabelText('Steps') as HTMLInputElement).value).toBe('30');
    expect((screen.getByLabelText('CFG scale') as HTMLInputElement).value).toBe('7');
    expect((screen.getByLabelText('Seed') as HTMLInputElement).value).toBe('42');
    expect(generateButton().disabled).toBe(false);
    expect(cancelButton()).toBeNull();
  });

  it('Generate dispatches start_generation with the params and the filmmaking context, then waits', async () => {
    store = makeStore();
    const { container } = render(GenerationNode, {
      props: { store, nodeId: SUCCESS_NODE, projectId: 'proj-aurora', context: CONTEXT, params: { prompt: 'Mara waits on the harbor wall' } },
    });
    expect(container.querySelector('.cr-gen-context')!.textContent).toBe('S001 · P003 · inciting-incident');
    await type('Negative prompt', 'blurry, text');
    await type('Width', '1344');
    await type('Height', '768');
    await type('Steps', '40');
    await type('CFG scale', '6.5');
    await type('Seed', '1234567');
    await fireEvent.click(generateButton());

    const frames = outboxFrames();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({
      type: 'start_generation',
      node_id: SUCCESS_NODE,
      project_id: 'proj-aurora',
      params: {
        prompt: 'Mara waits on the harbor wall',
        negative_prompt: 'blurry, text',
        width: 1344,
        height: 768,
        steps: 40,
        cfg_scale: 6.5,
        seed: 1234567,
      },
      context: CONTEXT,
    });
    expect(frames[0]!.command_id).toMatch(/^cmd-[0-9a-f]{24}$/);
    // The frame is one the wire contract accepts.
    expect(encodeFrame(frames[0]!).ok).toBe(true);

    // While the start is pending: no second start, a spinner saying so.
    expect(generateButton().disabled).toBe(true);
    expect(container.querySelector('.cr-spinner')).not.toBeNull();
    expect(screen.getByText('Starting generation…')).toBeTruthy();
    await fireEvent.click(generateButton());
    expect(outboxFrames()).toHaveLength(1);
  });

  it('generating: Generate disabled, Cancel shown; completed: thumbnail, takes, Generate again', () => {
    store = makeStore();
    const { container } = render(GenerationNode, { props: { store, nodeId: SUCCESS_NODE, params: { prompt: 'p' } } });
    const actions = actionsOf('generation-success');
    const started = indexOfFrame(actions, (f) => f.type === 'generation.started');
    const completed = indexOfFrame(actions, (f) => f.state === 'SUCCESS');
    play(store, actions.slice(0, started + 1));
    expect(status(container)).toBe('generating');
    expect(generateButton().disabled).toBe(true);
    expect(cancelButton()!.disabled).toBe(false);
    expect(cancelButton()!.textContent!.trim()).toBe('Cancel');

    play(store, actions.slice(started + 1, completed));
    expect(screen.getByRole('progressbar', { name: 'Generation progress' }).getAttribute('aria-valuenow')).toBe('97');
    expect(generateButton().disabled).toBe(true);

    play(store, actions.slice(completed));
    expect(status(container)).toBe('completed');
    expect(generateButton().disabled).toBe(false);
    expect(cancelButton()).toBeNull();
    expect(screen.getByRole('img', { name: 'Generated output' }).getAttribute('src')).toBe(
      '/media/proj-aurora/S001/P003/take-003.thumb.webp',
    );
    const takes = Array.from(container.querySelectorAll<HTMLButtonElement>('button.cr-take'));
    expect(takes.map((take) => take.dataset.take)).toEqual(['1', '2', '3']);
    expect(takes[2]!.getAttribute('aria-pressed')).toBe('true');
    expect(takes[2]!.hasAttribute('data-new')).toBe(true);
  });

  it('Cancel dispatches cancel_generation for the current task; the node ends cancelled, then idle', async () => {
    store = makeStore();
    const { container } = render(GenerationNode, {
      props: { store, nodeId: CANCEL_NODE, projectId: 'proj-aurora', params: { prompt: 'p' } },
    });
    const actions = actionsOf('generation-cancel');
    const revoked = indexOfFrame(actions, (f) => f.state === 'REVOKED');
    play(store, actions.slice(0, revoked));
    expect(status(container)).toBe('generating');

    await fireEvent.click(cancelButton()!);
    const frames = outboxFrames();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: 'cancel_generation', node_id: CANCEL_NODE, task_id: CANCEL_TASK, project_id: 'proj-aurora' });
    expect(encodeFrame(frames[0]!).ok).toBe(true);
    // Asked once: the button waits for the backend.
    expect(cancelButton()!.disabled).toBe(true);
    expect(cancelButton()!.textContent!.trim()).toBe('Cancelling…');
    await fireEvent.click(cancelButton()!);
    expect(outboxFrames()).toHaveLength(1);
    expect(generateButton().disabled).toBe(true);

    play(store, actions.slice(revoked, revoked + 1));
    expect(status(container)).toBe('cancelled');
    expect(cancelButton()).toBeNull();
    expect(generateButton().disabled).toBe(false);
    play(store, actions.slice(revoked + 1));
    expect(status(container)).toBe('idle');
    expect(cancelButton()).toBeNull();
    expect(generateButton().disabled).toBe(false);
  });

  it('Cancel names the task of the run under way', async () => {
    store = makeStore();
    render(GenerationNode, { props: { store, nodeId: SUCCESS_NODE } });
    const actions = actionsOf('generation-success');
    play(store, actions.slice(0, indexOfFrame(actions, (f) => f.current_step === 15) + 1));
    await fireEvent.click(cancelButton()!);
    expect(outboxFrames()).toEqual([expect.objectContaining({ type: 'cancel_generation', task_id: SUCCESS_TASK })]);
  });

  it('error: shows the error and lets the user try again', async () => {
    store = makeStore();
    const { container } = render(GenerationNode, { props: { store, nodeId: FAILURE_NODE, params: { prompt: 'p' } } });
    play(store, actionsOf('generation-failure'));
    expect(status(container)).toBe('error');
    expect(screen.getByRole('alert').textContent).toContain('CUDA out of memory. Tried to allocate 2.00 GiB');
    expect(cancelButton()).toBeNull();
    expect(generateButton().disabled).toBe(false);
    await fireEvent.click(generateButton());
    expect(outboxFrames()).toEqual([expect.objectContaining({ type: 'start_generation', node_id: FAILURE_NODE })]);
  });

  it('a start the server rejects shows its error and re-enables Generate', async () => {
    store = makeStore();
    const { container } = render(GenerationNode, { props: { store, nodeId: 'n-rejected', params: { prompt: 'p' } } });
    await fireEvent.click(generateButton());
    const commandId = store.getState().outbox.entries[0]!.commandId;
    play(store, actionsOf([{ type: 'ack', timestamp: at(1), command_id: commandId, status: 'rejected', error: `Quota exceeded ${HOSTILE_SCRIPT}` }]));
    expect(status(container)).toBe('error');
    expect(screen.getByRole('alert').textContent).toContain(`Quota exceeded ${HOSTILE_SCRIPT}`);
    expect(generateButton().disabled).toBe(false);
    expectNoInjectedMarkup(container);
  });

  it('validates the form before sending anything', async () => {
    store = makeStore();
    render(GenerationNode, { props: { store, nodeId: 'n-form' } });
    await type('Width', '0');
    await type('Steps', '');
    await type('CFG scale', '250');
    await type('Seed', '1.5');
    await fireEvent.click(generateButton());
    expect(outboxFrames()).toEqual([]);
    expect(screen.getByRole('alert').textContent).toBe('Check the highlighted fields.');
    const prompt = screen.getByLabelText('Prompt');
    expect(prompt.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(prompt.getAttribute('aria-describedby')!)!.textContent).toBe('Enter a prompt.');
    expect(document.activeElement).toBe(prompt);
    const message = (label: string) =>
      document.getElementById(screen.getByLabelText(label).getAttribute('aria-describedby')!)!.textContent;
    expect(message('Width')).toBe('Width must be a whole number between 1 and 16384.');
    expect(message('Steps')).toBe('Steps is required.');
    expect(message('CFG scale')).toBe('CFG scale must be a number between 0 and 100.');
    expect(message('Seed')).toBe('Seed must be a whole number.');
    expect(screen.getByLabelText('Height').getAttribute('aria-invalid')).toBe('false');

    await type('Prompt', 'Lighthouse in a storm');
    await type('Width', '512');
    await type('Steps', '20');
    await type('CFG scale', '5');
    await type('Seed', '');
    await fireEvent.click(generateButton());
    expect(screen.queryByRole('alert')).toBeNull();
    const frames = outboxFrames();
    expect(frames).toHaveLength(1);
    // No negative prompt, no seed (random), no context: those keys are left out.
    expect(frames[0]).toMatchObject({
      type: 'start_generation',
      params: { prompt: 'Lighthouse in a storm', width: 512, height: 1024, steps: 20, cfg_scale: 5 },
    });
    const params = (frames[0] as { params: Record<string, unknown> }).params;
    expect('seed' in params).toBe(false);
    expect('negative_prompt' in params).toBe(false);
    expect('context' in frames[0]!).toBe(false);
  });

  it('sends the context a parent keeps in $state, as it is when Generate is pressed', async () => {
    store = makeStore();
    render(GenerationNodeHost, { props: { store, nodeId: SUCCESS_NODE } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add Ilya' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Next shot' }));
    await fireEvent.click(generateButton());
    const frame = outboxFrames()[0] as { context: Record<string, unknown> };
    expect(frame.context).toEqual({ ...CONTEXT, shot_id: 'P004', character_refs: ['char-mara', 'char-ilya'] });
    // A copy: later edits by the parent do not reach the queued frame.
    await fireEvent.click(screen.getByRole('button', { name: 'Add Ilya' }));
    expect((outboxFrames()[0] as { context: { character_refs: string[] } }).context.character_refs).toHaveLength(2);
  });

  it('binds the selected take', async () => {
    store = makeStore();
    const { container } = render(GenerationNodeHost, { props: { store, nodeId: SUCCESS_NODE } });
    play(store, actionsOf('generation-success'));
    await fireEvent.click(container.querySelector<HTMLButtonElement>('button.cr-take[data-take="2"]')!);
    expect(screen.getByTestId('take').textContent).toBe('2');
  });

  it('renders backend text in the node as text', () => {
    store = makeStore();
    const { container } = render(GenerationNode, { props: { store, nodeId: 'n-evil', params: { prompt: 'p' } } });
    play(
      store,
      actionsOf([
        { type: 'task.progress', timestamp: at(1), task_id: 't-evil', node_id: 'n-evil', state: 'PROGRESS', progress: 3, step: HOSTILE_IMG },
      ]),
    );
    expect(screen.getByText(HOSTILE_IMG)).toBeTruthy();
    play(
      store,
      actionsOf([
        { type: 'generation.error', timestamp: at(2), task_id: 't-evil', node_id: 'n-evil', error: HOSTILE_SCRIPT },
      ]),
    );
    expect(screen.getByRole('alert').textContent).toContain(HOSTILE_SCRIPT);
    expectNoInjectedMarkup(container);
  });

  it('a run whose contact was lost shows "Lost contact with this run" and Generate works again', async () => {
    store = makeStore();
    const { container } = render(GenerationNode, { props: { store, nodeId: SUCCESS_NODE, params: { prompt: 'Harbor at night' } } });
    const actions = actionsOf('generation-success');
    const midway = indexOfFrame(actions, (f) => f.current_step === 10);
    play(store, actions.slice(0, midway + 1));
    expect(status(container)).toBe('generating');
    expect(generateButton().disabled).toBe(true);

    // A reconnect that nothing confirmed within staleAfterMs (the middleware's timer).
    store.dispatch(nodesMarkedStale({ nodeIds: [SUCCESS_NODE], at: Date.now() }));
    store.dispatch(contactLost({ nodeIds: [SUCCESS_NODE], at: Date.now() }));
    flushSync();
    expect(status(container)).toBe('error');
    expect(screen.getByRole('alert').textContent).toContain('Lost contact with this run');
    expect(container.querySelector('.cr-stale')).toBeNull();
    expect(generateButton().disabled).toBe(false);
    expect(cancelButton()?.disabled ?? true).toBe(true);

    await fireEvent.click(generateButton());
    expect(outboxFrames()).toEqual([expect.objectContaining({ type: 'start_generation', node_id: SUCCESS_NODE })]);

    // A later frame of the same run brings it back.
    play(store, actions.slice(midway + 1, midway + 2));
    expect(status(container)).toBe('generating');
    expect(screen.queryByText('Lost contact with this run')).toBeNull();
  });
});
