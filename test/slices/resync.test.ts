/**
 * Resynchronization from recorded logs (test/fixtures/resync-*.jsonl): a project.snapshot
 * replaces the project's part of the state in one action, and task.status answers confirm,
 * finish or lose the runs the client showed running. docs/ARCHITECTURE.md, "Resynchronization".
 */
import { describe, expect, it } from 'vitest';
import { framesToActions, replayFrames, replayTimeline } from '../../src/replay/index.js';
import { framesBatched } from '../../src/slices/frameEvents.js';
import { cancelGeneration } from '../../src/slices/commands.js';
import { contactLost, nodesMarkedStale, sessionLoaded } from '../../src/slices/deliveryEvents.js';
import { realtimeReducer, type RealtimeState } from '../../src/slices/index.js';
import { LOST_CONTACT_ERROR } from '../../src/slices/nodesSlice.js';
import { getEntity } from '../../src/slices/table.js';
import { expectGeneratingIdsExact, expectSerializable, initialState, readFixture, reduceAll, stamped } from '../support/fixtures.js';

const P = 'proj-aurora';
const node = (state: RealtimeState, id: string) => getEntity(state.nodes, id);
const task = (state: RealtimeState, id: string) => getEntity(state.tasks, id);

describe('resync-snapshot: a snapshot after a restart', () => {
  const timeline = replayTimeline(readFixture('resync-snapshot'));
  const at = timeline.findIndex((entry) => entry.action.type === 'projects/snapshotReceived');
  const before = timeline[at - 1]!.state;
  const after = timeline[at]!.state;
  const end = timeline[timeline.length - 1]!.state;

  it('is one action, readable in DevTools', () => {
    expect(timeline.filter((entry) => entry.action.type === 'projects/snapshotReceived')).toHaveLength(1);
    expect(timeline[at]!.action.payload).toMatchObject({ frame: { type: 'project.snapshot', project_id: P, at_seq: 3 }, receivedAt: expect.any(Number) });
    expectSerializable(after, 'after the snapshot');
  });

  it('a run that completed while away shows completed, with its takes', () => {
    expect(node(before, 'node-rs-a')).toMatchObject({ status: 'generating', progress: 27 });
    expect(node(after, 'node-rs-a')).toMatchObject({ status: 'completed', progress: 100, current_take: 2, project_id: P, take_ids: ['take-S003-P001-001', 'take-S003-P001-002'] });
    expect(getEntity(after.takes, 'take-S003-P001-002')).toMatchObject({ node_id: 'node-rs-a', take_number: 2 });
    expect(task(after, 'celery-rs-a-0001')).toMatchObject({ state: 'SUCCESS', progress: 100 });
  });

  it('a running run takes the server figures, down as well as up, with its attempt', () => {
    expect(node(after, 'node-rs-b')).toMatchObject({ status: 'generating', progress: 18, current_step: 2, task_state: 'PROGRESS' });
    expect(task(after, 'celery-rs-b-0001')).toMatchObject({ state: 'PROGRESS', progress: 18, attempt: 2, current_step: 2 });
  });

  it('a generating node of the project the snapshot does not list leaves generating', () => {
    expect(node(after, 'node-rs-c')).toMatchObject({ status: 'idle', task_id: undefined, progress: 0 });
    expect(node(after, 'node-rs-c')!.past_task_ids).toContain('celery-rs-c-0001');
    expect(node(after, 'node-rs-d')).toMatchObject({ status: 'idle', project_id: P });
    expectGeneratingIdsExact(after, 'after the snapshot');
    expect(after.nodes.generating_ids).toEqual(['node-rs-b']);
  });

  it('agents and the narrative position are set', () => {
    expect(getEntity(after.agents, 'Cinematographer')).toMatchObject({ status: 'working', task_id: 'celery-rs-b-0001', progress: 40 });
    expect(after.narrative).toMatchObject({ structure_type: 'three-act', current_scene: 'S003', current_beat: 'midpoint', completed_beats: ['opening-image', 'midpoint'] });
  });

  it('the position is at_seq, lower than before; a copy of an included event is a duplicate', () => {
    expect(before.sync.lastSeq[P]).toBe(12);
    expect(after.sync.lastSeq[P]).toBe(3);
    expect(timeline[at + 1]!.state.frames.duplicatesDropped).toBe(after.frames.duplicatesDropped + 1);
    expect(timeline[at + 1]!.state.nodes).toBe(after.nodes);
    expect(end.sync.lastSeq[P]).toBe(5);
    expect(node(end, 'node-rs-b')).toMatchObject({ status: 'generating', current_step: 4 });
  });

  it('replayFrames gives the same state in bursts (the overlay of dropDuplicates knows at_seq)', () => {
    const text = readFixture('resync-snapshot');
    expect(replayFrames(text)).toEqual(end);
    const actions = framesToActions(text);
    const batched = realtimeReducer(initialState(), framesBatched({ actions }));
    expect(batched.nodes).toEqual(end.nodes);
    expect(batched.sync.lastSeq).toEqual(end.sync.lastSeq);
    expect(batched.frames.duplicatesDropped).toBe(1);
  });

  it('a bad snapshot is rejected whole, never half-applied', () => {
    const lines = readFixture('resync-snapshot').trim().split('\n');
    const index = lines.findIndex((line) => line.includes('"project.snapshot"'));
    const bad = JSON.parse(lines[index]!) as { nodes: Array<Record<string, unknown>> };
    bad.nodes[2]!.status = 'paused';
    lines[index] = JSON.stringify(bad);
    const state = replayFrames(lines.slice(0, index + 1).join('\n')) as RealtimeState;
    expect(state.frames.rejected.total).toBe(1);
    expect(node(state, 'node-rs-a')).toMatchObject({ status: 'generating' });
    expect(state.sync.lastSeq[P]).toBe(12);
  });
});

