import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connect.js';
import { testRedis } from '../helpers/redis.js';

describe('testRedis helper', () => {
  const outsider = testRedis('outsider');
  afterAll(() => outsider.cleanup());

  it('uses AMPHI_TEST_REDIS_URL or the private server, never REDIS_URL', () => {
    const given = process.env.AMPHI_TEST_REDIS_URL?.trim();
    if (given) {
      expect(outsider.url).toBe(given);
    } else {
      expect(outsider.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(outsider.url).not.toBe(process.env.REDIS_URL);
    }
  });

  it('gives each call its own prefix and cleanup deletes only that prefix', async () => {
    const mine = testRedis('helper');
    expect(mine.prefix).not.toBe(outsider.prefix);
    expect(mine.prefix).toMatch(/^amphi-test:helper:[0-9a-f]{8}:$/);

    await mine.redis.set(`${mine.prefix}a`, '1');
    await mine.redis.hset(`${mine.prefix}{pool}:b`, 'f', 'v');
    // Someone else's keys, including one that shares all of our prefix but its last character.
    await outsider.redis.set(`${outsider.prefix}keep`, '1');
    await outsider.redis.set(`${mine.prefix.slice(0, -1)}X:not-mine`, '1');

    await mine.cleanup();

    const check = createRedis(mine.url);
    try {
      expect(await check.exists(`${mine.prefix}a`, `${mine.prefix}{pool}:b`)).toBe(0);
      expect(await check.get(`${outsider.prefix}keep`)).toBe('1');
      expect(await check.get(`${mine.prefix.slice(0, -1)}X:not-mine`)).toBe('1');
      await check.del(`${mine.prefix.slice(0, -1)}X:not-mine`);
    } finally {
      await check.quit();
    }
    expect(mine.redis.status).toBe('end');
  });
});
