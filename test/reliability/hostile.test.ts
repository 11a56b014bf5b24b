/**
 * Hostile input through the full live path (store, socket middleware, fake WebSocket): each item
 * of the issue is refused or neutralized, and what the components render of backend text is
 * text (server-side render here; the DOM tests in test/components check the same in jsdom).
 * docs/RELIABILITY.md lists, per item, this test and the narrower ones that already existed.
 */
import { render } from 'svelte/server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import AgentActivityMonitor from '../../src/components/AgentActivityMonitor.svelte';
import NarrativeProgress from '../../src/components/NarrativeProgress.svelte';
import NodeStateVisuals from '../../src/components/NodeStateVisuals.svelte';
import TakesGallery from '../../src/components/TakesGallery.svelte';
import TaskProgress from '../../src/components/TaskProgress.svelte';
import {
  cancelGeneration,
  connect,
  createMemoryStorage,
  createRealtimeStore,
  isSafeUrl,
  MAX_ID_LENGTH,
  replayFrames,
  selectNodeVisual,
  startGeneration,
  subscribeProject,
  type RealtimeStore,
  type WebSocketConstructor,
} from '../../src/index.js';
import { FakeWebSocket } from '../support/fakeWebSocket.js';
import { assertPrototypeClean, assertStateValid, nested } from './frames.js';
import { ManualTimers } from './manualTimers.js';
import { report } from './scale.js';
import { getEntity } from '../../src/slices/table.js';

const figures: Record<string, unknown> = {};
const stores: RealtimeStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.dispose();
  assertPrototypeClean();
});
afterAll(() => report('hostile-input', figures));

/** A connected client on a fake socket: deliver(raw...) hands frames over in one tick. */
function live(options: { maxFrameBytes?: number } = {}) {
  FakeWebSocket.reset();
  const timers = new ManualTimers();
  const store = createRealtimeStore({
    url: 'ws://hostile.test/ws',
    WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
    storage: createMemoryStorage(),
    timers,
    browser: null,
    devTools: false,
    ...options,
  });
  stores.push(store);
  store.dispatch(connect());
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receive({ type: 'session.init', session_id: 'hostile-1', capabilities: ['ack', 'seq', 'replay'] });
  timers.runDue();
  const heard: string[] = [];
  store.on('*', (frame) => heard.push(frame.type));
  return {
    store,
    ws,
    heard,
    deliver(...raws: unknown[]) {
      for (const raw of raws) ws.onmessage!({ data: typeof raw === 'string' || raw instanceof Uint8Array ? raw : JSON.stringify(raw) });
      timers.runDue();
      return store.getState();
    },
  };
}

