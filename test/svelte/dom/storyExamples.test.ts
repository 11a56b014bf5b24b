/**
 * The story's own component examples (STORY-009, "Integration Examples" and its Connection Status
 * Component), copied nearly verbatim into ./story/, run unchanged on the story's API:
 * setupWebSocket / getWebSocketClient / teardownWebSocket and the $wsState, $wsMessages,
 * $taskProgress, $nodeStates, $activeGenerations, $agentActivities, $narrativeProgress,
 * $isConnected stores.
 *
 * The backend is played by FakeWebSocket: the test opens the socket, sends frames and closes it
 * with a code; what the client sent is read back from the socket.
 */
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { get } from 'svelte/store';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStorage, type RealtimeStoreOptions } from '../../../src/index.js';
import {
  activeGenerations,
  agentActivities,
  getWebSocketClient,
  isConnected,
  narrativeProgress,
  nodeStates,
  setupWebSocket,
  taskProgress,
  teardownWebSocket,
  wsMessages,
  wsState,
} from '../../../src/svelte/index.js';
import { FakeWebSocket } from '../../support/fakeWebSocket.js';
import AgentActivityMonitor from './story/AgentActivityMonitor.svelte';
import BasicUsage from './story/BasicUsage.svelte';
import ConnectionStatus from './story/ConnectionStatus.svelte';
import NodeStateVisuals from './story/NodeStateVisuals.svelte';
import TaskProgress from './story/TaskProgress.svelte';
import TextToImageNode from './story/TextToImageNode.svelte';

const URL = 'ws://127.0.0.1:1/ws';

function setup(extra: RealtimeStoreOptions = {}) {
  return setupWebSocket(URL, {
    WebSocket: FakeWebSocket,
    storage: createMemoryStorage(),
    browser: null,
    devTools: false,
    sessionReplyTimeoutMs: 10,
    ...extra,
  });
}

/**
 * Lets frames received so far reach the DOM: the client applies frames on a setImmediate tick
 * (batching), then Svelte updates the DOM in a microtask.
 */
async function flush() {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await tick();
}

/** The socket the client opened, opened by the "server"; resolves once the session is ready. */
async function openSession(): Promise<FakeWebSocket> {
  await vi.waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
  const ws = FakeWebSocket.last();
  ws.open();
  // A story-only backend does not answer session.init: the client assumes the session after
  // sessionReplyTimeoutMs (10 ms here).
  await vi.waitFor(() => expect(getWebSocketClient()!.store.getState().connection.sessionReady).toBe(true));
  await tick();
  return ws;
}

