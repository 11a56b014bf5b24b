/**
 * Where the session survives a reload or a backend restart: session id, resume token,
 * subscriptions, last seq per project, and commands not yet delivered.
 *
 * What the stored token grants: resuming this session's subscriptions and replay position on
 * the backend that issued it. It is not authentication. It lives `sessionTtlMs` (24 h by
 * default) and is removed by disconnect() (logout).
 */
import { CAPABILITIES, isSafeKey, type Capability } from '../protocol/index.js';
import type { OutboxEntry, RealtimeState } from '../slices/index.js';

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const STORAGE_KEY = 'canvas-realtime:session';
export const STORAGE_VERSION = 1;

export interface StoredSession {
  version: number;
  savedAt: number;
  sessionId?: string;
  resumeToken?: string;
  subscriptions: string[];
  lastSeq: Record<string, number>;
  outbox: OutboxEntry[];
  capabilities: Capability[];
}

/** An in-memory storage, used where localStorage is missing (Node, SSR, private modes). */
export function createMemoryStorage(): StorageLike {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

export type StorageOperation = 'read' | 'write' | 'remove';

/**
 * `storage` with every call guarded: a call that throws (SecurityError in private modes, quota
 * exceeded, a broken polyfill) is reported to `onError` and behaves as an empty read or a
 * skipped write. Creating or running a store must never fail because of its storage.
 */
export function guardStorage(
  storage: StorageLike,
  onError: (operation: StorageOperation, error: unknown) => void,
): StorageLike {
  return {
    getItem(key) {
      try {
        return storage.getItem(key);
      } catch (error) {
        onError('read', error);
        return null;
      }
    },
    setItem(key, value) {
      try {
        storage.setItem(key, value);
      } catch (error) {
        onError('write', error);
      }
    },
    removeItem(key) {
      try {
        storage.removeItem(key);
      } catch (error) {
        onError('remove', error);
      }
    },
  };
}

/** localStorage when it exists and works (it throws in some privacy modes), else memory. */
export function defaultStorage(): StorageLike {
  try {
    const local = (globalThis as { localStorage?: StorageLike }).localStorage;
    if (local) {
      const probe = `${STORAGE_KEY}:probe`;
      local.setItem(probe, '1');
      local.removeItem(probe);
      return local;
    }
  } catch {
    // fall through
  }
  return createMemoryStorage();
}

export function snapshotSession(state: RealtimeState, now: number): StoredSession {
  return {
    version: STORAGE_VERSION,
    savedAt: now,
    sessionId: state.sync.sessionId,
    resumeToken: state.sync.resumeToken,
    subscriptions: state.sync.subscriptions,
    // A position with its state wins; one read back from storage is kept until then.
    lastSeq: { ...state.sync.storedLastSeq, ...state.sync.lastSeq },
    outbox: state.outbox.entries,
    capabilities: state.connection.capabilities,
  };
}

function isRecordOfSeq(value: unknown): value is Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.entries(value).every(([key, seq]) => isSafeKey(key) && Number.isSafeInteger(seq) && (seq as number) >= 0);
}

/**
 * Reads a stored session back. Anything malformed, from another version, or older than
 * `ttlMs` is ignored (and removed); outbox entries older than `outboxTtlMs` are dropped. Never
 * throws, whatever the storage does.
 */
export function loadSession(
  storage: StorageLike,
  now: number,
  ttlMs: number,
  outboxTtlMs: number,
): StoredSession | undefined {
  let raw: string | null;
  try {
    raw = storage.getItem(STORAGE_KEY);
  } catch {
    return undefined;
  }
  if (!raw) return undefined;
  try {
    const data = JSON.parse(raw) as Partial<StoredSession>;
    const valid =
      data.version === STORAGE_VERSION &&
      typeof data.savedAt === 'number' &&
      now - data.savedAt < ttlMs &&
      Array.isArray(data.subscriptions) &&
      data.subscriptions.every((id) => typeof id === 'string' && isSafeKey(id)) &&
      isRecordOfSeq(data.lastSeq) &&
      Array.isArray(data.outbox);
    if (!valid) {
      clearSession(storage);
      return undefined;
    }
    return {
      version: STORAGE_VERSION,
      savedAt: data.savedAt!,
      sessionId: typeof data.sessionId === 'string' && isSafeKey(data.sessionId) ? data.sessionId : undefined,
      resumeToken: typeof data.resumeToken === 'string' ? data.resumeToken : undefined,
      subscriptions: data.subscriptions!,
      lastSeq: data.lastSeq!,
      outbox: data.outbox!.filter(
        (entry) =>
          entry &&
          typeof entry.commandId === 'string' &&
          typeof entry.enqueuedAt === 'number' &&
          now - entry.enqueuedAt < outboxTtlMs &&
          entry.frame !== null &&
          typeof entry.frame === 'object',
      ),
      capabilities: Array.isArray(data.capabilities)
        ? data.capabilities.filter((name): name is Capability => (CAPABILITIES as readonly string[]).includes(name))
        : [],
    };
  } catch {
    clearSession(storage);
    return undefined;
  }
}

export function saveSession(storage: StorageLike, session: StoredSession): void {
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(session));
  } catch {
    // Quota exceeded or storage disabled: the session then lives in memory only.
  }
}

export function clearSession(storage: StorageLike): void {
  try {
    storage.removeItem(STORAGE_KEY);
  } catch {
    // ignore
  }
}
