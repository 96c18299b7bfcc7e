// Schedules and weekly profiles are about the service's wall clock (school starts at 8:00 in
// Paris whatever UTC says, and on both sides of a daylight-saving change), so instants are read
// through an IANA time zone.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
const WEEK_MS = 7 * DAY_MINUTES * MINUTE_MS;

export interface LocalTime {
  /** YYYY-MM-DD */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
}

/** A date range of the local calendar, both ends included (YYYY-MM-DD). */
export interface DateRange {
  from: string;
  to: string;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const isoDate = (utcMs: number): string => new Date(utcMs).toISOString().slice(0, 10);
export const weekdayOf = (date: string): Weekday => WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;

/** The day before a YYYY-MM-DD date. */
export function previousDate(date: string): string {
  return isoDate(Date.parse(`${date}T00:00:00Z`) - DAY_MINUTES * MINUTE_MS);
}

export function inDateRanges(date: string, ranges: readonly DateRange[]): boolean {
  return ranges.some((r) => r.from <= date && date <= r.to); // ISO dates sort as text
}

export interface LocalClock {
  at(t: number): LocalTime;
  /** The instant showing the same wall-clock time `weeks` weeks before t. */
  weeksBefore(t: number, weeks: number): number;
}

export function localClock(timeZone: string): LocalClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  /** The wall-clock time at t, written as if it were UTC. */
  const wall = (t: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((t % 1000) + 1000) % 1000);
  };
  return {
    at(t) {
      const w = wall(t);
      const date = isoDate(w);
      return { date, weekday: weekdayOf(date), minute: Math.floor((w - Date.parse(`${date}T00:00:00Z`)) / MINUTE_MS) };
    },
    weeksBefore(t, weeks) {
      const shifted = t - weeks * WEEK_MS;
      // Across a daylight-saving change the same wall-clock time is an hour off in UTC.
      return shifted + (wall(t) - t) - (wall(shifted) - shifted);
    },
  };
}
