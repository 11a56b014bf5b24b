#!/usr/bin/env node
/**
 * Pack-and-import test (`npm run test:pack`): proves the package works as a consumer gets it
 * from the registry, not as it looks inside this repository.
 *
 *   1. `npm run build`, then `npm pack` into a temp dir (prepack is skipped there: the build
 *      just run is the one under test);
 *   2. a fresh consumer project (type: module) installs the tarball; its dependencies come from
 *      the npm cache or the registry. The optional svelte peer is added only after the core entry
 *      has been imported without it;
 *   3. checks, the independent ones side by side:
 *      - the build and `npm pack` print no warning (a warning a publisher ignores is one a user
 *        reads: @sveltejs/package's import.meta scan once flagged a comment);
 *      - tarball contents (entries present, no tests, sources or images, bin shebang, .js
 *        suffixes);
 *      - Node imports the core entry and replays a 3-frame log;
 *      - Node imports the ./svelte entry server-side, .svelte files compiled by svelte/compiler
 *        through a loader hook, as an SSR build would, with the lowest svelte the peer range
 *        allows: every component renders on the server, and compiles for the client to code
 *        that parses (GenerationNode needs `$props.id`, 5.20; before 5.25.6 the compiler's server
 *        code for GenerationNode or TakesGallery threw or kept TypeScript in);
 *      - tsc resolves the .d.ts files under moduleResolution NodeNext and Bundler: every
 *        declaration file of both entries must be reached, and deliberate type errors must be
 *        reported (so nothing silently became `any`);
 *      - the bin: `npx canvas-realtime replay` on a small file, stdin, exit code 2 on misuse;
 *      - publint --strict on the tarball itself.
 *
 * The ./svelte checks run only when dist/svelte/index.js exists. Until then, publint's "file
 * does not exist" errors for the "./svelte" export are reported as expected instead of failing.
 *
 * Prints one line per check and a closing `pack-and-import: N passed, M failed`; exits 1 on any
 * failure. `--keep` keeps the temp dir for inspection.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'canvas-realtime-pack-'));
const consumer = join(work, 'consumer');
const installed = join(consumer, 'node_modules/canvas-realtime');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const versionOf = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

const results = [];

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** Runs a command without a shell; resolves { status, stdout, stderr }. */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? root,
      env: {
        ...process.env,
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status: status ?? (signal ? `killed by ${signal}` : null), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and throws with the tail of its output when it fails. */
async function must(command, args, options) {
  const result = await run(command, args, options);
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${relative(root, command) || command} ${args.join(' ')} exited with ${result.status}\n${output}`);
  }
  return result;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs a check; its line is printed when it ends (side-by-side checks print in finish order). */
async function check(name, fn) {
  const since = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${seconds(since)})${note ? `: ${note}` : ''}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name} (${seconds(since)})`);
    console.log(String(error instanceof Error ? error.message : error).replace(/^/gm, '      '));
  }
}

