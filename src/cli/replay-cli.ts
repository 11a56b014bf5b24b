#!/usr/bin/env node
/**
 * canvas-realtime replay: reads a JSONL frame log (one frame per line, as recorded from the
 * socket) and prints what the store made of each frame, then a summary of the final state.
 *
 *   canvas-realtime replay session.jsonl          readable timeline + summary
 *   canvas-realtime replay --json session.jsonl   final state as JSON (tables as { ids, entities })
 *   canvas-realtime replay --states - < log       every intermediate state, one JSON per line
 *
 * The replay goes through replayTimeline, i.e. the same validation and reducers as live
 * traffic, with receive times taken from the log (a recording's `received_at`, else each frame's
 * `timestamp`): the output for a given log never depends on the clock. Exit codes: 0 success, 1 unexpected failure, 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import type {
  AgentRecord,
  IngestAction,
  NodeRecord,
  RealtimeState,
  Table,
  TaskRecord,
  TimelineEntry,
} from '../index.js';

/**
 * The library, loaded once the arguments are known to be good: `--help` and usage errors answer
 * without loading the store.
 */
let lib: typeof import('../index.js');

const USAGE = `Usage: canvas-realtime replay [options] <file.jsonl | ->

Replays a JSONL log of inbound frames (or a recording, recorder.toJSONL()) through the
canvas-realtime store and prints a timeline:
one line per frame (index, receive time, action, what changed), then a summary of the final
state. Use "-" to read the log from stdin.

Options:
  --json      print only the final state, as JSON
  --states    print only the state after each frame, one JSON object per line (JSONL)
  -h, --help  show this help

Exit codes: 0 success (rejected frames included), 1 unexpected error, 2 usage error.`;

const SHORT_USAGE = `Usage: canvas-realtime replay [--json | --states] <file.jsonl | ->
Run "canvas-realtime --help" for details.`;

class UsageError extends Error {}

interface CliOptions {
  file: string;
  mode: 'timeline' | 'json' | 'states';
}

/** Parses argv (after `node script`); returns undefined when help was asked for. */
function parseArgs(argv: readonly string[]): CliOptions | undefined {
  const args = [...argv];
  if (args.length === 0) throw new UsageError('missing command: expected "replay"');
  const optionsEnd = args.includes('--') ? args.indexOf('--') : args.length;
  if (args.slice(0, optionsEnd).some((arg) => arg === '-h' || arg === '--help')) return undefined;
  const command = args.shift();
  if (command !== 'replay') throw new UsageError(`unknown command: ${clean(String(command))} (expected "replay")`);

  let json = false;
  let states = false;
  let onlyFiles = false;
  const files: string[] = [];
  for (const arg of args) {
    if (onlyFiles || arg === '-' || !arg.startsWith('-')) files.push(arg);
    else if (arg === '--') onlyFiles = true;
    else if (arg === '--json') json = true;
    else if (arg === '--states') states = true;
    else throw new UsageError(`unknown option: ${clean(arg)}`);
  }
  if (json && states) throw new UsageError('--json and --states cannot be used together');
  if (files.length === 0) throw new UsageError('missing file: give a JSONL file, or "-" for stdin');
  if (files.length > 1) throw new UsageError(`expected one file, got ${files.length}`);
  return { file: files[0]!, mode: json ? 'json' : states ? 'states' : 'timeline' };
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new UsageError(`cannot read ${clean(file)}: ${why}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting. Everything that came from the log is passed through clean() or quote(), so a log
// cannot put terminal escape sequences on the screen.

// C0 and C1 controls, DEL, and bidirectional overrides.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function clean(text: string, max = 200): string {
  const shown = text.replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

function quote(text: string, max = 80): string {
  return `"${clean(text, max).replace(/"/g, '\\"')}"`;
}

function percent(value: number): string {
  return `${Math.round(value)}%`;
}

/** Receive times from the log are epoch ms; logs without timestamps count from 0 in ms. */
function formatTime(at: number): string {
  if (at >= Date.UTC(2000, 0, 1) && at < Date.UTC(3000, 0, 1)) return new Date(at).toISOString();
  return `+${at}ms`;
}

function describeNode(node: NodeRecord): string {
  const parts = [`node ${clean(node.node_id)} ${node.status} ${percent(node.progress)}`];
  if (node.status === 'error' && node.error !== undefined) parts.push(quote(node.error));
  else if (node.status === 'generating') {
    const text = lib.stepText(node);
    if (text !== undefined) parts.push(quote(text));
  } else if (node.status === 'completed' && node.take_ids.length > 0) {
    parts.push(`takes ${node.take_ids.length}`);
  }
  if (node.pending) parts.push(`(pending ${node.pending.kind})`);
  return parts.join(' ');
}

