/**
 * docs/PROTOCOL.md must match the schemas: every message has a section with its direction, an
 * interface listing exactly the schema's fields (same optionality), and examples the code accepts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AGENT_TYPES,
  CAPABILITIES,
  CELERY_STATES,
  CompositePromptSchema,
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  GenerationContextSchema,
  GenerationParamsSchema,
  INBOUND_SCHEMAS,
  INBOUND_TYPES,
  MAX_ID_LENGTH,
  MAX_JSON_DEPTH,
  OUTBOUND_SCHEMAS,
  OUTBOUND_TYPES,
  parseFrame,
  QUALITY_PRESETS,
  SnapshotAgentSchema,
  SnapshotNarrativeSchema,
  SnapshotNodeSchema,
  SnapshotTakeSchema,
  SnapshotTaskSchema,
  STRUCTURE_TYPES,
  TakeSchema,
  WIRE_NODE_STATUSES,
  type OutboundFrame,
} from '../../src/protocol/index.js';

const DOC = readFileSync(fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url)), 'utf8');

interface Field {
  optional: boolean;
}
interface Iface {
  name: string;
  base?: string;
  fields: Map<string, Field>;
  types: string[];
}
interface Section {
  heading: string;
  direction?: 'Server -> Client' | 'Client -> Server';
  origin?: string;
  interfaces: Iface[];
  examples: string[];
}

function parseInterfaces(code: string): Iface[] {
  const out: Iface[] = [];
  for (const match of code.matchAll(/^interface (\w+)(?: extends (\w+))? \{\n([\s\S]*?)\n\}/gm)) {
    const fields = new Map<string, Field>();
    let types: string[] = [];
    for (const line of match[3]!.split('\n')) {
      const field = /^ {2}(\w+)(\?)?: (.+);$/.exec(line);
      if (!field) continue;
      fields.set(field[1]!, { optional: field[2] === '?' });
      if (field[1] === 'type') types = [...field[3]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    }
    out.push({ name: match[1]!, base: match[2], fields, types });
  }
  return out;
}

function parseSections(doc: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  let fence: { lang: string; lines: string[] } | undefined;
  for (const line of doc.split('\n')) {
    if (fence) {
      if (line === '```') {
        const body = fence.lines.join('\n');
        if (current && fence.lang === 'typescript') current.interfaces.push(...parseInterfaces(body));
        if (current && fence.lang === 'json') current.examples.push(...fence.lines);
        fence = undefined;
      } else {
        fence.lines.push(line);
      }
      continue;
    }
    const open = /^```(\w+)$/.exec(line);
    if (open) {
      fence = { lang: open[1]!, lines: [] };
      continue;
    }
    if (/^#{1,4} /.test(line)) {
      current = { heading: line, interfaces: [], examples: [] };
      sections.push(current);
      continue;
    }
    const direction = /^Direction: \*\*(Server -> Client|Client -> Server)\*\*$/.exec(line);
    if (direction && current) current.direction = direction[1] as Section['direction'];
    const origin = /^Origin: (.+)$/.exec(line);
    if (origin && current) current.origin = origin[1]!;
  }
  return sections;
}

const sections = parseSections(DOC);
const messageSections = sections.filter((s) => s.direction);
const allInterfaces = new Map(sections.flatMap((s) => s.interfaces).map((i) => [i.name, i]));

function fieldsOf(iface: Iface): Map<string, Field> {
  if (!iface.base) return iface.fields;
  const base = allInterfaces.get(iface.base);
  if (!base) throw new Error(`unknown base interface ${iface.base}`);
  return new Map([...fieldsOf(base), ...iface.fields]);
}

type Entries = Record<string, { type: string }>;

function expectSameFields(iface: Iface, entries: Entries): void {
  const documented = fieldsOf(iface);
  expect([...documented.keys()].sort(), `fields of ${iface.name}`).toEqual(Object.keys(entries).sort());
  for (const [key, schema] of Object.entries(entries)) {
    expect(documented.get(key)?.optional, `${iface.name}.${key} optional`).toBe(schema.type === 'optional');
  }
}

function frameInterface(section: Section): Iface {
  const frames = section.interfaces.filter((i) => i.types.length > 0);
  expect(frames, section.heading).toHaveLength(1);
  return frames[0]!;
}

function literalUnion(name: string): string[] {
  const match = new RegExp(`^type ${name} =([\\s\\S]*?);$`, 'm').exec(DOC);
  if (!match) throw new Error(`type ${name} not documented`);
  return [...match[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

const EXTENSIONS = ['ack', 'error', 'replay.gap', 'system.shutdown', 'narrative.progress', 'agent.handoff', 'project.snapshot', 'task.status'];
/** Client -> Server frames that exist only for a capability. */
const OUTBOUND_EXTENSIONS = ['query_tasks'];