function finish() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(`pack-and-import: ${passed} passed, ${failed} failed (${seconds(started)})`);
  process.exit(failed === 0 ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------
// Build, pack, install

let tarball;
let packedFiles = [];
const hasSvelteEntry = () => existsSync(join(root, 'dist/svelte/index.js'));

/** Lines of a command's output that warn: @sveltejs/package's issues, npm's `npm warn`. */
function warnings({ stdout, stderr }) {
  const text = `${stdout}\n${stderr}`;
  const issues = text.indexOf('found the following issues');
  return [
    ...(issues >= 0 ? [text.slice(text.lastIndexOf('\n', issues) + 1).trim().split('\n').slice(0, 4).join(' / ')] : []),
    ...text.split('\n').filter((line) => /^npm warn/i.test(line.trim())),
  ];
}

let warned = [];

await check('build and pack', async () => {
  const built = await must('npm', ['run', 'build', '--silent']);
  assert(existsSync(join(root, 'dist/index.js')), 'dist/index.js was not built');
  const packed = await must('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work]);
  warned = [...warnings(built), ...warnings(packed)];
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];
  tarball = join(work, info.filename);
  packedFiles = info.files.map((file) => file.path);
  return `${info.filename}, ${packedFiles.length} files, ${(info.size / 1024).toFixed(0)} kB`;
});
if (!tarball) finish();
const svelteEntry = hasSvelteEntry();

await check('build and pack print no warning', () => {
  assert(warned.length === 0, `warnings:\n${warned.join('\n')}`);
});

await check('tarball contents', () => {
  const required = ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/replay-cli.js'];
  if (svelteEntry) required.push('dist/svelte/index.js', 'dist/svelte/index.d.ts');
  for (const file of required) assert(packedFiles.includes(file), `${file} is missing from the tarball`);
  const stray = packedFiles.filter(
    (file) => /^(src|test|scripts|\.ci|node_modules)\//.test(file) || /\.(test|spec)\.[cm]?[jt]s$/.test(file),
  );
  assert(stray.length === 0, `files that should not be published: ${stray.join(', ')}`);
  // The README's screenshot was 60% of the tarball; it stays in the repository (docs/images).
  const images = packedFiles.filter((file) => /\.(png|jpe?g|gif|webp|avif)$/i.test(file));
  assert(images.length === 0, `images in the tarball: ${images.join(', ')}`);
  const bin = readFileSync(join(root, 'dist/cli/replay-cli.js'), 'utf8');
  assert(bin.startsWith('#!/usr/bin/env node\n'), 'dist/cli/replay-cli.js does not start with #!/usr/bin/env node');
  const unsuffixed = packedFiles
    .filter((file) => /\.(js|d\.ts)$/.test(file))
    .flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => [file, m[1]]);
    })
    .filter(([file, spec]) => !(file.endsWith('.d.ts') ? /\.js$/ : /\.(js|svelte|json)$/).test(spec));
  assert(
    unsuffixed.length === 0,
    `relative imports a consumer cannot resolve (need .js): ${unsuffixed.map(([f, s]) => `${f} -> ${s}`).join(', ')}`,
  );
  return svelteEntry ? 'core, svelte and bin entries' : 'core and bin entries (no dist/svelte/index.js yet)';
});

await check('install in a fresh consumer', async () => {
  mkdirSync(join(consumer, 'src'), { recursive: true });
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  await must('npm', ['install', '--prefer-offline', '--no-package-lock', tarball], { cwd: consumer });
  assert(existsSync(join(installed, 'package.json')), 'canvas-realtime was not installed');
  assert(!existsSync(join(consumer, 'node_modules/svelte')), 'svelte was installed, but it is an optional peer');
});
if (!existsSync(join(installed, 'package.json'))) finish();

const LOG = [
  { type: 'generation.started', node_id: 'n1', task_id: 't1', timestamp: '2026-01-01T00:00:00Z' },
  {
    type: 'task.progress',
    task_id: 't1',
    node_id: 'n1',
    state: 'PROGRESS',
    progress: 42,
    step: 'Denoising',
    current_step: 12,
    total_steps: 30,
  },
  {
    type: 'generation.completed',
    node_id: 'n1',
    task_id: 't1',
    output_path: '/out/1.png',
    takes: [{ id: 'k1', take_number: 1, path: '/out/1.png', created_at: '2026-01-01T00:00:09Z' }],
  },
]
  .map((frame) => JSON.stringify(frame))
  .join('\n');
writeFileSync(join(consumer, 'frames.jsonl'), `${LOG}\n`);

// ---------------------------------------------------------------------------------------------
// (a) Node imports the core entry, before svelte is installed: the core must not need the peer.

await check('node: import "canvas-realtime", replay 3 frames (svelte not installed)', async () => {
  writeFileSync(
    join(consumer, 'import-core.mjs'),
    `import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as core from 'canvas-realtime';
import { createRealtimeStore, getEntity, parseFrame, replayFrames, replayTimeline } from 'canvas-realtime';

const log = readFileSync(new URL('./frames.jsonl', import.meta.url), 'utf8');
const state = replayFrames(log);
assert.equal(getEntity(state.nodes, 'n1').status, 'completed');
assert.equal(getEntity(state.nodes, 'n1').progress, 100);
assert.deepEqual(getEntity(state.nodes, 'n1').take_ids, ['k1']);
assert.equal(getEntity(state.tasks, 't1').state, 'SUCCESS');
const timeline = replayTimeline(log);
assert.equal(timeline.length, 3);
assert.equal(getEntity(timeline[1].state.nodes, 'n1').progress, 42);
assert.equal(parseFrame('{"type":"system.heartbeat"}').ok, true);
const store = createRealtimeStore({ devTools: false });
assert.equal(typeof store.dispatch, 'function');
assert.equal(createRequire(import.meta.url)('canvas-realtime/package.json').name, 'canvas-realtime');
console.log(Object.keys(core).length + ' exports');
`,
  );
  const { stdout } = await must(process.execPath, ['import-core.mjs'], { cwd: consumer });
  return `${stdout.trim()}; node n1 completed with take k1`;
});

