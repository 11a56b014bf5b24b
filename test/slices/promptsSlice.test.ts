import { describe, expect, it } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { AGENT_TYPES } from '../../src/protocol/index.js';
import { fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';
import { getEntity } from '../../src/slices/table.js';

const composite = (base_prompt: string, extra: Record<string, unknown> = {}) => ({ base_prompt, ...extra });

describe('prompts slice', () => {
  it('generation-success fixture: the composite prompt is stored for its node and as the latest', () => {
    const state = replayFrames(readFixture('generation-success'));
    const frame = fixtureFrames('generation-success').find((f) => f.type === 'prompt.composite')!;
    const expected = {
      node_id: 'node-t2i-7f3a',
      task_id: 'celery-5b0e6c1a-2f4d-4c8e-9a7b-3d2e1f0a9c8b',
      composite_prompt: {
        base_prompt: 'Mara waits on the harbor wall at night, rain on the cobbles',
        character_refs: ['char-mara'],
        style_refs: ['style-noir-01'],
        location_ref: 'loc-harbor',
        emotional_keywords: ['dread', 'anticipation'],
        agent_notes: {
          ArtDirector: 'Sodium-vapour orange against teal shadows',
          Cinematographer: '35mm, low angle, medium shot',
        },
      },
      assembledAt: Date.parse(frame.timestamp!),
    };
    expect(state.prompts.ids).toEqual(['node-t2i-7f3a']);
    expect(getEntity(state.prompts, 'node-t2i-7f3a')).toEqual(expected);
    expect(state.prompts.latest).toEqual(expected);
  });

  it('agent-pipeline fixture: the prompt carries a note from each of the seven agents', () => {
    const prompt = getEntity(replayFrames(readFixture('agent-pipeline')).prompts, 'node-shot-P014')?.composite_prompt;
    expect(Object.keys(prompt?.agent_notes ?? {}).sort()).toEqual([...AGENT_TYPES].sort());
    expect(prompt).toMatchObject({ character_refs: ['char-mara', 'char-ilya'], location_ref: 'loc-lighthouse', emotional_keywords: ['betrayal', 'fury'] });
  });

  it('fills the defaults the wire contract gives optional lists', () => {
    const state = replayFrames(stamped([{ type: 'prompt.composite', node_id: 'n1', composite_prompt: composite('a lighthouse') }]));
    expect(getEntity(state.prompts, 'n1')?.composite_prompt).toEqual({ base_prompt: 'a lighthouse', character_refs: [], style_refs: [], emotional_keywords: [] });
  });

  it('a later prompt for the same node replaces the earlier one', () => {
    const log = stamped([
      { type: 'prompt.composite', node_id: 'n1', task_id: 't1', composite_prompt: composite('first draft') },
      { type: 'prompt.composite', node_id: 'n1', task_id: 't2', composite_prompt: composite('second draft', { style_refs: ['style-noir-01'] }) },
    ]);
    const state = replayFrames(log);
    expect(state.prompts.ids).toEqual(['n1']);
    expect(getEntity(state.prompts, 'n1')).toMatchObject({ task_id: 't2', assembledAt: timeOf(log, 1), composite_prompt: { base_prompt: 'second draft', style_refs: ['style-noir-01'] } });
  });

  it('a prompt that names no node updates only the latest', () => {
    const log = stamped([
      { type: 'prompt.composite', node_id: 'n1', composite_prompt: composite('for n1') },
      { type: 'prompt.composite', composite_prompt: composite('for the whole scene') },
    ]);
    const state = replayFrames(log);
    expect(state.prompts.ids).toEqual(['n1']);
    expect(getEntity(state.prompts, 'n1')?.composite_prompt.base_prompt).toBe('for n1');
    expect(state.prompts.latest?.composite_prompt.base_prompt).toBe('for the whole scene');
    expect(state.prompts.latest?.node_id).toBeUndefined();
  });

  it('a prompt with notes from an unknown agent or a reserved id is refused whole', () => {
    const log = stamped([
      { type: 'prompt.composite', node_id: 'n1', composite_prompt: composite('x', { agent_notes: { Gaffer: 'more light' } }) },
      { type: 'prompt.composite', node_id: 'constructor', composite_prompt: composite('x') },
      { type: 'prompt.composite', node_id: 'n2', composite_prompt: composite('x', { character_refs: ['__proto__'] }) },
    ]);
    const state = replayFrames(log);
    expect(state.prompts.ids).toEqual([]);
    expect(state.prompts.latest).toBeUndefined();
    expect(state.frames.rejected.byReason.invalid_fields).toBe(3);
  });
});
