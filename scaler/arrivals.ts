// Large meetings as they arrived: each meeting that reserved a large part of its server, with the
// load it reserved and when it was placed, kept in Redis for the weekly profile to learn from
// (forecast/weekly-profile.ts). The total demand says how much capacity a morning needs; these
// say how much of it must be free on one server at once: a 350-seat webinar does not fit in
// twenty servers each with a twentieth of a server free.
//
// Members are `at|load|id` scored by `at`, where id is a hash of the meeting's ref (the history
// keeps no tenant's meeting ID for weeks): the same meeting seen by several steps or replicas is
// one member, and ZADD of an existing member changes nothing.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { bound, DEFAULT_RETENTION_WEEKS } from './history.js';

const WEEK_MS = 7 * 24 * 3_600_000;

/** A meeting placed at `at` that reserved `load` units. */
export interface LargeArrival {
  at: number;
  load: number;
}

export interface ArrivalHistoryOptions {
  /** Weeks kept before the newest arrival written (default: the demand history's). */
  retentionWeeks?: number;
}

const memberId = (ref: string) => createHash('sha256').update(ref).digest('base64url').slice(0, 16);

export class LargeArrivalHistory {
  readonly retentionMs: number;

  /** `key`: keysFor(pool).largeArrivals. */
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    options: ArrivalHistoryOptions = {},
  ) {
    const weeks = options.retentionWeeks ?? DEFAULT_RETENTION_WEEKS;
    if (!(weeks > 0) || !Number.isFinite(weeks)) throw new RangeError(`retentionWeeks must be positive, not ${weeks}`);
    this.retentionMs = Math.round(weeks * WEEK_MS);
  }

  /** Records arrivals (idempotent per meeting ref) and trims those older than the retention. */
  async record(arrivals: readonly (LargeArrival & { ref: string })[]): Promise<void> {
    const usable = arrivals.filter((a) => Number.isFinite(a.at) && Number.isFinite(a.load) && a.load > 0);
    if (usable.length === 0) return;
    const newest = Math.max(...usable.map((a) => a.at));
    const args = usable.flatMap((a) => [a.at, `${a.at}|${a.load}|${memberId(a.ref)}`]);
    await this.redis
      .multi()
      .zadd(this.key, ...args)
      .zremrangebyscore(this.key, '-inf', `(${newest - this.retentionMs}`)
      .exec();
  }

  /** Arrivals placed in [from, to] (ms), oldest first. Unreadable members are skipped. */
  async read(from: number, to: number): Promise<LargeArrival[]> {
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) return [];
    const members = await this.redis.zrangebyscore(this.key, bound(from), bound(to));
    const out: LargeArrival[] = [];
    for (const m of members) {
      const [at, load] = m.split('|').map(Number);
      if (Number.isFinite(at) && Number.isFinite(load) && load! > 0) out.push({ at: at!, load: load! });
    }
    return out;
  }
}
