// The rooms' Redis store (state/rooms.ts) against a real Redis: owners keyed by (tenant, sub),
// the tenant caps, link use counted atomically under concurrency, revocation, deletion with
// links, and owner moves (with their rooms' forecast).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newLinkId, newRoomId } from '../../src/rooms/ids.js';
import { MAX_LINKS_PER_ROOM, type Room, type RoomLink } from '../../src/rooms/types.js';
import { roomMeetingId } from '../../src/rooms/types.js';
import { LINK_PURGE_AFTER_MS, RoomStore } from '../../src/state/rooms.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const DAY = 86_400_000;

describe('RoomStore (real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  let clock: number;

  beforeEach(() => {
    t = testRedis('rooms');
    clock = 1_800_000_000_000;
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => clock });
  });
  afterEach(async () => t.cleanup());

  const room = (over: Partial<Room> = {}): Room => ({
    id: newRoomId(),
    owner: 'alice',
    tenant: 'acme',
    title: 'Maths 4e B',
    record: false,
    createdAt: clock++,
    updatedAt: clock,
    ...over,
  });
  const link = (roomId: string, over: Partial<RoomLink> = {}): RoomLink => ({
    id: newLinkId(),
    room: roomId,
    role: 'viewer',
    createdAt: clock++,
    expiresAt: clock + DAY,
    uses: 0,
    revoked: false,
    createdBy: 'alice',
    ...over,
  });

  it('creates, reads back every field, updates and deletes a room', async () => {
    const r = room({ profile: 'webinar', expectedParticipants: 120, expectedCameras: 2, start: clock + DAY, end: clock + DAY + 3_600_000, welcome: 'Bonjour « tous » \u{1F600}', record: true });
    expect(await store.rooms.create(r)).toEqual({ ok: true });
    expect(await store.rooms.get(r.id)).toEqual(r);
    expect(await store.rooms.ownerTenant('alice')).toBe('acme');

    const next = { ...r, title: 'Maths 3e', welcome: undefined, updatedAt: clock + 5 };
    expect(await store.rooms.update(r.id, next)).toBe(true);
    const { welcome: _dropped, ...withoutWelcome } = next;
    expect(await store.rooms.get(r.id)).toEqual(withoutWelcome);
    // An update may not carry a room to another tenant or owner.
    expect(await store.rooms.update(r.id, { ...next, tenant: 'globex' })).toBe(false);
    expect(await store.rooms.update(r.id, { ...next, owner: 'mallory' })).toBe(false);

    const l = link(r.id);
    expect(await store.rooms.addLink(l)).toEqual({ ok: true });
    expect(await store.rooms.delete(r.id)).toBe(true);
    expect(await store.rooms.get(r.id)).toBeUndefined();
    expect(await store.rooms.getLink(l.id)).toBeUndefined();
    expect(await store.rooms.listByOwner('acme', 'alice', 0, 10)).toEqual({ rooms: [], total: 0 });
    expect(await store.rooms.listByTenant('acme', 0, 10)).toEqual({ rooms: [], total: 0 });
    // Their last room gone, alice is no owner any more (nor counted in acme's owners).
    expect(await store.rooms.ownerTenants('alice')).toEqual([]);
    expect(await t.redis.scard(store.ctx.keys.tenantOwners('acme'))).toBe(0);
    expect(await store.rooms.delete(r.id)).toBe(false);
    expect(await store.rooms.update(r.id, next)).toBe(false);
  });

  it('refuses malformed IDs without touching Redis keys built from them', async () => {
    expect(await store.rooms.get('../../etc')).toBeUndefined();
    expect(await store.rooms.getLink('x')).toBeUndefined();
    expect(await store.rooms.useLink('short', clock)).toEqual({ ok: false, reason: 'invalid' });
    expect(await store.rooms.useLink(newLinkId(), clock)).toEqual({ ok: false, reason: 'invalid' });
    expect(await store.rooms.revokeLink('nope', newLinkId())).toBe(false);
  });

  it('keys owners by (tenant, sub): the same sub in two tenants is two owners, each with their own rooms', async () => {
    const inAcme = room();
    const inGlobex = room({ tenant: 'globex' });
    expect(await store.rooms.create(inAcme)).toEqual({ ok: true });
    expect(await store.rooms.create(inGlobex)).toEqual({ ok: true });
    expect((await store.rooms.listByOwner('acme', 'alice', 0, 10)).rooms.map((r) => r.id)).toEqual([inAcme.id]);
    expect((await store.rooms.listByOwner('globex', 'alice', 0, 10)).rooms.map((r) => r.id)).toEqual([inGlobex.id]);
    expect(await store.rooms.ownerTenants('alice')).toEqual(['acme', 'globex']);
    // Several tenants: no single one to name.
    expect(await store.rooms.ownerTenant('alice')).toBeUndefined();
    // Deleting one owner's room leaves the other owner as they were.
    expect(await store.rooms.delete(inAcme.id)).toBe(true);
    expect(await store.rooms.ownerTenants('alice')).toEqual(['globex']);
    expect((await store.rooms.listByOwner('globex', 'alice', 0, 10)).total).toBe(1);
  });

  it("caps a tenant's rooms and owners (an existing owner still adds rooms under the owner cap)", async () => {
    const capped = new RoomStore(store.ctx, { roomsPerOwner: 3, roomsPerTenant: 4, ownersPerTenant: 2 });
    expect(await capped.create(room({ owner: 'a' }))).toEqual({ ok: true });
    expect(await capped.create(room({ owner: 'b' }))).toEqual({ ok: true });
    expect(await capped.create(room({ owner: 'c' }))).toEqual({ ok: false, reason: 'tenantOwners' });
    expect(await capped.create(room({ owner: 'a' }))).toEqual({ ok: true });
    expect(await capped.create(room({ owner: 'a' }))).toEqual({ ok: true });
    expect(await capped.create(room({ owner: 'a' }))).toEqual({ ok: false, reason: 'tooMany' });
    expect(await capped.create(room({ owner: 'b' }))).toEqual({ ok: false, reason: 'tenantRooms' });
    // Other tenants have caps of their own.
    expect(await capped.create(room({ owner: 'c', tenant: 'globex' }))).toEqual({ ok: true });
    expect((await capped.listByTenant('acme', 0, 10)).total).toBe(4);
    // An owner who deletes their last room frees their place.
    const [bRoom] = (await capped.listByOwner('acme', 'b', 0, 10)).rooms;
    expect(await capped.delete(bRoom!.id)).toBe(true);
    expect(await capped.create(room({ owner: 'c' }))).toEqual({ ok: true });
  });

  it('pages an owner and a tenant in creation order', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) {
      const r = room({ title: `room ${i}` });
      mine.push(r);
      await store.rooms.create(r);
    }
    await store.rooms.create(room({ owner: 'bob' }));
    const page1 = await store.rooms.listByOwner('acme', 'alice', 0, 2);
    const page3 = await store.rooms.listByOwner('acme', 'alice', 4, 2);
    expect(page1.total).toBe(5);
    expect(page1.rooms.map((r) => r.title)).toEqual(['room 0', 'room 1']);
    expect(page3.rooms.map((r) => r.title)).toEqual(['room 4']);
    expect((await store.rooms.listByOwner('acme', 'alice', 0, 0)).rooms).toEqual([]);
    expect((await store.rooms.listByTenant('acme', 0, 100)).total).toBe(6);
  });

  it('admits exactly maxUses of 3×maxUses concurrent uses, and gives uses back', async () => {
    const r = room();
    await store.rooms.create(r);
    const N = 7;
    const l = link(r.id, { maxUses: N });
    await store.rooms.addLink(l);
    // Separate clients: the uses race in Redis, not in one connection's queue.
    const others = Array.from({ length: 3 }, () => new Store(t.redis.duplicate(), { namespace: t.prefix.slice(0, -1), now: () => clock }));
    try {
      const outcomes = await Promise.all(Array.from({ length: 3 * N }, (_, i) => others[i % 3]!.rooms.useLink(l.id, clock)));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(N);
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.reason)).toEqual(Array(2 * N).fill('usedUp'));
    } finally {
      for (const s of others) s.ctx.redis.disconnect();
    }
    expect((await store.rooms.getLink(l.id))?.uses).toBe(N);
    await store.rooms.giveBackUse(l.id);
    const again = await store.rooms.useLink(l.id, clock);
    expect(again.ok && again.room).toEqual(r);
    expect(again.ok && again.link.uses).toBe(N);
    // Never below zero.
    const fresh = link(r.id);
    await store.rooms.addLink(fresh);
    await store.rooms.giveBackUse(fresh.id);
    expect((await store.rooms.getLink(fresh.id))?.uses).toBe(0);
  });

  it('refuses revoked, expired and roomless links, and lists revoked ones', async () => {
    const r = room();
    await store.rooms.create(r);
    const l = link(r.id, { role: 'moderator' });
    const old = link(r.id, { expiresAt: clock + 1000 });
    await store.rooms.addLink(l);
    await store.rooms.addLink(old);
    expect((await store.rooms.useLink(l.id, clock)).ok).toBe(true);
    expect(await store.rooms.revokeLink(room().id, l.id)).toBe(false); // another room's
    expect(await store.rooms.revokeLink(r.id, l.id)).toBe(true);
    expect(await store.rooms.useLink(l.id, clock)).toEqual({ ok: false, reason: 'revoked' });
    expect(await store.rooms.useLink(old.id, clock + 1000)).toEqual({ ok: false, reason: 'expired' });
    const listed = await store.rooms.links(r.id);
    expect(listed.map((x) => [x.id, x.revoked, x.uses])).toEqual([
      [l.id, true, 1],
      [old.id, false, 0],
    ]);
    // A room deleted under a link: the link is gone with it.
    await store.rooms.delete(r.id);
    expect(await store.rooms.useLink(old.id, clock)).toEqual({ ok: false, reason: 'invalid' });
    expect(await store.rooms.addLink(link(r.id))).toEqual({ ok: false, reason: 'roomGone' });
  });

  it('keeps at most MAX_LINKS_PER_ROOM links, counting none purged', async () => {
    const r = room();
    await store.rooms.create(r);
    for (let i = 0; i < MAX_LINKS_PER_ROOM; i++) expect(await store.rooms.addLink(link(r.id, { expiresAt: clock + 1000 }))).toEqual({ ok: true });
    expect(await store.rooms.addLink(link(r.id))).toEqual({ ok: false, reason: 'tooMany' });
    // Past their purge time the expired links no longer count (nor list).
    clock += 1000 + LINK_PURGE_AFTER_MS + 1;
    expect(await store.rooms.links(r.id)).toEqual([]);
    expect(await store.rooms.addLink(link(r.id))).toEqual({ ok: true });
  });

  it('moves an owner and all their rooms to another tenant; their links keep working', async () => {
    const rooms = [room(), room(), room()];
    for (const r of rooms) await store.rooms.create(r);
    const other = room({ owner: 'bob' });
    await store.rooms.create(other);
    const l = link(rooms[1]!.id);
    await store.rooms.addLink(l);

    expect(await store.rooms.moveOwner('alice', 'globex')).toEqual({ moved: 3 });
    expect(await store.rooms.ownerTenant('alice')).toBe('globex');
    // No meeting of theirs was running: nothing to remember of the tenant they left.
    for (const r of rooms) {
      const moved = await store.rooms.get(r.id);
      expect(moved).toMatchObject({ tenant: 'globex' });
      expect(moved!.meetingTenant).toBeUndefined();
    }
    expect((await store.rooms.listByTenant('globex', 0, 10)).rooms.map((r) => r.id)).toEqual(rooms.map((r) => r.id));
    expect((await store.rooms.listByTenant('acme', 0, 10)).rooms.map((r) => r.id)).toEqual([other.id]);
    const used = await store.rooms.useLink(l.id, clock);
    expect(used.ok && used.room.tenant).toBe('globex');
    expect((await store.rooms.listByOwner('acme', 'alice', 0, 10)).total).toBe(0);
    expect(await t.redis.sismember(store.ctx.keys.tenantOwners('acme'), 'alice')).toBe(0);
    expect(await t.redis.sismember(store.ctx.keys.tenantOwners('globex'), 'alice')).toBe(1);
    expect(await store.rooms.create(room({ tenant: 'globex' }))).toEqual({ ok: true });
    expect(await store.rooms.moveOwner('alice', 'initech')).toEqual({ moved: 4 });
    expect(await store.rooms.get(rooms[0]!.id)).toMatchObject({ tenant: 'initech' });
    expect((await store.rooms.get(rooms[0]!.id))!.meetingTenant).toBeUndefined();
    expect(await store.rooms.moveOwner('nobody', 'globex')).toEqual({ moved: 0 });
    expect(await store.rooms.ownerTenant('nobody')).toBeUndefined();
  });

  it('refuses a move that would merge two owners, and one whose source tenant is ambiguous', async () => {
    const a = room();
    const g = room({ tenant: 'globex' });
    await store.rooms.create(a);
    await store.rooms.create(g);
    expect(await store.rooms.moveOwner('alice', 'initech')).toEqual({ refused: 'ambiguous', tenants: ['acme', 'globex'] });
    expect(await store.rooms.moveOwner('alice', 'globex', 'acme')).toEqual({ refused: 'taken' });
    // Nothing moved.
    expect(await store.rooms.get(a.id)).toEqual(a);
    expect(await store.rooms.ownerTenants('alice')).toEqual(['acme', 'globex']);
    expect(await store.rooms.moveOwner('alice', 'initech', 'acme')).toEqual({ moved: 1 });
    expect(await store.rooms.ownerTenants('alice')).toEqual(['globex', 'initech']);
    expect(await store.rooms.moveOwner('alice', 'acme', 'nowhere')).toEqual({ moved: 0 });
  });

  it("moves the owner's rooms' forecast announcements to the new tenant", async () => {
    const r = room({ start: clock + DAY });
    const plain = room();
    await store.rooms.create(r);
    await store.rooms.create(plain);
    const announcement = { tenant: 'acme', meetingID: roomMeetingId(r.id), startsAt: clock + DAY, participants: 30, cameras: 1 };
    expect(await store.announcements.put(announcement, { participants: 1000 })).toEqual({ stored: true });
    expect(await store.rooms.moveOwner('alice', 'globex')).toEqual({ moved: 2 });
    expect(await store.announcements.overlapping(clock, clock + 2 * DAY)).toEqual([{ ...announcement, tenant: 'globex' }]);
    expect(await t.redis.zcard(store.ctx.keys.tenantAnnounced('acme'))).toBe(0);
    expect(await t.redis.zcard(store.ctx.keys.tenantAnnounced('globex'))).toBe(1);
    // Removing it under the room's tenant now removes it.
    expect(await store.announcements.remove('globex', roomMeetingId(r.id))).toBe(true);
    expect(await store.announcements.overlapping(clock, clock + 2 * DAY)).toEqual([]);
  });

  it('moves nothing when one of the rooms cannot be read', async () => {
    const good = room();
    const bad = room();
    await store.rooms.create(good);
    await store.rooms.create(bad);
    await t.redis.set(store.ctx.keys.room(bad.id), '{"not":"a room"');
    expect(await store.rooms.moveOwner('alice', 'globex')).toEqual({ refused: 'unreadable', room: bad.id });
    expect(await store.rooms.get(good.id)).toEqual(good);
    expect((await store.rooms.listByTenant('acme', 0, 10)).total).toBe(2);
    expect(await store.rooms.ownerTenants('alice')).toEqual(['acme']);
  });

  it('keeps a date far ahead to the millisecond through a move', async () => {
    // Lua's cjson writes numbers with 14 significant digits: a move rewrites rooms in TypeScript.
    const far = room({ start: Date.parse('9999-12-30T23:59:59.999Z') });
    await store.rooms.create(far);
    await store.rooms.moveOwner('alice', 'globex');
    expect((await store.rooms.get(far.id))?.start).toBe(far.start);
  });

  it('moves an owner consistently while rooms are being created concurrently', async () => {
    for (let i = 0; i < 20; i++) await store.rooms.create(room());
    const creating = Array.from({ length: 20 }, () => store.rooms.create(room()));
    const [moved] = await Promise.all([store.rooms.moveOwner('alice', 'globex'), ...creating]);
    const acme = await store.rooms.listByTenant('acme', 0, 100);
    const globex = await store.rooms.listByTenant('globex', 0, 100);
    // Every room is listed under the tenant its data names, and each owner index matches its
    // tenant's (a create that lands after the move makes alice an owner of acme anew).
    for (const r of acme.rooms) expect(r.tenant).toBe('acme');
    for (const r of globex.rooms) expect(r.tenant).toBe('globex');
    expect(acme.total + globex.total).toBe(40);
    expect(acme.total).toBe((await store.rooms.listByOwner('acme', 'alice', 0, 100)).total);
    expect(globex.total).toBe((await store.rooms.listByOwner('globex', 'alice', 0, 100)).total);
    expect(moved).toMatchObject({ moved: expect.any(Number) });
    expect((moved as { moved: number }).moved).toBe(globex.total);
  });
});
