// One place that decides which Redis a process talks to, and how its clients behave.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { startPrivateRedis } from './private-redis.js';
import type { StartPrivateRedisOptions } from './private-redis.js';
import { connectionOf, redisTargetOf } from './target.js';
import type { RedisSettings, RedisTarget } from './target.js';

export interface ResolvedRedis {
  target: RedisTarget;
  /** Stops the private server; a no-op for a configured Redis. */
  stop(): Promise<void>;
  /** True when we started the server ourselves. */
  private: boolean;
}

/**
 * Whether a process with no Redis configured may start a private one: `fallback` for the
 * one-machine commands (all, demo, scenario), `opt-in` for the roles meant to run as replicas
 * (gateway, poller, scaler), which would otherwise each get a state of their own.
 */
export type PrivateRedisPolicy = 'fallback' | 'opt-in';

export interface ResolveRedisOptions extends StartPrivateRedisOptions {
  privateRedis: PrivateRedisPolicy;
}

export class RedisNotConfiguredError extends Error {
  constructor() {
    super(
      'no Redis is configured: set REDIS_URL (redis://host:6379/0, rediss:// for TLS) or REDIS_SENTINELS ' +
        '(host:port,… with REDIS_SENTINEL_MASTER) to the Redis every replica shares; for a process on its own ' +
        '(development), AMPHI_PRIVATE_REDIS=1 starts a private redis-server instead',
    );
    this.name = 'RedisNotConfiguredError';
  }
}

/** The configured Redis; otherwise, when the policy allows it, a private redis-server on a free loopback port. */
export async function resolveRedis(
  settings: RedisSettings & { AMPHI_PRIVATE_REDIS: boolean },
  opts: ResolveRedisOptions,
): Promise<ResolvedRedis> {
  const configured = redisTargetOf(settings);
  if (configured) return { target: configured, stop: async () => {}, private: false };
  if (opts.privateRedis === 'opt-in' && !settings.AMPHI_PRIVATE_REDIS) throw new RedisNotConfiguredError();

  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = await startPrivateRedis({ ...opts, log });
  log(`amphi: no Redis configured (REDIS_URL, REDIS_SENTINELS), started a private redis-server on ${server.url}`);
  return { target: { kind: 'url', url: server.url, tls: false }, stop: server.stop, private: true };
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
 * A bare URL string stands for a URL target (tests, benchmarks).
 */
export function createRedis(target: RedisTarget | string, opts: CreateRedisOptions = {}): Redis {
  const { commandTimeout = DEFAULT_REDIS_COMMAND_TIMEOUT_MS, ...rest } = opts;
  const { url, options } = connectionOf(typeof target === 'string' ? { kind: 'url', url: target, tls: false } : target);
  const all: RedisOptions = {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // Script calls are batched by their callers already (state/script-batch.ts); deferring them
    // one more event-loop turn for auto-pipelining would only add latency to every join.
    autoPipeliningIgnoredCommands: ['evalsha', 'eval'],
    connectTimeout: 5_000,
    ...options,
    ...rest,
    ...(commandTimeout !== null && { commandTimeout }),
  };
  return url === undefined ? new Redis(all) : new Redis(url, all);
}