// The optional peers (svelte for ./svelte, and whatever other entries need), so that every
// entry can be imported and typechecked: svelte at the lowest version its range allows (the
// range claims the components compile and run there), the others at the versions this
// repository develops against.
const installedPkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
const peers = Object.keys(installedPkg.peerDependencies ?? {});
const svelteRange = installedPkg.peerDependencies?.svelte;
const lowestSvelte = /^\^(\d+\.\d+\.\d+)$/.exec(svelteRange ?? '')?.[1];
if (peers.length > 0) {
  await check('install the peer dependencies', async () => {
    assert(!svelteRange || lowestSvelte, `the svelte peer range "${svelteRange}" is not ^x.y.z: which version is its lowest?`);
    const specs = peers.map((name) =>
      name === 'svelte'
        ? `svelte@${lowestSvelte}`
        : existsSync(join(root, 'node_modules', name, 'package.json'))
          ? `${name}@${versionOf(name)}`
          : `${name}@${installedPkg.peerDependencies[name]}`,
    );
    await must('npm', ['install', '--prefer-offline', '--no-package-lock', ...specs], { cwd: consumer });
    return specs.join(', ');
  });
}

// ---------------------------------------------------------------------------------------------
// Side by side: the svelte entry in Node, both typechecks, the bin, publint.

const checks = [];

if (svelteEntry) {
  checks.push(
    check(`node: import "canvas-realtime/svelte" server-side with svelte ${lowestSvelte}, the peer range's lowest`, async () => {
      // What an SSR build does: .svelte and .svelte.js modules compiled for the server.
      writeFileSync(
        join(consumer, 'svelte-hooks.mjs'),
        `import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile, compileModule } from 'svelte/compiler';

export async function load(url, context, nextLoad) {
  const isComponent = url.endsWith('.svelte');
  if (!isComponent && !/\\.svelte\\.js$/.test(url)) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const options = { filename: fileURLToPath(url), generate: 'server' };
  const { js } = isComponent ? compile(source, options) : compileModule(source, options);
  return { format: 'module', source: js.code, shortCircuit: true };
}
`,
      );
      writeFileSync(
        join(consumer, 'svelte-register.mjs'),
        `import { register } from 'node:module';\nregister('./svelte-hooks.mjs', import.meta.url);\n`,
      );
      writeFileSync(
        join(consumer, 'import-svelte.mjs'),
        `import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { compile, VERSION } from 'svelte/compiler';
import { render } from 'svelte/server';
import { createRealtimeStore, replayFrames } from 'canvas-realtime';
import * as entry from 'canvas-realtime/svelte';

const names = Object.keys(entry);
assert.ok(names.length > 0, 'canvas-realtime/svelte exports nothing');
assert.equal(VERSION, ${JSON.stringify(lowestSvelte)});
// Every component rendered on the server from a replayed log.
const state = replayFrames(readFileSync(new URL('./frames.jsonl', import.meta.url), 'utf8'));
const store = createRealtimeStore({ preloadedState: state, autoConnect: false, devTools: false });
const rendered = {
  GenerationNode: { nodeId: 'n1', params: { prompt: 'a lighthouse' } },
  TakesGallery: { nodeId: 'n1' },
  NodeStateVisuals: { nodeId: 'n1' },
  TaskProgress: { taskId: 't1' },
  AgentActivityMonitor: {},
  NarrativeProgress: {},
  ConnectionStatus: {},
};
for (const [name, props] of Object.entries(rendered)) {
  const html = render(entry[name], { props: { store, ...props } }).body;
  assert.ok(html.length > 0, name + ' rendered nothing');
}
assert.match(render(entry.GenerationNode, { props: { store, nodeId: 'n1' } }).body, /Generate/);
store.dispose();
// Every component of the package compiles for the browser, to JavaScript (no TypeScript left).
const require = createRequire(import.meta.url);
const { parse } = createRequire(require.resolve('svelte/package.json'))('acorn');
const dist = join(require.resolve('canvas-realtime/package.json'), '../dist');
const components = readdirSync(dist, { recursive: true }).filter((file) => String(file).endsWith('.svelte'));
for (const file of components) {
  const { js } = compile(readFileSync(join(dist, file), 'utf8'), { filename: String(file), generate: 'client' });
  parse(js.code, { ecmaVersion: 'latest', sourceType: 'module' });
}
console.log(names.length + ' exports, ' + Object.keys(rendered).length + ' components rendered, ' + components.length + ' compiled for the client');
`,
      );
      const { stdout } = await must(process.execPath, ['--import', './svelte-register.mjs', 'import-svelte.mjs'], {
        cwd: consumer,
      });
      return stdout.trim();
    }),
  );
}