function describeTask(task: TaskRecord): string {
  const parts = [`task ${clean(task.task_id)} ${task.state}`];
  const terminal = task.state === 'SUCCESS' || task.state === 'FAILURE' || task.state === 'REVOKED';
  if (!terminal) parts.push(percent(task.progress));
  if (task.state === 'FAILURE' && task.message !== undefined) parts.push(quote(task.message));
  return parts.join(' ');
}

function describeAgent(agent: AgentRecord): string {
  const parts = [`agent ${agent.agent_type} ${agent.status} ${percent(agent.progress)}`];
  const doing = agent.status === 'working' ? (agent.current_step ?? agent.current_task) : undefined;
  if (doing !== undefined) parts.push(quote(doing));
  if (agent.handoff_to !== undefined) parts.push(`-> ${agent.handoff_to}`);
  return parts.join(' ');
}

function narrativeParts(narrative: RealtimeState['narrative']): string[] {
  const parts: string[] = [];
  const outOf = (current: string | number | undefined, total: number | undefined) =>
    `${current === undefined ? '?' : clean(String(current))}${total === undefined ? '' : `/${total}`}`;
  if (narrative.structure_type !== undefined) parts.push(`structure ${narrative.structure_type}`);
  if (narrative.current_chapter !== undefined || narrative.total_chapters !== undefined) {
    parts.push(`chapter ${outOf(narrative.current_chapter, narrative.total_chapters)}`);
  }
  if (narrative.current_scene !== undefined || narrative.total_scenes !== undefined) {
    parts.push(`scene ${outOf(narrative.current_scene, narrative.total_scenes)}`);
  }
  if (narrative.current_shot !== undefined || narrative.total_shots !== undefined) {
    parts.push(`shot ${outOf(narrative.current_shot, narrative.total_shots)}`);
  }
  if (narrative.current_beat !== undefined) parts.push(`beat ${quote(narrative.current_beat)}`);
  return parts;
}

function describeNarrative(narrative: RealtimeState['narrative']): string {
  return narrativeParts(narrative).join(', ');
}

/** Lines describing entities whose description differs between two tables. */
function changedEntities<T>(before: Table<T>, after: Table<T>, describe: (entity: T) => string): string[] {
  if (before.shards === after.shards) return [];
  const out: string[] = [];
  for (const id of after.ids) {
    const next = lib.getEntity(after, id);
    const previous = lib.getEntity(before, id);
    if (next === undefined || next === previous) continue;
    const text = describe(next);
    if (previous === undefined || describe(previous) !== text) out.push(text);
  }
  return out;
}

type Outcome = 'applied' | 'rejected' | 'unknown' | 'duplicate';

/**
 * What became of a frame. A frame whose seq was already applied reaches the timeline as its
 * ordinary action; the root reducer drops it, which shows in the duplicates counter.
 */
function outcomeOf(action: IngestAction, before: RealtimeState, after: RealtimeState): Outcome {
  if (lib.frameRejected.match(action)) return 'rejected';
  if (lib.unknownFrameReceived.match(action)) return 'unknown';
  if (lib.duplicateFrameDropped.match(action)) return 'duplicate';
  if (lib.isFrameAction(action) && after.frames.duplicatesDropped > before.frames.duplicatesDropped) return 'duplicate';
  return 'applied';
}

