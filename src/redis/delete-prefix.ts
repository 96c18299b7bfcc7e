// Deleting the keys under one prefix from a Redis others may use (the demo's own pool, a
// test's keys): batch by batch with SCAN, never a flush.
import type { Redis } from 'ioredis';

/** SCAN + UNLINK of every key under `prefix`; returns how many were deleted. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('refusing to delete with an empty prefix');
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
