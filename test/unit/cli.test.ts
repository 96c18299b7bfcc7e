import { parseArgs } from 'node:util';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands.js';
import { main } from '../../src/cli/dispatch.js';
import { runRoles, type Runtime } from '../../src/cli/runtime.js';
import { runUntilSignal } from '../../src/cli/signals.js';
import { createRedis } from '../../src/redis/connect.js';
import { capture } from '../helpers/cli-io.js';

const seen: string[][] = [];
const echo: Command = {
  name: 'echo',
  summary: 'Echo the arguments',
  usage: 'Usage: amphi echo [--loud] <words...>\n',
  async run(argv, io) {
    seen.push(argv);
    const { values, positionals } = parseArgs({
      args: argv,
      options: { loud: { type: 'boolean' } },
      allowPositionals: true,
    });
    const text = positionals.join(' ');
    io.stdout(`${values.loud ? text.toUpperCase() : text}\n`);
    return positionals.length === 0 ? 1 : 0;
  },
};
const boom: Command = {
  name: 'boom',
  summary: 'Always fails',
  usage: 'Usage: amphi boom',
  run: async () => {
    throw new Error('kaboom');
  },
};
const testCommands = [echo, boom];

afterEach(() => {
  seen.length = 0;
});

describe('amphi dispatcher', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('lists the commands with their summaries for %j', async (argv) => {
    const io = capture();
    expect(await main(argv, io, testCommands)).toBe(0);
    expect(io.out).toContain('Usage: amphi <command>');
    expect(io.out).toMatch(/^ {2}echo {2}Echo the arguments$/m);
    expect(io.out).toMatch(/^ {2}boom {2}Always fails$/m);
    expect(io.err).toBe('');
  });

  it('lists the real registry, which has the redis command', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    const listed = io.out.split('\n').map((line) => line.trim().split(/\s{2,}/));
    for (const c of commands) expect(listed).toContainEqual([c.name, c.summary]);
    expect(commands.map((c) => c.name)).toContain('redis');
    expect(new Set(commands.map((c) => c.name)).size).toBe(commands.length); // no duplicate names
  });

  it.each([[['echo', '--help']], [['echo', 'x', '-h']], [['help', 'echo']]])(
    "prints the command's usage for %j without running it",
    async (argv) => {
      const io = capture();
      expect(await main(argv, io, testCommands)).toBe(0);
      expect(io.out).toBe(echo.usage);
      expect(seen).toEqual([]);
    },
  );

  it('passes the remaining arguments to the command and returns its exit code', async () => {
    const io = capture();
    expect(await main(['echo', '--loud', 'hi', 'there'], io, testCommands)).toBe(0);
    expect(io.out).toBe('HI THERE\n');
    expect(await main(['echo'], io, testCommands)).toBe(1);
    // After `--`, --help is an argument for the command, not a request for help.
    expect(await main(['echo', '--', '--help'], io, testCommands)).toBe(0);
    expect(seen).toEqual([['--loud', 'hi', 'there'], [], ['--', '--help']]);
  });

  it('answers an unknown command with a message and exit code 2', async () => {
    for (const argv of [['nope'], ['help', 'nope'], ['--nope']]) {
      const io = capture();
      expect(await main(argv, io, testCommands)).toBe(2);
      expect(io.err).toMatch(/unknown command '(nope|--nope)'.*amphi --help/);
      expect(io.out).toBe('');
    }
  });

  it('answers an unknown option with exit code 2 and a pointer to the help', async () => {
    const io = capture();
    expect(await main(['echo', '--bogus'], io, testCommands)).toBe(2);
    expect(io.err).toContain("amphi echo: Unknown option '--bogus'");
    expect(io.err).toContain("amphi echo --help");
  });

  it('reports a failing command on stderr with exit code 1', async () => {
    const io = capture();
    expect(await main(['boom'], io, testCommands)).toBe(1);
    expect(io.err).toBe('amphi boom: kaboom\n');
  });

  it('rejects options the redis command does not have, before starting anything', async () => {
    const io = capture();
    expect(await main(['redis', '--port', '1'], io)).toBe(2);
    expect(io.out).toBe('');
  });
});

