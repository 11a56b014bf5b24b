/**
 * Composite prompts as the agents assembled them: the latest per node, and the latest overall
 * (a prompt.composite frame need not name a node).
 */
import { createEntityAdapter, createSlice, type EntityState } from '@reduxjs/toolkit';
import type { CompositePrompt } from '../protocol/index.js';
import { compositePromptAssembled } from './frameEvents.js';
import { addIngestCases, caseFor } from './ingestCases.js';

export interface PromptRecord {
  node_id: string;
  task_id?: string;
  composite_prompt: CompositePrompt;
  assembledAt: number;
}

export const promptsAdapter = createEntityAdapter({ selectId: (prompt: PromptRecord) => prompt.node_id });

export interface PromptsState extends EntityState<PromptRecord, string> {
  latest?: Omit<PromptRecord, 'node_id'> & { node_id?: string };
}

const on = caseFor<PromptsState>();

const promptsSlice = createSlice({
  name: 'prompts',
  initialState: promptsAdapter.getInitialState() as PromptsState,
  reducers: {},
  extraReducers: (builder) =>
    addIngestCases(builder, [
      on(compositePromptAssembled, (state, { payload: { frame, receivedAt } }) => {
        const record = {
          node_id: frame.node_id,
          task_id: frame.task_id,
          composite_prompt: frame.composite_prompt,
          assembledAt: receivedAt,
        };
        state.latest = record;
        if (frame.node_id) promptsAdapter.setOne(state, { ...record, node_id: frame.node_id });
      }),
    ]),
});

export const promptsReducer = promptsSlice.reducer;