describe('resync-status: task.status answers after a reconnect', () => {
  const timeline = replayTimeline(readFixture('resync-status'));
  const statusAt = (taskId: string) => timeline.findIndex((e) => e.action.type === 'tasks/statusReceived' && (e.action.payload as { frame: { task_id: string } }).frame.task_id === taskId);

  it('a redelivered task (STARTED, attempt 2) follows the new attempt down', () => {
    const i = statusAt('celery-st-a-0001');
    expect(node(timeline[i - 1]!.state, 'node-st-a')).toMatchObject({ progress: 60, current_step: 4 });
    expect(node(timeline[i]!.state, 'node-st-a')).toMatchObject({ status: 'generating', progress: 0, message: 'Redelivered to gpu-worker-2', current_step: undefined });
    expect(task(timeline[i]!.state, 'celery-st-a-0001')).toMatchObject({ state: 'STARTED', attempt: 2, progress: 0 });
  });

  it('a task that finished while away completes its node and records the result', () => {
    const state = timeline[statusAt('celery-st-b-0001')]!.state;
    expect(node(state, 'node-st-b')).toMatchObject({ status: 'completed', progress: 100 });
    expect(task(state, 'celery-st-b-0001')).toMatchObject({ state: 'SUCCESS', result: { seed: 7 } });
  });

  it('UNKNOWN loses the run at once; a later frame of the same run brings it back', () => {
    const i = statusAt('celery-st-c-0001');
    expect(node(timeline[i]!.state, 'node-st-c')).toMatchObject({ status: 'error', lost: true, error: LOST_CONTACT_ERROR });
    expectGeneratingIdsExact(timeline[i]!.state, 'after UNKNOWN');
    const end = timeline[timeline.length - 1]!.state;
    expect(node(end, 'node-st-c')).toMatchObject({ status: 'generating', current_step: 5, error: undefined });
    expect(node(end, 'node-st-c')!.lost).toBeUndefined();
  });

  it('task.status frames are not seq-numbered: they never move the position', () => {
    const i = statusAt('celery-st-a-0001');
    expect(timeline[i]!.state.sync.lastSeq).toEqual(timeline[i - 1]!.state.sync.lastSeq);
  });
});

