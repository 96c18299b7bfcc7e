import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { parseScalerConfig } from '../../scaler/config.js';
import { weeklyProfileSource } from '../../scaler/forecast/weekly-profile.js';
import { DemandHistory } from '../../scaler/history.js';
import { LargeArrivalHistory } from '../../scaler/arrivals.js';
import { createRedis } from '../../src/redis/connect.js';
import { keysFor } from '../../src/state/keys.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;
/** Monday 2025-03-03 09:00 UTC, a bucket start. */
const T0 = Date.parse('2025-03-03T09:00:00Z');

describe('scaler demand history (real Redis)', () => {
  let t: TestRedis;
  let key: string;
  const extra: Redis[] = [];

  beforeEach(() => {
    t = testRedis('scaler-history');
    key = keysFor('pool', t.prefix.slice(0, -1)).demandHistory;
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((r) => r.quit()));
    await t.cleanup();
  });

  it('reads back what it recorded, one sample per bucket at the bucket start, oldest first', async () => {
    const history = new DemandHistory(t.redis, key, { bucketMs: 5 * MINUTE });
    expect(key.startsWith(t.prefix)).toBe(true);
    expect(await history.read(0, Infinity)).toEqual([]);

    await history.record(T0 + 10 * MINUTE + 1234, { total: 300, byClass: {} });
    await history.record(T0 + 2 * MINUTE, { total: 120.5, byClass: { large: 80 } });
    const returned = await history.record(T0 + 5 * MINUTE, { total: 200, byClass: { large: 50, standard: 10 } });
    expect(returned).toEqual({ at: T0 + 5 * MINUTE, load: 200, byClass: { large: 50, standard: 10 } });

    expect(await history.read(T0, T0 + 10 * MINUTE)).toEqual([
      { at: T0, load: 120.5, byClass: { large: 80 }, spanMs: 5 * MINUTE },
      { at: T0 + 5 * MINUTE, load: 200, byClass: { large: 50, standard: 10 }, spanMs: 5 * MINUTE },
      { at: T0 + 10 * MINUTE, load: 300, byClass: {}, spanMs: 5 * MINUTE },
    ]);
    // Both ends included, on bucket starts.
    expect((await history.read(T0 + 1, T0 + 5 * MINUTE)).map((s) => s.at)).toEqual([T0 + 5 * MINUTE]);
    expect(await history.read(T0 + 11 * MINUTE, Infinity)).toEqual([]);
    expect(await history.read(T0 + 5 * MINUTE, T0)).toEqual([]);
    expect(await t.redis.zcard(key)).toBe(3);
  });

  it('keeps the maximum within a bucket, the total and each class on its own', async () => {
    const history = new DemandHistory(t.redis, key, { bucketMs: 5 * MINUTE });
    await history.record(T0 + MINUTE, { total: 100, byClass: { large: 70 } });
    await history.record(T0 + 2 * MINUTE, { total: 60, byClass: { large: 90, standard: 5 } });
    await history.record(T0 + 4 * MINUTE + 59_999, { total: 80, byClass: {} });
    expect(await history.read(T0, T0 + 4 * MINUTE)).toEqual([{ at: T0, load: 100, byClass: { large: 90, standard: 5 }, spanMs: 5 * MINUTE }]);
    expect(await t.redis.zcard(key)).toBe(1);
  });

  it('keeps the maximum when several replicas record the same bucket at once', async () => {
    // Four connections, as four scaler replicas; 200 samples in one bucket, in shuffled order.
    const clients = [t.redis, ...Array.from({ length: 3 }, () => createRedis(t.url))];
    extra.push(...clients.slice(1));
    const replicas = clients.map((r) => new DemandHistory(r, key, { bucketMs: 5 * MINUTE }));
    const loads = Array.from({ length: 200 }, (_, i) => (i * 7919) % 200); // a permutation of 0..199
    await Promise.all(
      loads.map((load, i) =>
        replicas[i % replicas.length]!.record(T0 + (i % 300) * 1000, { total: load, byClass: { large: (load * 3) % 200, [`c${i % 5}`]: load } }),
      ),
    );
    const samples = await replicas[0]!.read(T0, T0 + 5 * MINUTE);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.load).toBe(199);
    const expected: Record<string, number> = { large: 199 };
    loads.forEach((load, i) => (expected[`c${i % 5}`] = Math.max(expected[`c${i % 5}`] ?? 0, load)));
    expect(samples[0]!.byClass).toEqual(expected);
    expect(await t.redis.zcard(key)).toBe(1);
  });

  it('trims the samples older than the retention when it writes', async () => {
    const history = new DemandHistory(t.redis, key, { bucketMs: 5 * MINUTE, retentionWeeks: 2 });
    await history.record(T0 - 5 * MINUTE, { total: 1, byClass: {} });
    await history.record(T0, { total: 2, byClass: {} });
    await history.record(T0 + WEEK, { total: 3, byClass: {} });
    expect((await history.read(-Infinity, Infinity)).map((s) => s.load)).toEqual([1, 2, 3]);

    // Exactly two weeks after T0: T0 is kept, the bucket before it goes.
    await history.record(T0 + 2 * WEEK + 4 * MINUTE, { total: 4, byClass: {} });
    expect((await history.read(-Infinity, Infinity)).map((s) => s.at)).toEqual([T0, T0 + WEEK, T0 + 2 * WEEK]);

    await history.record(T0 + 3 * WEEK, { total: 5, byClass: {} });
    expect((await history.read(-Infinity, Infinity)).map((s) => s.load)).toEqual([3, 4, 5]);

    // The key expires after the retention: a pool nobody records for any more leaves nothing.
    const ttl = await t.redis.pttl(key);
    expect(ttl).toBeGreaterThan(2 * WEEK - MINUTE);
    expect(ttl).toBeLessThanOrEqual(2 * WEEK);
  });

  it('keeps a minute by default: the end of a lesson is not hidden under the peak before it', async () => {
    const history = new DemandHistory(t.redis, key);
    expect(history.bucketMs).toBe(MINUTE);
    // Classes until 11:56:30, the next wave's first creates from 11:58.
    await history.record(T0 + 56 * MINUTE, { total: 300, byClass: {} });
    await history.record(T0 + 56 * MINUTE + 40_000, { total: 20, byClass: {} });
    await history.record(T0 + 57 * MINUTE + 10_000, { total: 10, byClass: {} });
    await history.record(T0 + 58 * MINUTE, { total: 120, byClass: {} });
    expect((await history.read(T0 + 57 * MINUTE, Infinity)).map((s) => [s.at - T0, s.load, s.spanMs])).toEqual([
      [57 * MINUTE, 10, MINUTE],
      [58 * MINUTE, 120, MINUTE],
    ]);
    expect((await history.read(T0, T0 + 56 * MINUTE)).map((s) => s.load)).toEqual([300]);
  });

  it('refuses what is not a demand', async () => {
    const history = new DemandHistory(t.redis, key);
    await expect(history.record(Number.NaN, { total: 1, byClass: {} })).rejects.toThrow(RangeError);
    await expect(history.record(T0, { total: -1, byClass: {} })).rejects.toThrow(RangeError);
    await expect(history.record(T0, { total: 1, byClass: { large: Infinity } })).rejects.toThrow(/large/);
    expect(() => new DemandHistory(t.redis, key, { bucketMs: 0 })).toThrow(RangeError);
    expect(await t.redis.exists(key)).toBe(0);
  });

  it("feeds the weekly profile: four past Mondays at 8:00 in Paris give next Monday's demand, across the daylight-saving change", async () => {
    const parsed = parseScalerConfig({ classes: { standard: { max: 10 } } });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const { weeklyProfile, schedule } = parsed.config;
    expect(schedule.timezone).toBe('Europe/Paris');
    expect(weeklyProfile).toEqual({ weeks: 4, percentile: 90 });

    const history = new DemandHistory(t.redis, key);
    // Mondays of March 2025 before the change to summer time (30 March): Paris is UTC+1.
    const mondays = ['2025-03-03', '2025-03-10', '2025-03-17', '2025-03-24'];
    const peaks = [90, 120, 140, 100];
    const paris = (date: string, time: string, offset = '+01:00') => Date.parse(`${date}T${time}:00${offset}`);
    for (const [i, date] of mondays.entries()) {
      // A morning every five minutes from 7:00 to 9:00, quiet but for 8:06.
      for (let m = 0; m <= 120; m += 5) {
        const at = paris(date, '07:00') + m * MINUTE;
        await history.record(at, { total: 20, byClass: {} });
      }
      // The peak at 8:06, then a lower sample at 8:08 in the window too: the window holds the peak.
      await history.record(paris(date, '08:06'), { total: peaks[i]!, byClass: {} });
      await history.record(paris(date, '08:08'), { total: peaks[i]! - 30, byClass: {} });
      // 7:05 local is 6:05 UTC, which a profile shifting UTC instants by whole weeks would mistake
      // for 8:05 summer time; the wall-clock profile leaves it out.
      await history.record(paris(date, '07:05'), { total: 999, byClass: {} });
    }
    // Five weeks back: outside the profile's four weeks.
    await history.record(paris('2025-02-24', '08:05'), { total: 500, byClass: {} });

    // Monday 31 March 2025, 8:00–8:15 in Paris, now UTC+2.
    const from = paris('2025-03-31', '08:00', '+02:00');
    const to = paris('2025-03-31', '08:15', '+02:00');
    expect(from).toBe(Date.parse('2025-03-31T06:00:00Z'));
    // Read enough for four weeks back, with an hour's slack for daylight saving.
    const samples = await history.read(from - weeklyProfile.weeks * WEEK - 60 * MINUTE, to);
    expect(samples.length).toBe(4 * 27); // 7:00 to 9:00 every five minutes and 8:06, 8:08 (minute buckets), four Mondays

    const profile = (percentile: number) =>
      weeklyProfileSource(samples, { weeks: weeklyProfile.weeks, percentile, timezone: schedule.timezone, holidays: schedule.holidays });
    // 90th percentile of four weeks: their maximum.
    expect(profile(weeklyProfile.percentile).demand(from, to)).toEqual({ total: 140, byClass: {}, source: 'weekly profile' });
    // Nearest rank 50 of [90, 100, 120, 140]: the second.
    expect(profile(50).demand(from, to).total).toBe(100);
    // Outside the peak, the quiet level; on a day with no history, nothing.
    expect(profile(90).demand(from + 20 * MINUTE, to + 20 * MINUTE).total).toBe(20);
    expect(profile(90).demand(from + 24 * 60 * MINUTE, to + 24 * 60 * MINUTE).total).toBe(0);
  });

  it('keeps each large meeting once, however often it is seen, without its ID, and trims past the retention', async () => {
    const arrivalsKey = keysFor('pool', t.prefix.slice(0, -1)).largeArrivals;
    const arrivals = new LargeArrivalHistory(t.redis, arrivalsKey, { retentionWeeks: 2 });
    expect(await arrivals.read(-Infinity, Infinity)).toEqual([]);
    const webinar = { ref: 'ministere:webinaire-bac', at: T0, load: 540 };
    await arrivals.record([webinar, { ref: 'ministere:autre', at: T0 + MINUTE, load: 300 }]);
    await arrivals.record([webinar]); // a second step, or another replica
    await arrivals.record([{ ref: 'x', at: T0, load: 0 }, { ref: 'y', at: Number.NaN, load: 400 }]); // nothing usable
    expect(await arrivals.read(T0, T0 + MINUTE)).toEqual([
      { at: T0, load: 540 },
      { at: T0 + MINUTE, load: 300 },
    ]);
    expect(await arrivals.read(T0 + 1, Infinity)).toEqual([{ at: T0 + MINUTE, load: 300 }]);
    expect((await t.redis.zrange(arrivalsKey, 0, -1)).join(' ')).not.toMatch(/ministere|webinaire/);

    // Two weeks and a minute later: the first is past the retention, the second just within it.
    await arrivals.record([{ ref: 'later', at: T0 + 2 * WEEK + MINUTE, load: 260 }]);
    expect(await arrivals.read(-Infinity, Infinity)).toEqual([
      { at: T0 + MINUTE, load: 300 },
      { at: T0 + 2 * WEEK + MINUTE, load: 260 },
    ]);
  });
});
