import { parseArgs } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands.js';
import { main } from '../../src/cli/dispatch.js';
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