/** A short account of what one frame did to the state. */
function describeChange(action: IngestAction, before: RealtimeState, after: RealtimeState): string {
  if (lib.frameRejected.match(action)) {
    const { reason, detail, type } = action.payload;
    return `REJECTED ${reason}${type ? ` (${clean(type, 60)})` : ''}: ${clean(detail)}`;
  }
  if (lib.unknownFrameReceived.match(action)) {
    return `UNKNOWN type ${clean(action.payload.type, 60)} (not reduced)`;
  }
  switch (outcomeOf(action, before, after)) {
    case 'duplicate': {
      const payload = action.payload as { frame?: { project_id?: string; seq?: number }; project_id?: string; seq?: number };
      const projectId = payload.frame?.project_id ?? payload.project_id;
      const seq = payload.frame?.seq ?? payload.seq;
      return `DUPLICATE project ${clean(String(projectId))} seq ${String(seq)} (dropped)`;
    }
    default:
      break;
  }

  const parts: string[] = [];
  const frame = (action.payload as { frame?: { type?: string } }).frame;
  if (frame?.type === 'ack') {
    const ack = frame as { command_id: string; status: string; error?: string };
    parts.push(`ack ${clean(ack.command_id)} ${ack.status}${ack.error !== undefined ? ` ${quote(ack.error)}` : ''}`);
  } else if (frame?.type === 'error') {
    const error = frame as { code: string; message: string; command_id?: string };
    parts.push(
      `server error ${clean(error.code, 64)} ${quote(error.message)}${error.command_id !== undefined ? ` (command ${clean(error.command_id)})` : ''}`,
    );
  }
  parts.push(...changedEntities(before.nodes, after.nodes, describeNode));
  parts.push(...changedEntities(before.tasks, after.tasks, describeTask));
  if (after.tasks.lateFramesIgnored > before.tasks.lateFramesIgnored) parts.push('late task frame ignored');

  const newTakes = new Map<string, number[]>();
  for (const id of after.takes.ids) {
    if (lib.getEntity(before.takes, id) !== undefined) continue;
    const take = lib.getEntity(after.takes, id)!;
    newTakes.set(take.node_id, [...(newTakes.get(take.node_id) ?? []), take.take_number]);
  }
  for (const [nodeId, numbers] of newTakes) {
    const list = numbers.map((n) => `#${n}`).join(', ');
    parts.push(`${numbers.length === 1 ? 'take' : `${numbers.length} takes`} ${list} for node ${clean(nodeId)}`);
  }

  parts.push(
    ...changedEntities(before.agents, after.agents, describeAgent),
  );
  if (after.agents.handoffs !== before.agents.handoffs) {
    const last = after.agents.handoffs[after.agents.handoffs.length - 1];
    const previousLast = before.agents.handoffs[before.agents.handoffs.length - 1];
    if (last !== undefined && last !== previousLast) {
      parts.push(`handoff ${last.from_agent} -> ${last.to_agent} (task ${clean(last.task_id)})`);
    }
  }

  if (after.narrative !== before.narrative) {
    const reached = after.narrative.completed_beats.filter((beat) => !before.narrative.completed_beats.includes(beat));
    for (const beat of reached) parts.push(`beat ${quote(beat)} reached`);
    // Only what moved: "narrative scene S002/12, shot P004/48".
    const was = new Set(narrativeParts(before.narrative));
    const moved = narrativeParts(after.narrative).filter(
      (part) => !was.has(part) && !(part.startsWith('beat ') && reached.length > 0),
    );
    if (moved.length > 0) parts.push(`narrative ${moved.join(', ')}`);
  }

  if (after.prompts !== before.prompts && after.prompts.latest !== before.prompts.latest) {
    const node = after.prompts.latest?.node_id;
    parts.push(`composite prompt${node !== undefined ? ` for node ${clean(node)}` : ''}`);
  }

  if (after.activity.next_id !== before.activity.next_id) {
    const item = after.activity.feed[after.activity.feed.length - 1];
    if (item !== undefined) {
      const frame = item.frame as { type: string; project_id: string; process_id?: string; progress?: number };
      let text = `${frame.type} project ${clean(frame.project_id)}`;
      if (frame.process_id !== undefined) text += ` process ${clean(frame.process_id)}`;
      if (frame.progress !== undefined) text += ` ${percent(frame.progress)}`;
      parts.push(text);
    }
  }

  if (after.sync.sessionId !== before.sync.sessionId && after.sync.sessionId !== undefined) {
    parts.push(`session ${clean(after.sync.sessionId)}`);
  }
  if (after.sync.gaps !== before.sync.gaps) {
    const gap = after.sync.gaps[after.sync.gaps.length - 1];
    if (gap !== undefined && gap !== before.sync.gaps[before.sync.gaps.length - 1]) {
      parts.push(`GAP project ${clean(gap.project_id)} seq ${formatRange(gap.from, gap.to)} missing (${gap.detectedBy})`);
    }
  }

  if (after.connection !== before.connection) {
    const was = before.connection;
    const now = after.connection;
    if (now.status !== was.status) parts.push(`connection ${now.status}`);
    if (now.suspendedReason !== was.suspendedReason && now.suspendedReason !== undefined) {
      parts.push(`shutdown ${quote(now.suspendedReason)}`);
    }
    if (now.lastHeartbeatAt !== was.lastHeartbeatAt) parts.push('heartbeat');
  }

  return parts.length > 0 ? parts.join('; ') : '(no change)';
}

function formatRange(from: number, to: number): string {
  return from === to ? String(from) : `${from}-${to}`;
}

function timelineLines(timeline: readonly TimelineEntry[], initial: RealtimeState): string[] {
  const width = String(Math.max(0, timeline.length - 1)).length;
  const typeWidth = Math.min(30, Math.max(0, ...timeline.map((entry) => entry.action.type.length)));
  let before = initial;
  return timeline.map((entry) => {
    const { action, state, index } = entry;
    const at = (action.payload as { receivedAt?: number }).receivedAt;
    const line = [
      String(index).padStart(width),
      at === undefined ? '?' : formatTime(at),
      action.type.padEnd(typeWidth),
      describeChange(action, before, state),
    ].join('  ');
    before = state;
    return line;
  });
}

// ---------------------------------------------------------------------------------------------
// Summary

