import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TOKEN_TTL_SECONDS, mintAdminToken } from '../../src/admin/token.js';
import { ADMIN_PREFIX, adminPlugin, registerAdminApi } from '../../src/api/admin/routes.js';
import { Store } from '../../src/state/store.js';
import { closedPort, startBbbStub, type BbbStub } from '../helpers/bbb-stub.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const JWT_SECRET = 'admin-api-test-jwt-secret-0123456789';
const BBB_SECRET = 'bbb-stub-secret-8f3a9c';
const TENANT_SECRET = 'tenant-secret-abcdefgh-1234';

type Method = 'GET' | 'POST' | 'DELETE';

describe('/admin API (real Redis, real JWT)', () => {
  let t: TestRedis;
  let store: Store;
  let app: FastifyInstance;
  let bbb: BbbStub;
  let token: string;

  beforeAll(async () => {
    bbb = await startBbbStub(BBB_SECRET);
  });
  afterAll(() => bbb.close());

  beforeEach(async () => {
    t = testRedis('admin-api');
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1) });
    app = Fastify({ logger: false });
    await registerAdminApi(app, { store, jwtSecret: JWT_SECRET, check: { timeoutMs: 2000, algorithm: 'sha256' } });
    await app.ready();
    token = mintAdminToken(JWT_SECRET);
    bbb.mode = 'bbb';
  });
  afterEach(async () => {
    await app.close();
    await t.cleanup();
  });

  function call(method: Method, url: string, body?: unknown, bearer: string | null = token): Promise<LightMyRequestResponse> {
    return app.inject({
      method,
      url,
      headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
      ...(body !== undefined && { payload: body as object }),
    });
  }

  /** Asserts an RFC 9457 problem with the status, and returns it. */
  function problem(res: LightMyRequestResponse, status: number): { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] } {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = res.json();
    expect(p).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    return p;
  }

  async function addChecked(extra: Record<string, unknown> = {}) {
    const res = await call('POST', '/admin/servers', { url: bbb.apiUrl, secret: BBB_SECRET, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  async function addUnchecked(port: number, extra: Record<string, unknown> = {}) {
    const res = await call('POST', '/admin/servers', { url: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: 'x', check: false, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  async function place(serverId: string, meetingID: string, tenant = 'default') {
    const out = await store.meetings.place({ tenant, meetingID, upstreamID: meetingID, need: 30, candidates: [serverId], sampled: 1, fadeMs: 600_000 });
    expect(out).toMatchObject({ server: serverId });
  }

  describe('authentication', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const HASHES: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
    /** Signs any header and claims with HMAC (the header's alg picks the hash; `none` signs nothing). */
    const forged = (claims: object, { secret = JWT_SECRET, alg = 'HS256', hash = HASHES[alg] }: { secret?: string; alg?: string; hash?: string } = {}): string => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const body = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
      return `${body}.${hash === undefined ? '' : createHmac(hash, secret).update(body).digest('base64url')}`;
    };
    /** The claims `amphi token` mints, with some replaced (undefined: left out). */
    const claims = (changes: Record<string, unknown> = {}): object => ({
      sub: 'ci',
      scope: 'amphi:admin',
      iss: 'amphi',
      aud: 'amphi-admin',
      iat: now(),
      exp: now() + 60,
      ...changes,
    });

    it.each([
      ['no Authorization header', null],
      ['a token signed with another key', mintAdminToken('some-other-secret-0123456789')],
      ['an expired token', mintAdminToken(JWT_SECRET, { expiresIn: 60, now: () => Date.now() - 3_600_000 })],
      ['garbage', 'not.a.jwt'],
      ['an unsigned (alg none) token', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ scope: 'amphi:admin', exp: now() + 60 })).toString('base64url')}.`],
    ])('answers 401 problem+json to %s, on every route and on unknown paths', async (_label, bearer) => {
      for (const [method, url] of [['GET', '/admin/servers'], ['POST', '/admin/servers'], ['DELETE', '/admin/tenants/x'], ['GET', '/admin/nope']] as const) {
        const res = await call(method, url, method === 'POST' ? { url: 'x' } : undefined, bearer);
        const p = problem(res, 401);
        expect(p.type).toBe('urn:amphi:problem:unauthorized');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      }
      expect(await store.servers.list()).toEqual([]);
    });

    it('answers 403 to a valid token without the admin scope', async () => {
      const p = problem(await call('GET', '/admin/servers', undefined, forged(claims({ sub: 'teacher', scope: undefined }))), 403);
      expect(p.detail).toContain('amphi:admin');
    });

    it('accepts a minted token and a hand-made HS256 one carrying the scope among others', async () => {
      expect((await call('GET', '/admin/servers')).statusCode).toBe(200);
      const handMade = forged(claims({ scope: 'read amphi:admin' }));
      expect((await call('GET', '/admin/servers', undefined, handMade)).statusCode).toBe(200);
    });

    it.each([
      ['no exp', () => forged(claims({ exp: undefined }))],
      ['exp past the clock tolerance', () => forged(claims({ iat: now() - 120, exp: now() - 60 }))],
      ['a string exp', () => forged(claims({ exp: String(now() + 60) }))],
      ['no iat', () => forged(claims({ iat: undefined }))],
      ['an iat in the future', () => forged(claims({ iat: now() + 3600, exp: now() + 3660 }))],
      ['a lifetime over 366 days', () => forged(claims({ exp: now() + MAX_TOKEN_TTL_SECONDS + 1 }))],
      ['no aud', () => forged(claims({ aud: undefined }))],
      ['another aud', () => forged(claims({ aud: 'amphi-admin-staging' }))],
      ['an aud list without ours', () => forged(claims({ aud: ['grafana', 'moodle'] }))],
      ['no iss', () => forged(claims({ iss: undefined }))],
      ['another iss', () => forged(claims({ iss: 'keycloak' }))],
      ['alg none, unsigned', () => forged(claims(), { alg: 'none', hash: undefined })],
      ['alg none, HS256 signature kept', () => forged(claims(), { alg: 'none', hash: 'sha256' })],
      ['alg HS512 with the same key', () => forged(claims(), { alg: 'HS512' })],
      ['alg HS384 with the same key', () => forged(claims(), { alg: 'HS384' })],
      ['alg HS256 in the header over an HS512 signature', () => forged(claims(), { alg: 'HS256', hash: 'sha512' })],
    ])('answers 401 problem+json to a token with %s', async (_label, bearer) => {
      const res = await call('GET', '/admin/servers', undefined, bearer());
      expect(problem(res, 401).type).toBe('urn:amphi:problem:unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="amphi-admin", error="invalid_token"');
    });

    it('accepts a few seconds of clock skew, and an aud list that names us', async () => {
      for (const changes of [{ iat: now() - 120, exp: now() - 5 }, { iat: now() + 5 }, { aud: ['grafana', 'amphi-admin'] }]) {
        const res = await call('GET', '/admin/servers', undefined, forged(claims(changes)));
        expect(res.statusCode, JSON.stringify(changes)).toBe(200);
      }
    });

    it('checks the configured issuer and audience, which minted tokens carry', async () => {
      const other = Fastify({ logger: false });
      await registerAdminApi(other, { store, jwtSecret: JWT_SECRET, issuer: 'amphi-prod', audience: 'amphi-prod-admin' });
      try {
        const get = (bearer: string) => other.inject({ method: 'GET', url: '/admin/servers', headers: { authorization: `Bearer ${bearer}` } });
        const minted = mintAdminToken(JWT_SECRET, { issuer: 'amphi-prod', audience: 'amphi-prod-admin' });
        expect(JSON.parse(Buffer.from(minted.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: 'amphi-prod', aud: 'amphi-prod-admin' });
        expect((await get(minted)).statusCode).toBe(200);
        expect((await get(token)).statusCode).toBe(401); // the defaults: another deployment's token
        expect((await get(mintAdminToken(JWT_SECRET, { issuer: 'amphi-prod' }))).statusCode).toBe(401);
      } finally {
        await other.close();
      }
    });

    it("leaves the rest of the app alone: its JSON parsing, 404s and another @fastify/jwt set-up", async () => {
      const other = Fastify({ logger: false });
      await other.register(fastifyJwt, { secret: 'the-v1-api-uses-another-key-0123' });
      other.post('/echo', async (request) => ({ got: request.body }));
      await registerAdminApi(other, { store, jwtSecret: JWT_SECRET });
      await other.ready();
      try {
        const echo = await other.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
        expect(echo.json()).toEqual({ got: { a: 1 } });
        expect((await other.inject({ method: 'GET', url: '/nope' })).headers['content-type']).not.toMatch(/problem/);
        const v1Token = other.jwt.sign({ scope: 'amphi:admin' });
        expect((await other.inject({ method: 'GET', url: '/admin/servers', headers: { authorization: `Bearer ${v1Token}` } })).statusCode).toBe(401);
        expect((await other.inject({ method: 'GET', url: '/admin/servers', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('refuses to register without a secret', async () => {
      const other = Fastify();
      await expect(other.register(adminPlugin, { prefix: ADMIN_PREFIX, store, jwtSecret: '' }).ready()).rejects.toThrow(/jwtSecret/);
      await other.close();
    });
  });

  describe('servers', () => {
    it('adds a server after a signed getMeetings succeeds: online, 201 with Location, secret masked', async () => {
      const res = await call('POST', '/admin/servers', { url: `${bbb.apiUrl}/`, secret: BBB_SECRET, size: 'large', tags: ['gpu', 'paris'] });
      expect(res.statusCode, res.body).toBe(201);
      const row = res.json();
      expect(row).toMatchObject({ url: bbb.apiUrl, state: 'enabled', health: 'online', capacity: 1000, sizeClass: 'large', managedBy: '', tags: ['gpu', 'paris'], meetings: 0 });
      expect(row.stateSince).toBe(row.addedAt);
      expect(res.headers.location).toBe(`/admin/servers/${row.id}`);
      expect(res.body).not.toContain(BBB_SECRET);
      expect(bbb.algorithms.at(-1)).toBe('sha256');
      const stored = await store.servers.require(row.id);
      expect(stored).toMatchObject({ secret: BBB_SECRET, capacity: 1000, sizeClass: 'large', managedBy: '', health: 'online' });
      expect((await call('GET', res.headers.location as string)).json()).toMatchObject({ id: row.id });
    });

    it('gives a bare host the BBB API path and defaults to the standard size', async () => {
      const base = bbb.apiUrl.replace('/bigbluebutton/api', '');
      const row = await addChecked({ url: base, capacity: undefined });
      expect(row.url).toBe(bbb.apiUrl);
      expect(row.capacity).toBe(500);
      expect(row.sizeClass).toBe('standard');
    });

    it('refuses a server that fails the check, with a reason, and stores nothing', async () => {
      const wrong = problem(await call('POST', '/admin/servers', { url: bbb.apiUrl, secret: 'wrong-secret' }), 422);
      expect(wrong.type).toBe('urn:amphi:problem:server-check-failed');
      expect(wrong.detail).toMatch(/checksum.*secret is wrong/);

      const port = await closedPort();
      const refused = problem(await call('POST', '/admin/servers', { url: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: 's' }), 422);
      expect(refused.detail).toContain('connection refused');

      bbb.mode = 'html';
      const notApi = problem(await call('POST', '/admin/servers', { url: bbb.apiUrl, secret: BBB_SECRET }), 422);
      expect(notApi.detail).toMatch(/not BBB XML.*\/bigbluebutton\/api/);
      expect(await store.servers.list()).toEqual([]);
    });

    it('adds an unchecked server offline, in the requested state', async () => {
      const port = await closedPort();
      const row = await addUnchecked(port, { capacity: 320, state: 'cordoned', id: 'edge-1' });
      expect(row).toMatchObject({ id: 'edge-1', health: 'offline', state: 'cordoned', capacity: 320, sizeClass: 'custom' });
    });

    it('stores the size class of a raw capacity that is one, else custom', async () => {
      const add = async (port: number, capacity: number) => {
        const res = await call('POST', '/admin/servers', { url: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: 'x', check: false, capacity });
        expect(res.statusCode, res.body).toBe(201);
        return res.json() as { id: string; sizeClass: string };
      };
      const small = await add(1, 250);
      const custom = await add(2, 251);
      expect([small.sizeClass, custom.sizeClass]).toEqual(['small', 'custom']);
      expect((await store.servers.require(small.id)).sizeClass).toBe('small');
      expect((await store.servers.require(custom.id)).sizeClass).toBe('custom');
    });

    it.each([
      ['a missing url', { secret: 's' }, 'url'],
      ['a non-http url', { url: 'ftp://127.0.0.1/bigbluebutton/api', secret: 's' }, 'url'],
      ['a url with credentials', { url: 'http://u:p@127.0.0.1/bigbluebutton/api', secret: 's' }, 'url'],
      ['a secret with spaces', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 'a b' }, 'secret'],
      ['capacity and size together', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', capacity: 10, size: 'small' }, 'capacity'],
      ['an unknown size', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', size: 'huge' }, 'size'],
      ['a string capacity', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', capacity: '500' }, 'capacity'],
      ['a negative capacity', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', capacity: -1 }, 'capacity'],
      ['a tag with a comma', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', tags: ['a,b'] }, 'tags.0'],
      ['an unknown state', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', state: 'on' }, 'state'],
      ['a misspelt key', { url: 'http://127.0.0.1:1/bigbluebutton/api', secret: 's', capcity: 5 }, ''],
      ['an array body', [1, 2], ''],
    ])('answers 400 with the offending field for %s', async (_label, body, path) => {
      const p = problem(await call('POST', '/admin/servers', body), 400);
      expect(p.type).toBe('urn:amphi:problem:invalid-input');
      expect(p.errors?.map((e) => e.path)).toContain(path);
      expect(await store.servers.list()).toEqual([]);
    });

    it('answers 400 to malformed JSON and 415 to a non-JSON body, never 500', async () => {
      const bad = await app.inject({
        method: 'POST', url: '/admin/servers', payload: '{"url": ',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      problem(bad, 400);
      const poisoned = await app.inject({
        method: 'POST', url: '/admin/tenants', payload: '{"name":"x","secrets":["aaaaaaaaaaaaaaaaaaaa"],"settings":{"__proto__":{"admin":true}}}',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      problem(poisoned, 400);
      const text = await app.inject({
        method: 'POST', url: '/admin/servers', payload: 'url=x',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      });
      problem(text, 415);
    });

    it('answers 409 to a duplicate URL or id', async () => {
      const first = await addChecked({ id: 'bbb-a' });
      const sameUrl = problem(await call('POST', '/admin/servers', { url: bbb.apiUrl, secret: BBB_SECRET, id: 'bbb-b' }), 409);
      expect(sameUrl.detail).toContain(first.id);
      const port = await closedPort();
      const sameId = problem(await call('POST', '/admin/servers', { url: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: 's', id: 'bbb-a', check: false }), 409);
      expect(sameId.detail).toContain('bbb-a');
      expect((await store.servers.list()).length).toBe(1);
    });

    it('lists servers with their counts and never their secrets', async () => {
      const a = await addChecked({ capacity: 400 });
      const b = await addUnchecked(await closedPort());
      await place(a.id, 'm1');
      await place(a.id, 'm2');
      await store.ctx.redis.hset(store.ctx.keys.server(a.id), { participants: 12, measuredLoad: 100 });
      const res = await call('GET', '/admin/servers');
      expect(res.statusCode).toBe(200);
      const rows = res.json() as Array<Record<string, unknown>>;
      expect(rows.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect(rows.find((r) => r.id === a.id)).toMatchObject({ meetings: 2, participants: 12, load: 100, capacity: 400, sizeClass: 'custom', managedBy: '', utilization: 0.25, state: 'enabled', health: 'online' });
      expect(rows.find((r) => r.id === b.id)).toMatchObject({ capacity: 500, sizeClass: 'standard', managedBy: '' });
      expect(rows.every((r) => typeof r.stateSince === 'number' && r.stateSince === r.addedAt)).toBe(true);
      expect(res.body).not.toContain(BBB_SECRET);
    });

    it('enables, cordons and disables; 404 for an unknown id or verb', async () => {
      const { id } = await addChecked();
      for (const [verb, state] of [['cordon', 'cordoned'], ['disable', 'disabled'], ['enable', 'enabled']] as const) {
        const res = await call('POST', `/admin/servers/${id}/${verb}`);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().state).toBe(state);
        expect((await store.servers.require(id)).state).toBe(state);
      }
      // An empty JSON body on a verb is no body, not a parse error.
      const empty = await app.inject({ method: 'POST', url: `/admin/servers/${id}/cordon`, payload: '', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      expect(empty.statusCode, empty.body).toBe(200);
      const p = problem(await call('POST', '/admin/servers/nope/enable'), 404);
      expect(p.detail).toContain('nope');
      problem(await call('POST', `/admin/servers/${id}/reboot`), 404);
      problem(await call('GET', '/admin/servers/nope'), 404);
      expect(await store.ctx.redis.exists(store.ctx.keys.server('nope'))).toBe(0);
    });

    it('refuses to remove a server with meetings (409), removes it with force or once empty', async () => {
      const a = await addChecked();
      const b = await addUnchecked(await closedPort());
      await place(a.id, 'busy');
      const p = problem(await call('DELETE', `/admin/servers/${a.id}`), 409);
      expect(p.detail).toMatch(/1 meeting/);
      expect(await store.servers.get(a.id)).toBeDefined();

      const forced = await call('DELETE', `/admin/servers/${a.id}?force=true`);
      expect(forced.statusCode, forced.body).toBe(200);
      expect(forced.json()).toEqual({ id: a.id, forgottenMeetings: 1 });
      expect(await store.meetings.get('default', 'busy')).toBeUndefined();

      expect((await call('DELETE', `/admin/servers/${b.id}`)).json()).toEqual({ id: b.id, forgottenMeetings: 0 });
      expect(await store.servers.list()).toEqual([]);
      problem(await call('DELETE', `/admin/servers/${b.id}`), 404);
      problem(await call('DELETE', `/admin/servers/x?force=maybe`), 400);
    });

    it("panics a server: disabled, its placements forgotten, so the next create goes elsewhere", async () => {
      const a = await addChecked({ id: 'a' });
      const b = await addUnchecked(await closedPort(), { id: 'b' });
      await store.servers.setHealth(b.id, 'online');
      await place(a.id, 'm1');
      await place(a.id, 'm2', 'acad');
      await place(b.id, 'stays');
      const res = await call('POST', `/admin/servers/${a.id}/panic`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ server: { id: a.id, state: 'disabled', meetings: 0 }, forgottenMeetings: 2 });
      expect(await store.meetings.get('default', 'm1')).toBeUndefined();
      expect(await store.meetings.get('acad', 'm2')).toBeUndefined();
      expect(await store.ctx.redis.hlen(store.ctx.keys.reservations(a.id))).toBe(0);
      expect((await store.meetings.get('default', 'stays'))?.server).toBe(b.id);
      // The next create of m1 is a new placement, on the other server.
      const again = await store.meetings.place({ tenant: 'default', meetingID: 'm1', upstreamID: 'm1', need: 30, candidates: [b.id], sampled: 1, fadeMs: 600_000 });
      expect(again).toMatchObject({ outcome: 'placed', server: b.id });
      problem(await call('POST', '/admin/servers/nope/panic'), 404);
    });
  });

  describe('tenants', () => {
    const tenant = { name: 'acad-lyon', secrets: [TENANT_SECRET], hostnames: ['BBB.Lyon.example'], settings: { maxMeetings: 50 } };

    it('adds a tenant (201) and lists it with masked secrets only', async () => {
      const res = await call('POST', '/admin/tenants', tenant);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers.location).toBe('/admin/tenants/acad-lyon');
      expect(res.json()).toEqual({ name: 'acad-lyon', secrets: ['****1234'], hostnames: ['bbb.lyon.example'], settings: { maxMeetings: 50 } });
      expect(await store.tenants.get('acad-lyon')).toMatchObject({ secrets: [TENANT_SECRET], hostnames: ['bbb.lyon.example'] });
      const list = await call('GET', '/admin/tenants');
      expect(list.json()).toEqual([res.json()]);
      expect(list.body).not.toContain(TENANT_SECRET);
      expect((await call('GET', '/admin/tenants/acad-lyon')).json()).toEqual(res.json());
      problem(await call('GET', '/admin/tenants/nobody'), 404);
    });

    it.each([
      ['a bad name', { ...tenant, name: 'Acad Lyon' }, 'name'],
      ['no secret', { ...tenant, secrets: [] }, 'secrets'],
      ['a short secret', { ...tenant, secrets: ['short'] }, 'secrets.0'],
      ['a duplicate secret', { ...tenant, secrets: [TENANT_SECRET, TENANT_SECRET] }, 'secrets'],
      ['a host with a port', { ...tenant, hostnames: ['bbb.example:443'] }, 'hostnames.0'],
      ['settings that are not an object', { ...tenant, settings: [1] }, 'settings'],
      ['an unknown key', { ...tenant, secret: 'x' }, ''],
    ])('answers 400 to %s', async (_label, body, path) => {
      const p = problem(await call('POST', '/admin/tenants', body), 400);
      expect(p.errors?.map((e) => e.path)).toContain(path);
      expect(await store.tenants.list()).toEqual([]);
    });

    it('answers 409 to an existing name or a host name of another tenant', async () => {
      await call('POST', '/admin/tenants', tenant);
      problem(await call('POST', '/admin/tenants', tenant), 409);
      const p = problem(await call('POST', '/admin/tenants', { ...tenant, name: 'other' }), 409);
      expect(p.detail).toMatch(/bbb\.lyon\.example.*acad-lyon/);
    });

    it('rotates secrets: add, remove, never the last one', async () => {
      await call('POST', '/admin/tenants', tenant);
      const next = 'the-next-secret-zzzz-5678';
      const added = await call('POST', '/admin/tenants/acad-lyon/secrets', { secret: next });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json().secrets).toEqual(['****1234', '****5678']);
      problem(await call('POST', '/admin/tenants/acad-lyon/secrets', { secret: next }), 409);
      problem(await call('POST', '/admin/tenants/acad-lyon/secrets', { secret: 'short' }), 400);
      const removed = await call('DELETE', '/admin/tenants/acad-lyon/secrets', { secret: TENANT_SECRET });
      expect(removed.json().secrets).toEqual(['****5678']);
      expect((await store.tenants.get('acad-lyon'))?.secrets).toEqual([next]);
      problem(await call('DELETE', '/admin/tenants/acad-lyon/secrets', { secret: next }), 409);
      problem(await call('DELETE', '/admin/tenants/acad-lyon/secrets', { secret: 'never-was-a-secret-here' }), 404);
      problem(await call('POST', '/admin/tenants/nobody/secrets', { secret: next }), 404);
    });

    it('removes a tenant without meetings; 409 while it has some; 404 when unknown', async () => {
      await call('POST', '/admin/tenants', tenant);
      const { id } = await addChecked();
      await place(id, 'class-1', 'acad-lyon');
      problem(await call('DELETE', '/admin/tenants/acad-lyon'), 409);
      await store.meetings.forget('acad-lyon', 'class-1', id);
      const res = await call('DELETE', '/admin/tenants/acad-lyon');
      expect(res.statusCode, res.body).toBe(200);
      expect(await store.tenants.get('acad-lyon')).toBeUndefined();
      problem(await call('DELETE', '/admin/tenants/acad-lyon'), 404);
      problem(await call('DELETE', '/admin/tenants/NOT_A_NAME'), 400);
    });
  });

  describe('meetings', () => {
    it('lists meetings, all or one tenant’s; 400 for a bad tenant name', async () => {
      const { id } = await addChecked();
      await place(id, 'a', 'default');
      await place(id, 'b', 'acad');
      const all = (await call('GET', '/admin/meetings')).json() as Array<{ tenant: string; meetingID: string; server: string }>;
      expect(all.map((m) => `${m.tenant}/${m.meetingID}@${m.server}`)).toEqual([`acad/b@${id}`, `default/a@${id}`]);
      const one = (await call('GET', '/admin/meetings?tenant=acad')).json();
      expect(one).toMatchObject([{ tenant: 'acad', meetingID: 'b', status: 'creating', reserved: 30 }]);
      problem(await call('GET', '/admin/meetings?tenant=Bad%20Name'), 400);
      problem(await call('GET', '/admin/meetings?tenant=a&tenant=b'), 400);
    });
  });
});
