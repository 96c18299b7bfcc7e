// Teachers' rooms end to end (issue #11), through a real gateway on a simulated pool: a token
// printed by `amphi token`, a room made over /v1, links, users who join through /j/<token> and
// enter the simulated BBB client, the live counts /v1 reports, the camera rule refusing a join
// through a link, the room ended and deleted; links that are expired, revoked, used up, forged
// or tampered with; `?quick=1`; and an owner moved to another tenant by `amphi owners move`.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { buildApp, type App } from '../../src/api/app.js';
import { main } from '../../src/cli/dispatch.js';
import { loadSettings } from '../../src/config/settings.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { roomMeetingId } from '../../src/rooms/types.js';
import type { SimServer } from '../../src/simulator/index.js';
import { toUpstreamId } from '../../src/state/namespace.js';
import { Store } from '../../src/state/store.js';
import { capture } from '../helpers/cli-io.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';
import {
  addSimUsers,
  enterClient,
  joinThrough,
  linkToken,
  openLink,
  setCamera,
  submitLink,
  tokenOf,
  v1Client,
  v1Token,
  type LinkView,
  type ProblemView,
  type RoomList,
  type RoomView,
  type V1Client,
} from '../helpers/v1-client.js';

const JWT_SECRET = 'rooms-e2e-jwt-secret-0123456789abcdef';
const ROOM_ID = /^r[A-Za-z0-9_-]{22}$/;

/** `amphi token --role … --tenant … --sub …`, run in-process as an operator would run it. */
async function cliToken(role: string, tenant: string, sub: string): Promise<string> {
  const io = capture();
  vi.stubEnv('AMPHI_CONFIG', '');
  vi.stubEnv('AMPHI_JWT_SECRET', JWT_SECRET);
  try {
    const code = await main(['token', '--role', role, '--tenant', tenant, '--sub', sub], io);
    expect(code, io.err).toBe(0);
  } finally {
    vi.unstubAllEnvs();
  }
  const token = io.out.trim();
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  return token;
}

/** A refusal page: HTML in the asked language, never JSON, never a stack. */
function expectRefusalPage(answer: { status: number; contentType: string; html: string }, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^text\/html/);
  expect(answer.html).toMatch(/<html[^>]*lang="fr"/);
  expect(answer.html).not.toMatch(/"statusCode"|\bat [\w.]+ \(|node_modules|Error:/);
}

