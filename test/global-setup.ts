// One private redis-server for the whole run, so tests never touch whatever Redis happens to run
// on the machine (REDIS_URL is deliberately ignored). AMPHI_TEST_REDIS_URL opts into a given
// Redis instead; tests only ever delete keys under their own prefix, so sharing it is safe.
import type { TestProject } from 'vitest/node';
import { startPrivateRedis } from '../src/redis/private-redis.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.AMPHI_TEST_REDIS_URL?.trim();
  if (given) {
    project.provide('redisUrl', given);
    return async () => {};
  }
  const redis = await startPrivateRedis({ log: (line) => process.stderr.write(`${line}\n`) });
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
