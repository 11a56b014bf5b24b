/**
 * The memory bus's file (server/bus/busFile.ts): a bus written to it and dropped without
 * close() (what kill -9 leaves) is loaded again with the same seqs, history, incarnation and
 * checkpoints, and its numbering continues; a torn last line is skipped; the file is compacted to
 * what the bus keeps.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBusOptions } from '../../server/bus/memoryBus.js';
import { cleanupStack } from './helpers.js';

const cleanups = cleanupStack();
afterEach(() => cleanups.run());

function tempFile() {
  const dir = mkdtempSync(join(tmpdir(), 'i12-durable-busfile-'));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'bus.jsonl');
}

/** A bus on the file; never closed by the test (a killed process closes nothing), only at cleanup. */
function bus(file: string, options: MemoryBusOptions = {}) {
  const created = createMemoryBus({ ...options, file });
  cleanups.add(() => created.close());
  return created;
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');

describe('memory bus with a file', () => {
  it('a bus dropped without closing is loaded again: same seqs, same history, numbering and incarnation continue', async () => {
    const file = tempFile();
    const first = bus(file);
    for (let i = 1; i <= 3; i += 1) await first.publish('proj-1', { type: 'git.commit', ref: 'main', message: `commit ${i}` });
    await first.publish('proj-2', { type: 'git.push', ref: 'main' });
    await first.saveCheckpoint!('proj-1', 2, '{"nodes":1}');
    const firstHistory = await first.history('proj-1', 0, 100);
    const incarnation = await first.incarnation!();

    const second = bus(file);
    expect(await second.lastSeq('proj-1')).toBe(3);
    expect(await second.lastSeq('proj-2')).toBe(1);
    expect(await second.history('proj-1', 0, 100)).toEqual(firstHistory);
    expect(await second.history('proj-1', 1, 100)).toEqual({ events: firstHistory.events.slice(1) });
    expect(await second.loadCheckpoint!('proj-1')).toEqual({ at_seq: 2, state: '{"nodes":1}' });
    expect(await second.incarnation!()).toBe(incarnation);
    expect((await second.projectIds!()).sort()).toEqual(['proj-1', 'proj-2']);

    const next = await second.publish('proj-1', { type: 'git.commit', ref: 'main', message: 'after the restart' });
    expect(next.seq).toBe(4);
    const third = bus(file);
    expect((await third.history('proj-1', 0, 100)).events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect((await third.history('proj-1', 3, 100)).events[0]!.frame).toMatchObject({ message: 'after the restart', seq: 4, project_id: 'proj-1' });
  });

  it('a torn last line (kill -9 mid-write) is skipped, and what follows is appended on a clean line', async () => {
    const file = tempFile();
    const first = bus(file);
    for (let i = 1; i <= 3; i += 1) await first.publish('proj-1', { type: 'git.commit', ref: 'main', message: `commit ${i}` });
    appendFileSync(file, '{"project_id":"proj-1","seq":4,"frame":{"type":"git.com');

    const logged: string[] = [];
    const second = bus(file, { log: (line) => logged.push(line) });
    expect(await second.lastSeq('proj-1')).toBe(3);
    expect(logged.join('\n')).toMatch(/skipped 1 unreadable line/);
    expect((await second.publish('proj-1', { type: 'git.push', ref: 'main' })).seq).toBe(4);
    for (const line of lines(file)) expect(() => JSON.parse(line)).not.toThrow();

    const third = bus(file);
    expect((await third.history('proj-1', 0, 100)).events.map((event) => [event.seq, event.frame.type])).toEqual([
      [1, 'git.commit'],
      [2, 'git.commit'],
      [3, 'git.commit'],
      [4, 'git.push'],
    ]);
  });

  it('a file holding more than the history keeps is compacted on load, and the checkpoint keeps what was trimmed', async () => {
    const file = tempFile();
    const first = bus(file, { historyLimit: 100 });
    for (let i = 1; i <= 12; i += 1) await first.publish('proj-1', { type: 'git.commit', ref: 'main', message: `commit ${i}` });
    await first.saveCheckpoint!('proj-1', 6, 'state at 6');
    await first.saveCheckpoint!('proj-1', 9, 'state at 9');
    expect(lines(file)).toHaveLength(1 + 12 + 2);

    const second = bus(file, { historyLimit: 5 });
    // The incarnation, the newest checkpoint, the last five events.
    expect(lines(file)).toHaveLength(1 + 1 + 5);
    expect(await second.history('proj-1', 0, 100)).toMatchObject({ oldestAvailable: 8 });
    expect(await second.loadCheckpoint!('proj-1')).toEqual({ at_seq: 9, state: 'state at 9' });
    expect((await second.publish('proj-1', { type: 'git.push', ref: 'main' })).seq).toBe(13);
  });

  it('a running bus compacts its file as it grows, so the file stays within about twice what it keeps', async () => {
    const file = tempFile();
    const running = bus(file, { historyLimit: 5 });
    for (let i = 1; i <= 40; i += 1) await running.publish('proj-1', { type: 'git.commit', ref: 'main', message: `commit ${i}` });
    expect(lines(file).length).toBeLessThanOrEqual(2 * (1 + 5));
    const reloaded = bus(file, { historyLimit: 5 });
    expect((await reloaded.history('proj-1', 0, 100)).events.map((event) => event.seq)).toEqual([36, 37, 38, 39, 40]);
  });
});
