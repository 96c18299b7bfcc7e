// A Redis client's connection errors: logged through the process logger, rate-limited, without
// passwords; never ioredis' own "Unhandled error event" stack traces on stderr.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis, REDIS_ERROR_LOG_INTERVAL_MS, type RedisErrorLog } from '../../src/redis/connect.js';
import { waitForReplicas } from '../../src/state/replication.js';

function recorder(): RedisErrorLog & { lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  return {
    lines,
    warn: (fields, msg) => void lines.push({ level: 'warn', fields: fields as Record<string, unknown>, msg }),
    info: (fields, msg) => void lines.push({ level: 'info', fields: fields as Record<string, unknown>, msg }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis connection errors', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('a failing connection logs once per interval, without its password, and never prints a stack on stderr', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const written = vi.spyOn(process.stderr, 'write');
    const log = recorder();
    // Nothing listens on port 1; retry every 20 ms: many errors in the time of the test.
    const client = createRedis('redis://:hunter2@127.0.0.1:1/0?password=hunter3', { log, clientName: 'store', retryStrategy: () => 20, maxRetriesPerRequest: 0 });
    try {
      await sleep(400);
    } finally {
      client.disconnect();
    }
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: 'warn', msg: 'Redis connection error', fields: { client: 'store' } });
    expect(JSON.stringify(log.lines)).not.toMatch(/hunter[23]/);
    expect(printed).not.toHaveBeenCalled();
    expect(written.mock.calls.map((c) => String(c[0])).join('')).not.toContain('Unhandled error event');
  });

  it('without a logger, stays silent', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = createRedis('redis://127.0.0.1:1', { retryStrategy: () => 20, maxRetriesPerRequest: 0 });
    try {
      await sleep(200);
    } finally {
      client.disconnect();
    }
    expect(printed).not.toHaveBeenCalled();
  });

  it('logs again after the interval (with the count it skipped), and once on recovery', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const log = recorder();
    const client: Redis = createRedis('redis://127.0.0.1:1', { log, lazyConnect: true });
    for (let i = 0; i < 5; i++) client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(log.lines).toHaveLength(1);
    vi.setSystemTime(Date.now() + REDIS_ERROR_LOG_INTERVAL_MS);
    client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]!.fields).toMatchObject({ notLogged: 4 });
    client.emit('ready');
    client.emit('ready');
    expect(log.lines.map((l) => l.msg)).toEqual(['Redis connection error', 'Redis connection error', 'Redis connection recovered']);
    // A new outage is logged at once.
    client.emit('error', new Error('again'));
    expect(log.lines).toHaveLength(4);
    client.disconnect();
  });
});

describe('the WAIT connections', () => {
  it('are taken in turn, so concurrent creates do not queue behind one WAIT', async () => {
    const used: number[] = [];
    const fake = (n: number) =>
      ({
        pipeline: () => {
          used.push(n);
          const p = { exists: () => p, set: () => p, wait: () => p, exec: async () => [[null, 1], [null, 'OK'], [null, 1]] };
          return p;
        },
      }) as unknown as Redis;
    const connection = [fake(0), fake(1), fake(2), fake(3)];
    await Promise.all(Array.from({ length: 8 }, () => waitForReplicas({ connection, replicas: 1, timeoutMs: 10 }, 'mark', 'key')));
    expect(new Set(used)).toEqual(new Set([0, 1, 2, 3]));
  });
});