// (b) TypeScript resolves the .d.ts files.
writeFileSync(
  join(consumer, 'src/consumer.ts'),
  `import {
  createRealtimeStore,
  getEntity,
  parseFrame,
  replayFrames,
  replayTimeline,
  type NodeRecord,
  type RealtimeState,
  type TimelineEntry,
} from 'canvas-realtime';

const log: string = '{"type":"system.heartbeat"}';
const state: RealtimeState = replayFrames(log);
const node: NodeRecord | undefined = getEntity(state.nodes, 'n1');
const status: 'idle' | 'generating' | 'completed' | 'error' | 'cancelled' | undefined = node?.status;
const timeline: TimelineEntry[] = replayTimeline(log);
const parsed = parseFrame(log);
if (parsed.ok && parsed.kind === 'event') {
  const type: string = parsed.frame.type;
  void type;
}
const store = createRealtimeStore({ devTools: false });
const fromStore: RealtimeState = store.getState();

// The types are real, not any: each of these must be reported.
// @ts-expect-error a number is not a NodeRecord
const wrongNode: NodeRecord = 42;
// @ts-expect-error a node's status is not a number
const wrongStatus: number | undefined = getEntity(state.nodes, 'n1')?.status;
// @ts-expect-error replayFrames needs a log
replayFrames();

export { status, timeline, fromStore, wrongNode, wrongStatus };
`,
);
// Every other entry with declarations (./svelte, and any added later): its module must resolve
// to real types. An unresolved module would be any, and the expected error would not happen.
const subpaths = Object.entries(installedPkg.exports ?? {}).filter(
  ([subpath, target]) =>
    subpath !== '.' &&
    typeof target === 'object' &&
    target !== null &&
    typeof target.types === 'string' &&
    existsSync(join(installed, target.types)),
);
subpaths.forEach(([subpath], index) => {
  const specifier = `canvas-realtime/${subpath.slice(2)}`;
  writeFileSync(
    join(consumer, `src/entry-${index}.ts`),
    `// ${specifier}
import * as entry from '${specifier}';

export const names: (keyof typeof entry)[] = Object.keys(entry) as (keyof typeof entry)[];
// @ts-expect-error a module namespace is not a number
export const wrong: number = entry;
`,
  );
});

/**
 * Declaration files tsc must reach: the `types` of every export, and every file their relative
 * imports name, transitively (`./x.js` -> `./x.d.ts`, `./C.svelte.js` -> `./C.svelte.d.ts`). A
 * specifier a resolution mode cannot follow leaves its file unreached, which fails the check
 * instead of silently typing the import as any (skipLibCheck hides that error otherwise).
 */
function expectedDeclarations() {
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const entries = Object.values(pkg.exports ?? {})
    .map((target) => (typeof target === 'object' && target !== null ? target.types : undefined))
    .filter((types) => typeof types === 'string' && existsSync(join(installed, types)));
  const seen = new Set();
  const queue = entries.map((types) => join(installed, types));
  while (queue.length > 0) {
    const file = queue.pop();
    const name = relative(installed, file).split(sep).join('/');
    if (seen.has(name) || !existsSync(file)) {
      seen.add(name);
      continue;
    }
    seen.add(name);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const spec = match[1];
      const target = spec.endsWith('.js') ? `${spec.slice(0, -3)}.d.ts` : `${spec}.d.ts`;
      queue.push(join(dirname(file), target));
    }
  }
  return [...seen].sort();
}

