import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisNotInstalledError, startPrivateRedis } from '../../src/redis/private-redis.js';
import { loadSettings } from '../../src/config/settings.js';
import { createRedis, RedisNotConfiguredError, resolveRedis } from '../../src/redis/connect.js';

const NOT_INSTALLED =
  'redis-server was not found on PATH; install it with `apt-get install redis-server` (Debian/Ubuntu), ' +
  'or set REDIS_URL to an existing Redis';

/** Resolves with the connect outcome: 'connected' or the error code (e.g. ECONNREFUSED). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'amphi-private-redis-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function fakeBinary(name: string, script: string): Promise<string> {
  const file = path.join(scratch, name);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
  return file;
}

describe('startPrivateRedis', () => {
  it('serves on a loopback port, and refuses connections once stopped', async () => {
    const server = await startPrivateRedis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(existsSync(server.dir)).toBe(true);

    const client = createRedis(server.url);
    try {
      expect(await client.ping()).toBe('PONG');
      // Nothing is persisted: the server runs with no RDB snapshots and no AOF.
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    } finally {
      client.disconnect();
    }

    await server.stop();
    await server.stop(); // idempotent
    expect(await tryConnect(server.port)).toBe('ECONNREFUSED');
    expect(existsSync(server.dir)).toBe(false);
  });

  it('runs two servers side by side on different ports', async () => {
    const [a, b] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('throws RedisNotInstalledError when redis-server is not on PATH', async () => {
    const emptyDir = await mkdtemp(path.join(scratch, 'empty-path-'));
    const attempt = startPrivateRedis({ env: { PATH: emptyDir } });
    await expect(attempt).rejects.toBeInstanceOf(RedisNotInstalledError);
    await expect(attempt).rejects.toThrow(NOT_INSTALLED);
  });

  it('throws RedisNotInstalledError for an explicit binary that does not exist', async () => {
    await expect(startPrivateRedis({ binary: path.join(scratch, 'no-such-redis-server') })).rejects.toThrow(
      NOT_INSTALLED,
    );
  });

  it('throws RedisNotInstalledError when spawning fails with ENOENT', async () => {
    // The file exists (so the PATH check passes) but exec fails: its interpreter is missing.
    const binary = path.join(scratch, 'bad-interpreter');
    await writeFile(binary, '#!/nonexistent/interpreter\n');
    await chmod(binary, 0o755);
    await expect(startPrivateRedis({ binary })).rejects.toThrow(NOT_INSTALLED);
  });

  it("reports the server's output when it exits during start-up", async () => {
    const binary = await fakeBinary('dies', 'echo "FATAL: bad config line" >&2; exit 3');
    await expect(startPrivateRedis({ binary })).rejects.toThrow(/exited with code 3[\s\S]*FATAL: bad config line/);
  });

  it('gives up after the start timeout when PING never succeeds, and kills the child', async () => {
    const pidFile = path.join(scratch, 'hang.pid');
    const binary = await fakeBinary('hangs', `echo $$ > '${pidFile}'; echo "still booting"; exec sleep 30`);
    const started = Date.now();
    await expect(startPrivateRedis({ binary, startTimeoutMs: 300 })).rejects.toThrow(
      /did not answer PING[\s\S]*within 300 ms[\s\S]*still booting/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(() => process.kill(pid, 0)).toThrow(); // ESRCH: the child is gone
  });
});

describe('resolveRedis', () => {
  it('uses REDIS_URL as given and starts nothing', async () => {
    const lines: string[] = [];
    // A binary that cannot exist: if resolveRedis tried to start a server, this would throw.
    const resolved = await resolveRedis(loadSettings({ REDIS_URL: 'redis://127.0.0.1:1/3' }), {
      privateRedis: 'fallback',
      log: (l) => lines.push(l),
      binary: path.join(scratch, 'absent'),
    });
    expect(resolved).toMatchObject({ target: { kind: 'url', url: 'redis://127.0.0.1:1/3' }, private: false });
    await resolved.stop();
    expect(lines).toEqual([]);
  });

  it('starts a private server when no Redis is configured, says so, and stops it', async () => {
    const lines: string[] = [];
    const resolved = await resolveRedis(loadSettings({}), { privateRedis: 'fallback', log: (l) => lines.push(l) });
    const url = resolved.target.kind === 'url' ? resolved.target.url : '';
    try {
      expect(resolved.private).toBe(true);
      expect(lines).toEqual([`amphi: no Redis configured (REDIS_URL, REDIS_SENTINELS), started a private redis-server on ${url}`]);
      const client = createRedis(resolved.target);
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await resolved.stop();
    }
    expect(await tryConnect(Number(new URL(url).port))).toBe('ECONNREFUSED');
  });

  it('opt-in: refuses to start one unless AMPHI_PRIVATE_REDIS=1', async () => {
    const absent = path.join(scratch, 'absent');
    await expect(resolveRedis(loadSettings({}), { privateRedis: 'opt-in', binary: absent })).rejects.toThrow(RedisNotConfiguredError);
    // Allowed: it tries to start one (and the absent binary says so).
    await expect(resolveRedis(loadSettings({ AMPHI_PRIVATE_REDIS: '1' }), { privateRedis: 'opt-in', binary: absent })).rejects.toThrow(RedisNotInstalledError);
  });
});

describe('createRedis', () => {
  it('fails commands fast instead of hanging when Redis is down', async () => {
    const server = await startPrivateRedis();
    await server.stop();
    const client = createRedis(server.url);
    client.on('error', () => {}); // connection errors are expected here
    try {
      const started = Date.now();
      await expect(client.get('k')).rejects.toThrow(/max retries per request/i);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      client.disconnect();
    }
  });
});
