// What the /v1 routes share: the gateway, the rooms' meetings, the link key, and the helpers
// every route uses to find the caller's room or refuse.
import type { FastifyRequest } from 'fastify';
import { mayAccessRoom } from '../../rooms/access.js';
import type { RoomMeetings } from '../../rooms/room-meetings.js';
import type { Principal, Room, RoomLink } from '../../rooms/types.js';
import { DEFAULT_LINK_TTL_MS } from '../../rooms/types.js';
import { newLinkId } from '../../rooms/ids.js';
import type { Gateway } from '../bbb/context.js';
import { publicBase } from '../bbb/routes.js';
import { recordAnnouncement } from '../bbb/announce.js';
import { problem, ProblemError } from '../http/problem.js';
import { principal } from './auth.js';
import { roomPolicy, roomView } from './views.js';
import type { RoomView } from './schemas.js';
import { roomMeetingId } from '../../rooms/types.js';
import { ANNOUNCE_MAX_AHEAD_MS } from '../../policy/announcement.js';

export interface V1Context {
  gw: Gateway;
  meetings: RoomMeetings;
  /** The join-link signing key (rooms/link-token.ts linkKey). */
  key: Buffer;
}

export const notFound = (what = 'room'): ProblemError => new ProblemError(problem(404, 'not-found', `no such ${what}`));

/** The base URL link and invitation URLs are built on: AMPHI_PUBLIC_URL, else the request's own. */
export function baseOf(ctx: V1Context, request: FastifyRequest): string {
  return publicBase(ctx.gw, { host: request.headers.host, protocol: request.protocol });
}

/** The caller's room by ID; 404 for any room they may not reach (or that does not exist). */
export async function callerRoom(ctx: V1Context, request: FastifyRequest, id: string): Promise<{ p: Principal; room: Room }> {
  const p = principal(request);
  // A teacher moved to another tenant reaches no room with their old tenant's token: the room's tenant changed.
  const room = await ctx.gw.store.rooms.get(id);
  if (!room || !mayAccessRoom(p, room)) throw notFound();
  return { p, room };
}

/** The full view of a room: live state, policy limits, links. */
export async function fullView(ctx: V1Context, request: FastifyRequest, room: Room): Promise<RoomView> {
  const [live, links] = await Promise.all([ctx.meetings.live(room), ctx.gw.store.rooms.links(room.id)]);
  return roomView(room, { policy: ctx.gw.policies.current(), live, links, key: ctx.key, base: baseOf(ctx, request) });
}

/** 422 naming the field when the policy would refuse the room's meeting (unknown or forbidden profile). */
export function checkPolicy(ctx: V1Context, room: Room): void {
  const decided = roomPolicy(ctx.gw.policies.current(), room);
  if (decided.ok) return;
  const field = decided.error === 'invalidHint' ? 'expectedParticipants' : 'profile';
  throw new ProblemError(problem(422, 'policy-refused', decided.message, [{ field, message: decided.message }]));
}

/**
 * The room's start and size feed the scaler's forecast, as a BBB create's meta_amphi-start
 * does (same store, same caps), under the meeting its first join will create.
 */
export async function announceRoom(ctx: V1Context, written: Room): Promise<void> {
  // An operator's move may land between the room's write and this: announce it where it is
  // now, and take it out of the tenant it left (owner-move moves only what was announced).
  const room = (await ctx.gw.store.rooms.get(written.id)) ?? written;
  if (room.tenant !== written.tenant) await unannounceRoom(ctx, written);
  const now = ctx.gw.store.ctx.now();
  const decided = roomPolicy(ctx.gw.policies.current(), room);
  // The forecast looks 14 days ahead at most; a later room is announced by a later change.
  if (room.start === undefined || room.start > now + ANNOUNCE_MAX_AHEAD_MS || (room.end ?? room.start) < now || !decided.ok) {
    await unannounceRoom(ctx, room);
    return;
  }
  await recordAnnouncement(
    ctx.gw,
    {
      tenant: room.tenant,
      meetingID: roomMeetingId(room.id),
      startsAt: room.start,
      ...(room.end !== undefined && { endsAt: room.end }),
      participants: decided.expected.participants,
      cameras: decided.expected.cameras,
    },
    'room',
  );
}

/** The room no longer announces a start (deleted, start cleared or moved out of reach): out of the forecast. */
export async function unannounceRoom(ctx: V1Context, room: Room): Promise<void> {
  try {
    await ctx.gw.store.announcements.remove(room.tenant, roomMeetingId(room.id));
  } catch (err) {
    // The room change stands; a stale announcement only overstates the forecast until it ends.
    ctx.gw.log.warn({ room: room.id, err: (err as Error).message }, 'room: announcement not removed');
  }
}

/** Makes a link to a room; 404 when the room went meanwhile, 409 when it has too many. */
export async function makeLink(ctx: V1Context, room: Room, p: Principal, opts: { role: RoomLink['role']; expiresInMs?: number; maxUses?: number }): Promise<RoomLink> {
  const now = ctx.gw.store.ctx.now();
  const link: RoomLink = {
    id: newLinkId(),
    room: room.id,
    role: opts.role,
    createdAt: now,
    expiresAt: now + (opts.expiresInMs ?? DEFAULT_LINK_TTL_MS),
    ...(opts.maxUses !== undefined && { maxUses: opts.maxUses }),
    uses: 0,
    revoked: false,
    createdBy: p.sub,
  };
  const added = await ctx.gw.store.rooms.addLink(link);
  if (added.ok) return link;
  if (added.reason === 'roomGone') throw notFound();
  throw new ProblemError(problem(409, 'too-many-links', 'the room has as many links as it may keep; revoke some, or wait for expired ones to be purged'));
}
