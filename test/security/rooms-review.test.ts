// Security and correctness review of issue #11 (/v1 rooms, /j links, invitations, owners move).
// Each test asserts the behaviour the code should have: a failing test is a finding.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMeetingId } from '../../src/rooms/types.js';
import { toUpstreamId } from '../../src/state/namespace.js';
import type { TestGateway, TestPool } from '../helpers/gateway.js';
import { startRoomsPool } from '../helpers/rooms-pool.js';
import { joinThrough, v1Client, v1Token, type LinkView, type RoomView, type V1Client, type V1Identity } from '../helpers/v1-client.js';

const JWT_SECRET = 'rooms-review-jwt-secret-0123456789abcdef';
const ACME_SECRET = 'acme-review-bbb-secret-0123456789ab';
const GLOBEX_SECRET = 'globex-review-bbb-secret-0123456789';
const DAY = 86_400_000;

describe('rooms review', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const as = (who: V1Identity): V1Client => v1Client(gw.url, v1Token(JWT_SECRET, who));

  beforeAll(async () => {
    ({ pool, gw } = await startRoomsPool('rooms-review', JWT_SECRET, { acme: ACME_SECRET, globex: GLOBEX_SECRET }));
  });
  afterAll(() => pool.close());

  it('a service of one tenant cannot squat a sub that another tenant uses: the other tenant’s teacher still gets their rooms', async () => {
    // acme's LMS names an owner that is globex's teacher (who has not made a room yet).
    const acmeLms = as({ sub: 'lms.acme', tenant: 'acme', role: 'service' });
    const squat = await acmeLms.post<RoomView>('/v1/rooms', { title: 'Squat', owner: 'carol' });
    // Owners are (tenant, sub): acme's carol is acme's own, and globex's carol someone else.
    expect(squat.status, squat.text).toBe(201);
    const carol = as({ sub: 'carol', tenant: 'globex', role: 'teacher' });
    const own = await carol.post<RoomView>('/v1/rooms', { title: 'Carol class' });
    expect(own.status, own.text).toBe(201);
    const list = await carol.get<{ items: RoomView[] }>('/v1/rooms');
    expect(list.status, list.text).toBe(200);
    expect(list.body.items.map((r) => r.id)).toEqual([own.body.id]);
    expect((await carol.get(`/v1/rooms/${squat.body.id}`)).status).toBe(404);
    // acme's carol has the squat room only, and acme's LMS never sees globex's.
    const acmeCarol = as({ sub: 'carol', tenant: 'acme', role: 'teacher' });
    const acmeList = await acmeCarol.get<{ items: RoomView[] }>('/v1/rooms');
    expect(acmeList.body.items.map((r) => r.id)).toEqual([squat.body.id]);
    expect((await acmeLms.get(`/v1/rooms/${own.body.id}`)).status).toBe(404);
  });

  describe('a BBB client of the room’s own tenant', () => {
    let meetingID: string;
    const usersIn = (id: string): string[] =>
      pool.cluster
        .servers()
        .flatMap(({ server }) => server.state(true).meetings)
        .filter((m) => m.meetingID === toUpstreamId('acme', id))
        .flatMap((m) => m.users?.map((u) => u.fullName) ?? []);
    beforeAll(async () => {
      const dora = as({ sub: 'dora', tenant: 'acme', role: 'teacher' });
      const made = await dora.post<RoomView>('/v1/rooms', { title: 'Dora class' });
      expect(made.status, made.text).toBe(201);
      const link = await dora.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'Pupil');
      meetingID = roomMeetingId(made.body.id);
    });

    it('cannot join a room’s meeting as moderator without one of its links', async () => {
      const acme = gw.clientFor('/t/acme', ACME_SECRET);
      const res = await request(acme.joinUrl([['meetingID', meetingID], ['fullName', 'Intruder'], ['role', 'MODERATOR'], ['redirect', 'false']]));
      const joined = await res.body.text();
      expect(joined).toContain('<returncode>FAILED</returncode>');
    });

    it('cannot end a room’s meeting (only /v1 end or DELETE by its owner or tenant service may)', async () => {
      const acme = gw.clientFor('/t/acme', ACME_SECRET);
      await acme.end(meetingID).catch(() => undefined);
      expect(usersIn(meetingID)).toEqual(['Pupil']);
    });
  });

  it('moving an owner moves the forecast of their rooms: nothing stays announced under the old tenant, even after the room is deleted', async () => {
    const erin = as({ sub: 'erin', tenant: 'acme', role: 'teacher' });
    const start = Date.now() + DAY;
    const made = await erin.post<RoomView>('/v1/rooms', { title: 'Erin class', start: new Date(start).toISOString(), expectedParticipants: 40 });
    expect(made.status, made.text).toBe(201);
    const meetingID = roomMeetingId(made.body.id);
    const announced = async () => (await pool.store.announcements.overlapping(start - DAY, start + DAY)).filter((a) => a.meetingID === meetingID).map((a) => a.tenant);
    expect(await announced()).toEqual(['acme']);
    await pool.store.rooms.moveOwner('erin', 'globex');
    expect(await announced()).toEqual(['globex']);
    const erinGlobex = as({ sub: 'erin', tenant: 'globex', role: 'teacher' });
    const deleted = await erinGlobex.delete(`/v1/rooms/${made.body.id}`);
    expect(deleted.status, deleted.text).toBe(204);
    expect(await announced()).toEqual([]);
  });

  it('downloading the invitation of a room far ahead reuses its viewer link instead of minting one per download', async () => {
    const fred = as({ sub: 'fred', tenant: 'acme', role: 'teacher' });
    const start = Date.now() + 400 * DAY;
    const made = await fred.post<RoomView>('/v1/rooms', { title: 'Next year', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString() });
    expect(made.status, made.text).toBe(201);
    for (let i = 0; i < 3; i++) {
      const ics = await fred.get(`/v1/rooms/${made.body.id}/invite.ics`);
      expect(ics.status, ics.text).toBe(200);
    }
    const room = await fred.get<RoomView>(`/v1/rooms/${made.body.id}`);
    // Three downloads: one link. (Today every download adds one; after ~100 the room can make no link for a year.)
    expect(room.body.links).toHaveLength(1);
  });

  it('a start before 1970 is refused or kept: the room never reads back other than it was answered', async () => {
    const gina = as({ sub: 'gina', tenant: 'acme', role: 'teacher' });
    const made = await gina.post<RoomView>('/v1/rooms', { title: 'Old', start: '1969-12-31T23:00:00Z', end: '1970-01-01T00:30:00Z' });
    if (made.status === 400) return;
    expect(made.status, made.text).toBe(201);
    const read = await gina.get<RoomView>(`/v1/rooms/${made.body.id}`);
    expect({ start: read.body.start, end: read.body.end }).toEqual({ start: made.body.start, end: made.body.end });
  });

  it('a title with a lone UTF-16 surrogate is refused, or the room stays editable and joinable', async () => {
    const hank = as({ sub: 'hank', tenant: 'acme', role: 'teacher' });
    const made = await hank.post<RoomView>('/v1/rooms', { title: 'Broken \ud800 title' });
    if (made.status === 400) return;
    expect(made.status, made.text).toBe(201);
    const patched = await hank.patch<RoomView>(`/v1/rooms/${made.body.id}`, { title: 'Fixed title' });
    expect(patched.status, patched.text).toBe(200);
  });

  it('a room with a lone surrogate in its welcome still opens its meeting through its link', async () => {
    const ivy = as({ sub: 'ivy', tenant: 'acme', role: 'teacher' });
    const made = await ivy.post<RoomView>('/v1/rooms', { title: 'Ivy class', welcome: 'Hello \udc00' });
    if (made.status === 400) return;
    expect(made.status, made.text).toBe(201);
    const link = await ivy.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
    const res = await request(link.body.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Pupil' });
    await res.body.text();
    expect(res.statusCode).toBe(303);
  });

  it('moving an owner whose room has a lone surrogate moves that room too (never a room indexed in one tenant and stored in another)', async () => {
    const svc = as({ sub: 'lms.acme', tenant: 'acme', role: 'service' });
    const made = await svc.post<RoomView>('/v1/rooms', { title: 'Jack \ud800', owner: 'jack' });
    if (made.status === 400) return;
    expect(made.status, made.text).toBe(201);
    await pool.store.rooms.moveOwner('jack', 'globex');
    const room = await pool.store.rooms.get(made.body.id);
    expect(room?.tenant).toBe('globex');
  });

  it('two subs that differ only in a lone surrogate are two teachers: neither lists the other’s rooms (nor its moderator links)', async () => {
    const kim = as({ sub: 'kim\ud800', tenant: 'acme', role: 'teacher' });
    const kimsTwin = as({ sub: 'kim\udbff', tenant: 'acme', role: 'teacher' });
    const made = await kim.post<RoomView>('/v1/rooms', { title: 'Kim private class' });
    if (made.status !== 201) return; // such subs refused: fine
    await kim.post(`/v1/rooms/${made.body.id}/links`, { role: 'moderator' });
    const list = await kimsTwin.get<{ items: RoomView[] }>('/v1/rooms');
    expect(list.status, list.text).toBe(200);
    expect(list.body.items.map((r) => r.id)).not.toContain(made.body.id);
  });

  it('a start the API accepts reads back as an RFC 3339 date and gives a valid iCalendar DTSTART (year 10000 in UTC)', async () => {
    const lea = as({ sub: 'lea', tenant: 'acme', role: 'teacher' });
    const made = await lea.post<RoomView>('/v1/rooms', { title: 'Far', start: '9999-12-31T23:59:59-12:00' });
    if (made.status === 400) return;
    expect(made.status, made.text).toBe(201);
    expect(made.body.start).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // What the API answered can be sent back unchanged.
    const again = await lea.patch<RoomView>(`/v1/rooms/${made.body.id}`, { start: made.body.start });
    expect(again.status, again.text).toBe(200);
    const ics = await lea.get(`/v1/rooms/${made.body.id}/invite.ics`);
    expect(ics.text).toMatch(/^DTSTART:\d{8}T\d{6}Z\r$/m);
  });
});
