/**
 * What the component tests share: a real store with no socket, recorded frames replayed into it
 * through the same ingest path as live traffic, and checks that backend text stayed text.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { flushSync } from 'svelte';
import { expect } from 'vitest';
import {
  createMemoryStorage,
  createRealtimeStore,
  framesToActions,
  splitJsonl,
  type IngestAction,
  type RealtimeState,
  type RealtimeStore,
} from '../../src/index.js';

export type FixtureName =
  | 'generation-success'
  | 'generation-failure'
  | 'generation-cancel'
  | 'agent-pipeline'
  | 'narrative-progression';

/** A socket class that never connects: the store must not reach any network in these tests. */
class NoSocket {
  readyState = 0;
  onopen = null;
  onclose = null;
  onmessage = null;
  onerror = null;
  send() {}
  close() {}
}

export function makeStore(preloadedState?: RealtimeState): RealtimeStore {
  return createRealtimeStore({
    autoConnect: false,
    devTools: false,
    storage: createMemoryStorage(),
    browser: null,
    WebSocket: NoSocket as never,
    ...(preloadedState && { preloadedState }),
  });
}

/** The lines of test/fixtures/NAME.jsonl. */
export function fixture(name: FixtureName): string[] {
  // Under jsdom import.meta.url is not a file URL: resolve from the project root (vitest's cwd).
  return splitJsonl(readFileSync(resolve(process.cwd(), 'test/fixtures', `${name}.jsonl`), 'utf8'));
}

/**
 * The ingest actions of a fixture (or of inline frames), as the socket would dispatch them. An
 * inline frame the wire contract refuses is a mistake in the test, and throws.
 */
export function actionsOf(input: FixtureName | object[]): IngestAction[] {
  if (typeof input === 'string') return framesToActions(fixture(input));
  const actions = framesToActions(input);
  for (const action of actions) {
    if (action.type === 'frames/rejected') throw new Error(`test frame rejected: ${JSON.stringify(action.payload)}`);
  }
  return actions;
}

/** Dispatches actions one by one and lets the components update. */
export function play(store: RealtimeStore, actions: readonly IngestAction[]): void {
  for (const action of actions) store.dispatch(action);
  flushSync();
}

/**
 * Dispatches actions one by one, calling `each` after the DOM caught up with each of them:
 * for checks along the way (rising progress, steps seen).
 */
export function playEach(
  store: RealtimeStore,
  actions: readonly IngestAction[],
  each: (action: IngestAction, index: number) => void,
): void {
  actions.forEach((action, index) => {
    store.dispatch(action);
    flushSync();
    each(action, index);
  });
}

/** The index of the first action whose frame matches, for playing a fixture up to a point. */
export function indexOfFrame(actions: readonly IngestAction[], match: (frame: Record<string, unknown>) => boolean): number {
  const index = actions.findIndex((action) => {
    const frame = (action.payload as { frame?: Record<string, unknown> } | undefined)?.frame;
    return frame !== undefined && match(frame);
  });
  if (index < 0) throw new Error('no such frame in the log');
  return index;
}

export const HOSTILE_SCRIPT = '<script>alert(1)</script>';
export const HOSTILE_IMG = '<img src=x onerror="alert(1)">';

/** No element the hostile strings would have made exists under `root`. */
export function expectNoInjectedMarkup(root: ParentNode): void {
  expect(root.querySelector('script')).toBeNull();
  expect(root.querySelector('img[onerror]')).toBeNull();
  for (const img of Array.from(root.querySelectorAll('img'))) {
    expect(img.getAttribute('src') ?? '').not.toMatch(/^\s*javascript:/i);
    expect(img.getAttribute('src')).not.toBe('x');
  }
}

/** ISO timestamps for inline frames, one second apart. */
export function at(second: number): string {
  return new Date(Date.UTC(2026, 2, 4, 12, 0, second)).toISOString();
}
