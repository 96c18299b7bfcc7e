// Teachers' rooms and their join links in Redis (rooms/types.ts is the model). A room is a JSON
// value; its owner's and its tenant's rooms are sorted sets by creation time. An owner is a
// (tenant, sub) pair: the same sub in two tenants is two people, so no tenant can claim a sub
// another uses. Each tenant's owners (a set, for its cap) and each sub's tenants (a set, for
// `amphi owners`) are kept beside them. A link is a hash (its use count is counted in
// place), expiring LINK_PURGE_AFTER_MS after the link does. Every write that spans several keys
// is one Lua script (commands/room-*.lua, link-*.lua, owner-move.lua); those whose keys depend
// on what the store holds (a room's links, an owner's rooms) read first and are refused, then
// retried, when what they read changed meanwhile.
import { LINK_ID, ROOM_ID } from '../rooms/ids.js';
import {
  type LinkRefusal,
  type LinkRole,
  MAX_LINKS_PER_ROOM,
  MAX_OWNERS_PER_TENANT,
  MAX_ROOMS_PER_OWNER,
  MAX_ROOMS_PER_TENANT,
  type Room,
  roomMeetingId,
  type RoomLink,
} from '../rooms/types.js';
import { ANNOUNCE_MAX_AHEAD_MS, ANNOUNCE_MAX_SPAN_MS } from '../policy/announcement.js';
import type { StoreContext } from './context.js';
import { meetingRef } from './keys.js';
import { runScript } from './scripts.js';

/** How long a link's record outlives the link: it reads as expired, not unknown, meanwhile. */
export const LINK_PURGE_AFTER_MS = 7 * 86_400_000;
/** Reads a multi-key write retries when its keys keep changing under it (a burst of link adds). */
const MAX_ATTEMPTS = 5;

export class StoreConflictError extends Error {}

/** The caps a store applies (tests shrink them). */
export interface RoomLimits {
  roomsPerOwner: number;
  roomsPerTenant: number;
  ownersPerTenant: number;
}

const LIMITS: RoomLimits = { roomsPerOwner: MAX_ROOMS_PER_OWNER, roomsPerTenant: MAX_ROOMS_PER_TENANT, ownersPerTenant: MAX_OWNERS_PER_TENANT };

/** Expiry of the announced keys after a move: the same as announcements.ts gives them. */
const ANNOUNCED_KEYS_TTL_MS = ANNOUNCE_MAX_AHEAD_MS + ANNOUNCE_MAX_SPAN_MS + 24 * 3_600_000;

/** `tooMany`: the owner's cap; `tenantRooms`, `tenantOwners`: the tenant's. */
export type CreateRoomOutcome = { ok: true } | { ok: false; reason: 'tooMany' | 'tenantRooms' | 'tenantOwners' };
/**
 * `moved: 0` when there is no such owner (or nothing to move). Refused: `ambiguous` when the sub
 * owns rooms in several tenants and no `from` was given; `taken` when the target tenant already
 * has an owner with that sub (never merged); `unreadable` when a room cannot be decoded
 * (nothing moved).
 */
export type MoveOwnerOutcome = { moved: number } | { refused: 'ambiguous'; tenants: string[] } | { refused: 'taken' } | { refused: 'unreadable'; room: string };
export type AddLinkOutcome = { ok: true } | { ok: false; reason: 'tooMany' | 'roomGone' };
export type UseLinkOutcome = { ok: true; link: RoomLink; room: Room } | { ok: false; reason: LinkRefusal };

export class RoomStore {
  private readonly limits: RoomLimits;

  constructor(
    private readonly ctx: StoreContext,
    limits: Partial<RoomLimits> = {},
  ) {
    this.limits = { ...LIMITS, ...limits };
  }

