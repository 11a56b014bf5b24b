import { describe, expect, it } from 'vitest';
import { replayFrames } from '../../src/replay/index.js';
import { ACTIVITY_TYPES, MAX_ACTIVITY_ITEMS } from '../../src/slices/index.js';
import { fixtureFrames, readFixture, stamped, timeOf } from '../support/fixtures.js';

const A = 'proj-aurora';
const H = 'proj-harbor-lights';
const N = 'proj-nightfall';

describe('activity slice', () => {
  describe('distributed-events fixture', () => {
    const activityFrames = () => fixtureFrames('distributed-events').filter((f) => (ACTIVITY_TYPES as readonly string[]).includes(f.type));

    it('feeds every project, file, process, structure and git event, in order, numbered from 1', () => {
      const { feed, next_id } = replayFrames(readFixture('distributed-events')).activity;
      const frames = activityFrames();
      expect(frames).toHaveLength(19);
      expect(feed.map((item) => item.id)).toEqual(frames.map((_, i) => i + 1));
      expect(next_id).toBe(20);
      expect(feed.map((item) => `${item.frame.type}@${item.frame.project_id}`)).toEqual(frames.map((f) => `${f.type}@${f.project_id}`));
      expect(feed.map((item) => item.at)).toEqual(frames.map((f) => Date.parse(f.timestamp!)));
    });

    it('stores the validated frame', () => {
      const { feed } = replayFrames(readFixture('distributed-events')).activity;
      expect(feed[1]?.frame).toEqual({
        type: 'file.uploaded',
        timestamp: '2026-03-05T10:00:00.900Z',
        project_id: A,
        seq: 1,
        file: { name: 'mara-ref-03.png', path: 'assets/characters/mara/mara-ref-03.png', size: 1843200, asset_type: 'character' },
      });
    });

    it('summarizes each project: structure version, last git operation, deletion', () => {
      const { projects } = replayFrames(readFixture('distributed-events')).activity;
      expect(Object.keys(projects).sort()).toEqual([A, H, N].sort());
      const lastPush = activityFrames().filter((f) => f.type === 'git.push' && f.project_id === A)[0]!;
      expect(projects[A]).toEqual({
        structure_version: 1,
        deleted: false,
        last_git: { type: 'git.push', ref: 'refs/heads/main', message: 'e5d6f7a pushed', author: 'dana', at: Date.parse(lastPush.timestamp!) },
      });
      expect(projects[H]).toMatchObject({ structure_version: 2, deleted: false, last_git: { type: 'git.pull', ref: 'refs/heads/main', author: 'lee' } });
      expect(projects[N]).toEqual({ structure_version: 0, deleted: true });
    });

    it('keeps running processes; completed ones leave the table', () => {
      const { processes } = replayFrames(readFixture('distributed-events')).activity;
      expect(processes).toEqual({
        'proc-import-n1': {
          process_id: 'proc-import-n1',
          project_id: N,
          status: 'running',
          progress: 35,
          message: 'Parsed 40 of 114 scenes',
          updatedAt: Date.parse(activityFrames().find((f) => f.type === 'process.progress' && f.project_id === N)!.timestamp!),
        },
      });
    });
  });

  it('generation-success fixture: only the subscribe-era project events enter the feed', () => {
    const { feed } = replayFrames(readFixture('generation-success')).activity;
    expect(feed.map((item) => item.frame.type)).toEqual(['project.updated', 'structure.changed']);
  });

  it('keeps only the declared fields of a frame: extra fields a newer backend adds are dropped', () => {
    const state = replayFrames(stamped([{ type: 'git.commit', project_id: 'p1', ref: 'abc1234', worker: 'redis-2', __internal: { token: 'secret' } }]));
    expect(state.activity.feed[0]?.frame).toEqual({ type: 'git.commit', timestamp: '2026-01-01T00:00:01.000Z', project_id: 'p1', ref: 'abc1234' });
  });

  it('a process does not report less progress than it already did', () => {
    const log = stamped([
      { type: 'process.started', project_id: 'p1', process_id: 'proc-1' },
      { type: 'process.progress', project_id: 'p1', process_id: 'proc-1', progress: 70 },
      { type: 'process.progress', project_id: 'p1', process_id: 'proc-1', progress: 40, message: 'late' },
    ]);
    expect(replayFrames(log).activity.processes['proc-1']).toMatchObject({ status: 'running', progress: 70, updatedAt: timeOf(log, 2) });
  });

  it('a deleted project that is created again is no longer deleted', () => {
    const log = stamped([
      { type: 'project.deleted', project_id: 'p1' },
      { type: 'project.created', project_id: 'p1', data: { name: 'again' } },
    ]);
    expect(replayFrames(log).activity.projects.p1?.deleted).toBe(false);
  });

  it(`keeps at most MAX_ACTIVITY_ITEMS (${MAX_ACTIVITY_ITEMS}) items, oldest dropped, ids still counting`, () => {
    const total = MAX_ACTIVITY_ITEMS + 45;
    const frames = Array.from({ length: total }, (_, i) => ({ type: 'git.commit', project_id: `p${i % 3}`, seq: Math.floor(i / 3) + 1, ref: `c${i}`, message: `commit ${i}` }));
    const log = stamped(frames);
    const { activity, sync } = replayFrames(log);
    expect(activity.feed).toHaveLength(MAX_ACTIVITY_ITEMS);
    expect(activity.feed[0]).toMatchObject({ id: 46, frame: { ref: 'c45' } });
    expect(activity.feed[MAX_ACTIVITY_ITEMS - 1]).toMatchObject({ id: total, at: timeOf(log, total - 1), frame: { ref: `c${total - 1}` } });
    expect(activity.next_id).toBe(total + 1);
    expect(activity.projects.p0?.last_git?.ref).toBe(`c${total - (total % 3 === 0 ? 3 : total % 3)}`);
    expect(sync.lastSeq).toEqual({ p0: Math.ceil(total / 3), p1: Math.ceil((total - 1) / 3), p2: Math.ceil((total - 2) / 3) });
  });

  it('project ids that are Object.prototype members are refused', () => {
    const state = replayFrames(
      stamped([
        { type: 'structure.changed', project_id: 'constructor', changes: { added: ['x'] } },
        { type: 'process.started', project_id: 'p1', process_id: '__proto__' },
        { type: 'git.commit', project_id: 'hasOwnProperty', ref: 'x' },
      ]),
    );
    expect(state.activity.feed).toEqual([]);
    expect(Object.keys(state.activity.projects)).toEqual([]);
    expect(Object.keys(state.activity.processes)).toEqual([]);
    expect(state.frames.rejected.byReason.invalid_fields).toBe(3);
  });
});
