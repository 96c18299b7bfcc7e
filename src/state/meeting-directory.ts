import { createHash } from 'node:crypto';
import type { MeetingInfo } from '../bbb/types.js';
import { decodeMeeting } from './codec.js';
import { ScriptBatch } from './script-batch.js';
import type { StoreContext } from './context.js';
import { meetingRef, parseTenantSizeSample, TENANT_SIZE_SAMPLES, tenantPendingMember } from './keys.js';
import { runScript } from './scripts.js';
import type { MeetingLimits, MeetingRecord, ProfileSource, TenantSizeSample } from './types.js';

export type { MeetingLimits };

export interface PlaceRequest {
  tenant: string;
  meetingID: string;
  upstreamID: string;
  /** Load units the meeting is expected to need. */
  need: number;
  /** The fill ceiling (placement/choose.ts headroom); default 1, the whole capacity. */
  maxFill?: number;
  /** Server ids in ranked order (placement/choose.ts). */
  candidates: readonly string[];
  /** How many leading candidates form the random sample compared on live counters. */
  sampled: number;
  /** How long a reservation takes to fade to nothing. */
  fadeMs: number;
  extra?: Record<string, unknown>;
  /** The tenant's quotas, checked and counted against in the placing step; undefined: no limit. */
  quotas?: { maxMeetings: number | undefined; maxParticipants: number | undefined };
}

export type TenantQuota = 'maxMeetings' | 'maxParticipants';

export type PlaceOutcome =
  | { outcome: 'placed' | 'overcommitted'; server: string; headroom: number }
  | { outcome: 'existing'; server: string }
  | { outcome: 'quota'; quota: TenantQuota }
  | { outcome: 'none' };

export interface JoinCount {
  server: string;
  /** The pending entry this attempt added (to take back on refusal). */
  member: string;
  participants: number;
  cameras: number;
  pendingOthers: number;
  /** The user is inside already, or was admitted moments ago: a rejoin always passes. */
  rejoin: boolean;
  maxParticipants: number;
  moderatorMargin: number;
  moderatorPW: string;
  /** Only when the tenant has a participant quota: the quota and what counts against it. */
  tenantQuota?: {
    maxParticipants: number;
    /** The tenant's participants the last poll of each server saw. */
    participants: number;
    /** The tenant's joins counted since those polls, not counting this one. */
    pendingOthers: number;
  };
}

/**
 * Who is joining: a caller-given userID, or, for an anonymous join, the signed join URL itself.
 * Replaying one signed URL then takes one seat per pending window, not a seat per replay.
 */
export type Joiner = { userID: string } | { signedUrl: string };

function memberOf(joiner: Joiner): string {
  if ('userID' in joiner) return joiner.userID;
  return `anon:${createHash('sha256').update(joiner.signedUrl).digest('base64url').slice(0, 22)}`;
}

/** The rate-limit window a join's client address is counted in (api/bbb/rate-limit.ts). */
export interface AddressLimit {
  /** keys.ts rateLimit subject, e.g. `ip:203.0.113.7`. */
  subject: string;
  max: number;
  windowMs: number;
}

/** The join was over its address's limit and was not counted. */
export interface AddressLimited {
  limitedForMs: number;
}

/**
 * How long a join counts as pending when no poll ever shows the user inside (its client never
 * loaded); a poll drops it sooner once the user shows (poll-writer.ts PENDING_WINDOW_MS).
 */
export const PENDING_TTL_MS = 60_000;

/** Where each meeting runs. Placement itself is one Lua script (commands/place-meeting.lua). */
export class MeetingDirectory {
  /** Join attempts of one event-loop turn, counted in one count-join call. */
  private readonly joins: ScriptBatch;

  constructor(private readonly ctx: StoreContext) {
    this.joins = new ScriptBatch(ctx.redis, 'count-join', () => [ctx.now(), PENDING_TTL_MS]);
  }

  async place(req: PlaceRequest): Promise<PlaceOutcome> {
    const { keys } = this.ctx;
    const ref = meetingRef(req.tenant, req.meetingID);
    const scriptKeys = [keys.meeting(ref), keys.meetings, keys.tenantMeetings(req.tenant), keys.tenantUsage(req.tenant), keys.tenantPending(req.tenant)];
    for (const id of req.candidates) scriptKeys.push(keys.server(id), keys.reservations(id), keys.serverMeetings(id));
    const result = (await runScript(this.ctx.redis, 'place-meeting', scriptKeys, [
      this.ctx.now(),
      req.fadeMs,
      req.need,
      req.sampled,
      ref,
      req.tenant,
      req.meetingID,
      req.upstreamID,
      JSON.stringify(req.extra ?? {}),
      req.quotas?.maxMeetings ?? 0,
      req.quotas?.maxParticipants ?? 0,
      PENDING_TTL_MS,
      req.maxFill ?? 1,
      ...req.candidates,
    ])) as string[];
    const [outcome, server, room] = result;
    if (outcome === 'existing') return { outcome, server: server! };
    if (outcome === 'quota') return { outcome, quota: server as TenantQuota };
    if (outcome === 'placed' || outcome === 'overcommitted') return { outcome, server: server!, headroom: Number(room) };
    return { outcome: 'none' };
  }