function textOf(element: Element | null | undefined): string {
  return (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

// jsdom has no Web Animations API; Svelte 5 transitions (transition:fade / scale in the story's
// NodeStateVisuals) call element.animate. This stand-in finishes every animation at once.
const hadAnimate = 'animate' in Element.prototype;
beforeAll(() => {
  if (hadAnimate) return;
  Object.defineProperty(Element.prototype, 'animate', {
    configurable: true,
    writable: true,
    value() {
      const animation = {
        onfinish: null as null | (() => void),
        currentTime: 0,
        playState: 'finished',
        effect: null as unknown,
        cancel() {},
      };
      queueMicrotask(() => animation.onfinish?.());
      return animation;
    },
  });
});
afterAll(() => {
  if (!hadAnimate) delete (Element.prototype as { animate?: unknown }).animate;
});

beforeEach(() => {
  FakeWebSocket.reset();
});

afterEach(() => {
  cleanup();
  teardownWebSocket();
  vi.restoreAllMocks();
});

describe('Basic WebSocket Usage', () => {
  it('subscribes to the project once the session is ready, and hears its file uploads', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const client = setup();
    const view = render(BasicUsage, { props: { projectId: 'proj-1' } });
    expect(getWebSocketClient()).toBe(client);

    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe(URL);
    ws.open();
    // Open, but the session is not ready yet: only session.init has gone out.
    expect(ws.frames().map((f) => f.type)).toEqual(['session.init']);
    expect(ws.frames()[0]).toMatchObject({ type: 'session.init', reconnect: false });
    await vi.waitFor(() => expect(ws.framesOfType('subscribe')).toEqual([{ type: 'subscribe', project_id: 'proj-1' }]));

    const file = { name: 'storyboard.png', path: 'assets/storyboard.png', size: 2048, asset_type: 'image' };
    ws.receive({ type: 'file.uploaded', project_id: 'proj-2', file: { ...file, name: 'other.png' } });
    ws.receive({ type: 'file.uploaded', project_id: 'proj-1', file });
    await flush();
    const uploads = log.mock.calls.filter((call) => call[0] === 'File uploaded:');
    expect(uploads).toEqual([['File uploaded:', file]]);

    // onDestroy: unsubscribes from the project and stops listening.
    view.unmount();
    expect(ws.framesOfType('unsubscribe')).toEqual([{ type: 'unsubscribe', project_id: 'proj-1' }]);
    ws.receive({ type: 'file.uploaded', project_id: 'proj-1', file });
    await flush();
    expect(log.mock.calls.filter((call) => call[0] === 'File uploaded:')).toHaveLength(1);
  });

  it('a subscription made while connected is sent at once', async () => {
    setup();
    const ws = await openSession();
    render(BasicUsage, { props: { projectId: 'proj-9' } });
    expect(ws.framesOfType('subscribe')).toEqual([{ type: 'subscribe', project_id: 'proj-9' }]);
  });
});

describe('Celery Task Progress Tracking', () => {
  it('shows the step, the progress bar, the state and the result', async () => {
    setup();
    const { container } = render(TaskProgress, { props: { taskId: 'task-1' } });
    expect(container.querySelector('.task-progress')).toBeNull();
    const ws = await openSession();

    ws.receive({ type: 'task.progress', task_id: 'task-1', state: 'STARTED', progress: 0, node_id: 'node-1' });
    ws.receive({
      type: 'task.progress',
      task_id: 'task-1',
      state: 'PROGRESS',
      progress: 10,
      node_id: 'node-1',
      step: 'Denoising',
      current_step: 3,
      total_steps: 30,
      message: 'Sampling with Euler a',
    });
    await flush();
    expect(textOf(container.querySelector('.task-id'))).toBe('task-1');
    expect(textOf(container.querySelector('.task-state'))).toBe('PROGRESS');
    expect(textOf(container.querySelector('.task-step'))).toBe('Step 3 of 30: Denoising');
    expect(textOf(container.querySelector('.task-message'))).toBe('Sampling with Euler a');
    expect((container.querySelector('.progress-fill') as HTMLElement).style.width).toBe('10%');
    expect(container.querySelector('.task-result')).toBeNull();

    ws.receive({
      type: 'task.progress',
      task_id: 'task-1',
      state: 'SUCCESS',
      progress: 100,
      node_id: 'node-1',
      result: { output_path: '/outputs/take-1.png' },
    });
    await flush();
    const state = container.querySelector('.task-state')!;
    expect(textOf(state)).toBe('SUCCESS');
    expect(state.classList.contains('success')).toBe(true);
    expect((container.querySelector('.progress-fill') as HTMLElement).style.width).toBe('100%');
    expect(textOf(container.querySelector('.task-result'))).toBe('Result: {"output_path":"/outputs/take-1.png"}');
  });

  it('marks a failed task', async () => {
    setup();
    const { container } = render(TaskProgress, { props: { taskId: 'task-2' } });
    const ws = await openSession();
    ws.receive({ type: 'task.progress', task_id: 'task-2', state: 'FAILURE', message: 'CUDA out of memory' });
    await flush();
    const state = container.querySelector('.task-state')!;
    expect(textOf(state)).toBe('FAILURE');
    expect(state.classList.contains('error')).toBe(true);
    expect(textOf(container.querySelector('.task-message'))).toBe('CUDA out of memory');
    expect(container.querySelector('.task-result')).toBeNull();
  });
});

describe('Node State Visual Management', () => {
  it('spinner with progress while generating, error indicator on error, thumbnail on completion', async () => {
    setup();
    const { container } = render(NodeStateVisuals, { props: { nodeId: 'node-1' } });
    const box = () => container.querySelector('.node-container')!;
    expect(box().classList.contains('border-gray-300')).toBe(true);
    expect(container.querySelector('.spinner')).toBeNull();
    const ws = await openSession();

    ws.receive({ type: 'generation.started', node_id: 'node-1', task_id: 'task-1' });
    ws.receive({
      type: 'task.progress',
      task_id: 'task-1',
      node_id: 'node-1',
      state: 'PROGRESS',
      progress: 40,
      step: 'Denoising',
      current_step: 12,
      total_steps: 30,
    });
    await flush();
    expect(box().classList.contains('generating')).toBe(true);
    expect(box().classList.contains('border-blue-500')).toBe(true);
    expect(container.querySelector('.spinner-overlay .spinner')).not.toBeNull();
    expect(textOf(container.querySelector('.progress-text'))).toBe('40%');
    // The story's client shows the step description of a task.progress frame as the node's message.
    expect(textOf(container.querySelector('.status-message'))).toBe('Denoising');

    ws.receive({ type: 'generation.error', node_id: 'node-1', task_id: 'task-1', error: 'CUDA out of memory' });
    await flush();
    await vi.waitFor(() => expect(container.querySelector('.spinner-overlay')).toBeNull());
    expect(box().classList.contains('generating')).toBe(false);
    expect(box().classList.contains('border-red-500')).toBe(true);
    expect(textOf(container.querySelector('.error-indicator'))).toBe('⚠️ CUDA out of memory');

    // A new run: generating again, then completed with a thumbnail.
    ws.receive({ type: 'generation.started', node_id: 'node-1', task_id: 'task-2' });
    await flush();
    expect(container.querySelector('.spinner')).not.toBeNull();
    expect(textOf(container.querySelector('.status-message'))).toBe('Starting generation...');
    await vi.waitFor(() => expect(container.querySelector('.error-indicator')).toBeNull());

    ws.receive({
      type: 'generation.completed',
      node_id: 'node-1',
      task_id: 'task-2',
      output_path: '/outputs/take-1.png',
      thumbnail: '/thumbs/take-1.png',
    });
    await flush();
    await vi.waitFor(() => expect(container.querySelector('.spinner-overlay')).toBeNull());
    expect(box().classList.contains('border-green-500')).toBe(true);
    const img = container.querySelector('.thumbnail-preview img') as HTMLImageElement;
    expect(img.getAttribute('src')).toBe('/thumbs/take-1.png');
    expect(img.alt).toBe('Generated output');
  });

  it('follows node.state_changed frames too', async () => {
    setup();
    const { container } = render(NodeStateVisuals, { props: { nodeId: 'node-7' } });
    const ws = await openSession();
    ws.receive({ type: 'node.state_changed', node_id: 'node-7', status: 'generating', progress: 15, message: 'Queued on GPU 0' });
    await flush();
    expect(textOf(container.querySelector('.progress-text'))).toBe('15%');
    expect(textOf(container.querySelector('.status-message'))).toBe('Queued on GPU 0');
    ws.receive({ type: 'node.state_changed', node_id: 'node-7', status: 'completed', thumbnail: '/thumbs/n7.png' });
    await flush();
    await vi.waitFor(() => expect(container.querySelector('.spinner')).toBeNull());
    expect(container.querySelector('.thumbnail-preview img')?.getAttribute('src')).toBe('/thumbs/n7.png');
  });
});

describe('Integration with Text-to-Image Node', () => {
  const nodeData = {
    prompt: 'A lighthouse in a storm, cinematic',
    negativePrompt: 'blurry',
    width: 1024,
    height: 576,
    steps: 30,
    cfgScale: 7.5,
    seed: 42,
    scene_id: 'S001',
    shot_id: 'P003',
    emotional_beat: 'Inciting Incident',
    selected_characters: ['char-ahab'],
    selected_styles: ['style-noir'],
    selected_location: 'loc-lighthouse',
  };

  it('Generate sends start_generation with params and context; Cancel sends cancel_generation', async () => {
    setup();
    const onTakeSelect = vi.fn();
    const { container } = render(TextToImageNode, { props: { nodeId: 'node-t2i', nodeData, onTakeSelect } });
    const ws = await openSession();

    await fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    const starts = ws.framesOfType('start_generation');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      type: 'start_generation',
      node_id: 'node-t2i',
      params: {
        prompt: 'A lighthouse in a storm, cinematic',
        negative_prompt: 'blurry',
        width: 1024,
        height: 576,
        steps: 30,
        cfg_scale: 7.5,
        seed: 42,
      },
      context: {
        scene_id: 'S001',
        shot_id: 'P003',
        emotional_beat: 'Inciting Incident',
        character_refs: ['char-ahab'],
        style_refs: ['style-noir'],
        location_ref: 'loc-lighthouse',
      },
    });
    expect(typeof starts[0]!.timestamp).toBe('string');

    // The backend starts it: the node shows Cancel (and the spinner from NodeStateVisuals).
    ws.receive({ type: 'generation.started', node_id: 'node-t2i', task_id: 'task-77' });
    await flush();
    expect(screen.queryByRole('button', { name: 'Generate' })).toBeNull();
    expect(container.querySelector('.spinner')).not.toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel Generation' }));
    const cancels = ws.framesOfType('cancel_generation');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({ type: 'cancel_generation', node_id: 'node-t2i', task_id: 'task-77' });

    ws.receive({ type: 'task.progress', task_id: 'task-77', node_id: 'node-t2i', state: 'REVOKED' });
    await flush();
    expect(screen.getByRole('button', { name: 'Generate' })).toBeTruthy();
    await vi.waitFor(() => expect(container.querySelector('.spinner')).toBeNull());
  });

  it('shows the takes gallery on completion and passes the selected take on', async () => {
    setup();
    const onTakeSelect = vi.fn();
    const { container } = render(TextToImageNode, { props: { nodeId: 'node-t2i', nodeData, onTakeSelect } });
    const ws = await openSession();
    await fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    ws.receive({ type: 'generation.started', node_id: 'node-t2i', task_id: 'task-1' });
    await flush();
    expect(container.querySelector('.takes-gallery')).toBeNull();

    const take = (n: number) => ({
      id: `take-${n}`,
      take_number: n,
      path: `/outputs/take-${n}.png`,
      thumbnail: `/thumbs/take-${n}.png`,
      created_at: '2025-01-01T00:00:00Z',
      scene_id: 'S001',
      shot_id: 'P003',
      quality_preset: 'standard',
    });
    ws.receive({
      type: 'generation.completed',
      node_id: 'node-t2i',
      task_id: 'task-1',
      output_path: '/outputs/take-2.png',
      takes: [take(1), take(2)],
    });
    await flush();
    expect(screen.getByRole('button', { name: 'Generate' })).toBeTruthy();
    const items = Array.from(container.querySelectorAll('.takes-gallery .take'));
    expect(items.map(textOf)).toEqual(['Take 1', 'Take 2']);
    expect(items[1]!.classList.contains('current')).toBe(true);
    // NodeStateVisuals shows the latest take's thumbnail.
    expect(container.querySelector('.thumbnail-preview img')?.getAttribute('src')).toBe('/thumbs/take-2.png');

    await fireEvent.click(screen.getByRole('button', { name: /Take 1/ }));
    expect(onTakeSelect).toHaveBeenCalledTimes(1);
    expect(onTakeSelect.mock.calls[0]![0]).toMatchObject({ id: 'take-1', take_number: 1 });
  });

  it('a Generate clicked while offline is queued and sent once connected', async () => {
    setup();
    render(TextToImageNode, { props: { nodeId: 'node-q', nodeData } });
    await fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await vi.waitFor(() => expect(FakeWebSocket.instances.length).toBe(1));
    expect(FakeWebSocket.last().sent).toEqual([]);
    const ws = await openSession();
    expect(ws.framesOfType('start_generation').map((f) => f.node_id)).toEqual(['node-q']);
  });
});

