// Teachers' rooms and their join links: the model the /v1 JSON API, the /j/<token> pages, the
// Redis store (state/rooms.ts) and `amphi owners` share. A room costs nothing until used: its
// BBB meeting is created by the first join through one of its links.

/** What a /v1 bearer token lets its holder do (src/rooms/access.ts holds the rules). */
export type PrincipalRole = 'teacher' | 'service' | 'admin';
export const PRINCIPAL_ROLES: readonly PrincipalRole[] = ['teacher', 'service', 'admin'];

/** Who calls the /v1 API: the verified claims of their token. */
export interface Principal {
  /** The tenant (ministry, academy) the token speaks for. */
  tenant: string;
  /**
   * The person's (or service's) identity within the tenant: rooms belong to the pair (tenant,
   * sub), so the same sub in two tenants is two people.
   */
  sub: string;
  role: PrincipalRole;
}

export type LinkRole = 'moderator' | 'viewer';

export interface Room {
  /** `r` + 22 base64url characters (128 random bits): unguessable, never reused. */
  id: string;
  /** The owner's `sub`, within `tenant`. */
  owner: string;
  /** The owner's tenant now: a room moves with its owner (`amphi owners move`). */
  tenant: string;
  /**
   * The tenant the room was in when its owner last moved: a meeting it was running then runs on
   * under that tenant, and joins, live counts and end go there until it ends (room-meetings.ts).
   */
  meetingTenant?: string;
  title: string;
  /** A capacity profile of the policy, the tenant's default when absent. */
  profile?: string;
  expectedParticipants?: number;
  expectedCameras?: number;
  /** Announced start and end, epoch ms: they feed the scaler's forecast. */
  start?: number;
  end?: number;
  welcome?: string;
  record: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface RoomLink {
  /** 22 base64url characters (128 random bits). */
  id: string;
  room: string;
  role: LinkRole;
  createdAt: number;
  /** Epoch ms; every link expires. */
  expiresAt: number;
  /** Absent: unlimited. */
  maxUses?: number;
  /** Joins admitted through it (a refused join gives its use back). */
  uses: number;
  revoked: boolean;
  /** The `sub` that made it. */
  createdBy: string;
}

/** Why a join link does not lead into its room. */
export type LinkRefusal = 'invalid' | 'expired' | 'revoked' | 'usedUp' | 'roomGone';

/** Why a join through a valid link did not enter the meeting. */
export type JoinRefusal =
  /** The camera rule, the meeting's own limit or the tenant's quota. */
  | 'full'
  /** The room's announced end has passed. */
  | 'ended'
  /** No server can take the meeting, or its server failed. */
  | 'unavailable'
  /** This address sent too many requests. */
  | 'rateLimited';

/** The BBB meeting ID (tenant-local) a room's meetings run under; `create` refuses the prefix on the BBB API. */
export const ROOM_MEETING_PREFIX = 'amphi-room-';
export const roomMeetingId = (roomId: string): string => `${ROOM_MEETING_PREFIX}${roomId}`;

/** Default and longest lifetime of a link. */
export const DEFAULT_LINK_TTL_MS = 30 * 86_400_000;
export const MAX_LINK_TTL_MS = 366 * 86_400_000;
/** Most rooms an owner keeps, and links a room keeps (revoked and expired ones included until purged). */
export const MAX_ROOMS_PER_OWNER = 1000;
export const MAX_LINKS_PER_ROOM = 100;
/**
 * Most owners and rooms one tenant keeps: a service token names owners freely, so without these
 * one tenant could grow Redis without bound. An academy's teachers fit; `amphi owners move`
 * (an operator's act) is not held to them.
 */
export const MAX_OWNERS_PER_TENANT = 100_000;
export const MAX_ROOMS_PER_TENANT = 300_000;
