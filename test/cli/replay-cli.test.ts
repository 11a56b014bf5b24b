/**
 * The replay CLI run as users run it: a child process on a JSONL file, checked by its output and
 * exit code.
 *
 * The source is bundled once with esbuild (~0.1 s) and each case runs the bundle with plain node:
 * under tsx every process would spend most of a second compiling the library again. One case
 * goes through `npm run replay` (tsx) to cover the development path; the built bin of the packed
 * package is exercised by scripts/pack-and-import.mjs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordedLine, getEntity, replayFrames, withPlainTables } from '../../src/index.js';
import type { NodeRecord } from '../../src/slices/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'src/cli/replay-cli.ts');
const fixture = join(root, 'test/fixtures/generation-success.jsonl');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let logFile: string;
let bundle: string;

function exec(file: string, args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: root, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

function run(args: string[], stdin?: string): Promise<Run> {
  return exec(process.execPath, [bundle, ...args], stdin);
}

const FRAMES = [
  { type: 'session.init', session_id: 's1', timestamp: '2026-01-01T00:00:00Z' },
  { type: 'generation.started', node_id: 'n1', task_id: 't1', project_id: 'p1', seq: 1, timestamp: '2026-01-01T00:00:01Z' },
  {
    type: 'task.progress',
    task_id: 't1',
    node_id: 'n1',
    state: 'PROGRESS',
    progress: 42,
    step: 'Denoising',
    current_step: 12,
    total_steps: 30,
    project_id: 'p1',
    seq: 2,
    timestamp: '2026-01-01T00:00:02Z',
  },
  { type: 'task.progress', task_id: 't1', state: 'NOPE' },
  { type: 'future.thing', x: 1 },
  { type: 'task.progress', task_id: 't1', node_id: 'n1', state: 'PROGRESS', progress: 50, project_id: 'p1', seq: 2 },
  {
    type: 'agent.assigned',
    agent_type: 'Cinematographer',
    task_id: 'a1',
    task_description: 'Frame the shot',
    project_id: 'p1',
    seq: 5,
  },
  { type: 'narrative.beat', beat_name: 'The Call', scene_id: 'sc1' },
  {
    type: 'generation.completed',
    node_id: 'n1',
    task_id: 't1',
    output_path: '/out/1.png',
    takes: [{ id: 'k1', take_number: 1, path: '/out/1.png', created_at: '2026-01-01T00:00:09Z' }],
    timestamp: '2026-01-01T00:00:09Z',
  },
];
const LOG = `${FRAMES.map((frame) => JSON.stringify(frame)).join('\n')}\n\nnot json\n`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
  logFile = join(dir, 'session.jsonl');
  writeFileSync(logFile, LOG);
  bundle = join(dir, 'replay-cli.mjs');
  await build({
    entryPoints: [cli],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The printed timeline, one line per frame, and the summary after it. */
function timelineAndSummary(stdout: string) {
  const [timeline = '', summary = ''] = stdout.split('\n\nSummary\n');
  return { lines: timeline.split('\n'), summary };
}