describe('Agent Activity Monitor', () => {
  it('shows agents working (VRAM for the Producer), completed, and the current beat and scene', async () => {
    setup();
    const { container } = render(AgentActivityMonitor);
    expect(container.querySelectorAll('.agent-card')).toHaveLength(0);
    const ws = await openSession();

    ws.receive({ type: 'agent.assigned', agent_type: 'Producer', task_id: 'pt-1', task_description: 'Scheduling GPU work' });
    ws.receive({ type: 'agent.assigned', agent_type: 'Screenwriter', task_id: 'sw-1', task_description: 'Drafting scene S001' });
    ws.receive({
      type: 'agent.progress',
      agent_type: 'Producer',
      task_id: 'pt-1',
      progress: 45,
      current_step: 'Loading SDXL weights',
      vram_usage: 11.5,
    });
    ws.receive({ type: 'narrative.beat', beat_name: 'Inciting Incident', scene_id: 'S001', keywords: ['storm', 'dread'] });
    await flush();

    const card = (name: string) =>
      Array.from(container.querySelectorAll('.agent-card')).find((el) => textOf(el.querySelector('.agent-name')) === name);
    const producer = card('Producer')!;
    expect(producer.classList.contains('active')).toBe(true);
    expect(textOf(producer.querySelector('.agent-icon'))).toBe('🎬');
    expect(textOf(producer.querySelector('.agent-task'))).toBe('Loading SDXL weights');
    expect((producer.querySelector('.progress-fill') as HTMLElement).style.width).toBe('45%');
    expect(textOf(producer.querySelector('.vram-usage'))).toBe('VRAM: 11.5GB');
    const writer = card('Screenwriter')!;
    expect(textOf(writer.querySelector('.agent-task'))).toBe('Drafting scene S001');
    expect(writer.querySelector('.vram-usage')).toBeNull();
    expect(textOf(container.querySelector('.current-beat'))).toBe('Current Beat: Inciting Incident');
    expect(textOf(container.querySelector('.current-scene'))).toBe('Scene: S001');

    ws.receive({ type: 'agent.completed', agent_type: 'Screenwriter', task_id: 'sw-1', handoff_to: 'CastingDirector' });
    ws.receive({ type: 'narrative.beat', beat_name: 'Midpoint', scene_id: 'S004', keywords: [] });
    await flush();
    const done = card('Screenwriter')!;
    expect(done.classList.contains('active')).toBe(false);
    expect(textOf(done.querySelector('.agent-status.completed'))).toBe('✓ Completed');
    expect(done.querySelector('.agent-task')).toBeNull();
    expect(textOf(container.querySelector('.current-beat'))).toBe('Current Beat: Midpoint');
    expect(textOf(container.querySelector('.current-scene'))).toBe('Scene: S004');
    expect(get(narrativeProgress).completed_beats).toEqual(['Inciting Incident', 'Midpoint']);
    expect(Object.keys(get(agentActivities)).sort()).toEqual(['Producer', 'Screenwriter']);
  });
});