  /** Stores a new room; the owner's first room registers the owner (tenant, sub). */
  async create(room: Room): Promise<CreateRoomOutcome> {
    const { keys } = this.ctx;
    const { roomsPerOwner, roomsPerTenant, ownersPerTenant } = this.limits;
    const reply = (await runScript(
      this.ctx.redis,
      'room-create',
      [keys.room(room.id), keys.ownerRooms(room.tenant, room.owner), keys.tenantRooms(room.tenant), keys.tenantOwners(room.tenant), keys.subTenants(room.owner)],
      [room.owner, room.tenant, room.id, encodeRoom(room), room.createdAt, roomsPerOwner, roomsPerTenant, ownersPerTenant],
    )) as [number, string?];
    if (reply[0] === 1) return { ok: true };
    if (reply[1] === 'tooMany' || reply[1] === 'tenantRooms' || reply[1] === 'tenantOwners') return { ok: false, reason: reply[1] };
    // Two draws of 128 random bits never meet; a caller reusing an ID is a bug.
    throw new StoreConflictError(`room ${room.id} exists already`);
  }

  async get(id: string): Promise<Room | undefined> {
    if (!ROOM_ID.test(id)) return undefined;
    return decodeRoom(await this.ctx.redis.get(this.ctx.keys.room(id)));
  }

  /**
   * Replaces a room's data; false when it is gone or moved to another owner or tenant since
   * `next` was read (owner and tenant are never changed here: see moveOwner).
   */
  async update(id: string, next: Room): Promise<boolean> {
    if (!ROOM_ID.test(id) || next.id !== id) return false;
    return (await runScript(this.ctx.redis, 'room-update', [this.ctx.keys.room(id)], [encodeRoom(next), next.owner, next.tenant])) === 1;
  }

