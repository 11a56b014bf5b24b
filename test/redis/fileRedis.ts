/**
 * What a Redis test file shares: one redis-server for the file (started before its tests,
 * stopped after), an admin client, buses under prefixes no other test uses, and a cleanup stack
 * run after each test. Call at the top level of the file.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedisBus, type RedisBusOptions } from '../../server/bus/redisBus.js';
import type { EventBus } from '../../server/bus/types.js';
import { cleanupStack } from '../server/helpers.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

export function useFileRedis(prefixTag: string) {
  let redis: RedisServer | undefined;
  let admin: ReturnType<typeof createClient> | undefined;
  const cleanups = cleanupStack();
  let prefixCount = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
  }, 20_000);
  afterAll(async () => {
    await admin?.quit().catch(() => {});
    await redis?.stop();
  });
  afterEach(() => cleanups.run());

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useFileRedis: redis-server is started in beforeAll');
    return value;
  };
  return {
    cleanups,
    get url() {
      return started(redis).url;
    },
    get admin() {
      return started(admin);
    },
    /** A key prefix no other test of the process uses: the buses of one test share it. */
    newPrefix: () => `${prefixTag}${++prefixCount}-${process.pid}:`,
    /** A bus on this file's Redis, closed after the test. */
    async bus(prefix: string, options: Partial<RedisBusOptions> = {}): Promise<EventBus> {
      const created = await createRedisBus({ url: started(redis).url, prefix, ...options });
      cleanups.add(() => created.close());
      return created;
    },
  };
}
