// Isolation of teachers' rooms (issue #11), proved by trying: every verb of /v1 on another
// tenant's room and on another teacher's room, by teachers and by services; the same `sub` in two
// tenants; tokens of the wrong kind or crafted by an attacker; BBB API clients reaching for room
// meetings; crafted IDs in paths. A refusal must teach nothing: another tenant's room answers
// exactly what a room that does not exist answers.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { mintAdminToken } from '../../src/admin/token.js';
import { BbbClientError } from '../../src/bbb/client.js';
import { ROOM_MEETING_PREFIX, roomMeetingId } from '../../src/rooms/types.js';
import { toUpstreamId } from '../../src/state/namespace.js';
import type { TestGateway, TestPool } from '../helpers/gateway.js';
import { startRoomsPool } from '../helpers/rooms-pool.js';
import { rawRequest } from '../helpers/raw-http.js';
import {
  joinThrough,
  signJwt,
  v1Call,
  v1Claims,
  v1Client,
  v1Token,
  type JsonAnswer,
  type LinkView,
  type ProblemView,
  type RoomList,
  type RoomView,
  type V1Client,
  type V1Identity,
} from '../helpers/v1-client.js';

const JWT_SECRET = 'rooms-isolation-jwt-secret-0123456789';
const ACME_SECRET = 'acme-bbb-secret-0123456789abcdef';
const GLOBEX_SECRET = 'globex-bbb-secret-0123456789abcd';
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 60);

const ALICE: V1Identity = { sub: 'alice', tenant: 'acme', role: 'teacher' };
const ALBERT: V1Identity = { sub: 'albert', tenant: 'acme', role: 'teacher' };
const BOB: V1Identity = { sub: 'bob', tenant: 'globex', role: 'teacher' };
const ACME_LMS: V1Identity = { sub: 'lms.acme', tenant: 'acme', role: 'service' };
const ACME_ADMIN: V1Identity = { sub: 'it.acme', tenant: 'acme', role: 'admin' };

