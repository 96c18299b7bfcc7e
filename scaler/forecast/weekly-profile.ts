// A weekly profile learned from the pool's own history: the demand of the same weekday and time
// in past weeks (Monday 7:55 looks like the last Mondays at 7:55). Pure over a history array;
// where the history is kept is the caller's business.
import { percentileOf } from '../../src/policy/size-estimate.js';
import type { LargeArrival } from '../arrivals.js';
import type { Demand, DemandSource, LargeDemand } from './demand.js';
import { noDemand } from './demand.js';
import { inDateRanges, localClock } from './local-time.js';
import type { DateRange } from './local-time.js';

const WEEKLY_PROFILE_SOURCE = 'weekly profile';

/** The pool's demand (load units) measured at instant `at`, or its peak over [at, at + spanMs). */
export interface LoadSample {
  at: number;
  load: number;
  /** The sample is a peak over this many ms from `at` (a history bucket); default 0: one instant. */
  spanMs?: number;
}

export interface WeeklyProfileSettings {
  /** How many past weeks to look at. */
  weeks: number;
  /** Nearest-rank percentile over the weeks that have data (90 of up to 9 weeks is their maximum). */
  percentile: number;
  timezone: string;
  /** School holidays: a holiday week is not what a school week will be, nor the reverse. */
  holidays: readonly DateRange[];
  /**
   * Large meetings coming sooner than this after the window's start are `soon` (default 0): the
   * scaler passes its provisioning time, since a server asked now cannot be ready for them. The
   * rest of the window (the lead time) covers a webinar that comes a few minutes earlier today
   * than in past weeks.
   */
  soonMs?: number;
}

/**
 * The peak demand of each past week over the same wall-clock window, then a high percentile
 * across weeks. A week without samples in that window (the scaler was down, the service is new)
 * or falling on a holiday is left out rather than read as no demand; with no week left, or when
 * the window itself is on a holiday, the profile says nothing (other sources and the reactive
 * demand still hold).
 *
 * The large meetings (`arrivals`, scaler/arrivals.ts) come from the same weeks, in the order
 * they came: the week at the same percentile of their summed load, how many came `soon`, and how
 * much of that week's demand at the window's start was still running just
 * before the first of them (the lowest bucket in between, over the first): what a lesson ending
 * before them frees.
 */
export function weeklyProfileSource(history: readonly LoadSample[], settings: WeeklyProfileSettings, arrivals: readonly LargeArrival[] = []): DemandSource {
  const clock = localClock(settings.timezone);
  const holiday = (t: number) => inDateRanges(clock.at(t).date, settings.holidays);
  return {
    name: WEEKLY_PROFILE_SOURCE,
    demand(from, to): Demand {
      if (holiday(from) || holiday(to)) return noDemand(WEEKLY_PROFILE_SOURCE);
      const peaks: number[] = [];
      const large: LargeDemand[] = [];
      for (let week = 1; week <= settings.weeks; week++) {
        const start = clock.weeksBefore(from, week);
        const end = clock.weeksBefore(to, week);
        if (holiday(start) || holiday(end)) continue;
        let peak = -1;
        for (const s of history) if (inWindow(s, start, end)) peak = Math.max(peak, s.load);
        if (peak < 0) continue;
        peaks.push(peak);
        const coming = arrivals.filter((a) => a.at >= start && a.at <= end).sort((a, b) => a.at - b.at);
        const soon = coming.filter((a) => a.at < start + (settings.soonMs ?? 0)).length;
        large.push({ loads: coming.map((a) => a.load), soon, remaining: remainingShare(history, start, coming), source: WEEKLY_PROFILE_SOURCE });
      }
      if (peaks.length === 0) return noDemand(WEEKLY_PROFILE_SOURCE);
      const sum = (l: LargeDemand) => l.loads.reduce((a, b) => a + b, 0);
      const chosen = percentileOf(large.map(sum), settings.percentile);
      const week = large.find((l) => sum(l) === chosen)!;
      return { total: percentileOf(peaks, settings.percentile), byClass: {}, source: WEEKLY_PROFILE_SOURCE, ...(week.loads.length > 0 && { large: week }) };
    },
  };
}

/**
 * The lowest demand between `start` and the first arrival (`coming` is in arrival order), over the
 * demand at `start` (buckets wholly before the arrival: the one holding it already counts the
 * meetings it brings). 1 when nothing ran at `start` or no bucket lies in between.
 */
function remainingShare(history: readonly LoadSample[], start: number, coming: readonly LargeArrival[]): number {
  if (coming.length === 0) return 1;
  const first = coming[0]!.at;
  const atStart = history.find((s) => inWindow(s, start, start));
  if (atStart === undefined || atStart.load <= 0) return 1;
  let lowest = atStart.load;
  for (const s of history) if (s.at > start && s.at + (s.spanMs ?? 0) <= first) lowest = Math.min(lowest, s.load);
  return Math.min(1, lowest / atStart.load);
}

/** An instant inside [start, end], or a span overlapping it: a bucket that began before the window still holds its start. */
function inWindow(s: LoadSample, start: number, end: number): boolean {
  return s.at <= end && (s.spanMs ? s.at + s.spanMs > start : s.at >= start);
}
