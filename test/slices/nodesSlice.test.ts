import { describe, expect, it } from 'vitest';
import type { UnknownAction } from '@reduxjs/toolkit';
import { replayFrames, replayTimeline } from '../../src/replay/index.js';
import {
  cancelGeneration,
  ingestFrame,
  nodesMarkedStale,
  realtimeReducer,
  startGeneration,
  type NodeStatus,
  type RealtimeState,
} from '../../src/slices/index.js';
import {
  expectGeneratingIdsExact,
  FIXTURE_NAMES,
  fixtureFrames,
  readFixture,
  stamped,
  timeOf,
} from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';

const NODE = 'node-t2i-7f3a';
const PNG_1X1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

function tp(task_id: string, state: string, fields: Record<string, unknown> = {}, node_id = 'n1') {
  return { type: 'task.progress', task_id, node_id, state, ...fields };
}

/** Feeds one more frame (an object) into a state, with an explicit receive time. */
function feed(state: RealtimeState, frame: object, at: number): RealtimeState {
  return realtimeReducer(state, ingestFrame(frame, at).action as UnknownAction);
}

describe('nodes slice', () => {
  describe('generation-success fixture', () => {
    it('shows generating from generation.started until SUCCESS, then completed with the new take', () => {
      const timeline = replayTimeline(readFixture('generation-success'));
      const statuses = timeline
        .map(({ state }) => getEntity(state.nodes, NODE)?.status)
        .filter((s, i, all): s is NodeStatus => s !== undefined && s !== all[i - 1]);
      expect(statuses).toEqual(['generating', 'completed']);
      const firstGenerating = timeline.findIndex(({ state }) => getEntity(state.nodes, NODE)?.status === 'generating');
      expect(JSON.parse(timeline[firstGenerating]!.raw as string).type).toBe('generation.started');

      const node = getEntity(timeline[timeline.length - 1]!.state.nodes, NODE);
      expect(node).toMatchObject({
        status: 'completed',
        progress: 100,
        task_id: 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b',
        output_path: '/media/proj-aurora/S001/P003/take-003.png',
        thumbnail: '/media/proj-aurora/S001/P003/take-003.thumb.webp',
        take_ids: ['take-S001-P003-001', 'take-S001-P003-002', 'take-S001-P003-003'],
        current_take: 3,
        scene_id: 'S001',
        shot_id: 'P003',
        emotional_beat: 'inciting-incident',
        message: 'Generation complete',
      });
      expect(node?.error).toBeUndefined();
      expect(node?.past_task_ids).toEqual([]);
    });

    it('keeps the data:image thumbnail of generation.completed until node.state_changed names another', () => {
      const timeline = replayTimeline(readFixture('generation-success'));
      const completedAt = timeline.findIndex(({ raw }) => (raw as string).includes('"generation.completed"'));
      expect(getEntity(timeline[completedAt]!.state.nodes, NODE)?.thumbnail).toBe(PNG_1X1);
      expect(getEntity(timeline[completedAt + 1]!.state.nodes, NODE)?.thumbnail).toBe('/media/proj-aurora/S001/P003/take-003.thumb.webp');
    });

    it('reports granular steps while generating and never lowers progress', () => {
      let previous = -1;
      const steps: string[] = [];
      for (const { state } of replayTimeline(readFixture('generation-success'))) {
        const node = getEntity(state.nodes, NODE);
        if (!node) continue;
        expect(node.progress).toBeGreaterThanOrEqual(previous);
        expect(node.progress).toBeLessThanOrEqual(100);
        previous = node.progress;
        if (node.status === 'generating' && node.step && node.step !== steps[steps.length - 1]) steps.push(node.step);
      }
      expect(steps).toEqual(['Loading model sdxl-base-1.0', 'Encoding prompt', 'Denoising', 'Decoding latents (VAE)', 'Saving take 3']);
    });
  });

  it('generation-failure fixture: the node shows the error of its run', () => {
    const node = getEntity(replayFrames(readFixture('generation-failure')).nodes, 'node-t2i-c41d');
    expect(node).toMatchObject({
      status: 'error',
      error: 'CUDA out of memory. Tried to allocate 2.00 GiB',
      message: 'Generation failed',
      progress: 41,
      task_id: 'celery-8d1f2e3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a',
    });
  });

  it('generation-cancel fixture: the revoked run ends, and the worker\'s late PROGRESS does not revive it', () => {
    const timeline = replayTimeline(readFixture('generation-cancel'));
    const revoked = timeline.findIndex(({ raw }) => (raw as string).includes('"REVOKED"'));
    expect(getEntity(timeline[revoked]!.state.nodes, 'node-t2i-9e07')?.status).toBe('cancelled');
    const final = timeline[timeline.length - 1]!.state;
    expect(getEntity(final.nodes, 'node-t2i-9e07')).toMatchObject({ status: 'idle', message: 'Cancelled', progress: 0 });
    expect(final.nodes.generating_ids).toEqual([]);
  });

  describe('a finished run is not reopened by a late progress frame of the same run', () => {
    const run = [
      { type: 'generation.started', node_id: 'n1', task_id: 't1' },
      tp('t1', 'PROGRESS', { progress: 50, step: 'Denoising', current_step: 15, total_steps: 30 }),
    ];

    it.each([
      ['SUCCESS', 'completed', 100],
      ['FAILURE', 'error', 50],
      ['REVOKED', 'cancelled', 50],
    ] as const)('%s -> %s', (terminal, status, progress) => {
      const log = stamped([...run, tp('t1', terminal, { message: 'the end' }), tp('t1', 'PROGRESS', { progress: 90, step: 'Decoding' })]);
      const before = replayFrames(log.slice(0, 3));
      const after = replayFrames(log);
      expect(getEntity(after.nodes, 'n1')).toMatchObject({ status, progress, step: 'Denoising', message: 'the end' });
      expect(getEntity(after.nodes, 'n1')).toEqual(getEntity(before.nodes, 'n1'));
      expect(after.nodes.generating_ids).toEqual([]);
    });

    it('a late node.state_changed "generating" naming the finished task does not reopen it', () => {
      const log = stamped([
        ...run,
        { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/n1/take-1.png' },
        { type: 'node.state_changed', node_id: 'n1', task_id: 't1', status: 'generating', progress: 97, message: 'Saving take 1' },
      ]);
      const state = replayFrames(log);
      expect(getEntity(state.nodes, 'n1')).toMatchObject({ status: 'completed', progress: 100, message: 'Generation complete' });
      expect(state.nodes.generating_ids).toEqual([]);
    });

    it('a late generation.error does not turn a completed run into an error', () => {
      const log = stamped([
        ...run,
        { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/n1/take-1.png' },
        { type: 'generation.error', node_id: 'n1', task_id: 't1', error: 'worker lost' },
      ]);
      expect(getEntity(replayFrames(log).nodes, 'n1')).toMatchObject({ status: 'completed', output_path: '/media/n1/take-1.png' });
      expect(getEntity(replayFrames(log).nodes, 'n1')?.error).toBeUndefined();
    });
  });

  describe('runs', () => {
    const firstRun = [
      { type: 'generation.started', node_id: 'n1', task_id: 't1', emotional_beat: 'opening-image' },
      tp('t1', 'PROGRESS', { progress: 70, step: 'Denoising', current_step: 21, total_steps: 30, message: 'Denoising 21/30' }),
      tp('t1', 'FAILURE', { progress: 71, message: 'CUDA out of memory' }),
    ];

    it('a new task id for the same node starts a new run: progress, step and error reset', () => {
      const log = stamped([...firstRun, { type: 'generation.started', node_id: 'n1', task_id: 't2' }]);
      const failed = getEntity(replayFrames(log.slice(0, 3)).nodes, 'n1');
      expect(failed).toMatchObject({ status: 'error', error: 'CUDA out of memory', progress: 71, task_id: 't1' });

      const node = getEntity(replayFrames(log).nodes, 'n1');
      expect(node).toMatchObject({ status: 'generating', task_id: 't2', progress: 0, past_task_ids: ['t1'], message: 'Starting generation...' });
      expect(node?.error).toBeUndefined();
      expect(node?.step).toBeUndefined();
      expect(node?.current_step).toBeUndefined();
      expect(node?.total_steps).toBeUndefined();
    });

    it('a first frame of the new run may be a task.progress: it starts the run too', () => {
      const log = stamped([...firstRun, tp('t2', 'STARTED', { progress: 2, step: 'Loading model' })]);
      const node = getEntity(replayFrames(log).nodes, 'n1');
      expect(node).toMatchObject({ status: 'generating', task_id: 't2', progress: 2, step: 'Loading model', past_task_ids: ['t1'] });
      expect(node?.error).toBeUndefined();
    });

    it.each([
      ['task.progress PROGRESS', tp('t1', 'PROGRESS', { progress: 95, step: 'Decoding' })],
      ['task.progress SUCCESS', tp('t1', 'SUCCESS', { progress: 100 })],
      ['task.progress FAILURE', tp('t1', 'FAILURE', { message: 'late failure' })],
      ['generation.started', { type: 'generation.started', node_id: 'n1', task_id: 't1' }],
      ['generation.error', { type: 'generation.error', node_id: 'n1', task_id: 't1', error: 'late error' }],
      ['node.state_changed', { type: 'node.state_changed', node_id: 'n1', task_id: 't1', status: 'error', error: 'late', progress: 10 }],
      ['generation.completed (no takes)', { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/old.png', thumbnail: '/media/old.thumb.png' }],
    ])('a late %s of the old run does not touch the node', (_name, late) => {
      const log = stamped([
        ...firstRun,
        { type: 'generation.started', node_id: 'n1', task_id: 't2' },
        tp('t2', 'PROGRESS', { progress: 30, step: 'Denoising', current_step: 9, total_steps: 30 }),
      ]);
      const before = replayFrames(log);
      const after = feed(before, late, timeOf(log, log.length - 1) + 5_000);
      expect(getEntity(after.nodes, 'n1')).toEqual(getEntity(before.nodes, 'n1'));
      expect(getEntity(after.nodes, 'n1')).toMatchObject({ status: 'generating', task_id: 't2', progress: 30, step: 'Denoising' });
      expect(after.nodes.generating_ids).toEqual(['n1']);
    });

    it('the takes of a late generation.completed of the old run are kept, the current run untouched', () => {
      const log = stamped([
        ...firstRun,
        { type: 'generation.started', node_id: 'n1', task_id: 't2' },
        tp('t2', 'PROGRESS', { progress: 30 }),
        {
          type: 'generation.completed',
          node_id: 'n1',
          task_id: 't1',
          output_path: '/media/old.png',
          takes: [{ id: 'take-old', take_number: 1, path: '/media/old.png', created_at: '2026-01-01T00:00:03Z' }],
        },
      ]);
      const node = getEntity(replayFrames(log).nodes, 'n1');
      expect(node).toMatchObject({ status: 'generating', task_id: 't2', progress: 30, take_ids: ['take-old'] });
      expect(node?.output_path).toBeUndefined();
    });

    it('past runs are bounded', () => {
      const frames: object[] = [];
      for (let i = 0; i < 30; i++) frames.push({ type: 'generation.started', node_id: 'n1', task_id: `t${i}` });
      const node = getEntity(replayFrames(stamped(frames)).nodes, 'n1')!;
      expect(node.task_id).toBe('t29');
      expect(node.past_task_ids).toEqual(Array.from({ length: 20 }, (_, i) => `t${i + 9}`));
    });
  });

  describe('progress', () => {
    it('is clamped to 0..100', () => {
      const state = replayFrames(stamped([tp('t1', 'PROGRESS', { progress: 180 }), tp('t2', 'PROGRESS', { progress: -5 }, 'n2')]));
      expect(getEntity(state.nodes, 'n1')?.progress).toBe(100);
      expect(getEntity(state.nodes, 'n2')?.progress).toBe(0);
      const viaState = replayFrames(stamped([{ type: 'node.state_changed', node_id: 'n3', status: 'generating', progress: 1e9 }]));
      expect(getEntity(viaState.nodes, 'n3')?.progress).toBe(100);
    });

    it('does not go backwards within a run', () => {
      const state = replayFrames(
        stamped([
          tp('t1', 'PROGRESS', { progress: 60 }),
          tp('t1', 'PROGRESS', { progress: 20 }),
          { type: 'node.state_changed', node_id: 'n1', task_id: 't1', status: 'generating', progress: 10 },
        ]),
      );
      expect(getEntity(state.nodes, 'n1')?.progress).toBe(60);
    });
  });

  describe('generating_ids', () => {
    it.each(FIXTURE_NAMES)('is exact at every step of %s', (name) => {
      for (const { index, state } of replayTimeline(readFixture(name))) expectGeneratingIdsExact(state, `${name}#${index}`);
    });

    it('is exact through concurrent runs on several nodes, restarts and repeated frames', () => {
      const log = stamped([
        { type: 'generation.started', node_id: 'a', task_id: 'ta1' },
        { type: 'generation.started', node_id: 'b', task_id: 'tb1' },
        { type: 'generation.started', node_id: 'a', task_id: 'ta1' },
        { type: 'node.state_changed', node_id: 'c', status: 'generating' },
        { type: 'node.state_changed', node_id: 'c', status: 'generating' },
        tp('tb1', 'PROGRESS', { progress: 40 }, 'b'),
        tp('ta1', 'SUCCESS', { progress: 100 }, 'a'),
        { type: 'generation.started', node_id: 'a', task_id: 'ta2' },
        tp('ta1', 'PROGRESS', { progress: 90 }, 'a'),
        { type: 'generation.error', node_id: 'b', task_id: 'tb1', error: 'boom' },
        { type: 'node.state_changed', node_id: 'c', status: 'idle' },
        { type: 'node.state_changed', node_id: 'b', status: 'generating', task_id: 'tb2' },
        tp('ta2', 'REVOKED', {}, 'a'),
      ]);
      const expected = [['a'], ['a', 'b'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], ['b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'c'], ['a'], ['a', 'b'], ['b']];
      replayTimeline(log).forEach(({ index, state }) => {
        expectGeneratingIdsExact(state, `#${index}`);
        expect([...state.nodes.generating_ids].sort(), `#${index}`).toEqual(expected[index]);
      });
    });
  });

  describe('thumbnails and outputs', () => {
    it('keeps safe URLs: relative /media paths and data:image/png', () => {
      const state = replayFrames(
        stamped([
          { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/p/n1.png', thumbnail: PNG_1X1 },
          { type: 'generation.completed', node_id: 'n2', task_id: 't2', output_path: 'https://cdn.example.com/n2.png', thumbnail: '/media/p/n2.thumb.webp' },
        ]),
      );
      expect(getEntity(state.nodes, 'n1')).toMatchObject({ output_path: '/media/p/n1.png', thumbnail: PNG_1X1 });
      expect(getEntity(state.nodes, 'n2')).toMatchObject({ output_path: 'https://cdn.example.com/n2.png', thumbnail: '/media/p/n2.thumb.webp' });
    });

    it('drops unsafe URLs and keeps the safe thumbnail already shown', () => {
      const state = replayFrames(
        stamped([
          { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/media/p/n1.png', thumbnail: '/media/p/n1.thumb.webp' },
          { type: 'node.state_changed', node_id: 'n1', task_id: 't1', status: 'completed', thumbnail: 'javascript:alert(1)', output_path: 'vbscript:msgbox(1)' },
          { type: 'generation.completed', node_id: 'n2', task_id: 't2', output_path: 'javascript:alert(2)', thumbnail: 'data:text/html;base64,PHNjcmlwdD4=' },
        ]),
      );
      expect(getEntity(state.nodes, 'n1')).toMatchObject({ output_path: '/media/p/n1.png', thumbnail: '/media/p/n1.thumb.webp' });
      expect(getEntity(state.nodes, 'n2')?.status).toBe('completed');
      expect(getEntity(state.nodes, 'n2')?.thumbnail).toBeUndefined();
      expect(getEntity(state.nodes, 'n2')?.output_path).toBeUndefined();
      expect(JSON.stringify(state)).not.toMatch(/javascript:|vbscript:|data:text\/html/i);
    });

    it('bad-frames fixture: the javascript: thumbnail is dropped, the node falls back to nothing unsafe', () => {
      const state = replayFrames(readFixture('bad-frames'));
      const node = getEntity(state.nodes, 'node-t2i-bad1');
      expect(node).toMatchObject({ status: 'completed', output_path: '/media/proj-aurora/S009/P030/take-001.png' });
      expect(node?.thumbnail === undefined || node.thumbnail.startsWith('/media/')).toBe(true);
      expect(JSON.stringify(state).toLowerCase()).not.toContain('javascript:');
    });
  });

  describe('commands', () => {
    it('startGeneration marks the node pending until generation.started answers', () => {
      const started = startGeneration({ nodeId: 'n1', params: { prompt: 'a harbor at night' }, context: { scene_id: 'S001', shot_id: 'P001', emotional_beat: 'opening-image' } });
      let state = realtimeReducer(undefined, started);
      expect(getEntity(state.nodes, 'n1')).toMatchObject({ status: 'idle', pending: { kind: 'start', commandId: started.payload.commandId }, scene_id: 'S001', shot_id: 'P001', emotional_beat: 'opening-image' });
      state = feed(state, { type: 'generation.started', node_id: 'n1', task_id: 't1', command_id: started.payload.commandId }, started.payload.requestedAt + 100);
      expect(getEntity(state.nodes, 'n1')?.pending).toBeUndefined();
      expect(getEntity(state.nodes, 'n1')?.status).toBe('generating');
    });

    it('a rejected start shows the error on the node that waited for it', () => {
      const started = startGeneration({ nodeId: 'n1', params: { prompt: 'x' } });
      let state = realtimeReducer(undefined, started);
      state = feed(state, { type: 'ack', command_id: started.payload.commandId, status: 'rejected', error: 'quota exceeded' }, started.payload.requestedAt + 50);
      expect(getEntity(state.nodes, 'n1')).toMatchObject({ status: 'error', error: 'quota exceeded' });
      expect(getEntity(state.nodes, 'n1')?.pending).toBeUndefined();
    });

    it('cancelGeneration is pending until the run ends', () => {
      let state = replayFrames(stamped([{ type: 'generation.started', node_id: 'n1', task_id: 't1' }]));
      const cancel = cancelGeneration({ nodeId: 'n1', taskId: 't1' });
      state = realtimeReducer(state, cancel);
      expect(getEntity(state.nodes, 'n1')?.pending).toMatchObject({ kind: 'cancel', commandId: cancel.payload.commandId });
      state = feed(state, tp('t1', 'REVOKED'), cancel.payload.requestedAt + 10);
      expect(getEntity(state.nodes, 'n1')?.status).toBe('cancelled');
      expect(getEntity(state.nodes, 'n1')?.pending).toBeUndefined();
    });
  });

  it('a stale node stays stale through a late frame of an old run, and is confirmed by its current run', () => {
    const log = stamped([
      { type: 'generation.started', node_id: 'n1', task_id: 't1' },
      { type: 'generation.started', node_id: 'n1', task_id: 't2' },
      tp('t2', 'PROGRESS', { progress: 30 }),
    ]);
    let state = realtimeReducer(replayFrames(log), nodesMarkedStale({ nodeIds: ['n1'], at: timeOf(log, 2) + 1 }));
    expect(getEntity(state.nodes, 'n1')?.stale).toBe(true);
    state = feed(state, tp('t1', 'PROGRESS', { progress: 80 }), timeOf(log, 2) + 2);
    expect(getEntity(state.nodes, 'n1')?.stale).toBe(true);
    state = feed(state, tp('t2', 'PROGRESS', { progress: 35 }), timeOf(log, 2) + 3);
    expect(getEntity(state.nodes, 'n1')?.stale).toBeUndefined();
    expect(getEntity(state.nodes, 'n1')?.progress).toBe(35);
  });

  it('receive times come from the frame timestamps', () => {
    const frames = fixtureFrames('generation-success');
    const last = [...frames].reverse().find((f) => f.node_id === NODE)!;
    expect(getEntity(replayFrames(readFixture('generation-success')).nodes, NODE)?.updatedAt).toBe(Date.parse(last.timestamp!));
  });
});
