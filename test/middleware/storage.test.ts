import { describe, expect, it, vi, afterEach } from 'vitest';
import { disconnect, subscribeProject } from '../../src/slices/index.js';
import { createRealtimeStore } from '../../src/store/createRealtimeStore.js';
import { makeStore } from './helpers.js';
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

  it('a stored session to be removed, in a storage whose removeItem throws: undefined, nothing thrown', () => {
    const storage = raw('{oops');
    storage.removeItem = () => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    };
    expect(loadSession(storage, NOW, DAY, TEN_MIN)).toBeUndefined();
    storage.setItem(STORAGE_KEY, JSON.stringify(session({ savedAt: NOW - DAY })));
    expect(loadSession(storage, NOW, DAY, TEN_MIN)).toBeUndefined();
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

describe('a store whose storage throws', () => {
  /** Holds `stored` under the session key; removeItem throws as some browsers do in private modes. */
  function lockedStorage(stored: string) {
    return {
      getItem: (key: string) => (key === STORAGE_KEY ? stored : null),
      setItem: () => undefined,
      removeItem: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    };
  }

  it.each([
    ['corrupt', '{oops'],
    ['expired', JSON.stringify(session({ savedAt: Date.now() - 2 * DAY }))],
    ['of an old shape', JSON.stringify({ ...session(), version: 0 })],
  ])('a %s stored session: the store is created and the failed removal is counted', async (_name, stored) => {
    let store: ReturnType<typeof createRealtimeStore> | undefined;
    expect(() => {
      store = createRealtimeStore({ storage: lockedStorage(stored), autoConnect: false, devTools: false, browser: null });
    }).not.toThrow();
    await Promise.resolve(); // failures met while the store was being built are reported on the next tick
    expect(store!.getState().connection).toMatchObject({
      storageErrors: 1,
      lastStorageError: { operation: 'remove', error: 'SecurityError: The operation is insecure.' },
    });
    store!.dispose();
  });

  it('every failed call is counted: reads, writes and removals', async () => {
    const fail = (what: string) => () => {
      throw new Error(what);
    };
    const t = makeStore({ storage: { getItem: fail('no read'), setItem: fail('no write'), removeItem: fail('no remove') } });
    await Promise.resolve();
    expect(t.connection()).toMatchObject({ storageErrors: 1, lastStorageError: { operation: 'read', error: 'no read' } });
    t.store.dispatch(subscribeProject('p1'));
    t.clock.advance(0); // positions and subscriptions are saved within a tick
    expect(t.connection()).toMatchObject({ storageErrors: 2, lastStorageError: { operation: 'write', error: 'no write' } });
    t.store.dispatch(disconnect()); // forgets the stored session
    expect(t.connection()).toMatchObject({ storageErrors: 3, lastStorageError: { operation: 'remove', error: 'no remove' } });
    t.store.dispose();
  });
});