  /** Deletes a room and its links; false when there was none, or (given `tenant`) it is in another tenant now. */
  async delete(id: string, tenant?: string): Promise<boolean> {
    if (!ROOM_ID.test(id)) return false;
    const { keys, redis } = this.ctx;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const room = await this.get(id);
      // A room moved to another tenant since the caller read it is no longer the caller's to delete.
      if (!room || (tenant !== undefined && room.tenant !== tenant)) return false;
      const linkIds = await redis.zrange(keys.roomLinks(id), 0, -1);
      const reply = Number(
        await runScript(
          redis,
          'room-delete',
          [
            keys.room(id),
            keys.roomLinks(id),
            keys.ownerRooms(room.tenant, room.owner),
            keys.tenantRooms(room.tenant),
            keys.tenantOwners(room.tenant),
            keys.subTenants(room.owner),
            ...linkIds.map((l) => keys.roomLink(l)),
          ],
          [id, room.owner, room.tenant, ...linkIds],
        ),
      );
      if (reply === 1) return true;
      if (reply === 0) continue; // moved meanwhile: read it again under its new tenant
    }
    throw new StoreConflictError(`room ${id} kept changing while it was being deleted`);
  }

  /** An owner's rooms (tenant, sub), oldest first. */
  listByOwner(tenant: string, sub: string, offset: number, limit: number): Promise<{ rooms: Room[]; total: number }> {
    return this.list(this.ctx.keys.ownerRooms(tenant, sub), offset, limit);
  }

  /** A tenant's rooms, oldest first. */
  listByTenant(tenant: string, offset: number, limit: number): Promise<{ rooms: Room[]; total: number }> {
    return this.list(this.ctx.keys.tenantRooms(tenant), offset, limit);
  }

  /** The tenants in which this sub owns rooms, sorted. */
  async ownerTenants(sub: string): Promise<string[]> {
    return (await this.ctx.redis.smembers(this.ctx.keys.subTenants(sub))).sort();
  }

  /** The one tenant in which this sub owns rooms; undefined when none, or several (see ownerTenants). */
  async ownerTenant(sub: string): Promise<string | undefined> {
    const tenants = await this.ownerTenants(sub);
    return tenants.length === 1 ? tenants[0] : undefined;
  }

  /**
   * Where each room's meeting runs now, if one does: under the tenant an earlier move left it in,
   * else under the room's own tenant (`source`). A meeting runs while its record is there and not
   * ended. A room keeps that tenant across later moves, so a class started before two moves is
   * still the room's (rooms/room-meetings.ts meetingTenant).
   */
  private async meetingTenants(ids: readonly string[], rooms: readonly (Room | undefined)[], source: string): Promise<(string | undefined)[]> {
    const { keys, redis } = this.ctx;
    const candidates = ids.map((id, i) => [...new Set([rooms[i]?.meetingTenant, source].filter((t): t is string => t !== undefined))].map((t) => ({ id, t })));
    const pipeline = redis.pipeline();
    for (const c of candidates.flat()) pipeline.hmget(keys.meeting(meetingRef(c.t, roomMeetingId(c.id))), 'server', 'endedAt');
    const replies = (await pipeline.exec()) ?? [];
    let k = 0;
    return candidates.map((list) => {
      let found: string | undefined;
      for (const c of list) {
        const [server, endedAt] = (replies[k++]?.[1] ?? []) as (string | null)[];
        if (found === undefined && server && !endedAt) found = c.t;
      }
      return found;
    });
  }

  /**
   * Moves the owner (from, sub) and every room of theirs to tenant `to`, atomically, with their
   * rooms' forecast announcements. `from` may be left out when one tenant only has that sub.
   * Their links keep working (they name rooms, not tenants). Not held to the target tenant's
   * caps: an operator's act, not a token's.
   */
  async moveOwner(sub: string, to: string, from?: string): Promise<MoveOwnerOutcome> {
    const { keys, redis } = this.ctx;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const source = from ?? (await this.onlyTenant(sub));
      if (typeof source === 'object') return source;
      if (source === undefined || source === to) return { moved: 0 };
      const ids = await redis.zrange(keys.ownerRooms(source, sub), 0, -1);
      if (ids.length === 0) return { moved: 0 };
      const values = await redis.mget(ids.map((id) => keys.room(id)));
      const refs = ids.map((id) => meetingRef(source, roomMeetingId(id)));
      const announced = await redis.hmget(keys.announcedData, ...refs);
      const rooms = values.map((value) => decodeRoom(value ?? null));
      const runsIn = await this.meetingTenants(ids, rooms, source);
      const args: string[] = [];
      for (const [i, id] of ids.entries()) {
        const value = values[i] ?? null;
        const room = rooms[i];
        // Refused before any write: a room left behind would be indexed in one tenant and stored in another.
        if (value === null || !room) return { refused: 'unreadable', room: id };
        const { meetingTenant: _left, ...rest } = room;
        const meetingTenant = runsIn[i];
        const next = encodeRoom({ ...rest, tenant: to, ...(meetingTenant !== undefined && meetingTenant !== to && { meetingTenant }) });
        const oldData = announced[i] ?? '';
        args.push(id, value, next, refs[i]!, meetingRef(to, roomMeetingId(id)), oldData, movedAnnouncement(oldData, to));
      }
      const reply = Number(
        await runScript(
          redis,
          'owner-move',
          [
            keys.ownerRooms(source, sub),
            keys.ownerRooms(to, sub),
            keys.tenantRooms(source),
            keys.tenantRooms(to),
            keys.tenantOwners(source),
            keys.tenantOwners(to),
            keys.subTenants(sub),
            keys.announced,
            keys.announcedData,
            keys.tenantAnnounced(source),
            keys.tenantAnnounced(to),
            ...ids.map((id) => keys.room(id)),
          ],
          [sub, source, to, ANNOUNCED_KEYS_TTL_MS, ...args],
        ),
      );
      if (reply === -2) return { refused: 'taken' };
      if (reply >= 0) return { moved: reply };
    }
    throw new StoreConflictError(`the rooms of ${sub} kept changing while they were being moved`);
  }

  /** The one tenant a sub owns rooms in; undefined for none; a refusal for several. */
  private async onlyTenant(sub: string): Promise<string | undefined | { refused: 'ambiguous'; tenants: string[] }> {
    const tenants = await this.ownerTenants(sub);
    if (tenants.length > 1) return { refused: 'ambiguous', tenants };
    return tenants[0];
  }

  /** Adds a link to its room, which keeps at most MAX_LINKS_PER_ROOM (purged ones not counted). */
  async addLink(link: RoomLink): Promise<AddLinkOutcome> {
    const { keys } = this.ctx;
    const fields: (string | number)[] = ['room', link.room, 'role', link.role, 'createdAt', link.createdAt, 'expiresAt', link.expiresAt, 'uses', link.uses];
    fields.push('revoked', link.revoked ? '1' : '0', 'createdBy', link.createdBy);
    if (link.maxUses !== undefined) fields.push('maxUses', link.maxUses);
    const reply = (await runScript(
      this.ctx.redis,
      'link-add',
      [keys.room(link.room), keys.roomLinks(link.room), keys.roomLink(link.id)],
      [link.id, link.expiresAt + LINK_PURGE_AFTER_MS, this.ctx.now(), MAX_LINKS_PER_ROOM, ...fields],
    )) as [number, string?];
    if (reply[0] === 1) return { ok: true };
    if (reply[1] === 'roomGone' || reply[1] === 'tooMany') return { ok: false, reason: reply[1] };
    throw new StoreConflictError(`link ${link.id} exists already`);
  }

  async getLink(id: string): Promise<RoomLink | undefined> {
    if (!LINK_ID.test(id)) return undefined;
    return decodeLink(id, await this.ctx.redis.hgetall(this.ctx.keys.roomLink(id)));
  }

  /** A room's links not purged yet (revoked and expired ones included), oldest first. */
  async links(roomId: string): Promise<RoomLink[]> {
    if (!ROOM_ID.test(roomId)) return [];
    const { keys, redis } = this.ctx;
    const ids = await redis.zrangebyscore(keys.roomLinks(roomId), this.ctx.now(), '+inf');
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.roomLink(id));
    const results = (await pipeline.exec()) ?? [];
    const out: RoomLink[] = [];
    ids.forEach((id, i) => {
      const link = decodeLink(id, results[i]?.[1] as Record<string, string> | undefined);
      if (link && link.room === roomId) out.push(link);
    });
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Revokes a link of that room; false when the room has no such link. */
  async revokeLink(roomId: string, linkId: string): Promise<boolean> {
    if (!ROOM_ID.test(roomId) || !LINK_ID.test(linkId)) return false;
    return (await runScript(this.ctx.redis, 'link-revoke', [this.ctx.keys.roomLink(linkId)], [roomId])) === 1;
  }

  /**
   * Takes one use of a link, atomically (of N concurrent uses of a link with N uses left,
   * exactly N pass), and answers it with its room; or why it leads nowhere.
   */
  async useLink(linkId: string, now: number): Promise<UseLinkOutcome> {
    if (!LINK_ID.test(linkId)) return { ok: false, reason: 'invalid' };
    const { keys, redis } = this.ctx;
    // The script needs the room's key among its KEYS: read which room first (a link never changes room).
    const roomId = await redis.hget(keys.roomLink(linkId), 'room');
    if (roomId === null) return { ok: false, reason: 'invalid' };
    if (!ROOM_ID.test(roomId)) return { ok: false, reason: 'invalid' };
    const reply = (await runScript(redis, 'link-use', [keys.roomLink(linkId), keys.room(roomId)], [roomId, now])) as (number | string)[];
    if (reply[0] === 1) {
      const room = decodeRoom(String(reply[1]));
      const link = decodeLink(linkId, pairs(reply.slice(2).map(String)));
      // Data the store cannot read is no room: give the use back rather than count it.
      if (!room || !link) {
        await this.giveBackUse(linkId);
        return { ok: false, reason: 'roomGone' };
      }
      return { ok: true, link, room };
    }
    if (reply[0] === -1) return { ok: false, reason: 'invalid' };
    return { ok: false, reason: refusal(String(reply[1])) };
  }

  /** Gives back the use a refused join took (never below zero). */
  async giveBackUse(linkId: string): Promise<void> {
    if (!LINK_ID.test(linkId)) return;
    await runScript(this.ctx.redis, 'link-give-back', [this.ctx.keys.roomLink(linkId)], []);
  }

  private async list(key: string, offset: number, limit: number): Promise<{ rooms: Room[]; total: number }> {
    const { keys, redis } = this.ctx;
    const from = Math.max(0, Math.floor(offset));
    const count = Math.max(0, Math.floor(limit));
    const [[, total], [, ids]] = ((await redis
      .multi()
      .zcard(key)
      .zrange(key, from, count === 0 ? from - 1 : from + count - 1)
      .exec()) ?? []) as [[unknown, number], [unknown, string[]]];
    if (count === 0 || ids.length === 0) return { rooms: [], total: Number(total) };
    const values = await redis.mget(ids.map((id) => keys.room(id)));
    const rooms = values.map((v) => decodeRoom(v)).filter((r): r is Room => r !== undefined);
    return { rooms, total: Number(total) };
  }
}

