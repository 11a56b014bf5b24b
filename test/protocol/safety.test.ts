import { describe, expect, it } from 'vitest';
import {
  isBoundedJson,
  isSafeKey,
  isSafeUrl,
  MAX_ID_LENGTH,
  MAX_JSON_DEPTH,
  safeUrlOrUndefined,
  stripProtoKeys,
} from '../../src/protocol/index.js';

describe('isSafeUrl', () => {
  it.each([
    'https://cdn.example.com/a.png',
    'HTTPS://CDN.EXAMPLE.COM/A.PNG',
    'http://localhost:8000/media/a.png?v=2#x',
    'blob:https://app.example.com/550e8400-e29b-41d4-a716-446655440000',
    'data:image/png;base64,iVBORw0KGgo=',
    'data:image/jpeg;base64,/9j/',
    'data:image/jpg;base64,/9j/',
    'data:image/gif;base64,R0lGOD',
    'data:image/webp;base64,UklGR',
    'data:image/avif;base64,AAAA',
    'DATA:IMAGE/PNG;base64,iVBOR',
    '/media/a.png',
    'takes/take-1.png',
    './a.png',
    '../a.png',
    './a:b.png',
    '?take=1',
    '#anchor',
    '//cdn.example.com/a.png',
    '/media/file with spaces.png',
    'https://example.com/javascript:alert(1)',
  ])('accepts %j', (url) => {
    expect(isSafeUrl(url)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['javascript', 'javascript:alert(1)'],
    ['mixed-case javascript', 'JaVaScRiPt:alert(1)'],
    ['leading space', ' javascript:alert(1)'],
    ['leading spaces before a safe URL', '  /media/a.png'],
    ['leading tab', '\tjavascript:alert(1)'],
    ['leading newline', '\njavascript:alert(1)'],
    ['leading NBSP', '\u00a0javascript:alert(1)'],
    ['leading BOM', '\ufeffjavascript:alert(1)'],
    ['leading line separator', '\u2028javascript:alert(1)'],
    ['tab inside the scheme', 'java\tscript:alert(1)'],
    ['newline inside the scheme', 'java\nscript:alert(1)'],
    ['carriage return inside the scheme', 'java\rscript:alert(1)'],
    ['NUL inside the scheme', 'java\u0000script:alert(1)'],
    ['DEL', 'https://a.com/\u007f'],
    ['control char in an https URL', 'https://a.com/\u0001.png'],
    ['trailing newline', 'https://a.com/a.png\n'],
    ['data:text/html', 'data:text/html,<script>alert(1)</script>'],
    ['data:text/html base64', 'data:text/html;base64,PHNjcmlwdD4='],
    ['data:image/svg+xml', 'data:image/svg+xml,<svg onload=alert(1)>'],
    ['data:image/svg+xml base64', 'data:image/svg+xml;base64,PHN2Zz4='],
    ['data: with no media type', 'data:,hello'],
    ['data:text/plain', 'data:text/plain;base64,aGk='],
    ['vbscript', 'vbscript:msgbox(1)'],
    ['file', 'file:///etc/passwd'],
    ['ftp', 'ftp://example.com/a.png'],
    ['mailto', 'mailto:a@example.com'],
    ['ws', 'wss://example.com/socket'],
    ['any other scheme', 'x-custom+scheme.1:payload'],
    ['single-letter scheme', 'c:/windows/a.png'],
  ])('refuses %s', (_label, url) => {
    expect(isSafeUrl(url)).toBe(false);
  });

  it('refuses every C0 control character and DEL, wherever it is, and no other character for it', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      const control = code < 0x20 || code === 0x7f;
      expect(isSafeUrl(`/media/a${char}b.png`), `U+${code.toString(16)}`).toBe(!control);
      if (control) expect(isSafeUrl(`https://a.com/a.png${char}`)).toBe(false);
    }
  });

  it('refuses URLs over 2,000,000 characters and accepts one at the limit', () => {
    const prefix = 'data:image/png;base64,';
    expect(isSafeUrl(prefix + 'A'.repeat(2_000_000 - prefix.length))).toBe(true);
    expect(isSafeUrl(prefix + 'A'.repeat(2_000_001 - prefix.length))).toBe(false);
  });
});

describe('safeUrlOrUndefined', () => {
  it('returns a safe URL unchanged', () => {
    expect(safeUrlOrUndefined('/media/a.png')).toBe('/media/a.png');
  });

  it.each([undefined, null, '', 'javascript:alert(1)', 'data:image/svg+xml,<svg/>'])(
    'returns undefined for %j',
    (value) => {
      expect(safeUrlOrUndefined(value)).toBeUndefined();
    },
  );
});

