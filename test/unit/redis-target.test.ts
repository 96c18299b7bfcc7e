import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/dispatch.js';
import { loadSettings } from '../../src/config/settings.js';
import { createRedis } from '../../src/redis/connect.js';
import { describeRedisTarget, parseHostPorts, redactUrl, redisTargetEnv, redisTargetOf } from '../../src/redis/target.js';
import { capture } from '../helpers/cli-io.js';

const SCALER_EXAMPLE = fileURLToPath(new URL('../../scaler/scaler.example.yaml', import.meta.url));

describe('Redis settings', () => {
  it('REDIS_SENTINELS: host:port list, IPv6 in brackets', () => {
    expect(parseHostPorts('10.0.0.1:26379, sentinel-b:26380,[::1]:26381')).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: 'sentinel-b', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    for (const bad of ['', 'host', 'host:0', 'host:70000', '::1:26379', '[::1]']) expect(() => parseHostPorts(bad)).toThrow();
  });

  it('REDIS_SENTINELS: a bracketed host must be an IPv6 address, a plain one a host name or IPv4 address', () => {
    expect(parseHostPorts('[2001:db8::1]:26379,redis-sentinel.ns.svc.cluster.local:26379')).toEqual([
      { host: '2001:db8::1', port: 26379 },
      { host: 'redis-sentinel.ns.svc.cluster.local', port: 26379 },
    ]);
    for (const bad of ['[:]:1', '[:::]:1', '[1.2.3.4]:1', 'a/b:26379', 'user@host:26379', 'a..b:1', '-a:1', 'a_b:1']) {
      expect(() => parseHostPorts(bad), bad).toThrow(/is not host:port/);
    }
  });

  it('a bad sentinel host stops a role with a config error, exit code 2', async () => {
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', '');
    vi.stubEnv('REDIS_SENTINELS', '[:]:1');
    try {
      const io = capture();
      expect(await main(['poller'], io)).toBe(2);
      expect(io.err).toMatch(/REDIS_SENTINELS="\[:\]:1": "\[:\]:1" is not host:port/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a bad value, or REDIS_URL with REDIS_SENTINELS, stops start-up naming them', () => {
    expect(() => loadSettings({ REDIS_SENTINELS: 'a:1,b' })).toThrow(/REDIS_SENTINELS="a:1,b": "b" is not host:port/);
    expect(() => loadSettings({ REDIS_TLS: 'yes' })).toThrow(/REDIS_TLS="yes"/);
    expect(() => loadSettings({ AMPHI_PRIVATE_REDIS: '2' })).toThrow(/AMPHI_PRIVATE_REDIS="2"/);
    expect(() => loadSettings({ REDIS_URL: 'redis://127.0.0.1:6380', REDIS_SENTINELS: '127.0.0.1:26379' })).toThrow(
      /REDIS_URL and REDIS_SENTINELS are both set: give one/,
    );
  });

  it('never echoes a REDIS_URL that does not parse (it may hold a password)', () => {
    expect(() => loadSettings({ REDIS_URL: 'hunter2 is not a url' })).toThrow(/REDIS_URL=\(hidden\)/);
    expect(() => loadSettings({ REDIS_URL: 'hunter2 is not a url' })).not.toThrow(/hunter2/);
  });

  it('builds a URL or Sentinel target; rediss:// means TLS', () => {
    expect(redisTargetOf(loadSettings({}))).toBeUndefined();
    expect(redisTargetOf(loadSettings({ REDIS_URL: 'rediss://r.example:6380/1' }))).toEqual({ kind: 'url', url: 'rediss://r.example:6380/1', tls: true });
    expect(redisTargetOf(loadSettings({ REDIS_SENTINELS: 's1:26379,[::1]:26380', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_TLS: 'true' }))).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      master: 'mymaster',
      password: 'pw',
      sentinelPassword: 'spw',
      tls: true,
    });
  });

  it('round-trips through a child process environment', () => {
    for (const env of [{ REDIS_URL: 'redis://:pw@r:6379/2', REDIS_TLS: 'true' }, { REDIS_SENTINELS: 's1:26379,[::1]:26380', REDIS_SENTINEL_MASTER: 'amphi', REDIS_SENTINEL_PASSWORD: 'spw' }]) {
      const target = redisTargetOf(loadSettings(env))!;
      // The child inherits the parent's variables; the target's override every one of them.
      const inherited = { REDIS_URL: 'redis://other:1', REDIS_SENTINELS: 'other:2', REDIS_PASSWORD: 'other' };
      expect(redisTargetOf(loadSettings({ ...inherited, ...redisTargetEnv(target) }))).toEqual(target);
    }
  });

  it('is described without its passwords', () => {
    const url = redisTargetOf(loadSettings({ REDIS_URL: 'redis://user:hunter2@r:6379/0', REDIS_PASSWORD: 'hunter3' }))!;
    expect(describeRedisTarget(url)).toBe('redis://user:***@r:6379/0');
    const sentinel = redisTargetOf(loadSettings({ REDIS_SENTINELS: 's1:26379', REDIS_PASSWORD: 'hunter2', REDIS_SENTINEL_PASSWORD: 'hunter3', REDIS_TLS: '1' }))!;
    expect(describeRedisTarget(sentinel)).toBe('Sentinel master "mymaster" via s1:26379 (TLS)');
  });

  it('hides a password given as a query parameter too', () => {
    const printed = redactUrl('redis://r:6379/0?password=hunter2&Token=t0k3n&db=1');
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('t0k3n');
    expect(printed).toContain('password=***');
    expect(printed).toContain('db=1');
    const url = redisTargetOf(loadSettings({ REDIS_URL: 'redis://u:hunter2@r:6379/0?password=hunter3' }))!;
    expect(describeRedisTarget(url)).toBe('redis://u:***@r:6379/0?password=***');
  });

  it('gives ioredis the Sentinel group, its passwords and TLS to both', () => {
    const target = redisTargetOf(loadSettings({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_MASTER: 'amphi', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_TLS: 'true' }))!;
    const client = createRedis(target, { lazyConnect: true });
    expect(client.options).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'amphi',
      password: 'pw',
      sentinelPassword: 'spw',
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelTLS: {},
      commandTimeout: 2000,
    });
    client.disconnect();
  });
});

