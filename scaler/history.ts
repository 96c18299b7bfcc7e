// The pool's demand history in Redis, which the weekly profile (forecast/weekly-profile.ts) learns
// from: one sample per time bucket, the bucket's peak. Several scaler replicas may record at once;
// commands/record-demand.lua merges each sample into its bucket atomically (maximum of the total
// and of each class), so none of them lowers a peak another one recorded.
import type { Redis } from 'ioredis';
import { runScript } from '../src/state/scripts.js';
import type { LoadSample } from './forecast/weekly-profile.js';

const MINUTE_MS = 60_000;
const WEEK_MS = 7 * 24 * 60 * MINUTE_MS;

/**
 * One minute, 10,080 samples a week. A bucket holds its peak for all of its span, so a coarser
 * one would still show a lesson's full load minutes after its classes ended, and keep the pool
 * from shrinking before the next, smaller wave is placed on every server. The forecast window's
 * lead time, not the bucket, covers the ramp of pupils joining after their class is created.
 */
export const DEFAULT_BUCKET_MS = MINUTE_MS;
/** Twice the weekly profile's default look-back (4 weeks). */
export const DEFAULT_RETENTION_WEEKS = 8;

/** The pool's demand at one instant, in load units (the estimator's total and by-class floors). */
export interface DemandReading {
  total: number;
  byClass: Readonly<Record<string, number>>;
}

/** One bucket's peak: `at` is the bucket's start, `load` its peak total demand. */
export interface DemandSample extends LoadSample {
  byClass: Record<string, number>;
}

export interface DemandHistoryOptions {
  /**
   * Width of a bucket (ms). Buckets start at multiples of it since the epoch; a divisor of 15
   * minutes keeps them on the local wall clock of every time zone.
   */
  bucketMs?: number;
  /**
   * Buckets older than this many weeks before the one written are trimmed at each write. Keep it
   * above the weekly profile's `weeks`: a daylight-saving change moves the same wall-clock time an
   * hour in UTC.
   */
  retentionWeeks?: number;
}

const usableLoad = (n: number) => Number.isFinite(n) && n >= 0;

export class DemandHistory {
  readonly bucketMs: number;
  readonly retentionMs: number;

  /** `key`: keysFor(pool).demandHistory. */
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    options: DemandHistoryOptions = {},
  ) {
    const bucketMs = options.bucketMs ?? DEFAULT_BUCKET_MS;
    const weeks = options.retentionWeeks ?? DEFAULT_RETENTION_WEEKS;
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`bucketMs must be a positive whole number of ms, not ${bucketMs}`);
    if (!(weeks > 0) || !Number.isFinite(weeks)) throw new RangeError(`retentionWeeks must be positive, not ${weeks}`);
    this.bucketMs = bucketMs;
    this.retentionMs = Math.round(weeks * WEEK_MS);
  }

  /** The start of the bucket holding instant `at`. */
  bucketOf(at: number): number {
    return Math.floor(at / this.bucketMs) * this.bucketMs;
  }

  /**
   * Records the demand measured at `at` (ms) in its bucket, keeping the bucket's maximum, and
   * trims the buckets older than the retention. Returns the bucket's sample after the write.
   */
  async record(at: number, demand: DemandReading): Promise<DemandSample> {
    if (!Number.isFinite(at)) throw new RangeError(`not an instant: ${at}`);
    if (!usableLoad(demand.total)) throw new RangeError(`demand total must be a finite load ≥ 0, not ${demand.total}`);
    for (const [cls, load] of Object.entries(demand.byClass)) {
      if (!usableLoad(load)) throw new RangeError(`demand of class "${cls}" must be a finite load ≥ 0, not ${load}`);
    }
    const bucket = this.bucketOf(at);
    const reply = await runScript(this.redis, 'record-demand', [this.key], [
      bucket,
      demand.total,
      JSON.stringify(demand.byClass),
      bucket - this.retentionMs,
      this.retentionMs,
    ]);
    const sample = parseSample(String(reply));
    if (sample === undefined) throw new Error(`record-demand returned an unreadable sample: ${String(reply)}`);
    return sample;
  }

  /**
   * The buckets whose start lies in [from, to] (ms), oldest first, in the weekly profile's shape
   * (weeklyProfileSource(history.read(…), settings)), each spanning its bucket. Unreadable
   * members are skipped.
   */
  async read(from: number, to: number): Promise<DemandSample[]> {
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) return [];
    const members = await this.redis.zrangebyscore(this.key, bound(from), bound(to));
    const samples: DemandSample[] = [];
    for (const member of members) {
      const sample = parseSample(member);
      if (sample !== undefined) samples.push({ ...sample, spanMs: this.bucketMs });
    }
    return samples;
  }
}

/** A zrangebyscore bound: ±Infinity as Redis spells it. */
export const bound = (t: number): string | number => (t === Infinity ? '+inf' : t === -Infinity ? '-inf' : t);

function parseSample(member: string): DemandSample | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(member);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { at, total, byClass } = raw as { at?: unknown; total?: unknown; byClass?: unknown };
  if (typeof at !== 'number' || typeof total !== 'number' || !usableLoad(total)) return undefined;
  const classes: [string, number][] = [];
  if (typeof byClass === 'object' && byClass !== null && !Array.isArray(byClass)) {
    for (const [cls, load] of Object.entries(byClass)) if (typeof load === 'number' && usableLoad(load)) classes.push([cls, load]);
  }
  return { at, load: total, byClass: Object.fromEntries(classes) };
}
