// One place that decides which Redis a process talks to, and how its clients behave.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { startPrivateRedis } from './private-redis.js';
import type { StartPrivateRedisOptions } from './private-redis.js';
import { redactText } from '../log/redact-text.js';
import { connectionOf, describeRedisTarget, redisTargetOf } from './target.js';
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

/** The part of a logger a client's connection errors go to (the process's pino logger fits). */
export interface RedisErrorLog {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
}

/** At most one line per client this often while its connection keeps failing. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 30_000;

export interface CreateRedisOptions extends Omit<RedisOptions, 'commandTimeout'> {
  /**
   * Where the client's connection errors are logged: the first one, then at most one line every
   * REDIS_ERROR_LOG_INTERVAL_MS (with the count of those not logged), and one when it is ready
   * again. Without it they are dropped (commands still fail): never a stack trace on stderr.
   */
  log?: RedisErrorLog;
  /** What the lines call this client (`client` field), e.g. `store`, `waiter`. */
  clientName?: string;
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
  const { commandTimeout = DEFAULT_REDIS_COMMAND_TIMEOUT_MS, log, clientName = 'redis', ...rest } = opts;
  const resolved: RedisTarget = typeof target === 'string' ? { kind: 'url', url: target, tls: false } : target;
  const { url, options } = connectionOf(resolved);
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
  const client = url === undefined ? new Redis(all) : new Redis(url, all);
  logConnectionErrors(client, resolved, clientName, log);
  return client;
}

/**
 * Without an 'error' listener ioredis prints every failed connection attempt, stack and all, on
 * stderr (dozens a second while a Sentinel group fails over). This one logs them rate-limited,
 * through `log`, or drops them without one. No line holds a password (describeRedisTarget, redactText).
 */
function logConnectionErrors(client: Redis, target: RedisTarget, name: string, log: RedisErrorLog | undefined, now: () => number = Date.now): void {
  if (!log) {
    client.on('error', () => {});
    return;
  }
  let failing = false;
  let lastLogged = -Infinity;
  let suppressed = 0;
  const where = (): { client: string; redis: string } => ({ client: name, redis: describeRedisTarget(target) });
  client.on('error', (err: unknown) => {
    failing = true;
    const t = now();
    if (t - lastLogged < REDIS_ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    const message = redactText(err instanceof Error ? err.message : String(err));
    log.warn({ ...where(), err: message, ...(suppressed > 0 && { notLogged: suppressed }) }, 'Redis connection error');
    lastLogged = t;
    suppressed = 0;
  });
  client.on('ready', () => {
    if (!failing) return;
    log.info({ ...where(), ...(suppressed > 0 && { notLogged: suppressed }) }, 'Redis connection recovered');
    failing = false;
    suppressed = 0;
    lastLogged = -Infinity;
  });
}
