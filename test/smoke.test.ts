import { describe, expect, it } from 'vitest';
import { replayFrames, selectNodeVisual, selectTakesByNode } from '../src/index.js';

describe('smoke', () => {
  it('replays a tiny generation', () => {
    const log = [
      { type: 'generation.started', node_id: 'n1', task_id: 't1', timestamp: '2026-01-01T00:00:00Z' },
      { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 40, step: 'Denoising', current_step: 12, total_steps: 30 },
      { type: 'generation.completed', node_id: 'n1', task_id: 't1', output_path: '/o.png', thumbnail: 'javascript:alert(1)', takes: [{ id: 'k1', take_number: 1, path: '/o.png', created_at: 'x' }] },
      { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 50 },
    ];
    const state = replayFrames(log);
    expect(state.tasks.entities.t1?.state).toBe('SUCCESS');
    expect(state.nodes.entities.n1?.status).toBe('completed');
    expect(selectNodeVisual(state, 'n1').thumbnail).toBe('/o.png');
    expect(selectTakesByNode(state, 'n1').map((t) => t.id)).toEqual(['k1']);
    expect(state.tasks.lateFramesIgnored).toBe(1);
  });
});