describe('isSafeKey', () => {
  it('accepts ordinary ids up to MAX_ID_LENGTH', () => {
    expect(MAX_ID_LENGTH).toBe(256);
    for (const id of ['a', 'node-1', 'task_9f3', '550e8400-e29b-41d4-a716-446655440000', '节点', 'Constructor', 'proto', 'x'.repeat(256)]) {
      expect(isSafeKey(id)).toBe(true);
    }
  });

  it('refuses empty and over-long ids', () => {
    expect(isSafeKey('')).toBe(false);
    expect(isSafeKey('x'.repeat(257))).toBe(false);
  });

  it.each(['__proto__', 'prototype', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__'])(
    'refuses %s',
    (key) => {
      expect(isSafeKey(key)).toBe(false);
    },
  );

  it('refuses every name Object.prototype owns', () => {
    for (const key of Object.getOwnPropertyNames(Object.prototype)) {
      expect(isSafeKey(key), key).toBe(false);
    }
  });
});

describe('isBoundedJson', () => {
  function nestedArrays(levels: number): unknown {
    let value: unknown = [];
    for (let i = 1; i < levels; i += 1) value = [value];
    return value;
  }
  function nestedObjects(levels: number): unknown {
    let value: unknown = {};
    for (let i = 1; i < levels; i += 1) value = { a: value };
    return value;
  }

  it('treats primitives as bounded', () => {
    for (const value of [null, undefined, 0, 'text', true, Number.NaN]) {
      expect(isBoundedJson(value)).toBe(true);
      expect(isBoundedJson(value, 0)).toBe(true);
    }
  });

  it('counts the outer container as level 1', () => {
    expect(isBoundedJson({}, 1)).toBe(true);
    expect(isBoundedJson({ a: 1, b: 'x' }, 1)).toBe(true);
    expect(isBoundedJson({ a: {} }, 1)).toBe(false);
    expect(isBoundedJson([[]], 1)).toBe(false);
    expect(isBoundedJson([[]], 2)).toBe(true);
    expect(isBoundedJson({}, 0)).toBe(false);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels by default and refuses one more`, () => {
    expect(MAX_JSON_DEPTH).toBe(32);
    expect(isBoundedJson(nestedArrays(32))).toBe(true);
    expect(isBoundedJson(nestedArrays(33))).toBe(false);
    expect(isBoundedJson(nestedObjects(32))).toBe(true);
    expect(isBoundedJson(nestedObjects(33))).toBe(false);
  });

  it('finds a deep branch next to shallow ones', () => {
    const value = { shallow: [1, 2, 3], other: { x: 1 }, deep: nestedObjects(40) };
    expect(isBoundedJson(value)).toBe(false);
    const mixed = [1, { a: [{ b: nestedArrays(30) }] }];
    expect(isBoundedJson(mixed)).toBe(false); // 1 + 1 + 1 + 1 + 30 = 34 levels
    expect(isBoundedJson(mixed, 34)).toBe(true);
  });

  it('refuses 100,000 levels without overflowing the stack', () => {
    expect(() => isBoundedJson(nestedObjects(100_000))).not.toThrow();
    expect(isBoundedJson(nestedObjects(100_000))).toBe(false);
    expect(isBoundedJson(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toBe(false);
  });

  it('accepts wide but shallow values', () => {
    const wide = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    expect(isBoundedJson(wide)).toBe(true);
  });

  it('terminates on a cycle and refuses it', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(isBoundedJson(cyclic)).toBe(false);
  });
});

describe('stripProtoKeys', () => {
  it('returns the same value when there is no __proto__ key', () => {
    const value = { a: [1, { b: 'c' }], d: null };
    expect(stripProtoKeys(value)).toBe(value);
    expect(stripProtoKeys(3)).toBe(3);
    expect(stripProtoKeys(null)).toBe(null);
  });

  it('removes own __proto__ keys at any depth and keeps the rest', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":[1,{"__proto__":2,"b":3}],"c":{"d":4}}') as Record<string, unknown>;
    const stripped = stripProtoKeys(value) as Record<string, unknown>;
    expect(stripped).toEqual({ a: [1, { b: 3 }], c: { d: 4 } });
    expect(Object.getOwnPropertyNames(stripped)).toEqual(['a', 'c']);
    expect(Object.getOwnPropertyNames((stripped.a as unknown[])[1])).toEqual(['b']);
    expect(Object.getPrototypeOf(stripped)).toBe(Object.prototype);
    // Untouched branches are shared, the input is not mutated.
    expect(stripped.c).toBe(value.c);
    expect(Object.getOwnPropertyNames(value)).toContain('__proto__');
  });
});
