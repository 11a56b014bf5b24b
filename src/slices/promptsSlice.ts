/**
 * Composite prompts as the agents assembled them: the latest per node, and the latest overall
 * (a prompt.composite frame need not name a node).
 */
import type { CompositePrompt } from '../protocol/index.js';
import { compositePromptAssembled } from './frameEvents.js';
import { freezeDeep, passCaseFor, passReducer, TableWork } from './cow.js';
import { emptyTable, type Table } from './table.js';

export interface PromptRecord {
  node_id: string;
  task_id?: string;
  composite_prompt: CompositePrompt;
  assembledAt: number;
}

export interface PromptsState extends Table<PromptRecord> {
  latest?: Omit<PromptRecord, 'node_id'> & { node_id?: string };
}

/** One copy-on-write pass of frames over the prompts (see ./cow.ts). */
class PromptsPass {
  readonly table: TableWork<PromptRecord>;
  latest: PromptsState['latest'];

  constructor(readonly base: PromptsState) {
    this.table = new TableWork(base, (prompt) => ({ ...prompt }));
    this.latest = base.latest;
  }

  commit(): PromptsState {
    const table = this.table.commit();
    if (!table && this.latest === this.base.latest) return this.base;
    return freezeDeep({ ...this.base, ...table, latest: this.latest });
  }
}

const on = passCaseFor<PromptsPass>();

export const promptsReducer = passReducer<PromptsState, PromptsPass>({
  initialState: freezeDeep(emptyTable<PromptRecord>() as PromptsState),
  open: (state) => new PromptsPass(state),
  commit: (pass) => pass.commit(),
  cases: new Map([
    on(compositePromptAssembled, (pass, { payload: { frame, receivedAt } }) => {
      const record = {
        node_id: frame.node_id,
        task_id: frame.task_id,
        composite_prompt: frame.composite_prompt,
        assembledAt: receivedAt,
      };
      pass.latest = record;
      if (frame.node_id) pass.table.set(frame.node_id, { ...record, node_id: frame.node_id });
    }),
  ]),
});