/** An announcement's data under its new tenant; '' (dropped) when it cannot be read. */
function movedAnnouncement(data: string, tenant: string): string {
  if (data === '') return '';
  try {
    const a = JSON.parse(data) as unknown;
    return typeof a === 'object' && a !== null ? JSON.stringify({ ...a, tenant }) : '';
  } catch {
    return '';
  }
}

const REFUSALS: ReadonlySet<string> = new Set<LinkRefusal>(['invalid', 'expired', 'revoked', 'usedUp', 'roomGone']);
const refusal = (reason: string): LinkRefusal => (REFUSALS.has(reason) ? (reason as LinkRefusal) : 'invalid');

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function encodeRoom(room: Room): string {
  // Only the model's fields, in a fixed order: nothing a caller added rides along into Redis.
  const { id, owner, tenant, meetingTenant, title, profile, expectedParticipants, expectedCameras, start, end, welcome, record, createdAt, updatedAt } = room;
  return JSON.stringify({ id, owner, tenant, meetingTenant, title, profile, expectedParticipants, expectedCameras, start, end, welcome, record, createdAt, updatedAt });
}

const text = (v: unknown): v is string => typeof v === 'string';
const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A stored room, or undefined when missing or unreadable. */
export function decodeRoom(value: string | null | undefined): Room | undefined {
  if (!value) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { id, owner, tenant, meetingTenant, title, profile, expectedParticipants, expectedCameras, start, end, welcome, record, createdAt, updatedAt } = raw;
  if (!text(id) || !text(owner) || !text(tenant) || !text(title) || !whole(createdAt) || !whole(updatedAt)) return undefined;
  return {
    id,
    owner,
    tenant,
    ...(text(meetingTenant) && meetingTenant !== tenant && { meetingTenant }),
    title,
    ...(text(profile) && { profile }),
    ...(whole(expectedParticipants) && { expectedParticipants }),
    ...(whole(expectedCameras) && { expectedCameras }),
    ...(whole(start) && { start }),
    ...(whole(end) && { end }),
    ...(text(welcome) && { welcome }),
    record: record === true,
    createdAt,
    updatedAt,
  };
}

const ROLES: ReadonlySet<string> = new Set<LinkRole>(['moderator', 'viewer']);

function decodeLink(id: string, h: Record<string, string> | undefined): RoomLink | undefined {
  if (!h || h.room === undefined) return undefined;
  const createdAt = Number(h.createdAt);
  const expiresAt = Number(h.expiresAt);
  const uses = Number(h.uses ?? 0);
  const maxUses = h.maxUses === undefined || h.maxUses === '' ? undefined : Number(h.maxUses);
  if (!ROLES.has(h.role ?? '') || !whole(createdAt) || !whole(expiresAt) || !whole(uses) || (maxUses !== undefined && !whole(maxUses))) return undefined;
  return {
    id,
    room: h.room,
    role: h.role as LinkRole,
    createdAt,
    expiresAt,
    ...(maxUses !== undefined && { maxUses }),
    uses,
    revoked: h.revoked === '1',
    createdBy: h.createdBy ?? '',
  };
}