describe('the admin CLI on an unreachable Sentinel group', () => {
  it('gives up at once (exit 1) instead of retrying the sentinels forever', async () => {
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', '');
    vi.stubEnv('REDIS_SENTINELS', '127.0.0.1:1'); // nothing listens on port 1
    try {
      const io = capture();
      const started = Date.now();
      const hung = Symbol('hung');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([main(['servers', 'list'], io), new Promise<symbol>((resolve) => (timer = setTimeout(() => resolve(hung), 8_000)))]);
      clearTimeout(timer);
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(io.err).toMatch(/cannot reach Redis at Sentinel master "mymaster" via 127\.0\.0\.1:1/);
    } finally {
      vi.unstubAllEnvs();
    }
  }, 15_000);
});

describe('the replicated roles refuse to start without a configured Redis', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  for (const argv of [['gateway'], ['gateway', '--workers', '2'], ['poller'], ['scaler', '--config', SCALER_EXAMPLE], ['scaler', '--config', SCALER_EXAMPLE, '--dry-run']]) {
    it(`amphi ${argv.join(' ')}: exit 2, naming REDIS_URL, REDIS_SENTINELS and AMPHI_PRIVATE_REDIS=1`, async () => {
      for (const name of ['REDIS_URL', 'REDIS_SENTINELS', 'AMPHI_PRIVATE_REDIS', 'AMPHI_CONFIG']) vi.stubEnv(name, '');
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      expect(io.err).toMatch(/^amphi: no Redis is configured: set REDIS_URL .* or REDIS_SENTINELS .*AMPHI_PRIVATE_REDIS=1 starts a private redis-server/);
      expect(io.out).toBe('');
    });
  }

  it('a contradictory configuration stops them too (exit 2)', async () => {
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', 'redis://127.0.0.1:1');
    vi.stubEnv('REDIS_SENTINELS', '127.0.0.1:2');
    const io = capture();
    expect(await main(['poller'], io)).toBe(2);
    expect(io.err).toContain('REDIS_URL and REDIS_SENTINELS are both set');
  });
});
