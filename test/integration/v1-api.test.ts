// The /v1 rooms API through the whole gateway (buildApp) on a simulated pool: authentication,
// problem details naming fields, rooms and links, ?quick=1, pagination, PATCH with null, the
// meeting a link's join creates (live counts, end, delete), the iCalendar invitation, and the
// room's forecast announcement.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/admin/token.js';
import { RoomMeetings } from '../../src/rooms/room-meetings.js';
import { linkKey, verifyLinkToken } from '../../src/rooms/link-token.js';
import { roomMeetingId } from '../../src/rooms/types.js';
import { MAX_OWNERS_PER_TENANT, MAX_ROOMS_PER_TENANT } from '../../src/rooms/types.js';
import { mintV1Token } from '../../src/rooms/v1-token.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

const JWT_SECRET = 'v1-api-test-jwt-secret-0123456789';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

describe('/v1 rooms API (gateway on a simulated pool)', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const token = (sub: string, role = 'teacher', tenant = 'acme', extra: { expiresIn?: number; audience?: string } = {}) =>
    mintV1Token(JWT_SECRET, { sub, role, tenant, ...extra });
  const alice = () => token('alice');

  beforeAll(async () => {
    pool = await startTestPool({ label: 'v1-api', env: { AMPHI_JWT_SECRET: JWT_SECRET, AMPHI_PUBLIC_URL: 'https://amphi.example.org' } });
    await pool.store.tenants.put({ name: 'acme', secrets: ['acme-secret-0123456789'], hostnames: [], settings: {} });
    await pool.store.tenants.put({ name: 'globex', secrets: ['globex-secret-0123456789'], hostnames: [], settings: {} });
    gw = await pool.startGateway();
  });
  afterAll(async () => pool.close());

  async function call(method: string, path: string, opts: { bearer?: string | null; body?: unknown; raw?: string; contentType?: string } = {}) {
    const bearer = opts.bearer === undefined ? alice() : opts.bearer;
    const headers: Record<string, string> = {};
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await fetch(`${gw.url}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    // The tests read many answer shapes; each is checked by its assertions.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as any };
  }

  function problem(res: Awaited<ReturnType<typeof call>>, status: number): Problem {
    expect(res.status, res.text).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = res.json() as Problem;
    expect(p).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    return p;
  }

  describe('authentication', () => {
    const forged = (claims: object, alg = 'HS256', secret = JWT_SECRET) => {
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const body = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
      if (alg === 'none') return `${body}.`;
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    };
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (over: object = {}) => ({ sub: 'alice', tenant: 'acme', role: 'teacher', iss: 'amphi', aud: 'amphi-v1', iat: now(), exp: now() + 600, jti: 'x', ...over });

    it('refuses a request without a token with 401, a Bearer challenge and a problem', async () => {
      const res = await call('GET', '/v1/rooms', { bearer: null });
      expect(problem(res, 401).detail).toMatch(/bearer token/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      // Unknown routes too: an anonymous caller learns nothing of what exists.
      problem(await call('GET', '/v1/nothing-here', { bearer: null }), 401);
    });

    it('refuses an admin token, a wrong audience, an expired token, alg none, a wrong key and bad claims', async () => {
      const cases: [string, string][] = [
        ['admin token', mintAdminToken(JWT_SECRET)],
        ['wrong aud', token('alice', 'teacher', 'acme', { audience: 'amphi-admin' })],
        ['expired', forged(claims({ iat: now() - 7200, exp: now() - 3600 }))],
        ['no exp', forged({ ...claims(), exp: undefined })],
        ['alg none', forged(claims(), 'none')],
        ['other key', forged(claims(), 'HS256', 'another-secret-0123456789')],
        ['no role', forged(claims({ role: 'root' }))],
        ['bad tenant', forged(claims({ tenant: 'Not A Tenant' }))],
        ['empty sub', forged(claims({ sub: '' }))],
        // Two subs differing in a lone surrogate would be one owner once decoded: no text, no caller.
        ['lone surrogate sub', forged(claims({ sub: 'kim\ud800' }))],
        ['decades', forged(claims({ exp: now() + 20 * 366 * 86400 }))],
      ];
      for (const [name, bearer] of cases) expect((await call('GET', '/v1/rooms', { bearer })).status, name).toBe(401);
      // And a /v1 token opens no /admin door.
      expect((await call('GET', '/admin/servers', { bearer: alice() })).status).toBe(401);
    });

    it('refuses a token of a tenant the gateway does not know with 403', async () => {
      problem(await call('GET', '/v1/rooms', { bearer: token('alice', 'teacher', 'initech') }), 403);
    });
  });

  describe('validation', () => {
    it('names the faulty fields', async () => {
      const p = problem(await call('POST', '/v1/rooms', { body: { title: '', expectedParticipants: 0, record: 'yes', colour: 'red' } }), 400);
      const fields = p.errors!.map((e) => e.field).sort();
      expect(fields).toEqual(['colour', 'expectedParticipants', 'record', 'title']);
      expect(p.detail).toMatch(/title/);
    });

    it('refuses an end before the start, a span over 24 h, a date without offset, a missing body, bad JSON, other media types', async () => {
      const start = new Date(Date.now() + 86_400_000);
      const iso = (d: Date) => d.toISOString();
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x', start: iso(start), end: iso(start) } }), 400).errors).toEqual([{ field: 'end', message: 'must be after start' }]);
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x', start: iso(start), end: iso(new Date(start.getTime() + 25 * 3_600_000)) } }), 400).errors![0]!.field).toBe('end');
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x', start: '2026-12-02T08:00:00' } }), 400).errors![0]!.field).toBe('start');
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x', end: iso(start) } }), 400).errors![0]!.field).toBe('end');
      expect(problem(await call('POST', '/v1/rooms', {}), 400).errors![0]!.field).toBe('body');
      problem(await call('POST', '/v1/rooms', { raw: '{"title":' }), 400);
      problem(await call('POST', '/v1/rooms', { raw: 'title=x', contentType: 'application/x-www-form-urlencoded' }), 415);
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'a\u0000b' } }), 400).errors![0]!.field).toBe('title');
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x'.repeat(201) } }), 400).errors![0]!.field).toBe('title');
      expect(problem(await call('GET', '/v1/rooms?limit=0'), 400).errors![0]!.field).toBe('limit');
      expect(problem(await call('GET', '/v1/rooms?limit=101'), 400).errors![0]!.field).toBe('limit');
      expect(problem(await call('GET', '/v1/rooms?cursor=zzz'), 400).errors![0]!.field).toBe('cursor');
    });

    it('refuses a lone UTF-16 surrogate in title, welcome and owner, naming the field', async () => {
      for (const [field, body] of [
        ['title', { title: 'Maths \ud800' }],
        ['welcome', { title: 'x', welcome: 'Bonjour \udc00' }],
      ] as const) {
        expect(problem(await call('POST', '/v1/rooms', { body }), 400).errors!.map((e) => e.field)).toContain(field);
      }
      const service = token('lms', 'service');
      expect(problem(await call('POST', '/v1/rooms', { bearer: service, body: { title: 'x', owner: 'kim\udbff' } }), 400).errors![0]!.field).toBe('owner');
      const room = (await call('POST', '/v1/rooms', { body: { title: 'ok' } })).json();
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { title: '\udfff' } }), 400).errors![0]!.field).toBe('title');
      // A pair is text: an emoji passes.
      expect((await call('POST', '/v1/rooms', { body: { title: 'Maths \u{1F600}' } })).status).toBe(201);
    });

    it('refuses a start or end outside 2000-01-01..9999-12-31 (UTC, after parsing), naming the field', async () => {
      for (const [field, body] of [
        ['start', { title: 'x', start: '1999-12-31T23:59:59Z' }],
        ['start', { title: 'x', start: '1969-12-31T23:00:00Z' }],
        ['start', { title: 'x', start: '2000-01-01T00:30:00+01:00' }],
        ['start', { title: 'x', start: '9999-12-31T23:59:59-12:00' }],
        ['end', { title: 'x', start: '9999-12-30T12:00:00Z', end: '9999-12-31T00:00:01Z' }],
      ] as const) {
        const p = problem(await call('POST', '/v1/rooms', { body }), 400);
        expect(p.errors![0], JSON.stringify(body)).toMatchObject({ field, message: expect.stringMatching(/2000-01-01T00:00:00Z and 9999-12-31T00:00:00Z/) });
      }
      // The bounds themselves are in, and read back as they went in.
      const first = await call('POST', '/v1/rooms', { body: { title: 'x', start: '2000-01-01T00:00:00Z' } });
      expect(first.status, first.text).toBe(201);
      const last = await call('POST', '/v1/rooms', { body: { title: 'x', start: '9999-12-30T23:00:00Z', end: '9999-12-31T00:00:00Z' } });
      expect(last.status, last.text).toBe(201);
      expect(last.json()).toMatchObject({ start: '9999-12-30T23:00:00.000Z', end: '9999-12-31T00:00:00.000Z' });
      const room = first.json();
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: '0001-01-01T00:00:00Z' } }), 400).errors![0]!.field).toBe('start');
    });

    it('refuses a profile the policy does not know with 422 naming profile', async () => {
      expect(problem(await call('POST', '/v1/rooms', { body: { title: 'x', profile: 'stadium' } }), 422).errors![0]!.field).toBe('profile');
    });

    it('keeps non-ASCII titles intact', async () => {
      const res = await call('POST', '/v1/rooms', { body: { title: 'Étude « Ωμέγα » 数学 \u{1F393}' } });
      expect(res.status).toBe(201);
      expect(res.json().title).toBe('Étude « Ωμέγα » 数学 \u{1F393}');
    });
  });

  describe('rooms', () => {
    it('creates a room (201, Location, full view) and reads it back', async () => {
      const start = Date.now() + 3_600_000;
      const res = await call('POST', '/v1/rooms', {
        body: { title: 'Maths 4e B', profile: 'classroom', expectedParticipants: 28, start: new Date(start).toISOString(), end: new Date(start + 5_400_000).toISOString(), welcome: 'Bonjour\nà tous', record: true },
      });
      expect(res.status, res.text).toBe(201);
      const room = res.json();
      expect(res.headers.get('location')).toBe(`/v1/rooms/${room.id}`);
      expect(room).toMatchObject({
        title: 'Maths 4e B',
        owner: 'alice',
        tenant: 'acme',
        profile: 'classroom',
        expectedParticipants: 28,
        expectedCameras: null,
        start: new Date(start).toISOString(),
        welcome: 'Bonjour\nà tous',
        record: true,
        state: 'idle',
        live: { participants: 0, moderators: 0, cameras: 0, listeners: 0 },
        links: [],
        inviteUrl: `https://amphi.example.org/v1/rooms/${room.id}/invite.ics`,
      });
      // An explicit profile keeps its limits; the expected size only sizes the reservation.
      expect(room.limits).toMatchObject({ profile: 'classroom', maxParticipants: 50, maxCameras: 30 });
      expect(room.limits.curve.length).toBeGreaterThan(1);
      expect((await call('GET', `/v1/rooms/${room.id}`)).json()).toEqual(room);
      // The room's start and size are in the scaler's forecast, under its meeting.
      const announced = await pool.store.announcements.overlapping(start, start + 1);
      expect(announced.find((a) => a.meetingID === roomMeetingId(room.id))).toMatchObject({ tenant: 'acme', startsAt: start, endsAt: start + 5_400_000, participants: 28 });
      // Moved an hour later, it is announced then; without a start, and once deleted, not at all.
      await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: new Date(start + 3_600_000).toISOString(), end: new Date(start + 7_200_000).toISOString() } });
      const mine = async () => (await pool.store.announcements.overlapping(start - 86_400_000, start + 86_400_000)).filter((a) => a.meetingID === roomMeetingId(room.id));
      expect((await mine()).map((a) => a.startsAt)).toEqual([start + 3_600_000]);
      await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: null, end: null } });
      expect(await mine()).toEqual([]);
      await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: new Date(start).toISOString() } });
      expect(await mine()).toHaveLength(1);
      expect((await call('DELETE', `/v1/rooms/${room.id}`)).status).toBe(204);
      expect(await mine()).toEqual([]);
    });

    it('?quick=1 answers the room with a moderator and a viewer link', async () => {
      const res = await call('POST', '/v1/rooms?quick=1', { body: { title: 'Réunion' } });
      expect(res.status, res.text).toBe(201);
      const { links, id } = res.json();
      expect(links.moderator).toMatchObject({ role: 'moderator', uses: 0, revoked: false, maxUses: null });
      expect(links.viewer).toMatchObject({ role: 'viewer' });
      const key = linkKey(JWT_SECRET);
      for (const l of [links.moderator, links.viewer]) {
        expect(l.url).toMatch(/^https:\/\/amphi\.example\.org\/j\//);
        const checked = verifyLinkToken(key, l.url.split('/j/')[1], Date.now());
        expect(checked).toEqual({ ok: true, linkId: l.id, expiresAt: Date.parse(l.expiresAt) });
        // Default expiry: 30 days.
        expect(Date.parse(l.expiresAt) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
      }
      // Both made in the same millisecond, maybe: links are listed by creation time, then by id.
      expect((await call('GET', `/v1/rooms/${id}`)).json().links.map((l: { id: string }) => l.id).sort()).toEqual([links.moderator.id, links.viewer.id].sort());
    });

    it('pages the caller rooms with an opaque cursor', async () => {
      const bearer = token('paging-teacher');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call('POST', '/v1/rooms', { bearer, body: { title: `p${i}` } })).json().id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = (await call('GET', `/v1/rooms?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { bearer })).json();
        seen.push(...page.items.map((r: { id: string }) => r.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
      const all = (await call('GET', '/v1/rooms', { bearer })).json();
      expect(all.items).toHaveLength(5);
      expect(all.nextCursor).toBeUndefined();
    });

    it('PATCH changes fields and null clears them; owner cannot be patched', async () => {
      const start = Date.now() + 7_200_000;
      const room = (await call('POST', '/v1/rooms', { body: { title: 'before', welcome: 'hi', expectedCameras: 3, start: new Date(start).toISOString() } })).json();
      const res = await call('PATCH', `/v1/rooms/${room.id}`, { body: { title: 'after', welcome: null, expectedCameras: null, record: true } });
      expect(res.status, res.text).toBe(200);
      expect(res.json()).toMatchObject({ title: 'after', welcome: null, expectedCameras: null, record: true, start: new Date(start).toISOString() });
      expect((await call('GET', `/v1/rooms/${room.id}`)).json().title).toBe('after');
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { owner: 'bob' } }), 400).errors![0]!.field).toBe('owner');
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { title: null } }), 400).errors![0]!.field).toBe('title');
      // An end checked against the stored start, and clearing the start with an end left is refused.
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { end: new Date(start - 1000).toISOString() } }), 400).errors![0]!.field).toBe('end');
      await call('PATCH', `/v1/rooms/${room.id}`, { body: { end: new Date(start + 1000).toISOString() } });
      expect(problem(await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: null } }), 400).errors![0]!.field).toBe('end');
      expect((await call('PATCH', `/v1/rooms/${room.id}`, { body: { start: null, end: null } })).json()).toMatchObject({ start: null, end: null });
    });

    it('answers 404 problems for unknown rooms, malformed IDs and unknown routes', async () => {
      problem(await call('GET', '/v1/rooms/rAAAAAAAAAAAAAAAAAAAAAA'), 404);
      problem(await call('GET', '/v1/rooms/..%2F..%2Fetc'), 404);
      problem(await call('DELETE', '/v1/rooms/nope'), 404);
      problem(await call('GET', '/v1/elsewhere'), 404);
    });

    it('lets a service create a room for another owner of its tenant; a teacher may not', async () => {
      const service = token('lms', 'service');
      const res = await call('POST', '/v1/rooms', { bearer: service, body: { title: 'for carol', owner: 'carol' } });
      expect(res.status).toBe(201);
      expect(res.json().owner).toBe('carol');
      problem(await call('POST', '/v1/rooms', { body: { title: 'x', owner: 'carol' } }), 403);
      // carol sees it; the service sees it in the tenant; a teacher of the tenant does not.
      expect((await call('GET', `/v1/rooms/${res.json().id}`, { bearer: token('carol') })).status).toBe(200);
      expect((await call('GET', `/v1/rooms/${res.json().id}`, { bearer: service })).status).toBe(200);
      problem(await call('GET', `/v1/rooms/${res.json().id}`), 404);
      // Another tenant's service sees nothing of it.
      problem(await call('GET', `/v1/rooms/${res.json().id}`, { bearer: token('svc', 'admin', 'globex') }), 404);
      // Owners are (tenant, sub): globex's carol is another person, with rooms of her own.
      const theirs = await call('POST', '/v1/rooms', { bearer: token('svc', 'admin', 'globex'), body: { title: 'globex carol', owner: 'carol' } });
      expect(theirs.status, theirs.text).toBe(201);
      expect(theirs.json()).toMatchObject({ owner: 'carol', tenant: 'globex' });
      const listed = await call('GET', '/v1/rooms', { bearer: token('carol', 'teacher', 'globex') });
      expect(listed.status, listed.text).toBe(200);
      expect(listed.json().items.map((r: { id: string }) => r.id)).toEqual([theirs.json().id]);
      expect((await call('GET', '/v1/rooms', { bearer: token('carol') })).json().items.map((r: { id: string }) => r.id)).toEqual([res.json().id]);
    });

    it("refuses a room over a tenant's room or owner cap with a 409 problem", async () => {
      const { redis, keys } = pool.store.ctx;
      // Fill the indexes as if the tenant had reached its caps (cheaper than so many rooms).
      const fill = async (key: string, count: number, add: (key: string, members: string[]) => Promise<unknown>) => {
        for (let from = 0; from < count; from += 10_000) await add(key, Array.from({ length: Math.min(10_000, count - from) }, (_, i) => `filler-${from + i}`));
      };
      await pool.store.tenants.put({ name: 'fullrooms', secrets: ['fullrooms-secret-0123456789'], hostnames: [], settings: {} });
      await pool.store.tenants.put({ name: 'fullowners', secrets: ['fullowners-secret-0123456789'], hostnames: [], settings: {} });
      try {
        await fill(keys.tenantRooms('fullrooms'), MAX_ROOMS_PER_TENANT, (key, ids) => redis.zadd(key, ...ids.flatMap((id) => [0, id])));
        await fill(keys.tenantOwners('fullowners'), MAX_OWNERS_PER_TENANT, (key, subs) => redis.sadd(key, ...subs));
        expect(problem(await call('POST', '/v1/rooms', { bearer: token('zoe', 'teacher', 'fullrooms'), body: { title: 'x' } }), 409).type).toMatch(/tenant-too-many-rooms$/);
        expect(problem(await call('POST', '/v1/rooms', { bearer: token('zoe', 'teacher', 'fullowners'), body: { title: 'x' } }), 409).type).toMatch(/tenant-too-many-owners$/);
        // An owner already counted still gets rooms (the owner cap holds back new owners only).
        expect((await call('POST', '/v1/rooms', { bearer: token('filler-7', 'teacher', 'fullowners'), body: { title: 'x' } })).status).toBe(201);
      } finally {
        await redis.del(keys.tenantRooms('fullrooms'), keys.tenantOwners('fullowners'));
      }
    });
  });

  describe('links, meetings and invitations', () => {
    it('makes links, revokes one, and lists it as revoked', async () => {
      const room = (await call('POST', '/v1/rooms', { body: { title: 'links' } })).json();
      const res = await call('POST', `/v1/rooms/${room.id}/links`, { body: { role: 'viewer', expiresIn: 3600, maxUses: 3 } });
      expect(res.status, res.text).toBe(201);
      const link = res.json();
      expect(link).toMatchObject({ role: 'viewer', maxUses: 3, uses: 0, revoked: false });
      expect(Math.abs(Date.parse(link.expiresAt) - Date.now() - 3_600_000)).toBeLessThan(10_000);
      expect(problem(await call('POST', `/v1/rooms/${room.id}/links`, { body: { role: 'owner' } }), 400).errors![0]!.field).toBe('role');
      expect(problem(await call('POST', `/v1/rooms/${room.id}/links`, { body: { role: 'viewer', expiresIn: 10 } }), 400).errors![0]!.field).toBe('expiresIn');
      expect((await call('DELETE', `/v1/rooms/${room.id}/links/${link.id}`)).status).toBe(204);
      problem(await call('DELETE', `/v1/rooms/${room.id}/links/AAAAAAAAAAAAAAAAAAAAAA`), 404);
      expect((await call('GET', `/v1/rooms/${room.id}`)).json().links).toEqual([{ ...link, revoked: true }]);
      expect(await pool.store.rooms.useLink(link.id, Date.now())).toEqual({ ok: false, reason: 'revoked' });
    });

    it('runs the meeting a join creates: live counts, end (409 once ended), delete', async () => {
      const room = (await call('POST', '/v1/rooms', { body: { title: 'live class', profile: 'classroom' } })).json();
      problem(await call('POST', `/v1/rooms/${room.id}/end`), 409);
      const stored = (await pool.store.rooms.get(room.id))!;
      const meetings = new RoomMeetings(gw.gateway);
      const joined = await meetings.join(stored, { name: 'Prof', role: 'moderator' }, { clientIp: '203.0.113.9', publicBase: 'https://amphi.example.org' });
      expect(joined.ok).toBe(true);
      // Follow the redirect as a browser would: the simulated server admits the user.
      const redirect = (joined as { redirect: string }).redirect;
      expect(redirect).toMatch(/\/join\?/);
      expect(new URL(redirect).searchParams.get('role')).toBe('MODERATOR');
      // Into the simulated HTML5 client: the user is inside once it loads.
      expect((await fetch(redirect)).status).toBe(200);
      const view = (await call('GET', `/v1/rooms/${room.id}`)).json();
      expect(view.state).toBe('running');
      expect(view.live).toMatchObject({ participants: 1, moderators: 1 });
      expect((await call('POST', `/v1/rooms/${room.id}/end`)).status).toBe(204);
      expect((await call('GET', `/v1/rooms/${room.id}`)).json().state).toBe('idle');
      problem(await call('POST', `/v1/rooms/${room.id}/end`), 409);

      // Running again, then deleted: the meeting ends and the room and links are gone.
      expect((await meetings.join(stored, { name: 'Prof', role: 'moderator' }, { clientIp: '203.0.113.9', publicBase: 'https://x' })).ok).toBe(true);
      const link = (await call('POST', `/v1/rooms/${room.id}/links`, { body: { role: 'viewer' } })).json();
      expect((await call('DELETE', `/v1/rooms/${room.id}`)).status).toBe(204);
      problem(await call('GET', `/v1/rooms/${room.id}`), 404);
      expect(await pool.store.rooms.getLink(link.id)).toBeUndefined();
      expect((await meetings.live(stored)).state).toBe('idle');
    });

    it('refuses a BBB client a meeting ID of the rooms', async () => {
      await expect(gw.client.create({ meetingID: roomMeetingId('rAAAAAAAAAAAAAAAAAAAAAA'), name: 'squat' })).rejects.toMatchObject({ messageKey: 'meetingIdReserved' });
    });

    it('serves an iCalendar invitation with a viewer link; 409 without a start', async () => {
      const plain = (await call('POST', '/v1/rooms', { body: { title: 'no date' } })).json();
      expect(problem(await call('GET', `/v1/rooms/${plain.id}/invite.ics`), 409).detail).toMatch(/room has no start/);

      const now = Date.now();
      // Forty days ahead, on the hour: past the default link lifetime, so the link made lasts longer.
      const start = Math.ceil((now + 40 * 86_400_000) / 3_600_000) * 3_600_000;
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const title = `Conseil de classe; 3e, « B » — ${'très long titre '.repeat(6)}\\fin`;
      const room = (await call('POST', '/v1/rooms', { body: { title, start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString() } })).json();
      const res = await call('GET', `/v1/rooms/${room.id}/invite.ics`);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      const ics = res.text;
      expect(ics.endsWith('\r\n')).toBe(true);
      for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
      const unfolded = ics.replace(/\r\n /g, '');
      expect(unfolded).toContain(`UID:${room.id}@amphi\r\n`);
      expect(unfolded).toContain(`DTSTART:${stamp(start)}\r\n`);
      expect(unfolded).toContain(`DTEND:${stamp(start + 3_600_000)}\r\n`);
      expect(stamp(start)).toMatch(/^\d{8}T\d{2}0000Z$/);
      expect(unfolded).toContain(`SUMMARY:${title.replace(/[;,\\]/g, (c) => `\\${c}`)}\r\n`);
      const url = /\r\nURL:(.*)\r\n/.exec(unfolded)![1]!;
      expect(unfolded).toContain(`DESCRIPTION:${url}\r\n`);
      // The viewer link it made lasts past the event.
      const view = (await call('GET', `/v1/rooms/${room.id}`)).json();
      const viewer = view.links.find((l: { url: string }) => l.url === url);
      expect(viewer.role).toBe('viewer');
      expect(Date.parse(viewer.expiresAt)).toBeGreaterThan(start + 3_600_000);
      expect(Date.parse(viewer.expiresAt) - now).toBeLessThanOrEqual(366 * 86_400_000);
      // A second download reuses it (same UID, same link).
      const again = (await call('GET', `/v1/rooms/${room.id}/invite.ics`)).text.replace(/\r\n /g, '');
      expect(/\r\nURL:(.*)\r\n/.exec(again)![1]).toBe(url);
      expect((await call('GET', `/v1/rooms/${room.id}`)).json().links).toHaveLength(1);
    });

    it('reuses one viewer link for an event further ahead than a link lives', async () => {
      const start = Date.now() + 400 * 86_400_000;
      const room = (await call('POST', '/v1/rooms', { body: { title: 'next year', start: new Date(start).toISOString() } })).json();
      const urls = new Set<string>();
      for (let i = 0; i < 3; i++) urls.add(/\r\nURL:(.*)\r\n/.exec((await call('GET', `/v1/rooms/${room.id}/invite.ics`)).text.replace(/\r\n /g, ''))![1]!);
      expect(urls.size).toBe(1);
      const links = (await call('GET', `/v1/rooms/${room.id}`)).json().links;
      expect(links).toHaveLength(1);
      // The longest a link may live.
      expect(Date.parse(links[0].expiresAt) - Date.now()).toBeGreaterThan(365 * 86_400_000);
    });
  });
});