describe('runUntilSignal', () => {
  it('stops once on SIGTERM, resolves 0 and removes its handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    let stops = 0;
    const signals: string[] = [];
    const done = runUntilSignal(
      async () => {
        stops++;
      },
      { onSignal: (s) => signals.push(s) },
    );
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(stops).toBe(1);
    expect(signals).toEqual(['SIGTERM']);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('resolves 1 when stop fails', async () => {
    const errors: unknown[] = [];
    const done = runUntilSignal(
      async () => {
        throw new Error('stuck');
      },
      { onError: (e) => errors.push(e) },
    );
    process.emit('SIGINT');
    expect(await done).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('gives up on a stop that outlives the deadline: tells onExpired, resolves 1, removes its handlers', async () => {
    const before = process.listenerCount('SIGTERM');
    const expired: number[] = [];
    const errors: unknown[] = [];
    let fail!: (err: Error) => void;
    const hung = new Promise<void>((_resolve, reject) => (fail = reject));
    const done = runUntilSignal(() => hung, { onError: (e) => errors.push(e), timeout: { ms: 100, onExpired: () => expired.push(Date.now()) } });
    const signalled = Date.now();
    process.emit('SIGTERM');
    expect(await done).toBe(1);
    expect(expired).toHaveLength(1);
    expect(expired[0]! - signalled).toBeGreaterThanOrEqual(95);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    fail(new Error('too late')); // a stop failing after the deadline is not reported twice
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(errors).toEqual([]);
  });

  it('does not fire the deadline after a stop that finished in time', async () => {
    let expired = 0;
    const done = runUntilSignal(() => new Promise((resolve) => setTimeout(resolve, 20)), { timeout: { ms: 100, onExpired: () => expired++ } });
    process.emit('SIGINT');
    expect(await done).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(expired).toBe(0);
  });
});

describe('amphi token', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('mints with AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE', async () => {
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('AMPHI_JWT_SECRET', 'cli-test-jwt-secret-0123456789');
    vi.stubEnv('AMPHI_JWT_ISSUER', 'amphi-prod');
    vi.stubEnv('AMPHI_JWT_AUDIENCE', 'amphi-prod-admin');
    const io = capture();
    expect(await main(['token', '--expires', '15m'], io)).toBe(0);
    const [header, payload] = io.out.trim().split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ iss: 'amphi-prod', aud: 'amphi-prod-admin', scope: 'amphi:admin' });
    expect(Number(payload!.exp) - Number(payload!.iat)).toBe(900);
  });
});

describe('runRoles', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('exits with code 1 and says so when the roles do not stop within AMPHI_SHUTDOWN_TIMEOUT_MS', async () => {
    vi.stubEnv('REDIS_URL', inject('redisUrl'));
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('AMPHI_SHUTDOWN_TIMEOUT_MS', '1000');
    const io = capture();
    const listening = process.listenerCount('SIGTERM');
    let runtime: Runtime | undefined;
    const running = runRoles(io, async (rt) => {
      runtime = rt;
      return [{ stop: () => new Promise<void>(() => {}) }]; // a role that never finishes stopping
    }, { privateRedis: 'opt-in' });
    try {
      await expect.poll(() => process.listenerCount('SIGTERM'), { timeout: 5_000 }).toBe(listening + 1);
      const signalled = Date.now();
      process.emit('SIGTERM');
      expect(await running).toBe(1);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(990);
      expect(io.err).toContain('amphi: shutdown did not finish within 1000 ms (AMPHI_SHUTDOWN_TIMEOUT_MS); exiting with code 1\n');
    } finally {
      runtime?.redis.disconnect();
    }
  });
});

describe('amphi redis', () => {
  it('prints a working URL, then stops the server on SIGINT', async () => {
    const io = capture();
    const running = main(['redis'], io);
    await expect.poll(() => io.out, { timeout: 5_000 }).toMatch(/^redis:\/\/127\.0\.0\.1:\d+\n$/);
    const url = io.out.trim();
    const client = createRedis(url);
    client.on('error', () => {});
    try {
      expect(await client.ping()).toBe('PONG');
      process.emit('SIGINT');
      expect(await running).toBe(0);
      await expect(client.ping()).rejects.toThrow();
    } finally {
      client.disconnect();
    }
    expect(io.err).toContain('SIGINT received, stopping redis-server');
  });
});