/** A problem+json answer with its status in the body too. */
function expectProblem(answer: JsonAnswer, statuses: number[]): void {
  expect(statuses, `${answer.status} ${answer.text.slice(0, 300)}`).toContain(answer.status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  const problem = answer.body as ProblemView;
  expect(problem.status).toBe(answer.status);
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
}

/** What a refusal says, with the ID asked for blanked: a stranger's room and no room must read the same. */
const said = (answer: JsonAnswer, ...ids: string[]): unknown => {
  let text = answer.text;
  for (const id of ids) text = text.split(id).join('<id>');
  return { status: answer.status, type: answer.contentType, body: JSON.parse(text) as unknown };
};

describe('rooms isolation', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const as = (who: V1Identity): V1Client => v1Client(gw.url, v1Token(JWT_SECRET, who));
  let alice: V1Client;
  let bob: V1Client;
  /** Bob's room (globex), with a start and end so that its invite.ics exists, and a link. */
  let bobRoom: RoomView;
  let bobLink: LinkView;
  /** Albert's room (acme, another teacher of alice's tenant). */
  let albertRoom: RoomView;
  let albertLink: LinkView;
  let aliceRoom: RoomView;

  beforeAll(async () => {
    ({ pool, gw } = await startRoomsPool('rooms-isolation', JWT_SECRET, { acme: ACME_SECRET, globex: GLOBEX_SECRET }));
    alice = as(ALICE);
    bob = as(BOB);
    const start = new Date(Date.now() + 86_400_000);
    const made = async (client: V1Client, title: string): Promise<RoomView> => {
      const answer = await client.post<RoomView>('/v1/rooms', {
        title,
        start: start.toISOString(),
        end: new Date(start.getTime() + 3_600_000).toISOString(),
      });
      expect(answer.status, answer.text).toBe(201);
      return answer.body;
    };
    const link = async (client: V1Client, room: RoomView): Promise<LinkView> => {
      const answer = await client.post<LinkView>(`/v1/rooms/${room.id}/links`, { role: 'viewer' });
      expect(answer.status, answer.text).toBe(201);
      return answer.body;
    };
    bobRoom = await made(bob, 'Globex secret meeting');
    bobLink = await link(bob, bobRoom);
    albertRoom = await made(as(ALBERT), 'Albert private class');
    albertLink = await link(as(ALBERT), albertRoom);
    aliceRoom = await made(alice, 'Alice class');
  });
  afterAll(() => pool.close());

  /** Every verb on one room, as `client`, `linkId` naming one of its links. */
  const everyVerb = (client: V1Client, roomId: string, linkId: string) => [
    ['GET room', () => client.get(`/v1/rooms/${roomId}`)],
    ['PATCH room', () => client.patch(`/v1/rooms/${roomId}`, { title: 'Pwned' })],
    ['POST link', () => client.post(`/v1/rooms/${roomId}/links`, { role: 'moderator' })],
    ['DELETE link', () => client.delete(`/v1/rooms/${roomId}/links/${linkId}`)],
    ['POST end', () => client.post(`/v1/rooms/${roomId}/end`)],
    ['GET invite.ics', () => client.get(`/v1/rooms/${roomId}/invite.ics`)],
    ['DELETE room', () => client.delete(`/v1/rooms/${roomId}`)],
  ] as const;

  /** The room and its link are as their owner left them. */
  async function expectUntouched(owner: V1Client, room: RoomView, link: LinkView): Promise<void> {
    const now = await owner.get<RoomView>(`/v1/rooms/${room.id}`);
    expect(now.status, now.text).toBe(200);
    expect(now.body.title).toBe(room.title);
    expect(now.body.updatedAt).toBe(room.updatedAt);
    expect(now.body.links.map((l) => [l.id, l.role, l.revoked])).toEqual([[link.id, 'viewer', false]]);
  }

  for (const [who, victim] of [
    ['a teacher of another tenant', 'bob'],
    ['another teacher of the same tenant', 'albert'],
  ] as const) {
    it(`${who} can neither read, patch, link, revoke, end, delete nor fetch the invite of a room, and learns nothing`, async () => {
      const room = victim === 'bob' ? bobRoom : albertRoom;
      const link = victim === 'bob' ? bobLink : albertLink;
      const nowhere = `r${randomBytes(16).toString('base64url')}`;
      const verbs = everyVerb(alice, room.id, link.id);
      const control = everyVerb(alice, nowhere, link.id);
      for (let i = 0; i < verbs.length; i++) {
        const [verb, call] = verbs[i]!;
        const answer = await call();
        expectProblem(answer, [404]);
        expect(answer.text, verb).not.toContain(room.title);
        // Word for word what a room that does not exist answers.
        expect(said(answer, room.id), verb).toEqual(said(await control[i]![1](), nowhere));
      }
      // Revoking the victim's link through one's own room does not work either.
      expectProblem(await alice.delete(`/v1/rooms/${aliceRoom.id}/links/${link.id}`), [404]);
      const listed = await alice.get<RoomList>('/v1/rooms?limit=100');
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((r) => r.id)).toEqual([aliceRoom.id]);
      await expectUntouched(victim === 'bob' ? bob : as(ALBERT), room, link);
    });
  }

  it('the owner can do each of those (the refusals above are not an API that never works)', async () => {
    const ics = await request(`${gw.url}/v1/rooms/${aliceRoom.id}/invite.ics`, { headers: { authorization: `Bearer ${v1Token(JWT_SECRET, ALICE)}` } });
    expect(ics.statusCode).toBe(200);
    expect(String(ics.headers['content-type'])).toMatch(/^text\/calendar/);
    expect(await ics.body.text()).toContain(`UID:${aliceRoom.id}@amphi`);
    const patched = await alice.patch<RoomView>(`/v1/rooms/${aliceRoom.id}`, { title: 'Alice class (moved)' });
    expect(patched.status, patched.text).toBe(200);
    const link = await alice.post<LinkView>(`/v1/rooms/${aliceRoom.id}/links`, { role: 'moderator' });
    expect(link.status).toBe(201);
    expect((await alice.delete(`/v1/rooms/${aliceRoom.id}/links/${link.body.id}`)).status).toBe(204);
    expectProblem(await alice.post(`/v1/rooms/${aliceRoom.id}/end`), [409]); // not running: a conflict, not a 404
  });

  it('a service token of a tenant sees all of its rooms and none of another; it cannot create a room for an owner of another tenant', async () => {
    const lms = as(ACME_LMS);
    const listed = await lms.get<RoomList>('/v1/rooms?limit=100');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((r) => r.id).sort()).toEqual([albertRoom.id, aliceRoom.id].sort());
    expect((await lms.get(`/v1/rooms/${albertRoom.id}`)).status).toBe(200);
    for (const [verb, call] of everyVerb(lms, bobRoom.id, bobLink.id)) {
      const answer = await call();
      expectProblem(answer, [404]);
      expect(answer.text, verb).not.toContain(bobRoom.title);
    }
    // It cannot make a room in globex, nor one for globex's bob: "bob" named by acme's service is
    // acme's bob, another person, who gets the room; globex's bob gets nothing.
    expectProblem(await lms.post('/v1/rooms', { title: 'In globex', tenant: 'globex' }), [400]);
    const forBob = await lms.post<RoomView>('/v1/rooms', { title: 'For Bob', owner: 'bob' });
    expect(forBob.status, forBob.text).toBe(201);
    expect(forBob.body).toMatchObject({ owner: 'bob', tenant: 'acme' });
    const bobs = await bob.get<RoomList>('/v1/rooms?limit=100');
    expect(bobs.body.items.map((r) => r.id)).toEqual([bobRoom.id]);
    expectProblem(await bob.get(`/v1/rooms/${forBob.body.id}`), [404]);
    expectProblem(await bob.post(`/v1/rooms/${forBob.body.id}/links`, { role: 'moderator' }), [404]);
    const acmeBob = as({ sub: 'bob', tenant: 'acme', role: 'teacher' });
    expect((await acmeBob.get<RoomList>('/v1/rooms')).body.items.map((r) => r.id)).toEqual([forBob.body.id]);
    expectProblem(await acmeBob.get(`/v1/rooms/${bobRoom.id}`), [404]);
    expect(await pool.store.rooms.ownerTenants('bob')).toEqual(['acme', 'globex']);
    expect((await lms.delete(`/v1/rooms/${forBob.body.id}`)).status).toBe(204);
    // A tenant admin sees the tenant, not more.
    const admin = await as(ACME_ADMIN).get<RoomList>('/v1/rooms?limit=100');
    expect(admin.body.items.map((r) => r.tenant)).not.toContain('globex');
    expect((await as(ACME_ADMIN).get(`/v1/rooms/${bobRoom.id}`)).status).toBe(404);
    // A teacher may not speak for someone else.
    const impostor = await alice.post('/v1/rooms', { title: 'As Albert', owner: 'albert' });
    expectProblem(impostor, [400, 403]);
  });

  it('the same sub in two tenants is two people: each has their own rooms, neither reaches the other’s', async () => {
    const inAcme = as({ sub: 'claire', tenant: 'acme', role: 'teacher' });
    const inGlobex = as({ sub: 'claire', tenant: 'globex', role: 'teacher' });
    const made = await inAcme.post<RoomView>('/v1/rooms', { title: 'Claire acme' });
    expect(made.status).toBe(201);
    const link = await inAcme.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
    const nowhere = `r${randomBytes(16).toString('base64url')}`;
    const control = everyVerb(inGlobex, nowhere, link.body.id);
    const verbs = everyVerb(inGlobex, made.body.id, link.body.id);
    for (let i = 0; i < verbs.length; i++) {
      const [verb, call] = verbs[i]!;
      const answer = await call();
      expectProblem(answer, [404]);
      expect(answer.text, verb).not.toContain('Claire acme');
      expect(said(answer, made.body.id), verb).toEqual(said(await control[i]![1](), nowhere));
    }
    const listed = await inGlobex.get<RoomList>('/v1/rooms');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
    // The globex one makes rooms of their own, in globex, which the acme one never sees.
    const theirs = await inGlobex.post<RoomView>('/v1/rooms', { title: 'Claire globex' });
    expect(theirs.status, theirs.text).toBe(201);
    expect(theirs.body).toMatchObject({ owner: 'claire', tenant: 'globex' });
    expectProblem(await inAcme.get(`/v1/rooms/${theirs.body.id}`), [404]);
    expect((await inAcme.get<RoomList>('/v1/rooms')).body.items.map((r) => r.title)).toEqual(['Claire acme']);
    expect((await inGlobex.get<RoomList>('/v1/rooms')).body.items.map((r) => r.title)).toEqual(['Claire globex']);
  });

  it('an /admin token is no /v1 token, and a /v1 token is no /admin token', async () => {
    const adminToken = mintAdminToken(JWT_SECRET, { issuer: 'amphi', audience: 'amphi-admin' });
    const byAdminToken = await v1Call(gw.url, adminToken, 'GET', '/v1/rooms');
    expectProblem(byAdminToken, [401, 403]);
    expect((await v1Call(gw.url, adminToken, 'GET', '/admin/servers')).status).toBe(200); // the token itself is good
    for (const who of [ALICE, ACME_LMS, ACME_ADMIN, { sub: 'operator', tenant: 'default', role: 'admin' }]) {
      const answer = await v1Call(gw.url, v1Token(JWT_SECRET, who), 'GET', '/admin/servers');
      expect([401, 403]).toContain(answer.status);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
    }
    // Even an admin-scoped token minted for the /v1 audience is no /admin token.
    const hybrid = v1Token(JWT_SECRET, ACME_ADMIN, { scope: 'amphi:admin' });
    expect([401, 403]).toContain((await v1Call(gw.url, hybrid, 'GET', '/admin/servers')).status);
  });

  describe('crafted tokens', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => string | undefined, number[]][] = [
      ['no token', () => undefined, [401]],
      ['alg none', () => signJwt({ alg: 'none', typ: 'JWT' }, v1Claims(ALICE), JWT_SECRET, ''), [401]],
      ['alg none with a signature', () => signJwt({ alg: 'none', typ: 'JWT' }, v1Claims(ALICE), JWT_SECRET), [401]],
      ['HS512 with the right key', () => signJwt({ alg: 'HS512', typ: 'JWT' }, v1Claims(ALICE), JWT_SECRET), [401]],
      ['wrong signature', () => v1Token('another-secret-of-sufficient-length', ALICE), [401]],
      ['signed with the join-link key', () => signJwt({ alg: 'HS256', typ: 'JWT' }, v1Claims(ALICE), 'amphi join links'), [401]],
      ['no exp', () => v1Token(JWT_SECRET, ALICE, { exp: undefined }), [401]],
      ['expired', () => v1Token(JWT_SECRET, ALICE, { iat: now() - 7200, exp: now() - 3600 }), [401]],
      ['exp as a string', () => v1Token(JWT_SECRET, ALICE, { exp: String(now() + 3600) }), [401]],
      ['wrong aud', () => v1Token(JWT_SECRET, ALICE, { aud: 'amphi-admin' }), [401]],
      ['no aud', () => v1Token(JWT_SECRET, ALICE, { aud: undefined }), [401]],
      ['wrong iss', () => v1Token(JWT_SECRET, ALICE, { iss: 'someone-else' }), [401]],
      ['a tenant that does not exist', () => v1Token(JWT_SECRET, { ...ALICE, tenant: 'initech' }), [403]],
      ['a tenant that is no tenant name', () => v1Token(JWT_SECRET, { ...ALICE, tenant: '../acme' }), [401, 403]],
      ['no tenant', () => v1Token(JWT_SECRET, ALICE, { tenant: undefined }), [401, 403]],
      ['a role not in the list', () => v1Token(JWT_SECRET, { ...ALICE, role: 'superuser' }), [401, 403]],
      ['a role in another case', () => v1Token(JWT_SECRET, { ...ALICE, role: 'Admin' }), [401, 403]],
      ['no sub', () => v1Token(JWT_SECRET, ALICE, { sub: undefined }), [401, 403]],
      ['an empty sub', () => v1Token(JWT_SECRET, { ...ALICE, sub: '' }), [401, 403]],
      ['a sub of 201 characters', () => v1Token(JWT_SECRET, { ...ALICE, sub: 's'.repeat(201) }), [401, 403]],
      ['a sub that is a number', () => v1Token(JWT_SECRET, ALICE, { sub: 42 }), [401, 403]],
      ['a token that lives for ten years', () => v1Token(JWT_SECRET, ALICE, { exp: now() + 10 * 366 * 86_400 }), [401]],
      ['issued in the future', () => v1Token(JWT_SECRET, ALICE, { iat: now() + 3600, exp: now() + 7200 }), [401]],
    ];
    for (const [name, token, statuses] of cases) {
      it(`refuses ${name} (${statuses.join('/')}, problem+json)`, async () => {
        for (const [method, path, body] of [
          ['GET', '/v1/rooms', undefined],
          ['GET', `/v1/rooms/${aliceRoom.id}`, undefined],
          ['POST', '/v1/rooms', { title: 'Sneaky' }],
        ] as const) {
          const answer = await v1Call(gw.url, token(), method, path, body);
          expectProblem(answer, statuses);
          expect(answer.text).not.toContain(aliceRoom.title);
          if (answer.status === 401) expect(String(answer.headers['www-authenticate'])).toMatch(/^Bearer/);
        }
      });
    }

    it('a valid token altered anywhere is refused, never served and never a 500 (property)', async () => {
      const good = v1Token(JWT_SECRET, ALICE);
      expect((await v1Call(gw.url, good, 'GET', '/v1/rooms')).status).toBe(200);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: good.length - 1 }), fc.constantFrom(...alphabet), async (at, c) => {
          fc.pre(good[at] !== c);
          const altered = good.slice(0, at) + c + good.slice(at + 1);
          const answer = await v1Call(gw.url, altered, 'GET', '/v1/rooms');
          // The last character of a base64url signature carries padding bits: changing only those
          // yields the same bytes; such a token is the same token.
          const sameBytes = at === good.length - 1 && Buffer.from(altered.split('.')[2]!, 'base64url').equals(Buffer.from(good.split('.')[2]!, 'base64url'));
          if (sameBytes) return;
          expect([401, 403]).toContain(answer.status);
          expect(answer.contentType).toMatch(/^application\/problem\+json/);
        }),
        { numRuns: FUZZ_RUNS },
      );
    });
  });

  describe('BBB API clients and room meetings', () => {
    let roomId: string;
    beforeAll(async () => {
      // An acme room whose meeting runs: someone joined through its link.
      const made = await alice.post<RoomView>('/v1/rooms', { title: 'Running acme room' });
      roomId = made.body.id;
      const link = await alice.post<LinkView>(`/v1/rooms/${roomId}/links`, { role: 'moderator' });
      await joinThrough(link.body.url, 'Alice');
    });

    const usersOf = (upstreamID: string): string[] =>
      pool.cluster
        .servers()
        .flatMap(({ server }) => server.state(true).meetings)
        .filter((m) => m.meetingID === upstreamID)
        .flatMap((m) => m.users?.map((u) => u.fullName) ?? []);

    it('the room meeting runs in its tenant’s namespace', () => {
      expect(usersOf(toUpstreamId('acme', roomMeetingId(roomId)))).toEqual(['Alice']);
    });

    it('a BBB client of another tenant can neither join, read, end nor create it', async () => {
      const globex = gw.clientFor('/t/globex', GLOBEX_SECRET);
      const meetingID = roomMeetingId(roomId);
      const join = await request(globex.joinUrl([['meetingID', meetingID], ['fullName', 'Intruder'], ['role', 'MODERATOR'], ['redirect', 'false']]));
      const joined = await join.body.text();
      expect(joined).toContain('<returncode>FAILED</returncode>');
      await expect(globex.getMeetingInfo(meetingID)).rejects.toBeInstanceOf(BbbClientError);
      expect(await globex.isMeetingRunning(meetingID)).toBe(false);
      await globex.end(meetingID).catch(() => undefined);
      await expect(globex.create([['meetingID', meetingID], ['name', 'Squat']])).rejects.toBeInstanceOf(BbbClientError);
      expect(usersOf(toUpstreamId('acme', meetingID))).toEqual(['Alice']);
      expect(usersOf(toUpstreamId('globex', meetingID))).toEqual([]);
    });

    it('no tenant’s BBB client can create a meeting with the reserved room prefix', async () => {
      for (const client of [gw.client, gw.clientFor('/t/acme', ACME_SECRET), gw.clientFor('/t/globex', GLOBEX_SECRET)]) {
        for (const meetingID of [roomMeetingId(roomId), `${ROOM_MEETING_PREFIX}r${'A'.repeat(22)}`, ROOM_MEETING_PREFIX, `${ROOM_MEETING_PREFIX}anything`]) {
          await expect(client.create([['meetingID', meetingID], ['name', 'Squat']]), meetingID).rejects.toBeInstanceOf(BbbClientError);
        }
      }
      const upstream = pool.cluster.servers().flatMap(({ server }) => server.state(false).meetings.map((m) => m.meetingID));
      expect(upstream.filter((id) => id.includes(ROOM_MEETING_PREFIX))).toEqual([toUpstreamId('acme', roomMeetingId(roomId))]);
      // The room's own meeting is untouched (no create over it).
      expect(usersOf(toUpstreamId('acme', roomMeetingId(roomId)))).toEqual(['Alice']);
    });
  });

  describe('hostile input', () => {
    it('a title made of markup is text on the link page and in the invitation', async () => {
      const title = `</title><script>alert(1)</script><img src=x onerror="alert(2)"> & 'Réunion; parents, profs\\'`;
      const made = await alice.post<RoomView>('/v1/rooms', { title, start: new Date(Date.now() + 86_400_000).toISOString() });
      expect(made.status, made.text).toBe(201);
      expect(made.body.title).toBe(title);
      const link = await alice.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      const page = await request(link.body.url, { headers: { 'accept-language': 'fr' } });
      const html = await page.body.text();
      expect(page.statusCode).toBe(200);
      // As text (escaped), never as markup: no tag, no attribute.
      expect(html).not.toMatch(/<script|<img|<\/title><script/i);
      expect(html).not.toMatch(/onerror="alert/);
      expect(html).toContain('&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/frame-ancestors/);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(String(page.headers['cache-control'])).toMatch(/no-store/);
      const ics = await (await request(`${gw.url}/v1/rooms/${made.body.id}/invite.ics`, { headers: { authorization: `Bearer ${v1Token(JWT_SECRET, ALICE)}` } })).body.text();
      const summary = ics.replace(/\r\n[ \t]/g, '').split('\r\n').find((l) => l.startsWith('SUMMARY'));
      expect(summary).toBe(`SUMMARY:</title><script>alert(1)</script><img src=x onerror="alert(2)"> & 'Réunion\\; parents\\, profs\\\\'`);
      expect((await alice.delete(`/v1/rooms/${made.body.id}`)).status).toBe(204);
    });

    it('control characters cannot reach titles (calendar lines, logs); bidi overrides are stripped from names', async () => {
      for (const title of ['a\r\nDTSTART:19700101T000000Z', 'a\u0000b', 'tab\there', '\u001b[31mred']) {
        expectProblem(await alice.post('/v1/rooms', { title }), [400]);
      }
      const made = await alice.post<RoomView>('/v1/rooms', { title: 'Bidi' });
      const link = await alice.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'evil\u202Egnp.exe');
      const names = pool.cluster
        .servers()
        .flatMap(({ server }) => server.state(true).meetings)
        .filter((m) => m.meetingID === toUpstreamId('acme', roomMeetingId(made.body.id)))
        .flatMap((m) => m.users?.map((u) => u.fullName) ?? []);
      expect(names).toEqual(['evilgnp.exe']);
      expect((await alice.delete(`/v1/rooms/${made.body.id}`)).status).toBe(204);
    });

    it('bodies that are too big, of another type, or poisoned are 4xx problems', async () => {
      const post = (body: string, type: string) =>
        rawRequest(gw.url, { method: 'POST', path: '/v1/rooms', headers: { authorization: `Bearer ${v1Token(JWT_SECRET, ALICE)}`, 'content-type': type }, body });
      const big = await post(JSON.stringify({ title: 'x', welcome: 'w'.repeat(200_000) }), 'application/json');
      expect(big.status).toBe(413);
      expect(String(big.headers['content-type'])).toMatch(/^application\/problem\+json/);
      const text = await post('title=x', 'application/x-www-form-urlencoded');
      expect(text.status).toBe(415);
      expect(String(text.headers['content-type'])).toMatch(/^application\/problem\+json/);
      for (const body of ['{"title":"x","__proto__":{"role":"admin"}}', '{"title":"x","constructor":{"prototype":{"role":"admin"}}}', '{"title":"x","owner":"albert","role":"admin"}', '[]', 'null', '"x"']) {
        const answer = await post(body, 'application/json');
        expect(answer.status, body).toBe(400);
        expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
      }
      // Nothing was made by any of them.
      expect((await alice.get<RoomList>('/v1/rooms?limit=100')).body.items.map((r) => r.title)).not.toContain('x');
    });
  });

  describe('crafted IDs in paths', () => {
    const token = () => v1Token(JWT_SECRET, ALICE);
    const CRAFTED = [
      '..',
      '%2e%2e',
      '%2E%2E%2F%2E%2E',
      '..%2f..%2fadmin%2fservers',
      '%00',
      'r%00' + 'A'.repeat(21),
      '%ZZ',
      '%',
      '%C3%A9t%C3%A9',
      '%C3',
      '%FF%FE',
      'r' + 'A'.repeat(5000),
      // Twice in one path still fits Node's 16 KiB request head: the answer is the app's, not the parser's.
      'x'.repeat(7000),
      encodeURIComponent('r' + 'é'.repeat(22)),
      encodeURIComponent('r' + '😀'.repeat(11)),
      'r%20AAAAAAAAAAAAAAAAAAAAA',
      '%252e%252e',
      encodeURIComponent('{"$gt":""}'),
      '*',
      'r' + 'A'.repeat(21) + '%0d%0aSet-Cookie:%20x=1',
    ];
    const routes = (id: string): [string, string][] => [
      ['GET', `/v1/rooms/${id}`],
      ['PATCH', `/v1/rooms/${id}`],
      ['DELETE', `/v1/rooms/${id}`],
      ['POST', `/v1/rooms/${id}/links`],
      ['POST', `/v1/rooms/${id}/end`],
      ['GET', `/v1/rooms/${id}/invite.ics`],
      ['DELETE', `/v1/rooms/${aliceRoom.id}/links/${id}`],
      ['DELETE', `/v1/rooms/${id}/links/${id}`],
    ];

    async function send(method: string, path: string) {
      const body = method === 'PATCH' ? JSON.stringify({ title: 'x' }) : method === 'POST' ? JSON.stringify({ role: 'viewer' }) : undefined;
      return rawRequest(gw.url, {
        method,
        path,
        headers: { authorization: `Bearer ${token()}`, ...(body && { 'content-type': 'application/json' }) },
        body,
      });
    }

    it('answer 400/404/414 problems, never a 500 and never someone’s room', async () => {
      for (const id of CRAFTED) {
        for (const [method, path] of routes(id)) {
          const answer = await send(method, path);
          const what = `${method} ${path.slice(0, 80)}: ${answer.status} ${answer.text.slice(0, 200)}`;
          expect([400, 404, 414], what).toContain(answer.status);
          expect(String(answer.headers['content-type']), what).toMatch(/^application\/problem\+json/);
          expect(answer.text).not.toMatch(/Alice class|Albert|Globex/);
          expect(answer.headers['set-cookie']).toBeUndefined();
        }
      }
    });

    it('as join-link tokens, they answer a refusal page (400/404), never a 500, JSON or a stack', async () => {
      for (const id of CRAFTED) {
        for (const method of ['GET', 'POST']) {
          const answer = await rawRequest(gw.url, {
            method,
            path: `/j/${id}`,
            headers: { 'accept-language': 'en', ...(method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded' }) },
            body: method === 'POST' ? 'name=Intruder' : undefined,
          });
          const what = `${method} /j/${id.slice(0, 60)}: ${answer.status} ${answer.text.slice(0, 200)}`;
          expect([400, 404, 414], what).toContain(answer.status);
          expect(String(answer.headers['content-type']), what).toMatch(/^text\/html/);
          expect(answer.text, what).toMatch(/<html[^>]*lang="en"/);
          expect(answer.headers['set-cookie']).toBeUndefined();
        }
      }
    });

    it('any string as an ID is a 4xx problem (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), fc.constantFrom(...routes('ID')), async (raw, [method, template]) => {
          const path = template.split('ID').join(encodeURIComponent(raw).replace(/\./g, '%2E'));
          const answer = await send(method, path);
          const what = `${method} ${JSON.stringify(raw)}: ${answer.status} ${answer.text.slice(0, 200)}`;
          expect([400, 404, 414], what).toContain(answer.status);
          expect(String(answer.headers['content-type']), what).toMatch(/^application\/problem\+json/);
        }),
        { numRuns: FUZZ_RUNS },
      );
    });

    it('bad query values and bodies are 400 problems naming the field', async () => {
      const answers = [
        await alice.get('/v1/rooms?limit=0'),
        await alice.get('/v1/rooms?limit=101'),
        await alice.get('/v1/rooms?limit=ten'),
        await alice.get('/v1/rooms?cursor=%00%ff'),
        await alice.post('/v1/rooms', { title: '' }),
        await alice.post('/v1/rooms', { title: 't'.repeat(201) }),
        await alice.post('/v1/rooms', { title: 'x', expectedParticipants: 0 }),
        await alice.post('/v1/rooms', { title: 'x', start: 'tomorrow' }),
        await alice.post('/v1/rooms', { title: 'x', start: '2030-01-01T10:00:00Z', end: '2030-01-01T09:00:00Z' }),
        await alice.post('/v1/rooms', { title: 'x', start: '2030-01-01T10:00:00Z', end: '2030-01-02T10:00:01Z' }),
        await alice.post(`/v1/rooms/${aliceRoom.id}/links`, { role: 'owner' }),
        await alice.post(`/v1/rooms/${aliceRoom.id}/links`, { role: 'viewer', expiresIn: 10 }),
        await alice.post(`/v1/rooms/${aliceRoom.id}/links`, { role: 'viewer', maxUses: 0 }),
      ];
      for (const answer of answers) {
        expectProblem(answer, [400]);
      }
      expect((answers[0]!.body as ProblemView).errors?.map((e) => e.field)).toContain('limit');
      expect((answers[4]!.body as ProblemView).errors?.map((e) => e.field)).toContain('title');
      expect((answers[10]!.body as ProblemView).errors?.map((e) => e.field)).toContain('role');
      // Not JSON at all.
      const raw = await rawRequest(gw.url, {
        method: 'POST',
        path: '/v1/rooms',
        headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
        body: '{"title": ',
      });
      expect(raw.status).toBe(400);
      expect(String(raw.headers['content-type'])).toMatch(/^application\/problem\+json/);
    });

    it('an unknown route under /v1 is a 404 problem', async () => {
      const answer = await v1Call(gw.url, token(), 'GET', '/v1/nothing-here');
      expectProblem(answer, [404]);
    });
  });
});