const RESERVED = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const HOSTILE_TEXT = ['<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '"><svg onload=alert(1)>', "'); DROP TABLE takes;--", '{{constructor.constructor("alert(1)")()}}'];
const UNSAFE_URLS = [
  'javascript:alert(document.cookie)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'data:image/svg+xml,<svg onload=alert(1)>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
];

describe('hostile input, through the live path', () => {
  it('prototype-pollution ids (__proto__, constructor, toString, ...) are refused in every id field, and __proto__ keys in free JSON are stripped', () => {
    const { store, deliver, heard } = live();
    const frames: object[] = [];
    for (const id of RESERVED) {
      frames.push(
        { type: 'node.state_changed', node_id: id, status: 'generating', progress: 5 },
        { type: 'task.progress', task_id: id, state: 'PROGRESS', progress: 5 },
        { type: 'task.progress', task_id: 't-ok', node_id: id, state: 'PROGRESS', progress: 5 },
        { type: 'generation.completed', node_id: 'n-ok', task_id: 't-ok', output_path: '/a.png', takes: [{ id, take_number: 1, path: '/a.png', created_at: 'x' }] },
        { type: 'project.updated', project_id: id, data: { name: 'x' } },
        { type: 'narrative.beat', beat_name: id, scene_id: 's1' },
        { type: 'ack', command_id: id, status: 'accepted' },
        { type: 'replay.gap', project_id: id, from_seq: 1, to_seq: 2 },
      );
    }
    const state = deliver(
      ...frames,
      // JSON.parse makes __proto__ an own key: it must neither pollute nor survive into state.
      '{"type":"agent.completed","agent_type":"Editor","task_id":"t-proto","__proto__":{"polluted":1},"output":{"cut":1,"__proto__":{"polluted":2},"list":[{"__proto__":{"polluted":3}}]}}',
    );
    expect(state.frames.rejected.total).toBe(frames.length);
    expect(state.frames.rejected.byReason).toEqual({ invalid_fields: frames.length });
    expect(JSON.stringify(state)).not.toContain('__proto__');
    const kept = state.frames.recent.at(-1)!.frame as { output?: unknown };
    expect(kept.output).toEqual({ cut: 1, list: [{}] });
    expect(Object.keys(kept)).not.toContain('__proto__');
    // The application's own calls with such ids: nothing pollutes, the commands are refused.
    for (const id of RESERVED) {
      store.dispatch(startGeneration({ nodeId: id, params: { prompt: 'x' } }));
      store.dispatch(cancelGeneration({ nodeId: 'n1', taskId: id }));
      store.dispatch(subscribeProject(id));
    }
    const after = store.getState();
    expect(after.outbox.dropped.invalid).toBe(RESERVED.length * 2);
    expect(after.sync.subscriptions).toEqual([]);
    expect(after.nodes.ids.every((id) => !RESERVED.includes(id))).toBe(true);
    assertStateValid(after);
    assertPrototypeClean();
    expect(heard).toEqual(['agent.completed']);
    figures.prototypePollution = { framesRefused: frames.length, commandsRefused: after.outbox.dropped.invalid, prototypeClean: true };
  });

  it('javascript:, data:text/html and other unsafe URLs never reach state; the frames still apply', () => {
    const { deliver } = live();
    const frames = UNSAFE_URLS.flatMap((url, i) => [
      { type: 'node.state_changed', node_id: `n${i}`, status: 'completed', output_path: url, thumbnail: url },
      {
        type: 'generation.completed',
        node_id: `m${i}`,
        task_id: `t${i}`,
        output_path: url,
        thumbnail: url,
        takes: [{ id: `take-${i}`, take_number: 1, path: url, thumbnail: url, created_at: '2026-03-04T00:00:00Z' }],
      },
    ]);
    const state = deliver(...frames);
    expect(state.frames.applied).toBe(frames.length + 1);
    expect(state.frames.rejected.total).toBe(0);
    const urls = [
      ...state.nodes.ids.flatMap((id) => [getEntity(state.nodes, id)!.output_path, getEntity(state.nodes, id)!.thumbnail]),
      ...state.takes.ids.flatMap((id) => [getEntity(state.takes, id)!.path, getEntity(state.takes, id)!.thumbnail]),
    ].filter((url) => url !== undefined);
    expect(urls).toEqual([]);
    for (const id of state.nodes.ids) expect(selectNodeVisual(state, id).thumbnail).toBeUndefined();
    // What is kept is only ever a safe URL.
    const safe = deliver({ type: 'node.state_changed', node_id: 'ok', status: 'completed', thumbnail: 'data:image/png;base64,iVBORw0KGgo=' });
    expect(isSafeUrl(getEntity(safe.nodes, 'ok')!.thumbnail!)).toBe(true);
    assertStateValid(safe);
    figures.unsafeUrls = { urlsTried: UNSAFE_URLS.length, framesApplied: frames.length, unsafeUrlsInState: urls.length };
  });

  it('HTML and script in messages and errors are kept as text, and the components render them as text', () => {
    const { store, deliver } = live();
    const [script, img, svg] = HOSTILE_TEXT as [string, string, string];
    const state = deliver(
      { type: 'task.progress', task_id: 't-evil', node_id: 'node-evil', state: 'PROGRESS', progress: 40, step: script, message: img, current_step: 1, total_steps: 4 },
      { type: 'agent.assigned', agent_type: 'Cinematographer', task_id: 'a-evil', task_description: script, node_id: 'node-evil' },
      { type: 'agent.progress', agent_type: 'Cinematographer', task_id: 'a-evil', progress: 50, current_step: img },
      { type: 'agent.handoff', from_agent: 'Screenwriter', to_agent: 'Cinematographer', task_id: 'a-evil', notes: svg },
      { type: 'narrative.beat', beat_name: 'beat <b>bold</b>', scene_id: 'S1', keywords: [script] },
      { type: 'generation.completed', node_id: 'node-take', task_id: 't-take', output_path: '/a.png', takes: [{ id: 'take-evil', take_number: 1, path: '/a.png', created_at: script, emotional_beat: img }] },
      { type: 'generation.error', node_id: 'node-evil', task_id: 't-evil', error: img, message: script },
    );
    expect(getEntity(state.nodes, 'node-evil')).toMatchObject({ status: 'error', error: img, message: script });
    const html = [
      render(NodeStateVisuals, { props: { store, nodeId: 'node-evil' } }).body,
      render(TaskProgress, { props: { store, taskId: 't-evil' } }).body,
      render(AgentActivityMonitor, { props: { store } }).body,
      render(NarrativeProgress, { props: { store } }).body,
      render(TakesGallery, { props: { store, nodeId: 'node-take' } }).body,
    ].join('\n');
    // The hostile strings appear, escaped; none became markup.
    expect(html).toContain('&lt;script>alert(1)&lt;/script>');
    expect(html).toContain('&lt;img src=x onerror="alert(1)">');
    expect(html).not.toMatch(/<script|<img[^>]*onerror|<svg[^>]*onload|<b>bold/i);
    figures.htmlInText = { hostileStrings: HOSTILE_TEXT.length, componentsRendered: 5, markupInjected: 0 };
  });

  it('oversized frames are rejected before parsing (text by UTF-8 bytes, and binary), the link stays up', () => {
    const { store, deliver, ws } = live();
    const big = JSON.stringify({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', message: 'x'.repeat(1024 * 1024) });
    const wide = JSON.stringify({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', message: 'é'.repeat(600_000) });
    const huge = '{"type":"task.progress","pad":"' + 'x'.repeat(16 * 1024 * 1024) + '"}';
    const state = deliver(big, wide, huge, new TextEncoder().encode(big));
    expect(state.frames.rejected.byReason).toEqual({ too_large: 4 });
    expect(state.tasks.ids).toEqual([]);
    expect(ws.readyState).toBe(FakeWebSocket.OPEN);
    expect(store.getState().connection.status).toBe('connected');
    // A tighter limit is the application's choice.
    const tight = live({ maxFrameBytes: 1_000 });
    expect(tight.deliver({ type: 'task.progress', task_id: 't1', state: 'PROGRESS', message: 'x'.repeat(1_000) }).frames.rejected.byReason).toEqual({ too_large: 1 });
    figures.oversized = { framesRefused: 5, largestBytes: huge.length, linkKept: true };
  });

  it('deeply nested JSON is refused without overflowing the stack: 100,000 levels live, in a recorded log, and 33 levels in free-form fields', () => {
    const { deliver } = live();
    const deepText = '{"type":"task.progress","task_id":"t1","state":"SUCCESS","result":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    const deepObjects = '{"type":"agent.completed","agent_type":"Editor","task_id":"t2","output":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + '}';
    const state = deliver(
      deepText,
      deepObjects,
      { type: 'task.progress', task_id: 't3', state: 'SUCCESS', result: nested(33) },
      { type: 'project.updated', project_id: 'p1', data: { deep: nested(40) } },
      { type: 'task.progress', task_id: 't4', state: 'SUCCESS', result: nested(32) },
    );
    expect(state.frames.rejected.total).toBe(4);
    expect(state.tasks.ids).toEqual(['t4']);
    assertStateValid(state);
    // The same through replayFrames (recorded logs hand over objects, not text).
    const replayed = replayFrames([JSON.parse(deepText) as object, { type: 'task.progress', task_id: 't5', state: 'STARTED' }]);
    expect(replayed.frames.rejected.total).toBe(1);
    expect(replayed.tasks.ids).toEqual(['t5']);
    figures.deepNesting = { deepestLevels: 100_000, refused: 5, maxAcceptedDepth: 32 };
  });

  it('a flood of unknown types (50,000 frames, 20,000 names) is counted, bounded, and never reaches a reducer', () => {
    const { store, deliver, heard } = live();
    const before = JSON.stringify(store.getState()).length;
    for (let burst = 0; burst < 50; burst++) {
      const frames: object[] = [];
      for (let i = 0; i < 1_000; i++) {
        const n = burst * 1_000 + i;
        frames.push({ type: `flood.t${n % 20_000}`, project_id: 'p1', seq: n + 1, node_id: 'n1', status: 'completed', payload: 'x'.repeat(100) });
      }
      frames.push({ type: 'constructor' }, { type: 'hasownproperty' });
      deliver(...frames);
    }
    const state = store.getState();
    expect(state.frames.unknown.total).toBe(50 * 1_002);
    expect(Object.keys(state.frames.unknown.byType).length).toBeLessThanOrEqual(51);
    expect(state.nodes.ids).toEqual([]);
    expect(state.sync.lastSeq).toEqual({});
    // Listeners hear unknown frames (forward compatibility), untouched by the store.
    expect(heard.length).toBe(50 * 1_002);
    const after = JSON.stringify(state).length;
    expect(after - before).toBeLessThan(8 * 1024);
    assertStateValid(state);
    figures.unknownFlood = { frames: state.frames.unknown.total, distinctNames: 20_002, namesKept: Object.keys(state.frames.unknown.byType).length, stateGrowthBytes: after - before };
  });

  it('ids at and over the length limit', () => {
    const { deliver } = live();
    const state = deliver(
      { type: 'node.state_changed', node_id: 'n'.repeat(MAX_ID_LENGTH), status: 'idle' },
      { type: 'node.state_changed', node_id: 'n'.repeat(MAX_ID_LENGTH + 1), status: 'idle' },
      { type: 'node.state_changed', node_id: '', status: 'idle' },
    );
    expect(state.nodes.ids).toEqual(['n'.repeat(MAX_ID_LENGTH)]);
    expect(state.frames.rejected.byReason).toEqual({ invalid_fields: 2 });
  });
});
