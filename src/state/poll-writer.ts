import { decodeStatistics, learnedWeights, LEARNING_TAU_MS, MAX_AGE_MS, observationSums, type LoadObservation, type LoadStatistics } from '../placement/learned-weights.js';
import type { LoadWeights } from '../placement/load-model.js';

/** Fields of the learned load model's hash that say when a server last fed it (learn-load.lua). */
const SEEN_PREFIX = 'seen:';
import type { StoreContext } from './context.js';
import { meetingRef, refTenant, TENANT_SIZE_SAMPLES } from './keys.js';
import { runScript } from './scripts.js';
import type { PolledCpu, PolledMeeting, PolledTotals, ServerHealth, ServerState } from './types.js';

export interface PollThresholds {
  /** Consecutive failed polls before a server is marked offline. */
  offlineAfter: number;
  /** Consecutive successful polls before an offline server is marked online again. */
  onlineAfter: number;
  /** Meetings younger than this are never forgotten (their create may be in flight). */
  graceMs: number;
  fadeMs: number;
}

export interface PollApplied {
  repinned: number;
  forgotten: number;
  health: ServerHealth | 'gone';
  state: ServerState | 'gone';
}

/**
 * A join admitted this long before a poll is in that poll's counts (the client has loaded and
 * entered by then), so its pending entry is dropped instead of being counted twice.
 */
export const PENDING_WINDOW_MS = 15_000;

/** The learned load model's statistics read back (HGETALL of keys.calibration); undefined when absent or malformed. */
export function decodeLearnedLoad(h: Record<string, string> | undefined): LoadStatistics | undefined {
  const seen: Record<string, number> = {};
  for (const [field, value] of Object.entries(h ?? {})) if (field.startsWith(SEEN_PREFIX) && Number.isFinite(Number(value))) seen[field.slice(SEEN_PREFIX.length)] = Number(value);
  return decodeStatistics(h?.sums, h?.at, seen);
}

/** Writes poll outcomes into the store; both steps are atomic Lua scripts. */
export class PollWriter {
  constructor(private readonly ctx: StoreContext) {}

  /** `askedAt`: when getMeetings was sent; live reads written after it are newer than the poll. */
  /**
   * `totals` may carry what the poll learned of the CPU (PolledCpu): written with the totals,
   * in the same step.
   */
  async success(serverId: string, totals: PolledTotals & PolledCpu, meetings: readonly PolledMeeting[], t: PollThresholds, askedAt = this.ctx.now()): Promise<PollApplied> {
    const { redis, keys } = this.ctx;
    // The script touches only keys it is given: the meetings it may forget (on the server's set,
    // not listed by the poll) and the tenants whose usage it may clear are read first. A meeting
    // placed meanwhile is young, so it could not be forgotten this poll anyway.
    const [onServer, withUsage] = ((await redis.pipeline().smembers(keys.serverMeetings(serverId)).smembers(keys.serverTenants(serverId)).exec()) ?? []).map(
      ([, v]) => v,
    ) as [string[], string[]];
    const listed = new Set<string>();
    const participants = new Map<string, number>(withUsage.map((tenant) => [tenant, 0]));
    for (const m of meetings) {
      listed.add(meetingRef(m.tenant, m.meetingID));
      participants.set(m.tenant, (participants.get(m.tenant) ?? 0) + m.info.participantCount);
    }
    const unlisted = onServer.filter((ref) => !listed.has(ref));
    for (const ref of unlisted) if (!participants.has(refTenant(ref))) participants.set(refTenant(ref), 0);

    const scriptKeys = [keys.server(serverId), keys.reservations(serverId), keys.serverMeetings(serverId), keys.meetings, keys.serverTenants(serverId)];
    const args: (string | number)[] = [
      this.ctx.now(),
      t.graceMs,
      t.fadeMs,
      serverId,
      t.onlineAfter,
      JSON.stringify(totals),
      PENDING_WINDOW_MS,
      participants.size,
      meetings.length,
      TENANT_SIZE_SAMPLES,
      askedAt,
    ];
    for (const [tenant, count] of participants) {
      // A meeting it forgets may leave its peaks in its tenant's sizes (apply-poll.lua).
      scriptKeys.push(keys.tenantMeetings(tenant), keys.tenantUsage(tenant), keys.tenantPending(tenant), keys.tenantSizes(tenant));
      args.push(tenant, count);
    }
    for (const m of meetings) {
      const ref = meetingRef(m.tenant, m.meetingID);
      scriptKeys.push(keys.meeting(ref), keys.inside(ref), keys.pending(ref));
      const inside = JSON.stringify(m.info.attendees.map((a) => a.userID));
      args.push(ref, m.tenant, m.meetingID, m.upstreamID, m.createTime, m.measuredLoad, JSON.stringify(m.info));
      args.push(m.info.participantCount, m.info.videoCount, inside);
      const l = m.limits;
      args.push(...(l ? [l.profile, l.maxParticipants, l.moderatorMargin, m.info.moderatorPW ?? ''] : ['', '', '', '']));
    }
    for (const ref of unlisted) {
      const tenant = refTenant(ref);
      scriptKeys.push(keys.meeting(ref), keys.inside(ref), keys.pending(ref));
      args.push(ref, tenant, ref.slice(tenant.length + 1));
    }
    const [repinned, forgotten, health, state] = (await runScript(this.ctx.redis, 'apply-poll', scriptKeys, args)) as [
      number,
      number,
      PollApplied['health'],
      PollApplied['state'],
    ];
    return { repinned, forgotten, health, state };
  }

  /** The learned load model's statistics (placement/learned-weights.ts), if any were gathered. */
  async learnedLoad(): Promise<LoadStatistics | undefined> {
    return decodeLearnedLoad(await this.ctx.redis.hgetall(this.ctx.keys.calibration));
  }

  /** The weights learned from the servers' CPU around `prior`, or undefined while they may not be used yet. */
  async learnedWeights(prior: LoadWeights): Promise<LoadWeights | undefined> {
    return learnedWeights(await this.learnedLoad(), prior, this.ctx.now());
  }

  /**
   * Folds this replica's observations of a round into the learned load model (placement/cpu-load.ts
   * rule 2), atomically. Returns how many were usable (none: nothing is written).
   */
  async learnLoad(observations: Iterable<LoadObservation>): Promise<number> {
    const { sums, count, servers } = observationSums(observations);
    if (count === 0) return 0;
    await runScript(this.ctx.redis, 'learn-load', [this.ctx.keys.calibration], [this.ctx.now(), LEARNING_TAU_MS, sums.join(','), MAX_AGE_MS, ...servers]);
    return count;
  }

  async failure(serverId: string, error: string, offlineAfter: number): Promise<ServerHealth | 'gone'> {
    const { redis, keys } = this.ctx;
    const tenants = await redis.smembers(keys.serverTenants(serverId));
    return (await runScript(
      redis,
      'poll-failed',
      [keys.server(serverId), keys.serverTenants(serverId), ...tenants.map((tenant) => keys.tenantUsage(tenant))],
      [this.ctx.now(), offlineAfter, error.slice(0, 500), serverId, ...tenants],
    )) as ServerHealth | 'gone';
  }
}
