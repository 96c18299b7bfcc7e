// One place that decides which Redis a process talks to, and how its clients behave.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { startPrivateRedis } from './private-redis.js';
import type { StartPrivateRedisOptions } from './private-redis.js';

export interface ResolvedRedis {
  url: string;
  /** Stops the private server; a no-op for an external REDIS_URL. */
  stop(): Promise<void>;
  /** True when we started the server ourselves. */
  private: boolean;
}

export type ResolveRedisOptions = StartPrivateRedisOptions;

/** REDIS_URL if set (and non-empty); otherwise a private redis-server on a free loopback port. */
export async function resolveRedis(
  env: NodeJS.ProcessEnv = process.env,
  opts: ResolveRedisOptions = {},
): Promise<ResolvedRedis> {
  const configured = env.REDIS_URL?.trim();
  if (configured) return { url: configured, stop: async () => {}, private: false };

  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = await startPrivateRedis({ ...opts, log });
  log(`amphi: REDIS_URL unset, started a private redis-server on ${server.url}`);
  return { url: server.url, stop: server.stop, private: true };
}

/**
 * An ioredis client that fails commands fast when Redis is unreachable (instead of queueing
 * them forever) while still reconnecting in the background. BullMQ workers need
 * `maxRetriesPerRequest: null`; pass it in `opts` for those connections.
 */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // Script calls are batched by their callers already (state/join-counter.ts); deferring them
    // one more event-loop turn for auto-pipelining would only add latency to every join.
    autoPipeliningIgnoredCommands: ['evalsha', 'eval'],
    connectTimeout: 5_000,
    ...opts,
  });
}