const LIST_LIMIT = 50;

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const out = items.slice(0, LIST_LIMIT).map((item) => `    ${line(item)}`);
  if (items.length > LIST_LIMIT) out.push(`    ... and ${items.length - LIST_LIMIT} more`);
  return out;
}

function counts(values: readonly string[]): string {
  const map = new Map<string, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return [...map].map(([value, count]) => `${clean(value, 60)} ${count}`).join(', ');
}

function summaryLines(timeline: readonly TimelineEntry[], initial: RealtimeState, final: RealtimeState): string[] {
  const rejected: ReturnType<typeof lib.frameRejected>[] = [];
  const unknown: ReturnType<typeof lib.unknownFrameReceived>[] = [];
  let duplicates = 0;
  let applied = 0;
  let before = initial;
  for (const { action, state } of timeline) {
    if (lib.frameRejected.match(action)) rejected.push(action);
    else if (lib.unknownFrameReceived.match(action)) unknown.push(action);
    else if (outcomeOf(action, before, state) === 'duplicate') duplicates += 1;
    else applied += 1;
    before = state;
  }

  const lines: string[] = ['Summary'];
  let frames = `  frames: ${timeline.length} read, ${applied} applied, ${rejected.length} rejected`;
  if (rejected.length > 0) frames += ` (${counts(rejected.map((a) => a.payload.reason))})`;
  frames += `, ${unknown.length} unknown`;
  if (unknown.length > 0) frames += ` (${counts(unknown.map((a) => a.payload.type))})`;
  frames += `, ${duplicates} duplicates dropped`;
  lines.push(frames);

  const gaps = final.sync.gaps;
  lines.push(`  seq gaps: ${gaps.length === 0 ? 'none' : gaps.length}`);
  lines.push(
    ...listed(gaps, (gap) => `project ${clean(gap.project_id)} seq ${formatRange(gap.from, gap.to)} (${gap.detectedBy})`),
  );

  const nodes = lib.allEntities(final.nodes);
  lines.push(`  nodes: ${nodes.length === 0 ? 'none' : nodes.length}`);
  lines.push(
    ...listed(nodes, (node) => {
      let text = `${clean(node.node_id)}  ${node.status} ${percent(node.progress)}  takes ${node.take_ids.length}`;
      if (node.current_take !== undefined) text += ` (current #${node.current_take})`;
      if (node.task_id !== undefined) text += `  task ${clean(node.task_id)}`;
      if (node.status === 'error' && node.error !== undefined) text += `  ${quote(node.error)}`;
      return text;
    }),
  );

  const tasks = lib.allEntities(final.tasks);
  lines.push(`  tasks: ${tasks.length === 0 ? 'none' : `${tasks.length} (${counts(tasks.map((task) => task.state))})`}`);
  lines.push(...listed(tasks, (task) => `${clean(task.task_id)}  ${task.state} ${percent(task.progress)}`));

  const agents = lib.allEntities(final.agents);
  lines.push(`  agents: ${agents.length === 0 ? 'none' : agents.length}`);
  lines.push(...listed(agents, (agent) => describeAgent(agent).replace(/^agent /, '')));
  if (final.agents.handoffs.length > 0) lines.push(`  handoffs: ${final.agents.handoffs.length}`);

  const narrative = describeNarrative(final.narrative);
  const beats = final.narrative.completed_beats;
  lines.push(`  narrative: ${narrative === '' ? 'none' : narrative}`);
  if (beats.length > 0) lines.push(`  beats reached: ${beats.map((beat) => quote(beat, 40)).join(', ')}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------

function write(text: string) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions | undefined;
  let input: string;
  let loading: Promise<typeof import('../index.js')>;
  try {
    options = parseArgs(argv);
    if (options === undefined) {
      write(USAGE);
      return 0;
    }
    loading = import('../index.js');
    input = await readInput(options.file);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`canvas-realtime: ${error.message}\n${SHORT_USAGE}\n`);
    return 2;
  }

  lib = await loading;
  const timeline = lib.replayTimeline(input);
  // The state before any frame: what an empty log replays to.
  const initial = lib.replayFrames([]);
  const final = timeline.length > 0 ? timeline[timeline.length - 1]!.state : initial;

  if (options.mode === 'json') {
    // Tables as `{ ids, entities }`: what a reader (or jq) expects, not the store's shards.
    write(JSON.stringify(lib.withPlainTables(final), null, 2));
  } else if (options.mode === 'states') {
    for (const entry of timeline) write(JSON.stringify(lib.withPlainTables(entry.state)));
  } else {
    const lines = timeline.length > 0 ? timelineLines(timeline, initial) : ['(no frames)'];
    write([...lines, '', ...summaryLines(timeline, initial, final)].join('\n'));
  }
  return 0;
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `canvas-realtime replay log | head`: the reader went away; stop quietly.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`canvas-realtime: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
