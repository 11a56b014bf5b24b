import { describe, expect, it, vi, afterEach } from 'vitest';
import {
  clearSession,
  createMemoryStorage,
  defaultStorage,
  loadSession,
  saveSession,
  STORAGE_KEY,
  STORAGE_VERSION,
  type StoredSession,
} from '../../src/middleware/storage.js';

const NOW = 1_700_000_000_000;
const DAY = 24 * 60 * 60_000;
const TEN_MIN = 10 * 60_000;

function session(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    version: STORAGE_VERSION,
    savedAt: NOW - 1_000,
    sessionId: 'sess-abc',
    resumeToken: 'tok',
    subscriptions: ['p1', 'p2'],
    lastSeq: { p1: 7 },
    outbox: [
      {
        commandId: 'cmd-1',
        frame: { type: 'start_generation', node_id: 'n1', params: { prompt: 'a' }, command_id: 'cmd-1', timestamp: new Date(NOW).toISOString() },
        enqueuedAt: NOW - 5_000,
        sends: 0,
      },
    ],
    capabilities: ['ack'],
    ...overrides,
  };
}

function raw(value: unknown) {
  const storage = createMemoryStorage();
  storage.setItem(STORAGE_KEY, typeof value === 'string' ? value : JSON.stringify(value));
  return storage;
}

describe('session storage', () => {
  it('round-trips a session', () => {
    const storage = createMemoryStorage();
    saveSession(storage, session());
    expect(loadSession(storage, NOW, DAY, TEN_MIN)).toEqual(session());
  });

  it('nothing stored: undefined', () => {
    expect(loadSession(createMemoryStorage(), NOW, DAY, TEN_MIN)).toBeUndefined();
  });

  it('ignores and removes an expired session', () => {
    const storage = raw(session({ savedAt: NOW - DAY }));
    expect(loadSession(storage, NOW, DAY, TEN_MIN)).toBeUndefined();
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it('keeps a session just younger than the ttl', () => {
    expect(loadSession(raw(session({ savedAt: NOW - DAY + 1 })), NOW, DAY, TEN_MIN)?.sessionId).toBe('sess-abc');
  });

  it.each([
    ['not JSON', '{oops'],
    ['another version', { ...session(), version: 99 }],
    ['no savedAt', { ...session(), savedAt: 'yesterday' }],
    ['subscriptions not a list', { ...session(), subscriptions: 'p1' }],
    ['a reserved project id', { ...session(), subscriptions: ['__proto__'] }],
    ['a negative seq', { ...session(), lastSeq: { p1: -1 } }],
    ['a seq above Number.MAX_SAFE_INTEGER', { ...session(), lastSeq: { p1: 2 ** 53 } }],
    ['a seq keyed by a reserved name', JSON.stringify(session()).replace('"lastSeq":{"p1":7}', '"lastSeq":{"__proto__":7}')],
    ['outbox not a list', { ...session(), outbox: {} }],
    ['null', 'null'],
  ])('ignores and removes a malformed session: %s', (_name, value) => {
    const storage = raw(value);
    expect(loadSession(storage, NOW, DAY, TEN_MIN)).toBeUndefined();
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it('drops outbox entries older than the queue ttl and malformed ones', () => {
    const stored = session();
    const old = { ...stored.outbox[0]!, commandId: 'cmd-old', enqueuedAt: NOW - TEN_MIN };
    const broken = { commandId: 'cmd-broken', enqueuedAt: NOW };
    const loaded = loadSession(raw({ ...stored, outbox: [old, stored.outbox[0], broken, null] }), NOW, DAY, TEN_MIN);
    expect(loaded?.outbox.map((entry) => entry.commandId)).toEqual(['cmd-1']);
  });

  it('keeps only known capabilities and a safe session id', () => {
    const loaded = loadSession(raw({ ...session(), sessionId: 'constructor', capabilities: ['ack', 'telepathy', 'seq'] }), NOW, DAY, TEN_MIN);
    expect(loaded?.sessionId).toBeUndefined();
    expect(loaded?.capabilities).toEqual(['ack', 'seq']);
  });

  it('a storage that throws is treated as empty, and saving to it does not throw', () => {
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(loadSession(broken, NOW, DAY, TEN_MIN)).toBeUndefined();
    expect(() => saveSession(broken, session())).not.toThrow();
    expect(() => clearSession(broken)).not.toThrow();
  });

  it('clearSession removes the stored session', () => {
    const storage = createMemoryStorage();
    saveSession(storage, session());
    clearSession(storage);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });
});

describe('defaultStorage', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('memory in Node', () => {
    const storage = defaultStorage();
    storage.setItem('k', 'v');
    expect(storage.getItem('k')).toBe('v');
  });

  it('localStorage where it works', () => {
    const local = createMemoryStorage();
    vi.stubGlobal('localStorage', local);
    expect(defaultStorage()).toBe(local);
  });

  it('memory where localStorage throws (privacy modes)', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => undefined,
    });
    const storage = defaultStorage();
    storage.setItem('k', 'v');
    expect(storage.getItem('k')).toBe('v');
  });
});
