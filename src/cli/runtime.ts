// What every long-running role needs before it starts: settings, Redis, the store. A bad
// setting or a missing redis-server ends start-up with one clear message and exit code 2.
import type { Redis } from 'ioredis';
import { ConfigError, loadSettings, type Settings } from '../config/settings.js';
import { formatIssue, PolicyLoadError } from '../policy/index.js';
import { createRedis, resolveRedis } from '../redis/connect.js';
import { RedisNotInstalledError } from '../redis/private-redis.js';
import { Store } from '../state/store.js';
import type { CliIO } from './command.js';
import { runUntilSignal, type RunUntilSignalOptions } from './signals.js';

export interface Runtime {
  settings: Settings;
  redisUrl: string;
  redis: Redis;
  store: Store;
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

export async function bootRuntime(env: NodeJS.ProcessEnv, io: CliIO): Promise<Runtime> {
  const settings = startupSettings(env);
  let resolved;
  try {
    resolved = await resolveRedis(env, { log: (line) => io.stderr(`${line}\n`) });
  } catch (err) {
    if (err instanceof RedisNotInstalledError) throw new StartupError(err.message);
    throw err;
  }
  const redis = createRedis(resolved.url, { commandTimeout: settings.AMPHI_REDIS_COMMAND_TIMEOUT_MS });
  const store = new Store(redis, { pool: settings.AMPHI_POOL });
  return {
    settings,
    redisUrl: resolved.url,
    redis,
    store,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
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
  opts: Omit<RunUntilSignalOptions, 'timeout'> = {},
): Promise<number> {
  const runtime = await bootRuntime(process.env, io);
  const roles = await start(runtime);
  const ms = runtime.settings.AMPHI_SHUTDOWN_TIMEOUT_MS;
  const onExpired = (): void => io.stderr(`amphi: shutdown did not finish within ${ms} ms (AMPHI_SHUTDOWN_TIMEOUT_MS); exiting with code 1\n`);
  return runUntilSignal(
    async () => {
      for (const role of roles) await role.stop();
      await runtime.close();
    },
    { ...opts, timeout: { ms, onExpired } },
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