describe('Connection Status Component', () => {
  it('Connected, Reconnecting... (Attempt n), Container Restart Detected, Connection Error', async () => {
    // Short backoff so the retries come quickly; the rest is the default client.
    setup({ backoff: { initialMs: 10, maxMs: 40 } });
    const { container } = render(ConnectionStatus);
    const text = () => textOf(container.querySelector('.text'));
    const box = () => container.querySelector('.connection-status')!;

    expect(text()).toBe('Connecting...');
    const first = await openSession();
    expect(text()).toBe('Connected ●');
    expect(box().classList.contains('success')).toBe(true);
    expect(container.querySelector('.session-id')?.getAttribute('title')).toMatch(/^Session ID: sess-/);

    // The link drops (no close frame): reconnecting, attempt 1.
    first.close(1006);
    await vi.waitFor(() => expect(text()).toBe('Reconnecting... (Attempt 1)'));
    expect(box().classList.contains('warning')).toBe(true);

    // The retry socket opens, then drops too: attempt 2.
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    const second = FakeWebSocket.last();
    second.open();
    await tick();
    expect(text()).toBe('Connected ●');
    second.close(1006);
    await vi.waitFor(() => expect(text()).toBe('Reconnecting... (Attempt 2)'));

    // The server restarts (1012): suspended.
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(3));
    const third = FakeWebSocket.last();
    third.open();
    await tick();
    expect(text()).toBe('Connected ●');
    third.close(1012, 'service restart');
    await vi.waitFor(() => expect(text()).toBe('Container Restart Detected - Reconnecting...'));
    expect(box().classList.contains('warning')).toBe(true);

    // The restarted server refuses the client (1008): error, no more retries.
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(4));
    FakeWebSocket.last().close(1008, 'policy violation');
    await vi.waitFor(() => expect(text()).toBe('Connection Error: policy violation'));
    expect(box().classList.contains('error')).toBe(true);
    expect(textOf(container.querySelector('.indicator'))).toBe('⚠');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(FakeWebSocket.instances).toHaveLength(4);
  });

  it('says why when the close carries no reason, and Disconnected after disconnect()', async () => {
    const client = setup();
    const { container } = render(ConnectionStatus);
    const text = () => textOf(container.querySelector('.text'));
    const ws = await openSession();
    ws.close(1008);
    await vi.waitFor(() => expect(text()).toBe('Connection Error: connection refused (close code 1008)'));

    client.connect();
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    expect(text()).toBe('Connecting...');
    client.disconnect();
    await tick();
    expect(text()).toBe('Disconnected');
    expect(FakeWebSocket.last().closedWith?.code).toBe(1000);
  });
});