  async get(tenant: string, meetingID: string): Promise<MeetingRecord | undefined> {
    const ref = meetingRef(tenant, meetingID);
    return decodeMeeting(ref, await this.ctx.redis.hgetall(this.ctx.keys.meeting(ref)));
  }

  /**
   * The upstream create succeeded: the poller may now treat the meeting like any other, and
   * getMeetingInfo answers from `info` until the first poll describes it. `profileSource` says
   * how its profile was chosen: a meeting its tenant's default sized ('tenant') leaves its peaks
   * in the tenant's sizes when it ends (apply-poll.lua).
   */
  async markRunning(
    tenant: string,
    meetingID: string,
    fresh?: { info: MeetingInfo; limits: MeetingLimits; profileSource?: ProfileSource },
  ): Promise<void> {
    const key = this.ctx.keys.meeting(meetingRef(tenant, meetingID));
    // A duplicate create leaves what the polls measured (attendees, counts) as it is.
    if (!fresh) {
      await this.ctx.redis.hset(key, 'status', 'running');
      return;
    }
    const { info, limits } = fresh;
    const fields = {
      status: 'running',
      info: JSON.stringify(info),
      profile: limits.profile,
      maxParticipants: limits.maxParticipants,
      moderatorMargin: limits.moderatorMargin,
      moderatorPW: info.moderatorPW ?? '',
      profileSource: fresh.profileSource ?? '',
    };
    // A new meeting under the ID of one ended moments ago is not ended, and starts empty: no
    // peaks, and none of the people, cameras or admitted joins the polls last saw of the old
    // one (its next join would be held to them). A fresh placement has none of these anyway.
    const ref = meetingRef(tenant, meetingID);
    await this.ctx.redis
      .multi()
      .hset(key, { ...fields, participants: 0, cameras: 0 })
      .hdel(key, 'endedAt', 'peakParticipants', 'peakCameras')
      .del(this.ctx.keys.inside(ref), this.ctx.keys.pending(ref))
      .exec();
  }

  /**
   * Counts a join attempt atomically (commands/count-join.lua) and returns what the admission
   * decision needs; `undefined` when the meeting is not placed anywhere. With the tenant's
   * participant quota, the attempt also counts against the tenant's seats.
   */
  async countJoin(
    tenant: string,
    meetingID: string,
    joiner: Joiner,
    tenantMaxParticipants?: number,
    address?: AddressLimit,
  ): Promise<JoinCount | AddressLimited | undefined> {
    const { keys } = this.ctx;
    const ref = meetingRef(tenant, meetingID);
    const member = memberOf(joiner);
    const scriptKeys = [keys.meeting(ref), keys.inside(ref), keys.pending(ref)];
    if (address) scriptKeys.push(keys.rateLimit(address.subject));
    let tenantMember = '';
    if (tenantMaxParticipants !== undefined) {
      scriptKeys.push(keys.tenantUsage(tenant), keys.tenantPending(tenant));
      tenantMember = tenantPendingMember(meetingID, member);
    }
    const addressLimit = address ? `${address.max}/${address.windowMs}` : '';
    const line = await this.joins.run(scriptKeys, [member, 'userID' in joiner ? '1' : '0', tenantMember, addressLimit]);
    if (line === '') return undefined;
    if (line.startsWith('limited\t')) return { limitedForMs: Number(line.slice('limited\t'.length)) };
    const [server, participants, cameras, pending, inside, already, maxParticipants, moderatorMargin, moderatorPW, tenantPolled, tenantPending] =
      line.split('\t');
    const count: JoinCount = {
      server: server!,
      member,
      participants: Number(participants),
      cameras: Number(cameras),
      // Joins counted since the poll, other than this one.
      pendingOthers: Math.max(0, Number(pending) - (inside === '1' ? 0 : 1)),
      rejoin: inside === '1' || already === '1',
      maxParticipants: Number(maxParticipants),
      moderatorMargin: Number(moderatorMargin),
      moderatorPW: moderatorPW ?? '',
    };
    if (tenantMaxParticipants !== undefined) {
      count.tenantQuota = {
        maxParticipants: tenantMaxParticipants,
        participants: Number(tenantPolled),
        pendingOthers: Math.max(0, Number(tenantPending) - (inside === '1' ? 0 : 1)),
      };
    }
    return count;
  }