async function typecheck(moduleResolution) {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
      moduleResolution,
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
      strict: true,
      noEmit: true,
      verbatimModuleSyntax: true,
      // Checking every dependency's .d.ts costs ~12 s of CPU; resolution is proven below by
      // requiring every declaration file of the package to be part of the program.
      skipLibCheck: true,
    },
    include: ['src'],
  };
  const file = `tsconfig.${moduleResolution.toLowerCase()}.json`;
  writeFileSync(join(consumer, file), `${JSON.stringify(config, null, 2)}\n`);
  const { stdout } = await must(process.execPath, [tsc, '-p', file, '--listFiles'], { cwd: consumer });
  const loaded = new Set(
    stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith(installed))
      .map((line) => relative(installed, line).split(sep).join('/')),
  );
  const expected = expectedDeclarations();
  const missing = expected.filter((decl) => !loaded.has(decl));
  assert(missing.length === 0, `declaration files tsc did not reach (unresolved imports?): ${missing.join(', ')}`);
  return `${expected.length} declaration files resolved, type errors detected (typescript ${versionOf('typescript')})`;
}

checks.push(check('types: tsc, moduleResolution NodeNext', () => typecheck('NodeNext')));
checks.push(check('types: tsc, moduleResolution Bundler', () => typecheck('Bundler')));

// (c) The bin.
checks.push(
  check('bin: npx canvas-realtime replay', async () => {
    const ok = await must('npx', ['--no', 'canvas-realtime', 'replay', 'frames.jsonl'], { cwd: consumer });
    assert(ok.stdout.includes('node n1 generating 42% "Step 12 of 30: Denoising"'), `unexpected timeline:\n${ok.stdout}`);
    assert(ok.stdout.includes('frames: 3 read, 3 applied'), `unexpected summary:\n${ok.stdout}`);
    // The same installed bin, without npx's start-up cost.
    const bin = join(consumer, 'node_modules/.bin/canvas-realtime');
    const json = await must(bin, ['replay', '--json', '-'], { cwd: consumer, input: LOG });
    assert(JSON.parse(json.stdout).nodes.entities.n1.status === 'completed', 'replay --json - did not complete node n1');
    const usage = await run(bin, ['replay', '--nope'], { cwd: consumer });
    assert(usage.status === 2, `an unknown option exited with ${usage.status}, expected 2`);
    assert(usage.stderr.includes('unknown option: --nope'), `unexpected usage message:\n${usage.stderr}`);
    return 'timeline, --json from stdin, exit code 2 on a usage error';
  }),
);

// (d) publint --strict on the tarball itself.
checks.push(
  check('publint --strict', async () => {
    const publintDir = join(root, 'node_modules/publint');
    const { publint } = await import(pathToFileURL(join(publintDir, 'src/index-node.js')).href);
    const { formatMessage } = await import(pathToFileURL(join(publintDir, 'src/utils.js')).href);
    const data = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
      strict: true,
    });
    const expected = [];
    const problems = [];
    const suggestions = [];
    for (const message of messages) {
      const text = `${message.type}: ${formatMessage(message, pkg, { color: false })}`;
      const svelteNotYetBuilt =
        !svelteEntry && message.code === 'FILE_DOES_NOT_EXIST' && message.path[0] === 'exports' && message.path[1] === './svelte';
      if (svelteNotYetBuilt) expected.push(text);
      else if (message.type === 'suggestion') suggestions.push(text);
      else problems.push(text);
    }
    assert(problems.length === 0, problems.join('\n'));
    const notes = [];
    if (expected.length > 0) notes.push(`${expected.length} expected error(s): "./svelte" points at dist/svelte/index.*, not built yet`);
    if (suggestions.length > 0) notes.push(`suggestions: ${suggestions.join('; ')}`);
    return notes.length > 0 ? `no errors or warnings; ${notes.join('; ')}` : `publint ${versionOf('publint')}, no messages`;
  }),
);

await Promise.all(checks);
finish();
