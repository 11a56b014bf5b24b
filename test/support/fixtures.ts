/**
 * Recorded frame logs (test/fixtures/NAME.jsonl) and the checks every reducer test shares.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import { splitJsonl } from '../../src/replay/index.js';
import { getEntity } from '../../src/slices/table.js';

export const FIXTURE_NAMES = [
  'generation-success',
  'generation-failure',
  'generation-cancel',
  'agent-pipeline',
  'narrative-progression',
  'bad-frames',
  'distributed-events',
  'celery-retry',
  'celery-redelivery',
  'celery-postrun',
  'resync-snapshot',
  'resync-status',
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

const cache = new Map<FixtureName, string>();

/** The JSONL text of test/fixtures/NAME.jsonl. */
export function readFixture(name: FixtureName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../fixtures/${name}.jsonl`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** The lines of a fixture, one frame each (as recorded: strings). */
export function fixtureLines(name: FixtureName): string[] {
  return splitJsonl(readFixture(name));
}

export type WireFrame = Record<string, unknown> & { type: string; timestamp?: string };

/** The lines of a fixture that are JSON objects with a type, parsed (bad lines skipped). */
export function fixtureFrames(name: FixtureName): WireFrame[] {
  const frames: WireFrame[] = [];
  for (const line of fixtureLines(name)) {
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as WireFrame).type === 'string') {
        frames.push(value as WireFrame);
      }
    } catch {
      // not JSON: only bad-frames has such lines
    }
  }
  return frames;
}

/** Epoch ms of an ISO timestamp. */
export function ms(iso: string): number {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) throw new Error(`not a timestamp: ${iso}`);
  return time;
}

export const T0 = '2026-01-01T00:00:00.000Z';

/**
 * Stamps inline frames with increasing ISO timestamps, `stepMs` apart after `start` (frame i at
 * start + (i + 1) * stepMs), unless a frame already has one.
 */
export function stamped(frames: object[], start: string = T0, stepMs = 1000): WireFrame[] {
  const base = ms(start);
  return frames.map((frame, index) => ({
    timestamp: new Date(base + (index + 1) * stepMs).toISOString(),
    ...frame,
  })) as WireFrame[];
}

/** Receive time of frame `index` of a stamped log. */
export function timeOf(frames: readonly WireFrame[], index: number): number {
  return ms(frames[index]!.timestamp!);
}

/** JSONL text for frames. */
export function toJsonl(frames: object[]): string {
  return frames.map((frame) => JSON.stringify(frame)).join('\n') + '\n';
}

export function initialState(): RealtimeState {
  return realtimeReducer(undefined, { type: '@@test/init' });
}

/** Reduces actions one at a time from `state` (default: the initial state). */
export function reduceAll(actions: readonly UnknownAction[], state: RealtimeState = initialState()): RealtimeState {
  return actions.reduce<RealtimeState>((current, action) => realtimeReducer(current, action), state);
}

// ---------------------------------------------------------------------------------------------
// Invariants over any state

/** Ids of nodes whose status is 'generating', in table order. */
export function generatingNodeIds(state: RealtimeState): string[] {
  return state.nodes.ids.filter((id) => getEntity(state.nodes, id)?.status === 'generating');
}

/** nodes.generating_ids equals the set of generating nodes, with no duplicates. */
export function expectGeneratingIdsExact(state: RealtimeState, where = ''): void {
  const ids = state.nodes.generating_ids;
  expect(new Set(ids).size, `${where}: generating_ids has duplicates ${JSON.stringify(ids)}`).toBe(ids.length);
  expect([...ids].sort(), `${where}: generating_ids`).toEqual(generatingNodeIds(state).sort());
}

/**
 * Throws unless `value` is plain JSON data: objects whose prototype is Object.prototype or null,
 * arrays, strings, finite numbers, booleans, null (undefined-valued keys are allowed: JSON drops
 * them). No Set, Map, Date, class instance, function, symbol, bigint or non-finite number.
 */
export function assertPlainData(value: unknown, path = 'state'): void {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [current, at] = stack.pop()!;
    if (current === null || current === undefined) continue;
    switch (typeof current) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(current)) throw new Error(`${at} is ${current}`);
        continue;
      case 'object':
        break;
      default:
        throw new Error(`${at} is a ${typeof current}`);
    }
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push([item, `${at}[${index}]`]));
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`${at} is a ${(current as object).constructor?.name ?? 'non-plain object'}`);
    }
    if (Object.getOwnPropertySymbols(current).length > 0) throw new Error(`${at} has symbol keys`);
    for (const key of Object.keys(current)) stack.push([(current as Record<string, unknown>)[key], `${at}.${key}`]);
  }
}

/** JSON round trip deep-equals the state, and the state is plain data. */
export function expectSerializable(state: RealtimeState, where = ''): void {
  expect(() => assertPlainData(state), where).not.toThrow();
  expect(JSON.parse(JSON.stringify(state)), where).toEqual(state);
}

/** Object.prototype is untouched: no key a hostile frame could have added. */
export function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PRISTINE_PROTOTYPE_KEYS);
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.status).toBeUndefined();
  expect(probe.progress).toBeUndefined();
}

const PRISTINE_PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