describe('the stores', () => {
  it('wsMessages holds the recent frames and isConnected flips', async () => {
    setup();
    expect(get(isConnected)).toBe(false);
    expect(get(wsMessages)).toEqual([]);
    const ws = await openSession();
    expect(get(isConnected)).toBe(true);
    expect(getWebSocketClient()!.isConnected()).toBe(true);

    ws.receive({ type: 'system.heartbeat', server_time: 1 });
    ws.receive({ type: 'git.commit', project_id: 'proj-1', message: 'Add scene S002', author: 'ana' });
    await flush();
    expect(get(wsMessages).map((m) => m.type)).toEqual(['system.heartbeat', 'git.commit']);
    expect(get(wsMessages)[1]).toMatchObject({ project_id: 'proj-1', message: 'Add scene S002' });

    const seen: boolean[] = [];
    const stop = isConnected.subscribe((value) => seen.push(value));
    ws.close(1006);
    await vi.waitFor(() => expect(get(isConnected)).toBe(false));
    expect(getWebSocketClient()!.isConnected()).toBe(false);
    stop();
    expect(seen).toEqual([true, false]);
    // The frames stay readable after the link dropped.
    expect(get(wsMessages)).toHaveLength(2);
  });

  it('activeGenerations is a Set with .has(nodeId)', async () => {
    setup();
    const ws = await openSession();
    expect(get(activeGenerations)).toBeInstanceOf(Set);
    ws.receive({ type: 'generation.started', node_id: 'node-a', task_id: 't-a' });
    ws.receive({ type: 'node.state_changed', node_id: 'node-b', status: 'generating' });
    await flush();
    const active = get(activeGenerations);
    expect(active).toBeInstanceOf(Set);
    expect(active.has('node-a')).toBe(true);
    expect(active.has('node-b')).toBe(true);
    expect(active.size).toBe(2);

    ws.receive({ type: 'generation.completed', node_id: 'node-a', task_id: 't-a', output_path: '/o/a.png' });
    await flush();
    expect(get(activeGenerations).has('node-a')).toBe(false);
    expect(get(activeGenerations).has('node-b')).toBe(true);
    expect(get(nodeStates)['node-a']).toMatchObject({ status: 'completed', progress: 100, output_path: '/o/a.png' });
  });

  it('a second setupWebSocket replaces the client, and the stores follow the new one', async () => {
    const first = setup();
    const status = render(ConnectionStatus);
    const progress = render(TaskProgress, { props: { taskId: 'task-1' } });
    const ws1 = await openSession();
    ws1.receive({ type: 'task.progress', task_id: 'task-1', state: 'PROGRESS', progress: 30 });
    await flush();
    expect(textOf(progress.container.querySelector('.task-state'))).toBe('PROGRESS');
    expect(textOf(status.container.querySelector('.text'))).toBe('Connected ●');

    const second = setup();
    expect(second).not.toBe(first);
    expect(getWebSocketClient()).toBe(second);
    // The old client is disposed: its socket closed, it no longer counts as connected.
    expect(ws1.closedWith?.code).toBe(1000);
    expect(first.isConnected()).toBe(false);
    await tick();
    // The stores now read the new client, which has seen nothing yet.
    expect(textOf(status.container.querySelector('.text'))).toBe('Connecting...');
    expect(progress.container.querySelector('.task-progress')).toBeNull();
    expect(get(taskProgress)).toEqual({});
    expect(get(wsMessages)).toEqual([]);

    const ws2 = await openSession();
    expect(ws2).not.toBe(ws1);
    ws2.receive({ type: 'task.progress', task_id: 'task-1', state: 'SUCCESS', progress: 100, result: { ok: true } });
    await flush();
    expect(textOf(progress.container.querySelector('.task-state'))).toBe('SUCCESS');
    expect(textOf(status.container.querySelector('.text'))).toBe('Connected ●');
    expect(get(wsState).status).toBe('connected');

    // teardownWebSocket: no client, the stores read empty.
    teardownWebSocket();
    await tick();
    expect(getWebSocketClient()).toBeNull();
    expect(ws2.closedWith?.code).toBe(1000);
    expect(textOf(status.container.querySelector('.text'))).toBe('Disconnected');
    expect(progress.container.querySelector('.task-progress')).toBeNull();
  });
});
