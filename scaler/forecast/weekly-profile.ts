// A weekly profile learned from the pool's own history: the demand of the same weekday and time
// in past weeks (Monday 7:55 looks like the last Mondays at 7:55). Pure over a history array;
// where the history is kept is the caller's business.
import { percentileOf } from '../../src/policy/size-estimate.js';
import type { Demand, DemandSource } from './demand.js';
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
}

/**
 * The peak demand of each past week over the same wall-clock window, then a high percentile
 * across weeks. A week without samples in that window (the scaler was down, the service is new)
 * or falling on a holiday is left out rather than read as no demand; with no week left, or when
 * the window itself is on a holiday, the profile says nothing (other sources and the reactive
 * demand still hold).
 */
export function weeklyProfileSource(history: readonly LoadSample[], settings: WeeklyProfileSettings): DemandSource {
  const clock = localClock(settings.timezone);
  const holiday = (t: number) => inDateRanges(clock.at(t).date, settings.holidays);
  return {
    name: WEEKLY_PROFILE_SOURCE,
    demand(from, to): Demand {
      if (holiday(from) || holiday(to)) return noDemand(WEEKLY_PROFILE_SOURCE);
      const peaks: number[] = [];
      for (let week = 1; week <= settings.weeks; week++) {
        const start = clock.weeksBefore(from, week);
        const end = clock.weeksBefore(to, week);
        if (holiday(start) || holiday(end)) continue;
        let peak = -1;
        for (const s of history) if (inWindow(s, start, end)) peak = Math.max(peak, s.load);
        if (peak >= 0) peaks.push(peak);
      }
      if (peaks.length === 0) return noDemand(WEEKLY_PROFILE_SOURCE);
      return { total: percentileOf(peaks, settings.percentile), byClass: {}, source: WEEKLY_PROFILE_SOURCE };
    },
  };
}

/** An instant inside [start, end], or a span overlapping it: a bucket that began before the window still holds its start. */
function inWindow(s: LoadSample, start: number, end: number): boolean {
  return s.at <= end && (s.spanMs ? s.at + s.spanMs > start : s.at >= start);
}