describe('teachers’ rooms through the gateway and a simulated pool', () => {
  let pool: TestPool;
  let gw: TestGateway;
  let poller: Poller;
  let teacher: V1Client;

  beforeAll(async () => {
    pool = await startTestPool({
      servers: 2,
      capacity: 2000,
      label: 'rooms-e2e',
      // Live reads uncached: each GET /v1/rooms/:id shows the server's counts of that instant.
      env: { AMPHI_JWT_SECRET: JWT_SECRET, AMPHI_RATE_LIMIT_PER_IP: '0', AMPHI_RATE_LIMIT_PER_TENANT: '0', AMPHI_LIVE_READ_CACHE_MS: '0' },
    });
    await pool.store.tenants.put({ name: 'acme', secrets: ['acme-bbb-secret-0123456789'], hostnames: [], settings: {} });
    await pool.store.tenants.put({ name: 'globex', secrets: ['globex-bbb-secret-0123456789'], hostnames: [], settings: {} });
    gw = await pool.startGateway();
    poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore(), policy: () => gw.gateway.policies.current() });
    teacher = v1Client(gw.url, await cliToken('teacher', 'default', 'mme-curie'));
  });
  afterAll(() => pool.close());

  /** Runs `fn` with the gateway's clock (its store's, which links and pages read) at `at`. */
  async function at<T>(time: number, fn: () => Promise<T>): Promise<T> {
    const ctx = gw.gateway.store.ctx;
    const real = ctx.now;
    ctx.now = () => time;
    try {
      return await fn();
    } finally {
      ctx.now = real;
    }
  }

  /** The simulated server that runs a room's meeting, and the meeting's ID there. */
  function upstreamOf(room: { id: string; tenant: string }): { server: SimServer; upstreamID: string } | undefined {
    const upstreamID = toUpstreamId(room.tenant, roomMeetingId(room.id));
    const found = pool.cluster.servers().find(({ server }) => server.model.meeting(upstreamID));
    return found && { server: found.server, upstreamID };
  }

  async function newRoom(client: V1Client, body: Record<string, unknown>): Promise<RoomView> {
    const made = await client.post<RoomView>('/v1/rooms', body);
    expect(made.status, made.text).toBe(201);
    return made.body;
  }

  async function newLink(client: V1Client, roomId: string, body: Record<string, unknown>): Promise<LinkView> {
    const made = await client.post<LinkView>(`/v1/rooms/${roomId}/links`, body);
    expect(made.status, made.text).toBe(201);
    return made.body;
  }

  async function roomOf(client: V1Client, id: string): Promise<RoomView> {
    const got = await client.get<RoomView>(`/v1/rooms/${id}`);
    expect(got.status, got.text).toBe(200);
    return got.body;
  }

  it('a teacher makes a room and links, people join through them, /v1 shows them, the camera rule refuses one more, the room ends', async () => {
    const made = await teacher.post<RoomView>('/v1/rooms', { title: 'Physique-chimie 3e B' });
    expect(made.status, made.text).toBe(201);
    const room = made.body;
    expect(room.id).toMatch(ROOM_ID);
    expect(made.headers.location).toBe(`/v1/rooms/${room.id}`);
    expect(room).toMatchObject({ title: 'Physique-chimie 3e B', owner: 'mme-curie', tenant: 'default', state: 'idle', record: false, links: [] });
    expect(room.live).toEqual({ participants: 0, moderators: 0, cameras: 0, listeners: 0 });
    expect(room.inviteUrl).toMatch(new RegExp(`/v1/rooms/${room.id}/invite\\.ics$`));
    // The limits the policy gives it: the camera curve (30 cameras → 50 participants) included.
    expect(room.limits.maxParticipants).toBeGreaterThan(0);
    expect(room.limits.curve).toEqual(expect.arrayContaining([{ cameras: 30, participants: 50 }, { cameras: 10, participants: 150 }]));
    // A room costs nothing until used: no meeting anywhere yet.
    expect(upstreamOf(room)).toBeUndefined();

    const moderator = await newLink(teacher, room.id, { role: 'moderator' });
    const viewer = await newLink(teacher, room.id, { role: 'viewer' });
    expect(moderator).toMatchObject({ role: 'moderator', uses: 0, revoked: false });
    expect(viewer).toMatchObject({ role: 'viewer', uses: 0, revoked: false });
    expect(moderator.url).toMatch(new RegExp(`^${gw.url}/j/[\\w-]+\\.[0-9a-z]+\\.[\\w-]{22}$`));
    expect(moderator.url).not.toBe(viewer.url);
    // Default lifetime: 30 days.
    expect(Date.parse(viewer.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(Date.parse(viewer.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 86_400_000 + 5000);

    // The link page asks for a name, in the language asked.
    const pageFr = await openLink(moderator.url);
    expect(pageFr.status).toBe(200);
    expect(pageFr.contentType).toMatch(/^text\/html/);
    expect(pageFr.html).toContain('Physique-chimie 3e B');
    expect(pageFr.html).toMatch(/<input[^>]*name="name"/);
    expect(pageFr.html).toMatch(/<html[^>]*lang="fr"/);
    expect((await openLink(moderator.url, 'en-GB,en;q=0.8')).html).toMatch(/<html[^>]*lang="en"/);

    // The teacher then three pupils join through the links and enter the simulated client.
    const sessions = [await joinThrough(moderator.url, 'Mme Curie')];
    const running = upstreamOf(room);
    expect(running, 'the first join created the BBB meeting').toBeDefined();
    const { server, upstreamID } = running!;
    for (const pupil of ['Zoé', 'Louis', 'Inès']) sessions.push(await joinThrough(viewer.url, pupil));
    const meeting = server.model.meeting(upstreamID)!;
    expect(meeting.name).toBe('Physique-chimie 3e B');
    const inside = server.state(true).meetings.find((m) => m.meetingID === upstreamID)!;
    expect(inside.users?.map((u) => [u.fullName, u.role]).sort()).toEqual([
      ['Inès', 'VIEWER'],
      ['Louis', 'VIEWER'],
      ['Mme Curie', 'MODERATOR'],
      ['Zoé', 'VIEWER'],
    ]);

    let seen = await roomOf(teacher, room.id);
    expect(seen.state).toBe('running');
    expect(seen.live).toMatchObject({ participants: 4, moderators: 1, cameras: 0 });
    expect(seen.links.find((l) => l.id === viewer.id)).toMatchObject({ uses: 3, revoked: false });
    expect(seen.links.find((l) => l.id === moderator.id)).toMatchObject({ uses: 1 });

    // The class fills up (46 more pupils, straight on the server) and 10 cameras come on.
    const crowd = await addSimUsers(server, upstreamID, { count: 46, userIdPrefix: 'pupil-' });
    expect(crowd.admitted).toHaveLength(46);
    const cameras = [...sessions, ...crowd.admitted.map((u) => u.sessionToken)];
    for (const s of cameras.slice(0, 10)) await setCamera(server, s, true);
    await poller.pollOnce();
    seen = await roomOf(teacher, room.id);
    expect(seen.live).toMatchObject({ participants: 50, moderators: 1, cameras: 10 });
    // 10 cameras → 150 participants: one more enters through the link.
    sessions.push(await joinThrough(viewer.url, 'Hugo'));

    // 30 cameras → 50 participants: the 52nd is refused, on a page, and the link keeps its use.
    for (const s of cameras.slice(10, 30)) await setCamera(server, s, true);
    await poller.pollOnce();
    seen = await roomOf(teacher, room.id);
    expect(seen.live).toMatchObject({ participants: 51, cameras: 30 });
    const usesBefore = seen.links.find((l) => l.id === viewer.id)!.uses;
    expect(usesBefore).toBe(4);
    const refused = await submitLink(viewer.url, 'Late pupil');
    expectRefusalPage(refused, 409);
    expect(refused.location).toBeUndefined();
    expect(server.state(true).meetings.find((m) => m.meetingID === upstreamID)!.users?.some((u) => u.fullName === 'Late pupil')).toBe(false);
    expect((await roomOf(teacher, room.id)).links.find((l) => l.id === viewer.id)!.uses).toBe(usesBefore);

    // Ending keeps the room; ending an idle room is a conflict.
    expect((await teacher.post(`/v1/rooms/${room.id}/end`)).status).toBe(204);
    expect(upstreamOf(room)).toBeUndefined();
    seen = await roomOf(teacher, room.id);
    expect(seen.state).toBe('idle');
    expect(seen.live).toEqual({ participants: 0, moderators: 0, cameras: 0, listeners: 0 });
    const again = await teacher.post<ProblemView>(`/v1/rooms/${room.id}/end`);
    expect(again.status).toBe(409);
    expect(again.contentType).toMatch(/^application\/problem\+json/);

    // The room is still there: its links start the meeting again; DELETE ends it and removes it.
    await joinThrough(moderator.url, 'Mme Curie');
    expect(upstreamOf(room)).toBeDefined();
    expect((await teacher.delete(`/v1/rooms/${room.id}`)).status).toBe(204);
    expect(upstreamOf(room)).toBeUndefined();
    const gone = await teacher.get<ProblemView>(`/v1/rooms/${room.id}`);
    expect(gone.status).toBe(404);
    expect(gone.contentType).toMatch(/^application\/problem\+json/);
    expect((await teacher.get<RoomList>('/v1/rooms')).body.items.map((r) => r.id)).not.toContain(room.id);
    // Its links lead nowhere now, on a page.
    for (const link of [moderator, viewer]) {
      expectRefusalPage(await openLink(link.url), 404);
      expectRefusalPage(await submitLink(link.url, 'Zoé'), 404);
    }
    expect(upstreamOf(room)).toBeUndefined();
  });

  it('an ended room’s links start a fresh meeting at once, not one counted with the ended meeting’s crowd', async () => {
    const room = await newRoom(teacher, { title: 'Technologie 5e C' });
    const link = await newLink(teacher, room.id, { role: 'moderator' });
    await joinThrough(link.url, 'M. Eiffel');
    const { server, upstreamID } = upstreamOf(room)!;
    // A full class: 50 more, 30 cameras on; the poller sees it.
    const crowd = await addSimUsers(server, upstreamID, { count: 50, userIdPrefix: 'p-' });
    for (const u of crowd.admitted.slice(0, 30)) await setCamera(server, u.sessionToken, true);
    await poller.pollOnce();
    expectRefusalPage(await submitLink(link.url, 'M. Eiffel'), 409);
    expect((await teacher.post(`/v1/rooms/${room.id}/end`)).status).toBe(204);
    // Nobody is inside any more: the teacher starts the next class without waiting for a poll.
    const again = await submitLink(link.url, 'M. Eiffel');
    expect(again.status, again.html.slice(0, 300)).toBe(303);
    await enterClient(again.location!);
    expect((await roomOf(teacher, room.id)).live).toMatchObject({ participants: 1, moderators: 1, cameras: 0 });
    expect((await teacher.delete(`/v1/rooms/${room.id}`)).status).toBe(204);
  });

  it('quick=1 answers a room and a working moderator and viewer link in one call', async () => {
    const made = await teacher.post<RoomView & { links: unknown }>('/v1/rooms?quick=1', { title: 'Réunion parents-professeurs' });
    expect(made.status, made.text).toBe(201);
    const body = made.body as unknown as { id: string; tenant: string; links: { moderator: LinkView; viewer: LinkView } };
    expect(body.id).toMatch(ROOM_ID);
    const { moderator, viewer } = body.links;
    expect(moderator).toMatchObject({ role: 'moderator', uses: 0, revoked: false });
    expect(viewer).toMatchObject({ role: 'viewer', uses: 0, revoked: false });
    await joinThrough(moderator.url, 'M. Martin');
    await joinThrough(viewer.url, 'Parent de Zoé');
    const live = await roomOf(teacher, body.id);
    expect(live).toMatchObject({ state: 'running', live: { participants: 2, moderators: 1 } });
    expect(live.links.map((l) => l.role).sort()).toEqual(['moderator', 'viewer']);
    // Only a title is needed: anything else missing is no error, a missing title is one.
    const untitled = await teacher.post<ProblemView>('/v1/rooms?quick=1', {});
    expect(untitled.status).toBe(400);
    expect(untitled.body.errors?.map((e) => e.field)).toContain('title');
    expect((await teacher.delete(`/v1/rooms/${body.id}`)).status).toBe(204);
  });

  describe('links that must not lead in', () => {
    let room: RoomView;
    beforeAll(async () => {
      room = await newRoom(teacher, { title: 'Histoire-géographie 4e A' });
    });

    it('an expired link is refused (the clock moved past its expiry), on a page, with 410', async () => {
      const link = await newLink(teacher, room.id, { role: 'viewer', expiresIn: 60 });
      expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
      expect((await openLink(link.url)).status).toBe(200);
      await at(Date.parse(link.expiresAt) + 1000, async () => {
        expectRefusalPage(await openLink(link.url), 410);
        expectRefusalPage(await submitLink(link.url, 'Zoé'), 410);
      });
      // One second before its expiry it still led in: the clock, not something else, refused it.
      await at(Date.parse(link.expiresAt) - 1000, async () => expect((await openLink(link.url)).status).toBe(200));
      expect((await roomOf(teacher, room.id)).links.find((l) => l.id === link.id)!.uses).toBe(0);
    });

    it('a token signed with the right key but a past expiry is refused as expired; moving the expiry breaks the signature', async () => {
      const link = await newLink(teacher, room.id, { role: 'moderator' });
      const [linkId, exp] = tokenOf(link.url).split('.') as [string, string, string];
      expect(parseInt(exp, 36)).toBe(Date.parse(link.expiresAt));
      // Our reading of the contract's layout is right: the same link, re-signed, is the link.
      expect(linkToken(JWT_SECRET, linkId, Date.parse(link.expiresAt))).toBe(tokenOf(link.url));
      const past = linkToken(JWT_SECRET, linkId, Date.now() - 1000);
      expectRefusalPage(await openLink(`${gw.url}/j/${past}`), 410);
      expectRefusalPage(await submitLink(`${gw.url}/j/${past}`, 'Zoé'), 410);
      // A later expiry with the old MAC is a forgery.
      const extended = `${linkId}.${(Date.parse(link.expiresAt) + 86_400_000).toString(36)}.${tokenOf(link.url).split('.')[2]}`;
      expectRefusalPage(await openLink(`${gw.url}/j/${extended}`), 404);
      expectRefusalPage(await submitLink(`${gw.url}/j/${extended}`, 'Zoé'), 404);
      expect(upstreamOf(room)).toBeUndefined();
    });

    it('a revoked link is refused and listed as revoked', async () => {
      const link = await newLink(teacher, room.id, { role: 'viewer' });
      expect((await openLink(link.url)).status).toBe(200);
      expect((await teacher.delete(`/v1/rooms/${room.id}/links/${link.id}`)).status).toBe(204);
      expectRefusalPage(await openLink(link.url), 410);
      expectRefusalPage(await submitLink(link.url, 'Zoé'), 410);
      expect((await roomOf(teacher, room.id)).links.find((l) => l.id === link.id)).toMatchObject({ revoked: true, uses: 0 });
      expect(upstreamOf(room)).toBeUndefined();
    });

    it('a link limited to two uses admits two joins and refuses the third', async () => {
      const link = await newLink(teacher, room.id, { role: 'viewer', maxUses: 2 });
      expect(link.maxUses).toBe(2);
      await joinThrough(link.url, 'Zoé');
      await joinThrough(link.url, 'Louis');
      expectRefusalPage(await submitLink(link.url, 'Inès'), 410);
      expectRefusalPage(await openLink(link.url), 410);
      expect((await roomOf(teacher, room.id)).links.find((l) => l.id === link.id)).toMatchObject({ uses: 2, maxUses: 2 });
      const { server, upstreamID } = upstreamOf(room)!;
      expect(server.state(true).meetings.find((m) => m.meetingID === upstreamID)!.users?.map((u) => u.fullName).sort()).toEqual(['Louis', 'Zoé']);
    });

    it('forged and tampered tokens are refused with 404 and lead to no meeting', async () => {
      const link = await newLink(teacher, room.id, { role: 'moderator' });
      const token = tokenOf(link.url);
      const [linkId, exp, mac] = token.split('.') as [string, string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const before = await roomOf(teacher, room.id);
      const forged = [
        `${randomBytes(16).toString('base64url').slice(0, 22)}.${exp}.${mac}`, // another link ID, this MAC
        `${linkId}.${exp}.${flip(mac, 0)}`,
        `${linkId}.${exp}.${flip(mac, 21)}`,
        `${flip(linkId, 5)}.${exp}.${mac}`,
        `${linkId}.${exp}.${mac.slice(0, 21)}`,
        `${linkId}.${exp}.${mac}A`,
        `${linkId}.${exp}`,
        `${linkId}..${mac}`,
        linkId,
        `${linkId}.${exp}.${mac}.${mac}`,
        linkToken('not-the-gateway-secret-0123456789', linkId, Date.parse(link.expiresAt)),
        'x'.repeat(5000),
        encodeURIComponent('é.ü.ß'),
      ];
      for (const t of forged) {
        expectRefusalPage(await openLink(`${gw.url}/j/${t}`), 404);
        expectRefusalPage(await submitLink(`${gw.url}/j/${t}`, 'Intrus'), 404);
      }
      expect(upstreamOf(room)).toBeDefined(); // the maxUses test's meeting: nobody new got in
      const after = await roomOf(teacher, room.id);
      expect(after.live.participants).toBe(before.live.participants);
      expect(after.links.find((l) => l.id === link.id)!.uses).toBe(0);
      // The genuine token still works.
      await joinThrough(link.url, 'Mme Curie');
    });

    it('a link limited to five uses admits exactly five of twenty simultaneous joins', async () => {
      const link = await newLink(teacher, room.id, { role: 'viewer', maxUses: 5 });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => submitLink(link.url, `Rush ${i}`)));
      expect(answers.filter((a) => a.status === 303)).toHaveLength(5);
      expect(answers.filter((a) => a.status === 410)).toHaveLength(15);
      expect((await roomOf(teacher, room.id)).links.find((l) => l.id === link.id)!.uses).toBe(5);
    });

    it('a room whose announced end has passed refuses its links with the “session over” page', async () => {
      const past = await newRoom(teacher, {
        title: 'Séance passée',
        start: new Date(Date.now() - 2 * 3_600_000).toISOString(),
        end: new Date(Date.now() - 3_600_000).toISOString(),
      });
      const link = await newLink(teacher, past.id, { role: 'moderator' });
      expectRefusalPage(await openLink(link.url), 410);
      const refused = await submitLink(link.url, 'En retard');
      expectRefusalPage(refused, 410);
      expect(refused.html).toContain('Séance passée');
      expect(upstreamOf(past)).toBeUndefined();
      expect((await roomOf(teacher, past.id)).links[0]!.uses).toBe(0);
      // Moved to tomorrow, the same link leads in again.
      const tomorrow = Date.now() + 86_400_000;
      const moved = await teacher.patch(`/v1/rooms/${past.id}`, { start: new Date(tomorrow).toISOString(), end: new Date(tomorrow + 3_600_000).toISOString() });
      expect(moved.status, moved.text).toBe(200);
      expect((await openLink(link.url)).status).toBe(200);
    });

    it('a room keeps at most 100 links: the next one is a 409 problem', async () => {
      const crowded = await newRoom(teacher, { title: 'Beaucoup de liens' });
      for (let i = 0; i < 100; i++) await newLink(teacher, crowded.id, { role: 'viewer' });
      const more = await teacher.post<ProblemView>(`/v1/rooms/${crowded.id}/links`, { role: 'viewer' });
      expect(more.status).toBe(409);
      expect(more.contentType).toMatch(/^application\/problem\+json/);
      expect((await teacher.delete(`/v1/rooms/${crowded.id}`)).status).toBe(204);
    });

    it('a name is required and bounded; a refused form uses nothing', async () => {
      const link = await newLink(teacher, room.id, { role: 'viewer', maxUses: 1 });
      for (const name of ['', '   ', 'x'.repeat(101)]) {
        const answer = await submitLink(link.url, name);
        expect(answer.status, name).toBeGreaterThanOrEqual(400);
        expect(answer.status, name).toBeLessThan(500);
        expect(answer.contentType).toMatch(/^text\/html/);
      }
      expect((await roomOf(teacher, room.id)).links.find((l) => l.id === link.id)!.uses).toBe(0);
      await joinThrough(link.url, 'Élodie <b>&</b>');
    });
  });

  it('a room announced with a start and a size feeds the scaler’s forecast', async () => {
    const start = new Date(Date.now() + 2 * 3_600_000);
    start.setUTCMinutes(0, 0, 0);
    const end = new Date(start.getTime() + 3_600_000);
    const room = await newRoom(teacher, { title: 'Conseil de classe', start: start.toISOString(), end: end.toISOString(), expectedParticipants: 40, expectedCameras: 5 });
    expect(Date.parse(room.start!)).toBe(start.getTime());
    const announced = await pool.store.announcements.overlapping(Date.now(), Date.now() + 86_400_000);
    const mine = announced.find((a) => a.meetingID === roomMeetingId(room.id));
    expect(mine).toMatchObject({ tenant: 'default', startsAt: start.getTime(), endsAt: end.getTime(), participants: 40, cameras: 5 });
    // A patch moves it.
    const moved = await teacher.patch<RoomView>(`/v1/rooms/${room.id}`, { expectedParticipants: 80 });
    expect(moved.status, moved.text).toBe(200);
    const after = (await pool.store.announcements.overlapping(Date.now(), Date.now() + 86_400_000)).find((a) => a.meetingID === roomMeetingId(room.id));
    expect(after?.participants).toBe(80);

    // Its invitation: one VEVENT, CRLF lines of at most 75 octets, and a viewer link that works.
    const ics = await request(`${gw.url}/v1/rooms/${room.id}/invite.ics`, { headers: { authorization: `Bearer ${teacher.token}` } });
    expect(ics.statusCode).toBe(200);
    expect(String(ics.headers['content-type'])).toMatch(/^text\/calendar/);
    const text = await ics.body.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines.every((l) => Buffer.byteLength(l) <= 75 && !l.includes('\n'))).toBe(true);
    const unfolded = text.replace(/\r\n[ \t]/g, '').split('\r\n');
    const field = (name: string) => unfolded.find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`))?.replace(/^[^:]*:/, '');
    expect(unfolded.filter((l) => l === 'BEGIN:VEVENT')).toHaveLength(1);
    expect(field('UID')).toBe(`${room.id}@amphi`);
    expect(field('DTSTART')).toBe(start.toISOString().replace(/[-:]/g, '').replace('.000', ''));
    expect(field('DTEND')).toBe(end.toISOString().replace(/[-:]/g, '').replace('.000', ''));
    expect(field('SUMMARY')).toBe('Conseil de classe');
    const url = field('URL')!;
    expect(url).toMatch(new RegExp(`^${gw.url}/j/`));
    expect((await openLink(url)).html).toContain('Conseil de classe');
    const viewerLinks = (await roomOf(teacher, room.id)).links.filter((l) => l.role === 'viewer' && !l.revoked);
    expect(viewerLinks.map((l) => l.url)).toContain(url);
    // Downloading it again reuses that link rather than making one each time.
    await (await request(`${gw.url}/v1/rooms/${room.id}/invite.ics`, { headers: { authorization: `Bearer ${teacher.token}` } })).body.dump();
    expect((await roomOf(teacher, room.id)).links.filter((l) => l.role === 'viewer')).toHaveLength(viewerLinks.length);
    // Clearing the start withdraws the announcement; so does deleting the room.
    const isAnnounced = async (id: string) => (await pool.store.announcements.overlapping(Date.now(), Date.now() + 86_400_000)).some((a) => a.meetingID === roomMeetingId(id));
    expect((await teacher.patch(`/v1/rooms/${room.id}`, { start: null, end: null })).status).toBe(200);
    expect(await isAnnounced(room.id)).toBe(false);
    const other = await newRoom(teacher, { title: 'Conseil de classe 2', start: start.toISOString(), expectedParticipants: 20 });
    expect(await isAnnounced(other.id)).toBe(true);
    expect((await teacher.delete(`/v1/rooms/${other.id}`)).status).toBe(204);
    expect(await isAnnounced(other.id)).toBe(false);
    // A room without a start has no invitation.
    const unscheduled = await newRoom(teacher, { title: 'Sans date' });
    expect((await teacher.get<ProblemView>(`/v1/rooms/${unscheduled.id}/invite.ics`)).status).toBe(409);
  });

  it('a moved owner keeps rooms and links with a token of the new tenant, and loses them with one of the old', async () => {
    const inAcme = v1Client(gw.url, v1Token(JWT_SECRET, { sub: 'm-dupont', tenant: 'acme', role: 'teacher' }));
    const inGlobex = v1Client(gw.url, v1Token(JWT_SECRET, { sub: 'm-dupont', tenant: 'globex', role: 'teacher' }));
    const room = await newRoom(inAcme, { title: 'Mathématiques 2nde 3' });
    expect(room.tenant).toBe('acme');
    const link = await newLink(inAcme, room.id, { role: 'moderator' });
    // Before the move, the globex token is someone who does not own these rooms.
    expect((await inGlobex.get(`/v1/rooms/${room.id}`)).status).toBe(404);

    expect(await pool.store.rooms.moveOwner('m-dupont', 'globex')).toEqual({ moved: 1 });

    const kept = await roomOf(inGlobex, room.id);
    expect(kept).toMatchObject({ id: room.id, owner: 'm-dupont', tenant: 'globex', title: 'Mathématiques 2nde 3' });
    expect(kept.links.map((l) => l.id)).toEqual([link.id]);
    expect((await inGlobex.get<RoomList>('/v1/rooms')).body.items.map((r) => r.id)).toEqual([room.id]);
    // The link made before the move works, and the meeting runs in the new tenant's namespace.
    await joinThrough(link.url, 'M. Dupont');
    const running = upstreamOf({ id: room.id, tenant: 'globex' });
    expect(running?.upstreamID).toBe(`globex~${roomMeetingId(room.id)}`);
    expect(upstreamOf({ id: room.id, tenant: 'acme' })).toBeUndefined();
    // The old tenant's token names someone else now (an owner is a sub within a tenant): none of
    // the moved rooms, nor their links, are theirs.
    for (const answer of [
      await inAcme.get(`/v1/rooms/${room.id}`),
      await inAcme.post(`/v1/rooms/${room.id}/links`, { role: 'viewer' }),
      await inAcme.delete(`/v1/rooms/${room.id}/links/${link.id}`),
      await inAcme.post(`/v1/rooms/${room.id}/end`),
      await inAcme.delete(`/v1/rooms/${room.id}`),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.text).not.toContain('Mathématiques');
    }
    const listed = await inAcme.get<RoomList>('/v1/rooms');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
    expect((await roomOf(inGlobex, room.id)).links.map((l) => [l.id, l.revoked])).toEqual([[link.id, false]]);
    // The tenants' services see the move: globex's lists the room, acme's no longer does.
    const service = (tenant: string) => v1Client(gw.url, v1Token(JWT_SECRET, { sub: `lms.${tenant}`, tenant, role: 'service' }));
    expect((await service('globex').get<RoomList>('/v1/rooms?limit=100')).body.items.map((r) => r.id)).toContain(room.id);
    expect((await service('acme').get<RoomList>('/v1/rooms?limit=100')).body.items.map((r) => r.id)).not.toContain(room.id);
    expect((await service('acme').get(`/v1/rooms/${room.id}`)).status).toBe(404);
  });

  it('lists a teacher’s rooms page by page, each once', async () => {
    const pager = v1Client(gw.url, v1Token(JWT_SECRET, { sub: 'm-pager', tenant: 'default', role: 'teacher' }));
    const made: string[] = [];
    for (let i = 0; i < 25; i++) made.push((await newRoom(pager, { title: `Groupe ${i}` })).id);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await pager.get<RoomList>(`/v1/rooms?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status, page.text).toBe(200);
      sizes.push(page.body.items.length);
      seen.push(...page.body.items.map((r) => r.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen.sort()).toEqual([...made].sort());
    expect((await pager.get<RoomList>('/v1/rooms')).body.items).toHaveLength(20);
  });

  describe('an owner moved while their room’s meeting runs', () => {
    /** A room of acme's with someone inside, then its owner moved to globex. */
    async function movedWhileRunning(sub: string): Promise<{ room: RoomView; link: LinkView; after: V1Client; before: { server: SimServer; upstreamID: string } }> {
      const inAcme = v1Client(gw.url, v1Token(JWT_SECRET, { sub, tenant: 'acme', role: 'teacher' }));
      const room = await newRoom(inAcme, { title: `Cours de ${sub}` });
      const link = await newLink(inAcme, room.id, { role: 'viewer' });
      await joinThrough(link.url, 'Before the move');
      const before = upstreamOf(room)!;
      expect(before.upstreamID).toBe(`acme~${roomMeetingId(room.id)}`);
      expect(await pool.store.rooms.moveOwner(sub, 'globex')).toEqual({ moved: 1 });
      return { room, link, after: v1Client(gw.url, v1Token(JWT_SECRET, { sub, tenant: 'globex', role: 'teacher' })), before };
    }
    const usersIn = (at: { server: SimServer; upstreamID: string }): string[] =>
      (at.server.state(true).meetings.find((m) => m.meetingID === at.upstreamID && !m.ended)?.users ?? []).map((u) => u.fullName).sort();

    it('stays where it runs and is still the room’s: later joins enter it, /v1 shows and ends it', async () => {
      const { room, link, after, before } = await movedWhileRunning('m-moved-1');
      await joinThrough(link.url, 'After the move');
      // One class, not two: the newcomer is with the others.
      expect(usersIn(before)).toEqual(['After the move', 'Before the move']);
      expect(upstreamOf({ id: room.id, tenant: 'globex' })).toBeUndefined();
      expect((await roomOf(after, room.id)).live).toMatchObject({ participants: 2 });
      expect((await after.post(`/v1/rooms/${room.id}/end`)).status).toBe(204);
      expect(usersIn(before)).toEqual([]);
    });

    it('is ended when the room is deleted: no meeting of a deleted room runs on', async () => {
      const { room, after, before } = await movedWhileRunning('m-moved-2');
      expect((await after.delete(`/v1/rooms/${room.id}`)).status).toBe(204);
      expect(usersIn(before), 'the old tenant’s meeting still runs, out of reach of /v1').toEqual([]);
      expect(upstreamOf({ id: room.id, tenant: 'globex' })).toBeUndefined();
    });
  });
});

