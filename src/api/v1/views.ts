// Rooms and links as the /v1 API shows them (schemas.ts roomView, linkView): ISO dates, null for
// what is not set, link URLs rebuilt from their signed tokens (a token is a pure function of the
// link, so none is stored).
import { type MeetingPolicy, type Policy, resolveMeetingPolicy } from '../../policy/index.js';
import type { LiveRoom } from '../../rooms/room-meetings.js';
import { roomCreateParams } from '../../rooms/room-meetings.js';
import { linkUrl, signLinkToken } from '../../rooms/link-token.js';
import type { Room, RoomLink } from '../../rooms/types.js';
import type { LinkView, RoomView } from './schemas.js';

export const V1_PREFIX = '/v1';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function linkView(link: RoomLink, key: Buffer, base: string): LinkView {
  return {
    id: link.id,
    role: link.role,
    url: linkUrl(base, signLinkToken(key, link.id, link.expiresAt)),
    expiresAt: new Date(link.expiresAt).toISOString(),
    maxUses: link.maxUses ?? null,
    uses: link.uses,
    revoked: link.revoked,
    createdAt: new Date(link.createdAt).toISOString(),
  };
}

/** What the policy makes of the room's meeting, as its first join would create it. */
export function roomPolicy(policy: Policy, room: Room): ReturnType<typeof resolveMeetingPolicy> {
  return resolveMeetingPolicy(policy, room.tenant, roomCreateParams(room));
}

function limitsOf(policy: Policy, decided: MeetingPolicy | undefined): RoomView['limits'] {
  if (!decided) return null;
  return {
    profile: decided.profile,
    maxParticipants: decided.limits.maxParticipants,
    maxCameras: decided.limits.maxCameras,
    curve: policy.curve.points.map((p) => ({ cameras: p.cameras, participants: p.maxParticipants })),
  };
}

export function roomPath(id: string): string {
  return `${V1_PREFIX}/rooms/${id}`;
}

export function roomView(room: Room, ctx: { policy: Policy; live: LiveRoom; links: readonly RoomLink[]; key: Buffer; base: string }): RoomView {
  const decided = roomPolicy(ctx.policy, room);
  const { state, ...live } = ctx.live;
  return {
    id: room.id,
    title: room.title,
    owner: room.owner,
    tenant: room.tenant,
    profile: room.profile ?? null,
    expectedParticipants: room.expectedParticipants ?? null,
    expectedCameras: room.expectedCameras ?? null,
    start: iso(room.start),
    end: iso(room.end),
    welcome: room.welcome ?? null,
    record: room.record,
    createdAt: new Date(room.createdAt).toISOString(),
    updatedAt: new Date(room.updatedAt).toISOString(),
    state,
    live,
    limits: limitsOf(ctx.policy, decided.ok ? decided : undefined),
    links: ctx.links.map((l) => linkView(l, ctx.key, ctx.base)),
    inviteUrl: `${ctx.base}${roomPath(room.id)}/invite.ics`,
  };
}
