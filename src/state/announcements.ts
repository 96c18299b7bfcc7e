// Meetings announced by their creates (meta_amphi-start, src/policy/announcement.ts): a forecast
// record for the scaler (scaler/forecast/announced-store.ts), not a meeting. Per pool, one sorted
// set of meeting refs by start and one hash of their data; per tenant, a sorted set of its own
// refs for its caps. Keyed by meeting ref, so a second create of a meeting replaces its
// announcement and no tenant can touch another's. Nothing removes one when its meeting ends
// (it may end and be created again before its announced start): announcements that started
// more than ANNOUNCE_MAX_SPAN_MS ago have ended, and go at the next write or read.
import { ANNOUNCE_MAX_AHEAD_MS, ANNOUNCE_MAX_SPAN_MS } from '../policy/announcement.js';
import type { StoreContext } from './context.js';
import { meetingRef } from './keys.js';
import { runScript } from './scripts.js';

/** Most announcements a tenant keeps stored; one more is not stored. */
export const ANNOUNCEMENTS_PER_TENANT = 1000;

/**
 * The span the caps assume for an announcement that gives no end (the scaler's
 * announced.defaultDuration default): give meta_amphi-end or duration for a longer one.
 */
export const ANNOUNCED_ASSUMED_SPAN_MS = 3_600_000;

/** Most announcements one read returns (a day of a national pool's announced meetings fits). */
export const ANNOUNCED_READ_LIMIT = 50_000;

/** The keys live past the furthest end an announcement may have, then go with an idle pool. */
const KEYS_TTL_MS = ANNOUNCE_MAX_AHEAD_MS + ANNOUNCE_MAX_SPAN_MS + 24 * 3_600_000;

export interface Announcement {
  tenant: string;
  meetingID: string;
  startsAt: number;
  /** Absent: the create gave no end; the scaler assumes its own default duration. */
  endsAt?: number;
  participants: number;
  cameras: number;
}

export interface AnnouncementCaps {
  /** The most participants the tenant's announcements may add up to at any instant. */
  participants: number;
  /** The most announcements the tenant keeps. */
  count?: number;
}

export type AnnounceOutcome =
  | { stored: true }
  /** `count`: the tenant has `current` announcements; `participants`: `current` are already announced at some instant of its span. */
  | { stored: false; reason: 'count' | 'participants'; current: number };

export class Announcements {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Records `a`, replacing the meeting's earlier announcement, unless the tenant's caps would
   * be broken: then it is not stored (and the earlier one is gone: the latest create speaks).
   */
  async put(a: Announcement, caps: AnnouncementCaps): Promise<AnnounceOutcome> {
    const { redis, keys } = this.ctx;
    const data: Announcement = {
      tenant: a.tenant,
      meetingID: a.meetingID,
      startsAt: a.startsAt,
      ...(a.endsAt !== undefined && { endsAt: a.endsAt }),
      participants: a.participants,
      cameras: a.cameras,
    };
    const reply = (await runScript(
      redis,
      'announce',
      [keys.announced, keys.announcedData, keys.tenantAnnounced(a.tenant)],
      [
        meetingRef(a.tenant, a.meetingID),
        a.startsAt,
        a.endsAt ?? a.startsAt + ANNOUNCED_ASSUMED_SPAN_MS,
        a.participants,
        JSON.stringify(data),
        this.ctx.now(),
        ANNOUNCE_MAX_SPAN_MS,
        caps.participants,
        caps.count ?? ANNOUNCEMENTS_PER_TENANT,
        KEYS_TTL_MS,
        ANNOUNCED_ASSUMED_SPAN_MS,
      ],
    )) as [number, string?, number?];
    if (reply[0] === 1) return { stored: true };
    return { stored: false, reason: reply[1] === 'count' ? 'count' : 'participants', current: Number(reply[2] ?? 0) };
  }

  /** Forgets a meeting's announcement (a room deleted, or its start cleared); false when there was none. */
  async remove(tenant: string, meetingID: string): Promise<boolean> {
    const { redis, keys } = this.ctx;
    const ref = meetingRef(tenant, meetingID);
    const replies = (await redis.multi().zrem(keys.announced, ref).zrem(keys.tenantAnnounced(tenant), ref).hdel(keys.announcedData, ref).exec()) ?? [];
    return replies.some(([, n]) => Number(n) > 0);
  }

  /**
   * The announcements that may run during [from, to], by start: those that start by `to` and
   * end after `from` (one without an end: within ANNOUNCE_MAX_SPAN_MS of its start; the scaler
   * applies its own default duration). Drops those that have ended first.
   */
  async overlapping(from: number, to: number): Promise<Announcement[]> {
    const { redis, keys } = this.ctx;
    const values = (await runScript(redis, 'read-announced', [keys.announced, keys.announcedData], [this.ctx.now(), ANNOUNCE_MAX_SPAN_MS, from, to, ANNOUNCED_READ_LIMIT])) as string[];
    const out: Announcement[] = [];
    for (const value of values) {
      const a = decode(value);
      if (a && a.startsAt <= to && (a.endsAt ?? a.startsAt + ANNOUNCE_MAX_SPAN_MS) > from) out.push(a);
    }
    return out;
  }
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function decode(value: string): Announcement | undefined {
  let raw: Partial<Record<keyof Announcement, unknown>>;
  try {
    raw = JSON.parse(value) as typeof raw;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { tenant, meetingID, startsAt, endsAt, participants, cameras } = raw;
  if (typeof tenant !== 'string' || typeof meetingID !== 'string' || !count(startsAt) || !count(participants) || !count(cameras)) return undefined;
  if (endsAt !== undefined && !count(endsAt)) return undefined;
  return { tenant, meetingID, startsAt, ...(endsAt !== undefined && { endsAt }), participants, cameras };
}