/**
 * `amphi owners move` as an operator runs it: the CLI on the pool's Redis (REDIS_URL, AMPHI_POOL),
 * next to a gateway on the same pool.
 */
describe('amphi owners move (the CLI)', () => {
  let t: TestRedis;
  let pool: string;
  let app: App;
  let url: string;

  beforeAll(async () => {
    t = testRedis('rooms-owners-cli');
    pool = `owners-${randomBytes(4).toString('hex')}`;
    const store = new Store(t.redis, { pool });
    await store.tenants.put({ name: 'acme', secrets: ['acme-bbb-secret-0123456789'], hostnames: [], settings: {} });
    await store.tenants.put({ name: 'globex', secrets: ['globex-bbb-secret-0123456789'], hostnames: [], settings: {} });
    app = await buildApp({
      store,
      redis: t.redis,
      settings: loadSettings({ AMPHI_SECRET: 'owners-cli-bbb-secret', AMPHI_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'silent', AMPHI_POOL: pool }),
      logger: false,
    });
    await app.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.app.close();
    await deleteByPrefix(t.redis, `amphi:{${pool}}:`);
    await t.cleanup();
  });

  async function amphi(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = capture();
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('REDIS_URL', t.url);
    vi.stubEnv('AMPHI_POOL', pool);
    vi.stubEnv('AMPHI_JWT_SECRET', JWT_SECRET);
    try {
      const code = await main(argv, io);
      return { code, out: io.out, err: io.err };
    } finally {
      vi.unstubAllEnvs();
    }
  }

  it('moves an owner and their rooms; links keep working; the old tenant’s token loses them', async () => {
    const acme = v1Client(url, v1Token(JWT_SECRET, { sub: 'mme-leroy', tenant: 'acme', role: 'teacher' }));
    const globex = v1Client(url, v1Token(JWT_SECRET, { sub: 'mme-leroy', tenant: 'globex', role: 'teacher' }));
    const ids: string[] = [];
    for (const title of ['SVT 1re', 'SVT Tle']) {
      const made = await acme.post<RoomView>('/v1/rooms', { title });
      expect(made.status, made.text).toBe(201);
      ids.push(made.body.id);
    }
    const link = await acme.post<LinkView>(`/v1/rooms/${ids[0]}/links`, { role: 'viewer' });
    expect(link.status).toBe(201);

    const help = await amphi('owners', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: amphi owners/);
    const unknown = await amphi('owners', 'move', 'mme-leroy', '--to', 'initech');
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/initech/);
    const moved = await amphi('owners', 'move', 'mme-leroy', '--to', 'globex');
    expect(moved.code, moved.err).toBe(0);
    expect(moved.out).toMatch(/^moved owner mme-leroy from acme to globex with 2 room\(s\)$/m);
    const shown = await amphi('owners', 'show', 'mme-leroy');
    expect(shown.out).toMatch(/mme-leroy belongs to globex, with 2 room/);

    const listed = await globex.get<RoomList>('/v1/rooms');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(listed.body.items.every((r) => r.tenant === 'globex')).toBe(true);
    const page = await openLink(link.body.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('SVT 1re');
    expect((await acme.get<RoomList>('/v1/rooms')).body.items).toEqual([]);
    for (const id of ids) expect((await acme.get(`/v1/rooms/${id}`)).status).toBe(404);
    // Owners are not merged: moving back onto a tenant that has an owner of that sub is refused.
    const again = await acme.post<RoomView>('/v1/rooms', { title: 'SVT 2nde' });
    expect(again.status).toBe(201);
    const taken = await amphi('owners', 'move', 'mme-leroy', '--from', 'globex', '--to', 'acme');
    expect(taken.code).not.toBe(0);
    expect((await globex.get<RoomList>('/v1/rooms')).body.items).toHaveLength(2);
    expect((await acme.get<RoomList>('/v1/rooms')).body.items.map((r) => r.title)).toEqual(['SVT 2nde']);
  });
});
