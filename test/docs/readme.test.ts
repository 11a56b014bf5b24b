/**
 * The README's API tour is what a new user copies: its TypeScript snippets must typecheck
 * against the sources, as they are written (no cast, no declarations added here), and its Svelte
 * snippets must compile.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'svelte/compiler';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The fenced blocks of one language in the README's "## API tour" section. */
function tourBlocks(language: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## API tour\n');
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const tour = readme.slice(start, end === -1 ? undefined : end);
  return Array.from(tour.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g')), (match) => match[1]!);
}

/** Typechecks each snippet as its own module, with the project's tsconfig (canvas-realtime -> src). */
function typecheck(snippets: string[]): string[] {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  // Virtual files next to this test: under the package (type: module), so they are ES modules.
  const files = new Map(snippets.map((code, index) => [join(ROOT, 'test/docs', `readme-snippet-${index + 1}.ts`), `${code}\nexport {};\n`]));
  const host = ts.createCompilerHost(parsed.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const code = files.get(name);
    return code !== undefined ? ts.createSourceFile(name, code, language) : getSourceFile.call(host, name, language, ...rest);
  };
  const program = ts.createProgram([...files.keys()], parsed.options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file === undefined || files.has(diagnostic.file.fileName))
    .map((diagnostic) => {
      const where = diagnostic.file
        ? `${diagnostic.file.fileName.slice(ROOT.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}: `
        : '';
      return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    });
}

describe('README API tour', () => {
  it('every TypeScript snippet typechecks as written', () => {
    const snippets = tourBlocks('ts');
    // The store (Node), two stores, recorded logs, testing your own components.
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    expect(typecheck(snippets)).toEqual([]);
  }, 180_000);

  it('the Node snippet passes WebSocket from ws, connects, and lets the process exit', () => {
    const node = tourBlocks('ts')[0]!;
    expect(node).toMatch(/import \{ WebSocket \} from 'ws'/);
    expect(node).toMatch(/^\s*WebSocket,/m);
    expect(node).toMatch(/store\.dispatch\(connect\(\)\)/);
    expect(node).toMatch(/store\.dispose\(\)/);
  });

  it('every Svelte snippet compiles; the layout subscribes, disposes and reads $env/dynamic/public', () => {
    const snippets = tourBlocks('svelte');
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    for (const code of snippets) expect(() => compile(code, { generate: 'client', filename: 'Snippet.svelte' })).not.toThrow();
    const layout = snippets.find((code) => code.includes('+layout.svelte'))!;
    expect(layout).toMatch(/store\.dispatch\(subscribeProject\(/);
    expect(layout).toMatch(/onDestroy\(\(\) => store\.dispose\(\)\)/);
    expect(layout).toMatch(/from '\$env\/dynamic\/public'/);
    expect(layout).not.toMatch(/import\.meta\.env/);
  });
});
