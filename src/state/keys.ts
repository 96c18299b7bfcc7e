// Redis key layout. Every key of a pool carries the pool's hash tag, so the Lua scripts that
// touch several of them also run on Redis Cluster.
import type { TenantSizeSample } from './types.js';

export interface Keys {
  prefix: string;
  /** Present while Redis still holds our data; its absence reveals a flush or a lost primary. */
  epoch: string;
  servers: string;
  server(id: string): string;
  reservations(serverId: string): string;
  serverMeetings(serverId: string): string;
  meetings: string;
  meetingPrefix: string;
  meeting(ref: string): string;
  /** External userIDs the last poll saw in the meeting (rejoins always pass admission). */
  inside(ref: string): string;
  /** Joins admitted since the last poll, by userID, scored by time. */
  pending(ref: string): string;
  /** Refs of one tenant's meetings (placed, running or ended but not yet forgotten): its meeting quota. */
  tenantMeetings(tenant: string): string;
  /** One tenant's participants as the last poll of each server saw them: server id → count, no zero fields. */
  tenantUsage(tenant: string): string;
  /**
   * One tenant's joins admitted since the polls (tenantPendingMember), scored by time; kept only
   * while the tenant has a participant quota.
   */
  tenantPending(tenant: string): string;
  /** Tenants that have a field for this server in their tenantUsage hash (to delete it when it drops to zero). */
  serverTenants(serverId: string): string;
  /**
   * The peaks of one tenant's meetings that ended, sized by the tenant's default profile (no
   * profile, no hint asked), newest first, at most TENANT_SIZE_SAMPLES (tenantSizeSample).
   */
  tenantSizes(tenant: string): string;
  /** The load model learned from servers' CPU (hash: sums, at; placement/learned-weights.ts). */
  calibration: string;
  tenants: string;
  lock(name: string): string;
  counter(name: string): string;
  /** The current rate-limit window of a client address or tenant (`ip:…`, `tenant:…`). */
  rateLimit(subject: string): string;
  /** The pool's measured demand, one sample per time bucket, scored by bucket start (scaler/history.ts). */
  demandHistory: string;
  /** Meetings that each took a large part of a server, scored by when they were placed (scaler/arrivals.ts). */
  largeArrivals: string;
  /** When the scaler last asked for a server (`out`) and last cordoned one (`in`), shared by its replicas. */
  scalerLastScale: string;
  /** Which scaler replica reconciles a tick (SET NX). */
  scalerLease(tick: number): string;
  /** The last reconcile step as metrics see it (scaler/status.ts): desired and servers per class, demand. */
  scalerStatus: string;
  /** Scale actions by type and outcome, and decisions by action: HINCRBY counters summed over replicas (scaler/status.ts). */
  scalerCounts: string;
  /** Time from asking for a server to registering it: a histogram's bucket counts, sum and count (scaler/status.ts). */
  scalerTimeToReady: string;
  /** Forecasts waiting for their window to pass, to be compared with the measured peak (scaler/status.ts). */
  scalerForecasts: string;
  /** BullMQ's own prefix for the scaler's queue. */
  bullPrefix: string;
  /** Meetings announced by their creates (meta_amphi-start), by meeting ref, scored by start (state/announcements.ts). */
  announced: string;
  /** The announcements' data: meeting ref → JSON (state/announcements.ts). */
  announcedData: string;
  /** One tenant's announced meeting refs, scored by start: its caps. */
  tenantAnnounced(tenant: string): string;
  /** Written right before a WAIT, so the WAIT covers the writes before it (state/replication.ts). */
  replicationMark: string;
  /** A teacher's room: JSON (rooms/types.ts Room; state/rooms.ts). */
  room(id: string): string;
  /** A room's join links, scored by when their hash is purged (state/rooms.ts). */
  roomLinks(roomId: string): string;
  /** A join link: hash of its fields and use count, expiring some days after the link does. */
  roomLink(id: string): string;
  /**
   * One owner's room IDs, scored by creation time. An owner is a (tenant, sub) pair: the same
   * sub in two tenants is two people. The owner exists while this set is not empty.
   */
  ownerRooms(tenant: string, sub: string): string;
  /** The subs that own rooms in a tenant (a set: its owner cap). */
  tenantOwners(tenant: string): string;
  /** The tenants in which a sub owns rooms (a set: `amphi owners` finds an owner by sub). */
  subTenants(sub: string): string;
  /** One tenant's room IDs, scored by creation time. */
  tenantRooms(tenant: string): string;
}