describe('nodes/contactLost', () => {
  const log = stamped([
    { type: 'generation.started', project_id: P, seq: 1, node_id: 'n1', task_id: 't1' },
    { type: 'task.progress', project_id: P, seq: 2, node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 26, current_step: 10, total_steps: 34 },
    { type: 'generation.started', project_id: P, seq: 3, node_id: 'n2', task_id: 't2' },
  ]);
  const running = replayFrames(log);
  const stale = realtimeReducer(running, nodesMarkedStale({ nodeIds: ['n1', 'n2'], at: 10 }));

  it('turns a stale generating node into a visible error; a pending cancel resolves', () => {
    const cancelling = realtimeReducer(stale, cancelGeneration({ nodeId: 'n1' }));
    expect(node(cancelling, 'n1')!.pending?.kind).toBe('cancel');
    const lost = realtimeReducer(cancelling, contactLost({ nodeIds: ['n1'], at: 20 }));
    expect(node(lost, 'n1')).toMatchObject({ status: 'error', error: LOST_CONTACT_ERROR, lost: true, pending: undefined, updatedAt: 20, task_id: 't1' });
    expect(node(lost, 'n1')!.stale).toBeUndefined();
    expect(node(lost, 'n2')).toMatchObject({ status: 'generating', stale: true });
    expectGeneratingIdsExact(lost);
    expectSerializable(lost);
  });

  it('leaves a node that a frame confirmed since (no longer stale) alone', () => {
    const confirmed = reduceAll(
      [{ type: 'tasks/progressReceived', payload: { frame: { type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 30 }, receivedAt: 15 } }],
      stale,
    );
    expect(node(realtimeReducer(confirmed, contactLost({ nodeIds: ['n1'], at: 20 })), 'n1')).toMatchObject({ status: 'generating', progress: 30 });
  });

  it('a late frame of a finished run still does not reopen it (only a lost one revives)', () => {
    const lost = realtimeReducer(stale, contactLost({ nodeIds: ['n1'], at: 20 }));
    const revived = reduceAll(
      [{ type: 'tasks/progressReceived', payload: { frame: { type: 'task.progress', node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 40 }, receivedAt: 30 } }],
      lost,
    );
    expect(node(revived, 'n1')).toMatchObject({ status: 'generating', progress: 40, error: undefined });
    const failed = replayFrames(stamped([...log, { type: 'generation.error', project_id: P, seq: 4, node_id: 'n1', task_id: 't1', error: 'OOM' }, { type: 'task.progress', project_id: P, seq: 5, node_id: 'n1', task_id: 't1', state: 'PROGRESS', progress: 50 }]));
    expect(node(failed, 'n1')).toMatchObject({ status: 'error', error: 'OOM' });
  });
});

describe('sync.storedLastSeq: a stored position counts only with its state', () => {
  const loaded = realtimeReducer(
    initialState(),
    sessionLoaded({ sessionId: 's1', subscriptions: [P], lastSeq: { [P]: 41 }, outbox: [], capabilities: ['snapshot'], at: 1 }),
  );

  it('a position read back from storage is kept aside, never used to drop events', () => {
    expect(loaded.sync).toMatchObject({ lastSeq: {}, storedLastSeq: { [P]: 41 } });
    const replayed = replayFrames(stamped([{ type: 'generation.started', project_id: P, seq: 1, node_id: 'n1', task_id: 't1' }]), { initialState: loaded });
    expect(replayed.frames.duplicatesDropped).toBe(0);
    expect(getEntity(replayed.nodes, 'n1')?.status).toBe('generating');
  });

  it('a frame of the project (or a snapshot) makes its position a real one', () => {
    const applied = replayFrames(stamped([{ type: 'generation.started', project_id: P, seq: 42, node_id: 'n1', task_id: 't1' }]), { initialState: loaded });
    expect(applied.sync).toMatchObject({ lastSeq: { [P]: 42 }, storedLastSeq: {} });
    const snapshot = replayFrames(stamped([{ type: 'project.snapshot', project_id: 'p2', at_seq: 0, nodes: [], tasks: [], takes: [], agents: [] }]), { initialState: loaded });
    expect(snapshot.sync).toMatchObject({ lastSeq: { p2: 0 }, storedLastSeq: { [P]: 41 } });
  });
});
