// `amphi token --role …` (a /v1 token the API accepts) and `amphi owners move|show`, in-process
// through the real dispatcher, against the test Redis under a pool of their own.
import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/dispatch.js';
import { newRoomId } from '../../src/rooms/ids.js';
import type { Room } from '../../src/rooms/types.js';
import { principalOf } from '../../src/rooms/v1-token.js';
import { Store } from '../../src/state/store.js';
import { capture } from '../helpers/cli-io.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';

const JWT_SECRET = 'owners-cli-test-jwt-secret-abcdef';

describe('amphi token --role / amphi owners (real Redis)', () => {
  let t: TestRedis;
  let pool: string;
  let store: Store;
  let io: ReturnType<typeof capture>;

  beforeEach(() => {
    t = testRedis('owners-cli');
    pool = `cli-${randomBytes(4).toString('hex')}`;
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', t.url);
    vi.stubEnv('AMPHI_POOL', pool);
    vi.stubEnv('AMPHI_JWT_SECRET', JWT_SECRET);
    store = new Store(t.redis, { pool });
    io = capture();
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

  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  describe('token --role', () => {
    it('prints a /v1 token with the role, tenant, sub, /v1 audience and asked lifetime', async () => {
      expect(await amphi('token', '--role', 'teacher', '--tenant', 'acme', '--sub', 'alice@ac-lyon.fr', '--ttl', '30d'), io.err).toBe(0);
      const token = io.out.trim();
      const claims = claimsOf(token);
      expect(claims).toMatchObject({ role: 'teacher', tenant: 'acme', sub: 'alice@ac-lyon.fr', iss: 'amphi', aud: 'amphi-v1' });
      expect((claims.exp as number) - (claims.iat as number)).toBe(30 * 86_400);
      expect(principalOf(claims)).toEqual({ role: 'teacher', tenant: 'acme', sub: 'alice@ac-lyon.fr' });
      // HS256 under AMPHI_JWT_SECRET.
      const [header, payload, signature] = token.split('.') as [string, string, string];
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(signature).toBe(createHmac('sha256', JWT_SECRET).update(`${header}.${payload}`).digest('base64url'));
    });

    it('uses the default tenant and AMPHI_V1_AUDIENCE; without --role it is still the admin token', async () => {
      vi.stubEnv('AMPHI_V1_AUDIENCE', 'rooms-prod');
      expect(await amphi('token', '--role', 'service', '--sub', 'moodle')).toBe(0);
      expect(claimsOf(io.out.trim())).toMatchObject({ role: 'service', tenant: 'default', aud: 'rooms-prod' });
      expect(await amphi('token')).toBe(0);
      expect(claimsOf(io.out.trim())).toMatchObject({ scope: 'amphi:admin', aud: 'amphi-admin' });
    });

    it('refuses a bad role, tenant, sub or lifetime, and mixed options, with exit code 2', async () => {
      for (const argv of [
        ['--role', 'root', '--sub', 'a'],
        ['--role', 'teacher'],
        ['--role', 'teacher', '--sub', ''],
        ['--role', 'teacher', '--sub', 'x'.repeat(201)],
        ['--role', 'teacher', '--sub', 'a', '--tenant', 'Bad Tenant'],
        ['--role', 'teacher', '--sub', 'a', '--ttl', '400d'],
        ['--role', 'teacher', '--sub', 'a', '--ttl', '1d', '--expires', '1d'],
        ['--role', 'teacher', '--sub', 'a', '--subject', 'b'],
        ['--sub', 'a'],
      ]) {
        expect(await amphi('token', ...argv), argv.join(' ')).toBe(2);
        expect(io.out).toBe('');
        expect(io.err).toMatch(/^amphi token: /);
      }
    });

    it('documents --role, --tenant, --sub and --ttl in its help', async () => {
      expect(await amphi('token', '--help')).toBe(0);
      for (const opt of ['--role', '--tenant', '--sub', '--ttl']) expect(io.out).toContain(opt);
    });
  });

  describe('owners', () => {
    const room = (owner: string, tenant: string): Room => ({ id: newRoomId(), owner, tenant, title: 't', record: false, createdAt: Date.now(), updatedAt: Date.now() });

    it('moves an owner and their rooms to a known tenant', async () => {
      await store.tenants.put({ name: 'globex', secrets: ['globex-secret-0123456789'], hostnames: [], settings: {} });
      const rooms = [room('alice', 'acme'), room('alice', 'acme')];
      for (const r of rooms) await store.rooms.create(r);
      expect(await amphi('owners', 'show', 'alice')).toBe(0);
      expect(io.out).toBe('owner alice belongs to acme, with 2 room(s)\n');
      expect(await amphi('owners', 'move', 'alice', '--to', 'globex'), io.err).toBe(0);
      expect(io.out).toBe('moved owner alice from acme to globex with 2 room(s)\n');
      expect(await store.rooms.ownerTenant('alice')).toBe('globex');
      for (const r of rooms) expect((await store.rooms.get(r.id))?.tenant).toBe('globex');
      expect(await amphi('owners', 'move', 'alice', '--to', 'globex')).toBe(0);
      expect(io.out).toMatch(/already belongs to globex/);
      // Back to the default tenant, which always exists.
      expect(await amphi('owners', 'move', 'alice', '--to', 'default')).toBe(0);
      expect(await store.rooms.ownerTenant('alice')).toBe('default');
    });

    it('refuses an unknown tenant, an unknown owner, and bad arguments', async () => {
      await store.rooms.create(room('bob', 'acme'));
      expect(await amphi('owners', 'move', 'bob', '--to', 'initech')).toBe(1);
      expect(io.err).toMatch(/no tenant named "initech"/);
      expect(await store.rooms.ownerTenant('bob')).toBe('acme');
      expect(await amphi('owners', 'move', 'nobody', '--to', 'default')).toBe(1);
      expect(io.err).toMatch(/no owner "nobody"/);
      expect(await amphi('owners', 'move', 'bob')).toBe(2);
      expect(await amphi('owners', 'move', '--to', 'default')).toBe(2);
      expect(await amphi('owners', 'move', 'bob', '--to', 'Not Valid')).toBe(2);
      expect(await amphi('owners', 'show', 'nobody')).toBe(1);
    });

    it('moves the owner of a sub from the tenant --from names when several tenants have one; never merges two', async () => {
      await store.tenants.put({ name: 'globex', secrets: ['globex-secret-0123456789'], hostnames: [], settings: {} });
      await store.tenants.put({ name: 'initech', secrets: ['initech-secret-0123456789'], hostnames: [], settings: {} });
      const inAcme = room('carol', 'acme');
      const inGlobex = room('carol', 'globex');
      await store.rooms.create(inAcme);
      await store.rooms.create(inGlobex);
      expect(await amphi('owners', 'show', 'carol')).toBe(0);
      expect(io.out).toBe('owner carol belongs to acme, with 1 room(s)\nowner carol belongs to globex, with 1 room(s)\n');
      // Two carols: which one is the operator's to say.
      expect(await amphi('owners', 'move', 'carol', '--to', 'initech')).toBe(2);
      expect(io.err).toMatch(/several tenants have an owner "carol" \(acme, globex\): name the one to move with --from TENANT/);
      // Into a tenant that has its own carol: refused, nothing merged.
      expect(await amphi('owners', 'move', 'carol', '--to', 'globex')).toBe(1);
      expect(io.err).toMatch(/globex already has an owner "carol".*not merged/);
      expect(await amphi('owners', 'move', 'carol', '--to', 'globex', '--from', 'acme')).toBe(1);
      expect((await store.rooms.get(inAcme.id))?.tenant).toBe('acme');
      expect(await amphi('owners', 'move', 'carol', '--to', 'initech', '--from', 'initech')).toBe(1);
      expect(io.err).toMatch(/no owner "carol" in initech/);
      expect(await amphi('owners', 'move', 'carol', '--to', 'initech', '--from', 'acme'), io.err).toBe(0);
      expect(io.out).toBe('moved owner carol from acme to initech with 1 room(s)\n');
      expect(await store.rooms.ownerTenants('carol')).toEqual(['globex', 'initech']);
      expect((await store.rooms.get(inGlobex.id))?.tenant).toBe('globex');
      expect(await amphi('owners', 'move', 'carol', '--to', 'acme', '--from', 'Bad Tenant')).toBe(2);
    });

    it('has a usage', async () => {
      expect(await amphi('owners', '--help')).toBe(0);
      expect(io.out).toMatch(/^Usage: amphi owners/);
      expect(io.out).toContain('move SUB --to TENANT [--from TENANT]');
    });
  });
});