export function keysFor(pool: string, namespace = 'amphi'): Keys {
  const prefix = `${namespace}:{${pool}}:`;
  return {
    prefix,
    epoch: `${prefix}epoch`,
    servers: `${prefix}servers`,
    server: (id) => `${prefix}server:${id}`,
    reservations: (id) => `${prefix}resv:${id}`,
    serverMeetings: (id) => `${prefix}server-meetings:${id}`,
    meetings: `${prefix}meetings`,
    meetingPrefix: `${prefix}meeting:`,
    meeting: (ref) => `${prefix}meeting:${ref}`,
    inside: (ref) => `${prefix}inside:${ref}`,
    pending: (ref) => `${prefix}pending:${ref}`,
    tenantMeetings: (tenant) => `${prefix}tenant-meetings:${tenant}`,
    tenantUsage: (tenant) => `${prefix}tenant-usage:${tenant}`,
    tenantPending: (tenant) => `${prefix}tenant-pending:${tenant}`,
    serverTenants: (id) => `${prefix}server-tenants:${id}`,
    tenantSizes: (tenant) => `${prefix}tenant-sizes:${tenant}`,
    calibration: `${prefix}calibration`,
    tenants: `${prefix}tenants`,
    lock: (name) => `${prefix}lock:${name}`,
    counter: (name) => `${prefix}counter:${name}`,
    rateLimit: (subject) => `${prefix}ratelimit:${subject}`,
    demandHistory: `${prefix}demand-history`,
    largeArrivals: `${prefix}large-arrivals`,
    scalerLastScale: `${prefix}scaler:last-scale`,
    scalerLease: (tick) => `${prefix}scaler:lease:${tick}`,
    scalerStatus: `${prefix}scaler:status`,
    scalerCounts: `${prefix}scaler:counts`,
    scalerTimeToReady: `${prefix}scaler:time-to-ready`,
    scalerForecasts: `${prefix}scaler:forecasts`,
    bullPrefix: `${prefix}bull`,
    announced: `${prefix}announced`,
    announcedData: `${prefix}announced-data`,
    tenantAnnounced: (tenant) => `${prefix}tenant-announced:${tenant}`,
    replicationMark: `${prefix}replication-mark`,
    room: (id) => `${prefix}room:${id}`,
    roomLinks: (roomId) => `${prefix}room-links:${roomId}`,
    roomLink: (id) => `${prefix}room-link:${id}`,
    // A sub is free text: its own hash tag braces cannot move the key (the pool's tag comes first),
    // and tenant names (TENANT_NAME) never contain ':', so tenant and sub cannot be confused.
    ownerRooms: (tenant, sub) => `${prefix}owner-rooms:${tenant}:${sub}`,
    tenantOwners: (tenant) => `${prefix}tenant-owners:${tenant}`,
    subTenants: (sub) => `${prefix}sub-tenants:${sub}`,
    tenantRooms: (tenant) => `${prefix}tenant-rooms:${tenant}`,
  };
}

/** A meeting's reference inside a pool: tenant and tenant-local meeting ID. */
export function meetingRef(tenant: string, meetingID: string): string {
  return `${tenant}:${meetingID}`;
}

/** The tenant of a meeting ref: tenant names (TENANT_NAME) never contain ':'. */
export function refTenant(ref: string): string {
  return ref.slice(0, ref.indexOf(':'));
}

/**
 * A join's entry in its tenant's pending set: meeting IDs never contain ',' (BBB refuses them at
 * create), so the first ',' separates the two. The Lua scripts build the same string.
 */
export function tenantPendingMember(meetingID: string, member: string): string {
  return `${meetingID},${member}`;
}

/** How many ended meetings a tenant's tenant-sizes list keeps (the policy's window is at most this). */
export const TENANT_SIZE_SAMPLES = 1000;

/**
 * An entry of a tenant-sizes list: `peakParticipants|peakCameras|profile|endedAt` (profile names
 * never contain '|'). apply-poll.lua builds the same string.
 */
export function tenantSizeSample(s: TenantSizeSample): string {
  return `${s.participants}|${s.cameras}|${s.profile}|${s.endedAt}`;
}

/** An entry of a tenant-sizes list read back; undefined when malformed. */
export function parseTenantSizeSample(entry: string): TenantSizeSample | undefined {
  const [p, c, profile, at] = entry.split('|');
  const participants = Number(p);
  const cameras = Number(c);
  if (!profile || !Number.isSafeInteger(participants) || !Number.isSafeInteger(cameras) || participants < 0 || cameras < 0) return undefined;
  return { participants, cameras, profile, endedAt: Number(at) || 0 };
}