describe('docs/PROTOCOL.md', () => {
  it('has one server -> client section per inbound type and one client -> server per outbound type', () => {
    const inbound = messageSections
      .filter((s) => s.direction === 'Server -> Client')
      .flatMap((s) => frameInterface(s).types);
    const outbound = messageSections
      .filter((s) => s.direction === 'Client -> Server')
      .flatMap((s) => frameInterface(s).types);
    expect([...inbound].sort()).toEqual([...INBOUND_TYPES].sort());
    expect([...outbound].sort()).toEqual([...OUTBOUND_TYPES].sort());
  });

  it.each(messageSections.map((s) => [s.heading, s] as const))('%s lists exactly its schema fields', (_h, section) => {
    const iface = frameInterface(section);
    const schemas = (section.direction === 'Server -> Client' ? INBOUND_SCHEMAS : OUTBOUND_SCHEMAS) as Record<
      string,
      { entries: Entries }
    >;
    for (const type of iface.types) {
      expect(schemas[type], type).toBeDefined();
      expectSameFields(iface, schemas[type]!.entries);
    }
  });

  it.each(messageSections.map((s) => [s.heading, s] as const))('%s marks its origin', (_h, section) => {
    const types = frameInterface(section).types;
    expect(section.origin, section.heading).toBeDefined();
    const extension =
      section.direction === 'Server -> Client'
        ? types.some((t) => EXTENSIONS.includes(t))
        : types.some((t) => OUTBOUND_EXTENSIONS.includes(t));
    expect(section.origin!.startsWith(extension ? 'extension' : 'story'), section.heading).toBe(true);
  });

  it.each(messageSections.map((s) => [s.heading, s] as const))('%s has one-line examples the code accepts', (_h, section) => {
    const types = frameInterface(section).types;
    expect(section.examples.length, section.heading).toBeGreaterThan(0);
    for (const example of section.examples) {
      const value = JSON.parse(example) as { type: string };
      expect(types).toContain(value.type);
      if (section.direction === 'Server -> Client') {
        const result = parseFrame(example);
        expect(result, example).toMatchObject({ ok: true, kind: 'event' });
        if (result.ok) expect(result.frame).toMatchObject(value);
      } else {
        const result = encodeFrame(value as OutboundFrame);
        expect(result, example).toMatchObject({ ok: true });
        if (result.ok) expect(JSON.parse(result.data)).toEqual(value);
      }
    }
  });

  it('documents the nested shapes field for field', () => {
    const get = (name: string) => {
      const iface = allInterfaces.get(name);
      if (!iface) throw new Error(`interface ${name} not documented`);
      return iface;
    };
    const inbound = INBOUND_SCHEMAS as unknown as Record<string, { entries: Record<string, { entries: Entries }> }>;
    expectSameFields(get('Take'), TakeSchema.entries as unknown as Entries);
    expectSameFields(get('CompositePrompt'), CompositePromptSchema.entries as unknown as Entries);
    expectSameFields(get('FileInfo'), inbound['file.uploaded']!.entries.file!.entries);
    expectSameFields(get('StructureChanges'), inbound['structure.changed']!.entries.changes!.entries);
    expectSameFields(get('GenerationContext'), GenerationContextSchema.entries as unknown as Entries);
    const params = (GenerationParamsSchema as unknown as { pipe: Array<{ entries?: Entries }> }).pipe[0]!.entries!;
    expectSameFields(get('GenerationParams'), params);
    expectSameFields(get('SnapshotNode'), SnapshotNodeSchema.entries as unknown as Entries);
    expectSameFields(get('SnapshotTask'), SnapshotTaskSchema.entries as unknown as Entries);
    expectSameFields(get('SnapshotTake'), SnapshotTakeSchema.entries as unknown as Entries);
    expectSameFields(get('SnapshotAgent'), SnapshotAgentSchema.entries as unknown as Entries);
    expectSameFields(get('SnapshotNarrative'), SnapshotNarrativeSchema.entries as unknown as Entries);
  });

  it('documents the vocabularies as in the code', () => {
    expect(literalUnion('CeleryState')).toEqual([...CELERY_STATES]);
    expect(literalUnion('AgentType')).toEqual([...AGENT_TYPES]);
    expect(literalUnion('NodeStatus')).toEqual([...WIRE_NODE_STATUSES]);
    expect(literalUnion('StructureType')).toEqual([...STRUCTURE_TYPES]);
    expect(literalUnion('QualityPreset')).toEqual([...QUALITY_PRESETS]);
    expect(literalUnion('Capability')).toEqual([...CAPABILITIES]);
    for (const capability of CAPABILITIES) expect(DOC).toContain(`| \`${capability}\``);
  });

  it('lists every reject reason and the limits', () => {
    for (const reason of ['too_large', 'not_text', 'not_json', 'not_object', 'missing_type', 'invalid_type', 'invalid_fields']) {
      expect(DOC).toContain(`| \`${reason}\``);
      // The reason really is produced by parseFrame (see parse.test.ts); here: it is documented once.
      expect(DOC.split(`| \`${reason}\``)).toHaveLength(2);
    }
    expect(DOC).toContain(DEFAULT_MAX_FRAME_BYTES.toLocaleString('en-US'));
    expect(DOC).toContain(`1 to ${MAX_ID_LENGTH} characters`);
    expect(DOC).toContain(`at most **${MAX_JSON_DEPTH} levels**`);
  });
});