  /** Takes back a counted join attempt that admission refused, from the meeting's and the tenant's counts. */
  async uncountJoin(tenant: string, meetingID: string, member: string): Promise<void> {
    const { keys } = this.ctx;
    await this.ctx.redis
      .pipeline()
      .zrem(keys.pending(meetingRef(tenant, meetingID)), member)
      .zrem(keys.tenantPending(tenant), tenantPendingMember(meetingID, member))
      .exec();
  }

  /**
   * Writes a live answer of the meeting's server (getMeetingInfo) over the polled state, if the
   * meeting is still placed there (commands/refresh-meeting.lua). `info` has the tenant-local ID.
   */
  async refreshLive(tenant: string, meetingID: string, server: string, info: MeetingInfo): Promise<boolean> {
    const { keys } = this.ctx;
    const ref = meetingRef(tenant, meetingID);
    const inside = JSON.stringify(info.attendees.map((a) => a.userID));
    const written = await runScript(
      this.ctx.redis,
      'refresh-meeting',
      [keys.meeting(ref), keys.inside(ref), keys.pending(ref)],
      [server, JSON.stringify(info), info.participantCount, info.videoCount, inside, this.ctx.now()],
    );
    return written === 1;
  }

  /** Meetings and participants of one tenant: polled, plus joins admitted since (when it has a participant quota). */
  async usage(tenant: string): Promise<{ meetings: number; participants: number }> {
    const { redis, keys } = this.ctx;
    const [meetings, polled, pending] = ((await redis
      .multi()
      .scard(keys.tenantMeetings(tenant))
      .hvals(keys.tenantUsage(tenant))
      .zcount(keys.tenantPending(tenant), `(${this.ctx.now() - PENDING_TTL_MS}`, '+inf')
      .exec()) ?? []).map(([, v]) => v) as [number, string[], number];
    return { meetings, participants: polled.reduce((sum, v) => sum + Number(v), pending) };
  }

  /**
   * An end was sent and `server` took it: the meeting reads as ended (as BBB shows it until it
   * is destroyed) and the next poll that no longer finds it forgets it, without waiting for the
   * create grace. Its load, participants and reservation leave the server's figures at once
   * (commands/end-meeting.lua). False when the meeting is not on `server` or already ended.
   */
  async markEnded(tenant: string, meetingID: string, server: string, info: MeetingInfo | undefined): Promise<boolean> {
    const { keys } = this.ctx;
    const ref = meetingRef(tenant, meetingID);
    const marked = await runScript(this.ctx.redis, 'end-meeting', [keys.meeting(ref), keys.reservations(server), keys.server(server)], [
      ref,
      server,
      this.ctx.now(),
      info ? JSON.stringify(info) : '',
    ]);
    return marked === 1;
  }

  /** Forgets the placement if it is still on `server` (ended, or its create failed). */
  async forget(tenant: string, meetingID: string, server: string): Promise<boolean> {
    const { keys } = this.ctx;
    const ref = meetingRef(tenant, meetingID);
    const removed = await runScript(
      this.ctx.redis,
      'forget-meeting',
      [
        keys.meeting(ref),
        keys.meetings,
        keys.serverMeetings(server),
        keys.reservations(server),
        keys.inside(ref),
        keys.pending(ref),
        keys.tenantMeetings(tenant),
        keys.tenantPending(tenant),
        keys.server(server),
      ],
      [ref, server, meetingID],
    );
    return removed === 1;
  }

  async list(tenant?: string): Promise<MeetingRecord[]> {
    const { redis, keys } = this.ctx;
    const refs = await redis.smembers(tenant === undefined ? keys.meetings : keys.tenantMeetings(tenant));
    refs.sort();
    if (refs.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const ref of refs) pipeline.hgetall(keys.meeting(ref));
    const results = (await pipeline.exec()) ?? [];
    const meetings: MeetingRecord[] = [];
    refs.forEach((ref, i) => {
      const m = decodeMeeting(ref, (results[i]?.[1] ?? {}) as Record<string, string>);
      if (m) meetings.push(m);
    });
    return meetings;
  }

  /**
   * The peaks of the tenant's ended meetings its default profile sized, newest first (at most
   * TENANT_SIZE_SAMPLES; `limit` fewer).
   */
  async sizeSamples(tenant: string, limit = TENANT_SIZE_SAMPLES): Promise<TenantSizeSample[]> {
    if (limit <= 0) return [];
    const entries = await this.ctx.redis.lrange(this.ctx.keys.tenantSizes(tenant), 0, limit - 1);
    return entries.map(parseTenantSizeSample).filter((s): s is TenantSizeSample => s !== undefined);
  }

  async countOn(server: string): Promise<number> {
    return this.ctx.redis.scard(this.ctx.keys.serverMeetings(server));
  }
}
