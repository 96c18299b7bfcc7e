import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ScriptBatch } from '../../src/state/script-batch.js';

/** A Redis that answers each script call with one line per key, and records the calls' sizes. */
function fakeRedis() {
  const calls: number[] = [];
  const redis = {
    evalsha: async (_sha: string, keyCount: number, ...rest: unknown[]) => {
      calls.push(keyCount);
      return (rest.slice(0, keyCount) as string[]).map((key) => `ok ${key}`).join('\n');
    },
  } as unknown as Redis;
  return { redis, calls };
}

describe('script batches', () => {
  it('sends the calls of one turn as one script call, each caller getting its own line', async () => {
    const { redis, calls } = fakeRedis();
    const batch = new ScriptBatch(redis, 'rate-limit', () => [60_000]);
    const lines = await Promise.all(['a', 'b', 'c'].map((k) => batch.run([k], [])));
    expect(lines).toEqual(['ok a', 'ok b', 'ok c']);
    expect(calls).toEqual([3]);
  });

  it('sends a flood in pieces of 1,000, and no empty call after a piece sent early', async () => {
    const { redis, calls } = fakeRedis();
    const batch = new ScriptBatch(redis, 'rate-limit', () => [60_000]);
    const lines = await Promise.all(Array.from({ length: 2500 }, (_, i) => batch.run([`k${i}`], [])));
    expect(lines[2499]).toBe('ok k2499');
    // Every turn that was scheduled has run by now: none of them sent a call of its own.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([1000, 1000, 500]);
  });
});
