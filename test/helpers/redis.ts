// Per-file Redis access for tests: a client on the run's Redis (see global-setup.ts) and a key
// prefix of its own. Cleanup deletes only that prefix: the Redis may be shared
// (AMPHI_TEST_REDIS_URL), so nothing here ever flushes a database.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/redis/connect.js';
import { deleteByPrefix } from '../../src/redis/delete-prefix.js';

export { deleteByPrefix };

export interface TestRedis {
  redis: Redis;
  url: string;
  /** Unique per call, e.g. `amphi-test:state:3f9a1c2b:`; put every key under it. */
  prefix: string;
  /** Deletes the keys under `prefix`, then closes the client. */
  cleanup(): Promise<void>;
}

export function testRedis(label = 't'): TestRedis {
  const url = inject('redisUrl');
  const redis = createRedis(url);
  const prefix = `amphi-test:${label.replace(/[^\w-]/g, '_')}:${randomBytes(4).toString('hex')}:`;
  return {
    redis,
    url,
    prefix,
    cleanup: async () => {
      await deleteByPrefix(redis, prefix);
      await redis.quit();
    },
  };
}
