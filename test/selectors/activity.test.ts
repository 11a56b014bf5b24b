import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import {
  selectActivityFeed,
  selectCompositePrompt,
  selectLatestCompositePrompt,
  selectProjectActivity,
  selectRunningProcesses,
} from '../../src/selectors/index.js';
import { initial, apply, TS } from '../support/state.js';

const proc = (type: string, process_id: string, extra: object = {}) => ({
  type,
  timestamp: TS,
  project_id: 'proj-1',
  process_id,
  ...extra,
});
const heartbeat = { type: 'system.heartbeat', timestamp: TS };
const gitCommit = { type: 'git.commit', timestamp: TS, project_id: 'proj-1', ref: 'main', message: 'Add scene 2', author: 'ana' };

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  expect(warn).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('selectRunningProcesses', () => {
  it('lists running processes with their progress; a completed one leaves the list', () => {
    let state = apply(
      initial(),
      proc('process.started', 'index', { message: 'Indexing assets' }),
      proc('process.started', 'export', { message: 'Exporting EDL' }),
      proc('process.progress', 'index', { progress: 40, message: 'Indexed 4 of 10' }),
    );
    expect(selectRunningProcesses(state)).toEqual([
      expect.objectContaining({ process_id: 'index', project_id: 'proj-1', status: 'running', progress: 40, message: 'Indexed 4 of 10' }),
      expect.objectContaining({ process_id: 'export', status: 'running', progress: 0, message: 'Exporting EDL' }),
    ]);
    // Progress does not go backwards on a late frame.
    state = apply(state, proc('process.progress', 'index', { progress: 30 }));
    expect(selectRunningProcesses(state)[0]?.progress).toBe(40);
    state = apply(state, proc('process.completed', 'index', { progress: 100 }));
    expect(selectRunningProcesses(state).map((p) => p.process_id)).toEqual(['export']);
    state = apply(state, proc('process.completed', 'export'));
    expect(selectRunningProcesses(state)).toEqual([]);
  });

  it.each([
    ['a heartbeat', heartbeat],
    ['a git.commit', gitCommit],
    ['a structure.changed', { type: 'structure.changed', timestamp: TS, project_id: 'proj-1', changes: { added: ['scenes/S002'] } }],
    ['a task.progress frame', { type: 'task.progress', timestamp: TS, task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 5 }],
    ['a file.uploaded', { type: 'file.uploaded', timestamp: TS, project_id: 'proj-1', file: { name: 'a.png', path: 'assets/a.png', size: 1, asset_type: 'image' } }],
  ])('returns the same reference after %s', (_label, frame) => {
    const before = apply(initial(), proc('process.started', 'index'), proc('process.progress', 'index', { progress: 10 }));
    const running = selectRunningProcesses(before);
    const after = apply(before, frame);
    expect(after).not.toBe(before);
    expect(selectRunningProcesses(after)).toBe(running);
  });

  it('returns a new list when a process moves', () => {
    const before = apply(initial(), proc('process.started', 'index'));
    const running = selectRunningProcesses(before);
    const after = apply(before, proc('process.progress', 'index', { progress: 70 }));
    expect(selectRunningProcesses(after)).not.toBe(running);
    expect(selectRunningProcesses(after)[0]?.progress).toBe(70);
  });
});

describe('activity feed and project summary', () => {
  it('records Git operations and structure changes per project, in a numbered feed', () => {
    const state = apply(
      initial(),
      { type: 'structure.changed', timestamp: TS, project_id: 'proj-1', changes: { added: ['scenes/S002'] } },
      gitCommit,
      { type: 'structure.changed', timestamp: TS, project_id: 'proj-1', changes: { deleted: ['scenes/S009'] } },
      { type: 'git.push', timestamp: TS, project_id: 'proj-1', ref: 'main' },
    );
    expect(selectActivityFeed(state).map((item) => [item.id, item.frame.type])).toEqual([
      [1, 'structure.changed'],
      [2, 'git.commit'],
      [3, 'structure.changed'],
      [4, 'git.push'],
    ]);
    expect(selectProjectActivity(state, 'proj-1')).toMatchObject({
      structure_version: 2,
      deleted: false,
      last_git: { type: 'git.push', ref: 'main' },
    });
    expect(selectProjectActivity(state, 'proj-2')).toBeUndefined();
  });

  it('keeps the latest composite prompt per node and overall', () => {
    const prompt = (base_prompt: string, node_id?: string) => ({
      type: 'prompt.composite',
      timestamp: TS,
      ...(node_id ? { node_id } : {}),
      composite_prompt: { base_prompt, character_refs: ['char-1'], emotional_keywords: ['resolve'] },
    });
    const state = apply(initial(), prompt('A rider at dusk', 'n1'), prompt('A rider at dawn', 'n1'), prompt('Unassigned'));
    expect(selectCompositePrompt(state, 'n1')?.base_prompt).toBe('A rider at dawn');
    expect(selectCompositePrompt(state, 'n2')).toBeUndefined();
    expect(selectLatestCompositePrompt(state)?.composite_prompt.base_prompt).toBe('Unassigned');
  });
});