describe.concurrent('canvas-realtime replay', { timeout: 60_000 }, () => {
  it('prints one line per frame and a summary', async () => {
    const { code, stdout, stderr } = await run(['replay', logFile]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { lines, summary } = timelineAndSummary(stdout);
    expect(lines).toHaveLength(FRAMES.length + 1);
    expect(lines[0]).toMatch(/^0\s+2026-01-01T00:00:00\.000Z\s+session\/initialized\s+session s1$/);
    expect(lines[2]).toMatch(/^2\s+2026-01-01T00:00:02\.000Z\s+tasks\/progressReceived\s+/);
    expect(lines[2]).toContain('node n1 generating 42% "Step 12 of 30: Denoising"');
    expect(lines[2]).toContain('task t1 PROGRESS 42%');
    expect(lines[3]).toMatch(/frames\/rejected\s+REJECTED invalid_fields \(task\.progress\): state: Invalid /);
    expect(lines[4]).toContain('UNKNOWN type future.thing');
    expect(lines[5]).toContain('DUPLICATE project p1 seq 2');
    expect(lines[6]).toContain('agent Cinematographer working 0% "Frame the shot"');
    expect(lines[6]).toContain('GAP project p1 seq 3-4 missing (client)');
    expect(lines[7]).toContain('beat "The Call" reached');
    expect(lines[8]).toContain('node n1 completed 100% takes 1');
    expect(lines[8]).toContain('task t1 SUCCESS');
    expect(lines[9]).toMatch(/^9\s+\S+\s+frames\/rejected\s+REJECTED not_json: /);

    expect(summary).toContain('frames: 10 read, 6 applied, 2 rejected (invalid_fields 1, not_json 1), 1 unknown (future.thing 1), 1 duplicates dropped');
    expect(summary).toContain('seq gaps: 1\n    project p1 seq 3-4 (client)');
    expect(summary).toContain('n1  completed 100%  takes 1 (current #1)  task t1');
    expect(summary).toContain('tasks: 1 (SUCCESS 1)');
    expect(summary).toContain('agents: 1\n    Cinematographer working 0% "Frame the shot"');
    expect(summary).toContain('narrative: scene sc1, beat "The Call"');
  });

  it('--json prints the final state, the same as replayFrames (tables as { ids, entities })', async () => {
    const { code, stdout } = await run(['replay', '--json', logFile]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(withPlainTables(replayFrames(LOG)))));
    expect(JSON.parse(stdout).tasks.entities.t1).toEqual(JSON.parse(JSON.stringify(getEntity(replayFrames(LOG).tasks, 't1'))));
  });

  it('--states reads stdin with "-" and prints one state per frame', async () => {
    const { code, stdout } = await run(['replay', '--states', '-'], LOG);
    expect(code).toBe(0);
    // Tables come out as { ids, entities }, not as the store's shards.
    type PlainNodes = { nodes: { ids: string[]; entities: Record<string, NodeRecord> } };
    const states = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as PlainNodes);
    expect(states).toHaveLength(FRAMES.length + 1);
    expect(states[2]?.nodes.entities.n1?.progress).toBe(42);
    expect(states[8]?.nodes.entities.n1?.status).toBe('completed');
  });

  it('replays a recording (recorder.toJSONL()) at its receive times, bad frames included', async () => {
    const base = Date.UTC(2026, 2, 4, 8, 0, 0);
    const recording = [...FRAMES.map((frame) => JSON.stringify(frame)), 'not json'].map((text, i) => encodeRecordedLine(text, base + i * 250));
    const file = join(dir, 'recording.jsonl');
    writeFileSync(file, `${recording.join('\n')}\n`);
    const { code, stdout, stderr } = await run(['replay', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { lines, summary } = timelineAndSummary(stdout);
    expect(lines).toHaveLength(FRAMES.length + 1);
    expect(lines[0]).toMatch(/^0\s+2026-03-04T08:00:00\.000Z\s+session\/initialized\s+session s1$/);
    expect(lines[2]).toMatch(/^2\s+2026-03-04T08:00:00\.500Z\s+tasks\/progressReceived\s+/);
    expect(lines[9]).toMatch(/^9\s+2026-03-04T08:00:02\.250Z\s+frames\/rejected\s+REJECTED not_json: /);
    expect(summary).toContain('frames: 10 read, 6 applied, 2 rejected (invalid_fields 1, not_json 1), 1 unknown (future.thing 1), 1 duplicates dropped');
  });

  it('keeps control characters from the log off the terminal', async () => {
    const file = join(dir, 'escape.jsonl');
    writeFileSync(file, `${JSON.stringify({ type: 'generation.error', node_id: 'n1', task_id: 't1', error: 'bad\u001b[31m red' })}\n`);
    const { code, stdout } = await run(['replay', file]);
    expect(code).toBe(0);
    expect(stdout).not.toContain('\u001b');
    expect(stdout).toContain('node n1 error 0% "bad\\u001b[31m red"');
  });

  it('runs from the TypeScript source with `npm run replay -- <file>`', async () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { code, stdout } = await exec(npm, ['run', '--silent', 'replay', '--', logFile]);
    expect(code).toBe(0);
    expect(stdout).toContain('node n1 generating 42% "Step 12 of 30: Denoising"');
    expect(stdout).toContain('frames: 10 read');
  });

  it('prints help with exit code 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: canvas-realtime replay');
    expect(stdout).toContain('--states');
  });

  it.each([
    [['replay', '--verbose', 'x.jsonl'], 'unknown option: --verbose'],
    [['replay'], 'missing file'],
    [['replay', 'does-not-exist.jsonl'], 'cannot read does-not-exist.jsonl: no such file'],
    [['replay', '--json', '--states', 'x.jsonl'], '--json and --states cannot be used together'],
    [['play', 'x.jsonl'], 'unknown command: play'],
    [[], 'missing command'],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`canvas-realtime: ${message}`);
    expect(stderr).toContain('Usage: canvas-realtime replay');
  });

  it('replays test/fixtures/generation-success.jsonl', async () => {
    const text = readFileSync(fixture, 'utf8');
    const frameCount = text.split(/\r?\n/).filter((line) => line.trim().length > 0).length;
    const { code, stdout, stderr } = await run(['replay', fixture]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [timeline = ''] = stdout.split('\n\nSummary\n');
    expect(timeline.split('\n')).toHaveLength(frameCount);
    expect(stdout).toContain(`frames: ${frameCount} read`);
    expect(stdout).toMatch(/completed 100%/);

    const json = await run(['replay', '--json', fixture]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(withPlainTables(replayFrames(text)))));
  });
});
