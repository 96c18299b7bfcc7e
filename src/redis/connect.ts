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

/** Default of AMPHI_REDIS_COMMAND_TIMEOUT_MS, for the clients made without settings. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;

export interface CreateRedisOptions extends Omit<RedisOptions, 'commandTimeout'> {
  /**
   * How long a command may wait for its reply before it fails (AMPHI_REDIS_COMMAND_TIMEOUT_MS);
   * `null` for no limit, which BullMQ's connections need: their blocking commands wait on purpose.
   */
  commandTimeout?: number | null;
}

/**
 * An ioredis client that fails commands fast when Redis is unreachable (instead of queueing
 * them forever) or stalls (a connection that stays open but never answers, which no reconnect
 * notices), while still reconnecting in the background. BullMQ workers need
 * `maxRetriesPerRequest: null` and `commandTimeout: null`; pass them in `opts` for those connections.
 */
export function createRedis(url: string, opts: CreateRedisOptions = {}): Redis {
  const { commandTimeout = DEFAULT_REDIS_COMMAND_TIMEOUT_MS, ...rest } = opts;
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // Script calls are batched by their callers already (state/script-batch.ts); deferring them
    // one more event-loop turn for auto-pipelining would only add latency to every join.
    autoPipeliningIgnoredCommands: ['evalsha', 'eval'],
    connectTimeout: 5_000,
    ...rest,
    ...(commandTimeout !== null && { commandTimeout }),
  });
}
