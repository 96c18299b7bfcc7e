// The operator commands run in-process through the real dispatcher, against the test Redis.
// Each test gets a pool of its own (AMPHI_POOL), so the CLI's keys are `amphi:{<pool>}:…`
// and cleanup deletes exactly those.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAdminApi } from '../../src/api/admin/routes.js';
import { commands } from '../../src/cli/commands.js';
import { main } from '../../src/cli/dispatch.js';
import { Store } from '../../src/state/store.js';
import { closedPort, startBbbStub, type BbbStub } from '../helpers/bbb-stub.js';
import { capture } from '../helpers/cli-io.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';

const BBB_SECRET = 'cli-stub-secret-42';
const TENANT_SECRET = 'tenant-cli-secret-xyz-9876';
const JWT_SECRET = 'cli-test-jwt-secret-abcdefghijkl';

describe('amphi servers / tenants / token (real Redis)', () => {
  let t: TestRedis;
  let pool: string;
  let store: Store;
  let bbb: BbbStub;
  let io: ReturnType<typeof capture>;

  beforeAll(async () => {
    bbb = await startBbbStub(BBB_SECRET);
  });
  afterAll(() => bbb.close());

  beforeEach(() => {
    t = testRedis('admin-cli');
    pool = `cli-${randomBytes(4).toString('hex')}`;
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', t.url);
    vi.stubEnv('AMPHI_POOL', pool);
    vi.stubEnv('AMPHI_JWT_SECRET', JWT_SECRET);
    vi.stubEnv('AMPHI_UPSTREAM_ALGORITHM', 'sha512');
    store = new Store(t.redis, { pool });
    io = capture();
    bbb.mode = 'bbb';
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await deleteByPrefix(t.redis, `amphi:{${pool}}:`);
    await t.cleanup();
  });

  async function amphi(...argv: string[]): Promise<number> {
    io.reset();
    return main(argv, io);
  }

  it('registers the commands, each with its usage', async () => {
    for (const name of ['servers', 'tenants', 'token']) {
      expect(commands.map((c) => c.name)).toContain(name);
      expect(await amphi(name, '--help')).toBe(0);
      expect(io.out).toMatch(new RegExp(`^Usage: amphi ${name}`));
    }
  });

  describe('servers', () => {
    it('adds a checked server (signed with AMPHI_UPSTREAM_ALGORITHM) and lists it in an aligned table', async () => {
      expect(await amphi('servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--capacity', '400', '--tag', 'a', '--tag', 'b', '--id', 'bbb-1'), io.err).toBe(0);
      expect(io.out).toMatch(/^added server bbb-1: .*capacity 400 \(custom\), enabled, online/);
      expect(bbb.algorithms.at(-1)).toBe('sha512');
      expect(await store.servers.require('bbb-1')).toMatchObject({ url: bbb.apiUrl, secret: BBB_SECRET, capacity: 400, sizeClass: 'custom', managedBy: '', tags: ['a', 'b'], health: 'online' });

      const port = await closedPort();
      const other = `http://127.0.0.1:${port}/bigbluebutton/api`;
      expect(await amphi('servers', 'add', '--url', other, '--secret', 's2', '--size', 'large', '--no-check', '--id', 'bbb-22')).toBe(0);
      expect(io.out).toContain('offline until the poller reaches it');
      expect(io.out).toContain('capacity 1000 (large)');
      expect((await store.servers.require('bbb-22')).sizeClass).toBe('large');
      await store.servers.add({ id: 'bbb-3', url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's3', capacity: 250, managedBy: 'scaleway' });
      await store.meetings.place({ tenant: 'default', meetingID: 'm', upstreamID: 'm', need: 10, candidates: ['bbb-1'], sampled: 1, fadeMs: 60_000 });
      await t.redis.hset(`amphi:{${pool}}:server:bbb-1`, { participants: 7, measuredLoad: 42.5 });

      expect(await amphi('servers', 'list')).toBe(0);
      const lines = io.out.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]!.split(/\s+/)).toEqual(['ID', 'URL', 'STATE', 'HEALTH', 'MEETINGS', 'PARTICIPANTS', 'LOAD', 'CAPACITY', 'SIZE', 'MANAGED']);
      expect(lines[1]!.split(/\s+/)).toEqual(['bbb-1', bbb.apiUrl, 'enabled', 'online', '1', '7', '42.5', '400', 'custom', '-']);
      expect(lines[2]!.split(/\s+/)).toEqual(['bbb-22', other, 'enabled', 'offline', '0', '0', '0', '1000', 'large', '-']);
      expect(lines[3]!.split(/\s+/)).toEqual(['bbb-3', 'http://127.0.0.1:1/bigbluebutton/api', 'enabled', 'offline', '0', '0', '0', '250', 'small', 'scaleway']);
      // Aligned: every column starts at the same offset on every line; numbers end together.
      for (const header of ['URL', 'STATE', 'HEALTH', 'SIZE', 'MANAGED']) {
        const at = lines[0]!.indexOf(header);
        expect(lines.slice(1).map((l) => l[at - 1] === ' ' && l[at] !== ' ')).toEqual([true, true, true]);
      }
      for (const header of ['MEETINGS', 'LOAD', 'CAPACITY']) {
        const end = lines[0]!.indexOf(header) + header.length;
        expect(lines.slice(1).map((l) => l[end - 1] !== ' ' && l[end] === ' ')).toEqual([true, true, true]);
      }
      expect(io.out).not.toContain(BBB_SECRET);

      expect(await amphi('servers', 'list', '--json')).toBe(0);
      const rows = JSON.parse(io.out) as Array<Record<string, unknown>>;
      expect(rows.map((r) => [r.id, r.meetings, r.load, r.capacity, r.utilization, r.sizeClass, r.managedBy])).toEqual([
        ['bbb-1', 1, 42.5, 400, 0.106, 'custom', ''],
        ['bbb-22', 0, 0, 1000, 0, 'large', ''],
        ['bbb-3', 0, 0, 250, 0, 'small', 'scaleway'],
      ]);
      expect(rows.every((r) => typeof r.stateSince === 'number' && r.stateSince === r.addedAt)).toBe(true);
      expect(io.out).not.toContain(BBB_SECRET);
    });

    it('refuses a server that fails the check, says why and how to add it anyway', async () => {
      expect(await amphi('servers', 'add', '--url', bbb.apiUrl, '--secret', 'not-the-secret')).toBe(1);
      expect(io.err).toMatch(/^amphi servers: .*checksum.*secret is wrong/);
      expect(io.err).toContain('--no-check');
      const port = await closedPort();
      expect(await amphi('servers', 'add', '--url', `http://127.0.0.1:${port}/bigbluebutton/api`, '--secret', 's')).toBe(1);
      expect(io.err).toContain('connection refused');
      expect(await store.servers.list()).toEqual([]);
    });

    it('answers bad input with exit code 2 and nothing stored', async () => {
      const cases: string[][] = [
        ['servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--capacity', 'lots'],
        ['servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--capacity', '5', '--size', 'small'],
        ['servers', 'add', '--url', 'not a url', '--secret', BBB_SECRET],
        ['servers', 'add', '--url', bbb.apiUrl],
        ['servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--state', 'on'],
        ['servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--bogus'],
        ['servers'],
        ['servers', 'reboot', 'x'],
        ['servers', 'enable'],
        ['servers', 'enable', 'a', 'b'],
      ];
      for (const argv of cases) {
        expect(await amphi(...argv), argv.join(' ')).toBe(2);
        expect(io.err, argv.join(' ')).toMatch(/^amphi servers: /);
      }
      expect(await store.servers.list()).toEqual([]);
    });

    it('cordons, disables, enables, panics and removes; unknown ids fail with exit 1', async () => {
      const port = await closedPort();
      expect(await amphi('servers', 'add', '--url', bbb.apiUrl, '--secret', BBB_SECRET, '--id', 'a')).toBe(0);
      expect(await amphi('servers', 'add', '--url', `http://127.0.0.1:${port}/bigbluebutton/api`, '--secret', 's', '--no-check', '--id', 'b')).toBe(0);
      for (const [verb, state] of [['cordon', 'cordoned'], ['disable', 'disabled'], ['enable', 'enabled']] as const) {
        expect(await amphi('servers', verb, 'a')).toBe(0);
        expect(io.out).toContain(`server a is now ${state}`);
        expect((await store.servers.require('a')).state).toBe(state);
      }
      await store.meetings.place({ tenant: 'default', meetingID: 'm1', upstreamID: 'm1', need: 10, candidates: ['a'], sampled: 1, fadeMs: 60_000 });

      expect(await amphi('servers', 'remove', 'a')).toBe(1);
      expect(io.err).toMatch(/still has 1 meeting/);
      expect(await amphi('servers', 'panic', 'a')).toBe(0);
      expect(io.out).toContain('1 meeting(s) forgotten');
      expect((await store.servers.require('a')).state).toBe('disabled');
      expect(await store.meetings.get('default', 'm1')).toBeUndefined();
      expect(await amphi('servers', 'remove', 'a')).toBe(0);

      await store.servers.setHealth('b', 'online');
      await store.meetings.place({ tenant: 'default', meetingID: 'm2', upstreamID: 'm2', need: 10, candidates: ['b'], sampled: 1, fadeMs: 60_000 });
      expect(await amphi('servers', 'remove', 'b', '--force')).toBe(0);
      expect(io.out).toBe('removed server b (1 meeting placement(s) dropped)\n');
      expect(await store.servers.list()).toEqual([]);

      for (const verb of ['enable', 'cordon', 'disable', 'panic', 'remove']) {
        expect(await amphi('servers', verb, 'ghost')).toBe(1);
        expect(io.err).toBe('amphi servers: no server with id ghost\n');
      }
      expect(await amphi('servers', 'list')).toBe(0);
      expect(io.out).toMatch(/^No servers/);
    });
  });

  describe('Redis', () => {
    it('needs REDIS_URL: exit 2 and a message that says so, without starting anything', async () => {
      vi.stubEnv('REDIS_URL', '');
      for (const argv of [['servers', 'list'], ['tenants', 'list']]) {
        expect(await amphi(...argv)).toBe(2);
        expect(io.err).toMatch(/REDIS_URL is not set \(nor REDIS_SENTINELS\).*running Amphi/s);
        expect(io.out).toBe('');
      }
    });

    it('says which Redis it could not reach (password hidden): exit 1', async () => {
      const port = await closedPort();
      vi.stubEnv('REDIS_URL', `redis://:hunter2@127.0.0.1:${port}`);
      expect(await amphi('servers', 'list')).toBe(1);
      expect(io.err).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}`);
      expect(io.err).not.toContain('hunter2');
    });

    it('reports a bad setting with exit 2', async () => {
      vi.stubEnv('AMPHI_POOL', 'not a pool!');
      expect(await amphi('servers', 'list')).toBe(2);
      expect(io.err).toContain('AMPHI_POOL');
    });
  });

  describe('tenants', () => {
    it('adds, lists (masked), rotates a secret and removes a tenant', async () => {
      expect(await amphi('tenants', 'add', 'acad-lyon', '--secret', TENANT_SECRET, '--host', 'bbb.lyon.example', '--settings', '{"maxMeetings":20}'), io.err).toBe(0);
      expect(io.out).toContain('added tenant acad-lyon: 1 secret(s), host names bbb.lyon.example');
      expect(await store.tenants.get('acad-lyon')).toEqual({ name: 'acad-lyon', secrets: [TENANT_SECRET], hostnames: ['bbb.lyon.example'], settings: { maxMeetings: 20 } });

      expect(await amphi('tenants', 'list')).toBe(0);
      const lines = io.out.trimEnd().split('\n');
      expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'HOSTS', 'SECRETS', 'SETTINGS']);
      expect(lines[1]!.split(/\s+/)).toEqual(['acad-lyon', 'bbb.lyon.example', '****9876', '{"maxMeetings":20}']);
      expect(io.out).not.toContain(TENANT_SECRET);

      const next = 'next-tenant-secret-abcd-1111';
      expect(await amphi('tenants', 'secret', 'add', 'acad-lyon', '--secret', next)).toBe(0);
      expect(io.out).toContain('2 secret(s): ****9876, ****1111');
      expect(await amphi('tenants', 'secret', 'remove', 'acad-lyon', '--secret', TENANT_SECRET)).toBe(0);
      expect((await store.tenants.get('acad-lyon'))?.secrets).toEqual([next]);
      expect(await amphi('tenants', 'secret', 'remove', 'acad-lyon', '--secret', next)).toBe(1);
      expect(io.err).toContain('last secret');

      expect(await amphi('tenants', 'list', '--json')).toBe(0);
      expect(JSON.parse(io.out)).toEqual([{ name: 'acad-lyon', secrets: ['****1111'], hostnames: ['bbb.lyon.example'], settings: { maxMeetings: 20 } }]);
      expect(io.out).not.toContain(next);

      expect(await amphi('tenants', 'remove', 'acad-lyon')).toBe(0);
      expect(await store.tenants.list()).toEqual([]);
      expect(await amphi('tenants', 'remove', 'acad-lyon')).toBe(1);
      expect(io.err).toBe('amphi tenants: no tenant named acad-lyon\n');
    });

    it('refuses duplicates (1) and bad input (2)', async () => {
      expect(await amphi('tenants', 'add', 'a', '--secret', TENANT_SECRET)).toBe(0);
      expect(await amphi('tenants', 'add', 'a', '--secret', TENANT_SECRET)).toBe(1);
      expect(io.err).toContain('already exists');
      for (const argv of [
        ['tenants', 'add', 'b'],
        ['tenants', 'add', 'b', '--secret', 'short'],
        ['tenants', 'add', 'B!', '--secret', TENANT_SECRET],
        ['tenants', 'add', 'b', '--secret', TENANT_SECRET, '--settings', '{oops'],
        ['tenants', 'add', 'b', '--secret', TENANT_SECRET, '--host', 'https://b.example/'],
        ['tenants', 'secret', 'rotate', 'a'],
        ['tenants'],
      ]) {
        expect(await amphi(...argv), argv.join(' ')).toBe(2);
      }
      expect((await store.tenants.list()).map((x) => x.name)).toEqual(['a']);
    });
  });

  describe('token', () => {
    it('prints a token that the /admin API accepts, with the asked lifetime', async () => {
      expect(await amphi('token', '--expires', '10m', '--subject', 'alice')).toBe(0);
      const jwt = io.out.trim();
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({ sub: 'alice', scope: 'amphi:admin' });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(600);

      const app = Fastify({ logger: false });
      await registerAdminApi(app, { store, jwtSecret: JWT_SECRET });
      try {
        const ok = await app.inject({ method: 'GET', url: '/admin/servers', headers: { authorization: `Bearer ${jwt}` } });
        expect(ok.statusCode, ok.body).toBe(200);
        vi.stubEnv('AMPHI_JWT_SECRET', 'a-different-secret-of-the-right-size');
        expect(await amphi('token')).toBe(0);
        const foreign = await app.inject({ method: 'GET', url: '/admin/servers', headers: { authorization: `Bearer ${io.out.trim()}` } });
        expect(foreign.statusCode).toBe(401);
      } finally {
        await app.close();
      }
    });

    it('needs AMPHI_JWT_SECRET and a sane expiry (exit 2)', async () => {
      expect(await amphi('token', '--expires', 'forever')).toBe(2);
      expect(io.err).toContain('expiry "forever"');
      expect(await amphi('token', '--expires', '400d')).toBe(2);
      vi.stubEnv('AMPHI_JWT_SECRET', '');
      expect(await amphi('token')).toBe(2);
      expect(io.err).toContain('AMPHI_JWT_SECRET is not set');
      expect(io.out).toBe('');
    });
  });
});
