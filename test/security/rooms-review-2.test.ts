// Second security review of issue #11 (rooms, links, owners move, the BBB API's reserved room
// IDs), after the first review's fixes. Each test asserts the behaviour the code should have: a
// failing test is a finding; a passing one pins behaviour found sound.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRoomId } from '../../src/rooms/ids.js';
import { type Room, roomMeetingId } from '../../src/rooms/types.js';
import { toUpstreamId } from '../../src/state/namespace.js';
import { RoomStore } from '../../src/state/rooms.js';
import type { TestGateway, TestPool } from '../helpers/gateway.js';
import { startRoomsPool } from '../helpers/rooms-pool.js';
import { joinThrough, v1Client, v1Token, type LinkView, type RoomView, type V1Client, type V1Identity } from '../helpers/v1-client.js';

const JWT_SECRET = 'rooms-review-2-jwt-secret-0123456789abcdef';
const ACME_SECRET = 'acme-review2-bbb-secret-0123456789ab';
const GLOBEX_SECRET = 'globex-review2-bbb-secret-0123456789';
const INITECH_SECRET = 'initech-review2-bbb-secret-012345678';

describe('rooms review 2', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const as = (who: V1Identity): V1Client => v1Client(gw.url, v1Token(JWT_SECRET, who));
  const usersIn = (tenant: string, meetingID: string): string[] =>
    pool.cluster
      .servers()
      .flatMap(({ server }) => server.state(true).meetings)
      .filter((m) => m.meetingID === toUpstreamId(tenant, meetingID))
      .flatMap((m) => m.users?.map((u) => u.fullName) ?? []);

  beforeAll(async () => {
    ({ pool, gw } = await startRoomsPool('rooms-review-2', JWT_SECRET, { acme: ACME_SECRET, globex: GLOBEX_SECRET, initech: INITECH_SECRET }));
  });
  afterAll(() => pool.close());

  describe('meetingTenant after moves (rooms/room-meetings.ts, state/rooms.ts moveOwner)', () => {
    it('a meeting running under the first tenant is still the room’s after two moves: the owner sees it running and can end it', async () => {
      const mia = as({ sub: 'mia', tenant: 'acme', role: 'teacher' });
      const made = await mia.post<RoomView>('/v1/rooms', { title: 'Mia class' });
      expect(made.status, made.text).toBe(201);
      const link = await mia.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'Pupil');
      const meetingID = roomMeetingId(made.body.id);
      expect(usersIn('acme', meetingID)).toEqual(['Pupil']);

      expect(await pool.store.rooms.moveOwner('mia', 'globex')).toEqual({ moved: 1 });
      const miaGlobex = as({ sub: 'mia', tenant: 'globex', role: 'teacher' });
      expect((await miaGlobex.get<RoomView>(`/v1/rooms/${made.body.id}`)).body.state).toBe('running');

      expect(await pool.store.rooms.moveOwner('mia', 'initech')).toEqual({ moved: 1 });
      const miaInitech = as({ sub: 'mia', tenant: 'initech', role: 'teacher' });
      // The meeting still runs under acme: the room must still lead to it (not to a fresh one under initech).
      const read = await miaInitech.get<RoomView>(`/v1/rooms/${made.body.id}`);
      expect(read.status, read.text).toBe(200);
      expect(read.body.state).toBe('running');
      const ended = await miaInitech.post(`/v1/rooms/${made.body.id}/end`, {});
      expect(ended.status, ended.text).toBe(204);
      expect(usersIn('acme', meetingID)).toEqual([]);
    });

    it('after two moves a new link join enters the meeting already running, not a second meeting of the same room', async () => {
      const noa = as({ sub: 'noa', tenant: 'acme', role: 'teacher' });
      const made = await noa.post<RoomView>('/v1/rooms', { title: 'Noa class' });
      expect(made.status, made.text).toBe(201);
      const link = await noa.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'First');
      await pool.store.rooms.moveOwner('noa', 'globex');
      await pool.store.rooms.moveOwner('noa', 'initech');
      await joinThrough(link.body.url, 'Second');
      const meetingID = roomMeetingId(made.body.id);
      expect(usersIn('acme', meetingID).sort()).toEqual(['First', 'Second']);
      expect(usersIn('initech', meetingID)).toEqual([]);
    });

    it('after two moves, deleting the room ends its meeting (its old tenant’s BBB client may not: nobody else could)', async () => {
      const pat = as({ sub: 'pat', tenant: 'acme', role: 'teacher' });
      const made = await pat.post<RoomView>('/v1/rooms', { title: 'Pat class' });
      const link = await pat.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'Pupil');
      const meetingID = roomMeetingId(made.body.id);
      await pool.store.rooms.moveOwner('pat', 'globex');
      await pool.store.rooms.moveOwner('pat', 'initech');
      const patInitech = as({ sub: 'pat', tenant: 'initech', role: 'teacher' });
      expect((await patInitech.delete(`/v1/rooms/${made.body.id}`)).status).toBe(204);
      await gw.clientFor('/t/acme', ACME_SECRET).end(meetingID).catch(() => undefined);
      expect(usersIn('acme', meetingID)).toEqual([]);
    });

    it('moving back to the tenant the meeting runs in keeps the room on that meeting (sound today)', async () => {
      const ola = as({ sub: 'ola', tenant: 'acme', role: 'teacher' });
      const made = await ola.post<RoomView>('/v1/rooms', { title: 'Ola class' });
      const link = await ola.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'Pupil');
      await pool.store.rooms.moveOwner('ola', 'globex');
      await pool.store.rooms.moveOwner('ola', 'acme');
      const read = await ola.get<RoomView>(`/v1/rooms/${made.body.id}`);
      expect(read.body.state).toBe('running');
      expect(read.body.live.participants).toBe(1);
    });
  });

  describe('the BBB API and the rooms’ meeting IDs', () => {
    let meetingID: string;
    beforeAll(async () => {
      const pia = as({ sub: 'pia', tenant: 'acme', role: 'teacher' });
      const made = await pia.post<RoomView>('/v1/rooms', { title: 'Pia class' });
      const link = await pia.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      await joinThrough(link.body.url, 'Pupil');
      meetingID = roomMeetingId(made.body.id);
    });

    it('the join fast path with the tenant prefix and a moderator password from getMeetingInfo is refused', async () => {
      const acme = gw.clientFor('/t/acme', ACME_SECRET);
      const info = await (await request(acme.url('getMeetingInfo', [['meetingID', meetingID]]))).body.text();
      const pw = /<moderatorPW>([^<]*)<\/moderatorPW>/.exec(info)?.[1] ?? 'x';
      const res = await request(acme.joinUrl([['meetingID', meetingID], ['fullName', 'Intruder'], ['password', pw], ['redirect', 'false']]));
      expect(await res.body.text()).toContain('<returncode>FAILED</returncode>');
      expect(usersIn('acme', meetingID)).toEqual(['Pupil']);
    });

    it('another tenant’s BBB client cannot see the room’s meeting', async () => {
      const globex = gw.clientFor('/t/globex', GLOBEX_SECRET);
      const info = await (await request(globex.url('getMeetingInfo', [['meetingID', meetingID]]))).body.text();
      expect(info).toContain('<returncode>FAILED</returncode>');
      expect(info).not.toContain('Pupil');
    });
  });

  describe('counts behind the caps (state/rooms.ts, room-*.lua, owner-move.lua)', () => {
    const room = (tenant: string, owner: string): Room => ({ id: newRoomId(), owner, tenant, title: 'Capped', record: false, createdAt: Date.now(), updatedAt: Date.now() });

    it('an owner moved away or whose last room is deleted frees the tenant’s owner slot; a refused create takes none', async () => {
      const rooms = new RoomStore(pool.store.ctx, { ownersPerTenant: 2, roomsPerTenant: 3, roomsPerOwner: 2 });
      const T = 'capa';
      const a1 = room(T, 'a');
      expect(await rooms.create(a1)).toEqual({ ok: true });
      expect(await rooms.create(room(T, 'b'))).toEqual({ ok: true });
      expect(await rooms.create(room(T, 'c'))).toEqual({ ok: false, reason: 'tenantOwners' });
      expect(await rooms.create(room(T, 'c'))).toEqual({ ok: false, reason: 'tenantOwners' });
      expect(await rooms.moveOwner('b', 'capb', T)).toEqual({ moved: 1 });
      expect(await rooms.create(room(T, 'c'))).toEqual({ ok: true });
      expect(await rooms.delete(a1.id)).toBe(true);
      expect(await rooms.delete(a1.id)).toBe(false);
      expect(await rooms.create(room(T, 'd'))).toEqual({ ok: true });
      const { redis, keys } = pool.store.ctx;
      expect((await redis.smembers(keys.tenantOwners(T))).sort()).toEqual(['c', 'd']);
      expect(await redis.zcard(keys.tenantRooms(T))).toBe(2);
      expect(await redis.smembers(keys.subTenants('b'))).toEqual(['capb']);
      expect(await redis.smembers(keys.subTenants('a'))).toEqual([]);
    });

    it('concurrent creates, deletes and a move of one owner leave every index matching the rooms', async () => {
      const rooms = new RoomStore(pool.store.ctx, { roomsPerOwner: 50 });
      const [A, B] = ['racea', 'raceb'];
      const first = room(A, 'zed');
      await rooms.create(first);
      const made: Room[] = Array.from({ length: 20 }, () => room(A, 'zed'));
      await Promise.allSettled([
        ...made.map((r) => rooms.create(r)),
        ...made.slice(0, 10).map((r) => rooms.delete(r.id)),
        rooms.moveOwner('zed', B, A),
        rooms.moveOwner('zed', B, A),
      ]);
      // Whatever order they ran in: each stored room is indexed under its own tenant only.
      const { redis, keys } = pool.store.ctx;
      const inA = await redis.zrange(keys.ownerRooms(A, 'zed'), 0, -1);
      const inB = await redis.zrange(keys.ownerRooms(B, 'zed'), 0, -1);
      for (const id of [...inA, ...inB]) {
        const r = await rooms.get(id);
        expect(r?.tenant).toBe(inA.includes(id) ? A : B);
      }
      for (const r of [first, ...made]) {
        const stored = await rooms.get(r.id);
        if (stored) expect(stored.tenant === A ? inA : inB).toContain(r.id);
      }
      expect((await redis.zrange(keys.tenantRooms(A), 0, -1)).sort()).toEqual([...inA].sort());
      expect(await redis.sismember(keys.tenantOwners(A), 'zed')).toBe(inA.length > 0 ? 1 : 0);
    });
  });

  describe('announcements and owner moves racing /v1 writes (an operator’s move landing between a route’s store write and its announcement)', () => {
    const DAY = 86_400_000;
    const announcedUnder = async (meetingID: string, start: number): Promise<string[]> =>
      (await pool.store.announcements.overlapping(start - DAY, start + DAY)).filter((a) => a.meetingID === meetingID).map((a) => a.tenant).sort();
    /** Runs `after` once, right after the gateway's own RoomStore method `name` resolves (or before, with `before`). */
    function interleave<K extends 'create' | 'update' | 'delete'>(name: K, hook: () => Promise<unknown>, when: 'before' | 'after'): () => void {
      const rooms = gw.gateway.store.rooms;
      const original = rooms[name].bind(rooms) as (...a: unknown[]) => Promise<unknown>;
      let fired = false;
      (rooms as unknown as Record<string, unknown>)[name] = async (...a: unknown[]) => {
        if (!fired && when === 'before') {
          fired = true;
          await hook();
        }
        const out = await original(...a);
        if (!fired && when === 'after') {
          fired = true;
          await hook();
        }
        return out;
      };
      return () => {
        delete (rooms as unknown as Record<string, unknown>)[name];
      };
    }

    it('a PATCH whose owner is moved right after its write leaves nothing announced under the tenant the room left', async () => {
      const start = Date.now() + DAY;
      const rex = as({ sub: 'rex', tenant: 'acme', role: 'teacher' });
      const made = await rex.post<RoomView>('/v1/rooms', { title: 'Rex', start: new Date(start).toISOString(), expectedParticipants: 30 });
      expect(made.status, made.text).toBe(201);
      const meetingID = roomMeetingId(made.body.id);
      expect(await announcedUnder(meetingID, start)).toEqual(['acme']);
      const restore = interleave('update', () => pool.store.rooms.moveOwner('rex', 'globex', 'acme'), 'after');
      try {
        await rex.patch(`/v1/rooms/${made.body.id}`, { title: 'Rex 2' });
      } finally {
        restore();
      }
      expect((await pool.store.rooms.get(made.body.id))?.tenant).toBe('globex');
      expect(await announcedUnder(meetingID, start)).toEqual(['globex']);
    });

    it('a room created just before its owner is moved is announced under its new tenant only', async () => {
      const start = Date.now() + DAY;
      const svc = as({ sub: 'lms.acme', tenant: 'acme', role: 'service' });
      const restore = interleave('create', () => pool.store.rooms.moveOwner('sam', 'globex', 'acme'), 'after');
      let made;
      try {
        made = await svc.post<RoomView>('/v1/rooms', { title: 'Sam', owner: 'sam', start: new Date(start).toISOString(), expectedParticipants: 30 });
      } finally {
        restore();
      }
      expect(made.status, made.text).toBe(201);
      expect((await pool.store.rooms.get(made.body.id))?.tenant).toBe('globex');
      expect(await announcedUnder(roomMeetingId(made.body.id), start)).toEqual(['globex']);
    });

    it('a DELETE whose owner is moved before the store delete leaves nothing announced (and the old tenant’s token deletes nothing of the new tenant)', async () => {
      const start = Date.now() + DAY;
      const tia = as({ sub: 'tia', tenant: 'acme', role: 'teacher' });
      const made = await tia.post<RoomView>('/v1/rooms', { title: 'Tia', start: new Date(start).toISOString(), expectedParticipants: 30 });
      expect(made.status, made.text).toBe(201);
      const restore = interleave('delete', () => pool.store.rooms.moveOwner('tia', 'globex', 'acme'), 'before');
      let status: number;
      try {
        status = (await tia.delete(`/v1/rooms/${made.body.id}`)).status;
      } finally {
        restore();
      }
      const left = await pool.store.rooms.get(made.body.id);
      if (left) {
        // Refused: the room stays, announced under its new tenant.
        expect(status).toBe(404);
        expect(await announcedUnder(roomMeetingId(made.body.id), start)).toEqual(['globex']);
      } else {
        expect(await announcedUnder(roomMeetingId(made.body.id), start)).toEqual([]);
      }
    });
  });

  describe('/v1 access', () => {
    it('a service acts on every room of its own tenant, and on none of another', async () => {
      const svc = as({ sub: 'lms.acme', tenant: 'acme', role: 'service' });
      const made = await svc.post<RoomView>('/v1/rooms', { title: 'For quin', owner: 'quin' });
      expect(made.status, made.text).toBe(201);
      const quin = as({ sub: 'quin', tenant: 'acme', role: 'teacher' });
      expect((await quin.get(`/v1/rooms/${made.body.id}`)).status).toBe(200);
      const globexSvc = as({ sub: 'lms.globex', tenant: 'globex', role: 'admin' });
      for (const res of [
        await globexSvc.get(`/v1/rooms/${made.body.id}`),
        await globexSvc.patch(`/v1/rooms/${made.body.id}`, { title: 'x' }),
        await globexSvc.post(`/v1/rooms/${made.body.id}/links`, { role: 'moderator' }),
        await globexSvc.get(`/v1/rooms/${made.body.id}/invite.ics`),
        await globexSvc.post(`/v1/rooms/${made.body.id}/end`, {}),
        await globexSvc.delete(`/v1/rooms/${made.body.id}`),
      ])
        expect(res.status, res.text).toBe(404);
      const link = await svc.post<LinkView>(`/v1/rooms/${made.body.id}/links`, { role: 'viewer' });
      expect(link.status, link.text).toBe(201);
      expect((await svc.delete(`/v1/rooms/${made.body.id}/links/${link.body.id}`)).status).toBe(204);
      expect((await svc.delete(`/v1/rooms/${made.body.id}`)).status).toBe(204);
    });
  });
});
