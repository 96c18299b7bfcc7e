// What the operator commands (servers, tenants, policy) share: subcommand dispatch, reaching
// the running Amphi's Redis, mapping the admin errors to exit codes, and printing aligned tables.
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { AdminError, InvalidInputError } from '../admin/errors.js';
import { ConfigError, loadSettings } from '../config/settings.js';
import type { Settings } from '../config/settings.js';
import { createRedis } from '../redis/connect.js';
import { describeRedisTarget, redisTargetOf } from '../redis/target.js';
import { Store } from '../state/store.js';
import type { CliIO, Command } from './command.js';
// Same codes as dispatch.ts; not imported from it, which would make an import cycle through the registry.
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** A failure the command has already described; carries its exit code. */
export class CliExit extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface AdminSession {
  store: Store;
  settings: Settings;
}

/**
 * Opens the Store of the running Amphi. Unlike the server roles, a one-shot command never
 * starts a private Redis: it would hold none of the pool's state.
 */
async function openSession(env: NodeJS.ProcessEnv): Promise<{ session: AdminSession; redis: Redis }> {
  let settings: Settings;
  try {
    settings = loadSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(err.message, EXIT_USAGE);
    throw err;
  }
  const target = redisTargetOf(settings);
  if (!target) {
    throw new CliExit(
      'REDIS_URL is not set (nor REDIS_SENTINELS). This command changes the state of a running Amphi, so it needs the Redis that Amphi uses:\n' +
        '  export REDIS_URL=redis://host:6379   (or REDIS_SENTINELS=host:26379,…; and AMPHI_POOL if the pool is not "default")',
      EXIT_USAGE,
    );
  }
  // One attempt, no background reconnects: a CLI should fail fast and exit. Through Sentinel,
  // ioredis asks the sentinels under sentinelRetryStrategy (by default: forever) instead.
  const redis = createRedis(target, {
    lazyConnect: true,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
    commandTimeout: settings.AMPHI_REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on('error', () => {}); // failures surface through the rejected commands below
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new CliExit(`cannot reach Redis at ${describeRedisTarget(target)}: ${(err as Error).message}`, EXIT_FAILURE);
  }
  return { session: { store: new Store(redis, { pool: settings.AMPHI_POOL }), settings }, redis };
}

/**
 * Runs an operator verb against the running Amphi's state and turns its failures into one
 * line on stderr and an exit code: 2 for bad input, 1 for everything else.
 */
export async function withStore(
  command: string,
  io: CliIO,
  fn: (session: AdminSession) => Promise<number>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let opened: { session: AdminSession; redis: Redis } | undefined;
  try {
    opened = await openSession(env);
    return await fn(opened.session);
  } catch (err) {
    return report(command, io, err);
  } finally {
    if (opened) await opened.redis.quit().catch(() => opened?.redis.disconnect());
  }
}

export function report(command: string, io: CliIO, err: unknown): number {
  if (err instanceof CliExit) {
    io.stderr(`amphi ${command}: ${err.message}\n`);
    return err.code;
  }
  if (err instanceof AdminError) {
    io.stderr(`amphi ${command}: ${err.message}\n`);
    return err instanceof InvalidInputError ? EXIT_USAGE : EXIT_FAILURE;
  }
  throw err; // the dispatcher reports anything unexpected
}

export function usageError(message: string): CliExit {
  return new CliExit(message, EXIT_USAGE);
}

export type Subcommand = (args: string[], io: CliIO) => Promise<number>;

/**
 * A command made of subcommands (`amphi servers add …`), named in the order of `table`. Usage
 * errors and admin failures become one line on stderr and their exit code; parseArgs errors go
 * on to the dispatcher.
 */
export function subcommandsCommand(name: string, summary: string, usage: string, table: Readonly<Record<string, Subcommand>>): Command {
  const names = Object.keys(table);
  return {
    name,
    summary,
    usage,
    async run(argv, io) {
      const [sub, ...args] = argv;
      try {
        if (sub !== undefined && Object.hasOwn(table, sub)) return await table[sub]!(args, io);
        throw usageError(
          sub === undefined
            ? `${name} needs a subcommand: ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
            : `unknown subcommand '${sub}' (${names.join(', ')})`,
        );
      } catch (err) {
        return report(name, io, err);
      }
    },
  };
}

/** `list [--json]`: the rows as JSON, as a table, or `none` when there are none. */
export function listSubcommand<T>(command: string, rowsOf: (store: Store) => Promise<T[]>, columns: readonly Column<T>[], none: string): Subcommand {
  return async (args, io) => {
    const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { json: { type: 'boolean' } } });
    return withStore(command, io, async ({ store }) => {
      const rows = await rowsOf(store);
      if (values.json) printJson(io, rows);
      else if (rows.length === 0) io.stdout(none);
      else io.stdout(formatTable(columns, rows));
      return 0;
    });
  };
}

/** A whole number option within bounds, or a usage error naming the option. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw usageError(`--${name} must be a whole number between ${min} and ${max}`);
  }
  return n;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number;
}

/** Columns padded to their widest cell; numbers aligned right, text left. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((r) => typeof r[i] === 'number'));
  const text = [columns.map((c) => c.header), ...cells.map((r) => r.map(String))];
  const widths = columns.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  return text
    .map((r) =>
      r
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
