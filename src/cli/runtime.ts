// What every long-running role needs before it starts: settings, Redis, the store. A bad
// setting or a missing redis-server ends start-up with one clear message and exit code 2.
import cluster from 'node:cluster';
import type { Redis } from 'ioredis';
import { ConfigError, loadSettings, type Settings } from '../config/settings.js';
import { createLogger, type Logger } from '../log/logger.js';
import { formatIssue, PolicyLoadError } from '../policy/index.js';
import { createRedis, RedisNotConfiguredError, resolveRedis, type PrivateRedisPolicy, type ResolvedRedis } from '../redis/connect.js';
import { RedisNotInstalledError } from '../redis/private-redis.js';
import { describeRedisTarget, type RedisTarget } from '../redis/target.js';
import { Store } from '../state/store.js';
import type { CliIO } from './command.js';
import { runUntilSignal, type RunUntilSignalOptions } from './signals.js';

export interface Runtime {
  settings: Settings;
  /** The Redis every client of this process (and of its children) connects to. */
  redisTarget: RedisTarget;
  redis: Redis;
  store: Store;
  /** The process logger (LOG_LEVEL, on the io's stdout); each role logs through a child of it. */
  log: Logger;
  /** Closes the connection, and stops the private redis-server if this process started one. */
  close(): Promise<void>;
}

export class StartupError extends Error {}

/** Every setting, or a StartupError naming each bad one. */
export function startupSettings(env: NodeJS.ProcessEnv): Settings {
  try {
    return loadSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.message);
    throw err;
  }
}

export interface BootOptions {
  /** Whether a private redis-server may stand in for an unconfigured Redis (redis/connect.ts). */
  privateRedis: PrivateRedisPolicy;
}

/** The configured Redis, or a private one where allowed; a missing one is a StartupError. */
export async function startupRedis(settings: Settings, io: CliIO, opts: BootOptions): Promise<ResolvedRedis> {
  try {
    const resolved = await resolveRedis(settings, { ...opts, log: (line) => io.stderr(`${line}\n`) });
    // One line naming the configured Redis, never its passwords (docs/redis.md); a private one
    // was named as it started, and a gateway worker's parent has named it already.
    if (!resolved.private && !cluster.isWorker) io.stderr(`amphi: Redis ${describeRedisTarget(resolved.target)}\n`);
    return resolved;
  } catch (err) {
    if (err instanceof RedisNotInstalledError || err instanceof RedisNotConfiguredError) throw new StartupError(err.message);
    throw err;
  }
}

/** How many WAIT connections a gateway keeps (store.ts replicated): concurrent creates take them in turn. */
export const WAITER_CONNECTIONS = 4;

export async function bootRuntime(env: NodeJS.ProcessEnv, io: CliIO, opts: BootOptions): Promise<Runtime> {
  const settings = startupSettings(env);
  const resolved = await startupRedis(settings, io, opts);
  const target = resolved.target;
  const log = createLogger(settings.LOG_LEVEL, io.stdout);
  const commandTimeout = settings.AMPHI_REDIS_COMMAND_TIMEOUT_MS;
  const redis = createRedis(target, { commandTimeout, log, clientName: 'store' });
  const replicas = settings.AMPHI_REDIS_WAIT_REPLICAS;
  // Connections of their own for WAIT, which holds the connection it runs on (store.ts
  // replicated): with no replica answering, each WAIT holds one for its whole timeout, so a
  // few let concurrent creates wait side by side rather than one after another.
  const waiters = replicas > 0 ? Array.from({ length: WAITER_CONNECTIONS }, (_, i) => createRedis(target, { commandTimeout, log, clientName: `waiter-${i}` })) : [];
  const replication = waiters.length > 0 ? { connection: waiters, replicas, timeoutMs: Math.floor(commandTimeout / 2) } : undefined;
  const store = new Store(redis, { pool: settings.AMPHI_POOL, ...(replication && { replication }) });
  return {
    settings,
    redisTarget: target,
    redis,
    store,
    log,
    async close() {
      for (const client of [redis, ...waiters]) await client.quit().catch(() => client.disconnect());
      await resolved.stop();
    },
  };
}

/**
 * The body of the role commands (gateway, poller, all): boots the runtime, starts the roles and
 * runs until SIGINT/SIGTERM; then stops the roles in the order they started and closes the
 * runtime, within AMPHI_SHUTDOWN_TIMEOUT_MS (past it, exit code 1).
 */
export async function runRoles(
  io: CliIO,
  start: (runtime: Runtime) => Promise<Array<{ stop(): Promise<void> }>>,
  opts: Omit<RunUntilSignalOptions, 'timeout'> & BootOptions,
): Promise<number> {
  const { privateRedis, ...untilSignal } = opts;
  const runtime = await bootRuntime(process.env, io, { privateRedis });
  const roles = await start(runtime);
  const ms = runtime.settings.AMPHI_SHUTDOWN_TIMEOUT_MS;
  const onExpired = (): void => io.stderr(`amphi: shutdown did not finish within ${ms} ms (AMPHI_SHUTDOWN_TIMEOUT_MS); exiting with code 1\n`);
  return runUntilSignal(
    async () => {
      for (const role of roles) await role.stop();
      await runtime.close();
    },
    { ...untilSignal, timeout: { ms, onExpired } },
  );
}

/** Runs a command body, turning start-up errors into a message and exit code 2. */
export async function withStartupErrors(io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof StartupError) {
      io.stderr(`amphi: ${err.message}\n`);
      return 2;
    }
    if (err instanceof PolicyLoadError) {
      io.stderr(`amphi: the capacity policy is invalid:\n  ${err.errors.map(formatIssue).join('\n  ')}\n`);
      return 2;
    }
    throw err;
  }
}
