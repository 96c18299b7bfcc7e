import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_WEIGHTS, DEFAULT_SIZE_CLASSES, expectedMeetingLoad } from '../../src/placement/load-model.js';
import { announcedMeetingsSource, pinnedClass } from '../../scaler/forecast/announced.js';
import type { AnnouncedMeeting } from '../../scaler/forecast/announced.js';
import { maxOfSources, noDemand } from '../../scaler/forecast/demand.js';
import type { Demand, DemandSource } from '../../scaler/forecast/demand.js';
import { weeklyProfileSource } from '../../scaler/forecast/weekly-profile.js';
import type { LoadSample, WeeklyProfileSettings } from '../../scaler/forecast/weekly-profile.js';

const MIN = 60_000;
const WEEK = 7 * 24 * 60 * MIN;
const paris = (local: string, offset = '+01:00') => Date.parse(`${local}${offset}`);
const settings: WeeklyProfileSettings = { weeks: 4, percentile: 90, timezone: 'Europe/Paris', holidays: [] };

describe('weekly profile', () => {
  // Monday 2026-02-09, 08:00 to 08:07 in Paris (no daylight-saving change in the 4 weeks before).
  const from = paris('2026-02-09T08:00:00');
  const to = from + 7 * MIN;
  /** One sample a minute over the same window `week` weeks back, peaking at `peak`. */
  const week = (n: number, peak: number): LoadSample[] => [0, 3, 7].map((m, i) => ({ at: from - n * WEEK + m * MIN, load: i === 1 ? peak : peak / 2 }));

  it('takes each past week peak over the same window, then a high percentile of the weeks', () => {
    const history = [...week(1, 100), ...week(2, 400), ...week(3, 300), ...week(4, 200)];
    expect(weeklyProfileSource(history, settings).demand(from, to)).toEqual({ total: 400, byClass: {}, source: 'weekly profile' });
    expect(weeklyProfileSource(history, { ...settings, percentile: 50 }).demand(from, to).total).toBe(200);
  });

  it('leaves out weeks without samples instead of reading them as no demand', () => {
    const history = [...week(1, 100), ...week(3, 300)];
    expect(weeklyProfileSource(history, { ...settings, percentile: 50 }).demand(from, to).total).toBe(100);
    expect(weeklyProfileSource(history, settings).demand(from, to).total).toBe(300);
    expect(weeklyProfileSource([], settings).demand(from, to)).toEqual(noDemand('weekly profile'));
  });

  it('looks back only the weeks asked, and only inside the window, both ends included', () => {
    expect(weeklyProfileSource(week(5, 900), settings).demand(from, to).total).toBe(0);
    const edges: LoadSample[] = [
      { at: from - WEEK - 1, load: 999 },
      { at: from - WEEK, load: 10 },
      { at: to - WEEK, load: 20 },
      { at: to - WEEK + 1, load: 999 },
    ];
    expect(weeklyProfileSource(edges, settings).demand(from, to).total).toBe(20);
  });

  it('counts a history bucket that began before the window: its peak may be at the window start', () => {
    const bucket = 5 * MIN;
    // Buckets of last week at 7:50, 7:55 (the peak, 500), 8:00 and 8:05 (100 each); a window from 7:58 holds the 7:55 bucket's end.
    const buckets: LoadSample[] = [-10, -5, 0, 5].map((m) => ({ at: from - WEEK + m * MIN, load: m === -5 ? 500 : 100, spanMs: bucket }));
    expect(weeklyProfileSource(buckets, settings).demand(from - 2 * MIN, from + 6 * MIN).total).toBe(500);
    // From 8:00 on it is over; a bucket ending exactly at the window start is not in it.
    expect(weeklyProfileSource(buckets, settings).demand(from, from + 6 * MIN).total).toBe(100);
    // Instants (no span) keep the inclusive bounds.
    expect(weeklyProfileSource([{ at: from - WEEK - 2 * MIN, load: 500 }], settings).demand(from - MIN, to).total).toBe(0);
  });

  it('matches the wall clock across a daylight-saving change', () => {
    // Monday 2026-03-30 08:00 in Paris is 06:00 UTC; a week before (winter time) it was 07:00 UTC.
    const summer = Date.parse('2026-03-30T06:00:00Z');
    const history: LoadSample[] = [
      { at: Date.parse('2026-03-23T07:00:00Z'), load: 500 }, // 08:00 in Paris
      { at: Date.parse('2026-03-23T06:00:00Z'), load: 900 }, // 07:00 in Paris
    ];
    expect(weeklyProfileSource(history, settings).demand(summer, summer + 7 * MIN).total).toBe(500);
  });

  it('says nothing on a holiday, and leaves holiday weeks out of the profile', () => {
    const history = [...week(1, 100), ...week(2, 400)];
    const holidays = [{ from: '2026-02-02', to: '2026-02-02' }]; // the Monday a week back
    expect(weeklyProfileSource(history, { ...settings, holidays, percentile: 50 }).demand(from, to).total).toBe(400);
    expect(weeklyProfileSource(history, { ...settings, holidays: [{ from: '2026-02-07', to: '2026-02-15' }] }).demand(from, to).total).toBe(0);
  });
});

describe('weekly profile: large meetings', () => {
  // Monday 2026-02-09, 09:16 to 09:30 in Paris: webinars came at 9:25 and 9:28 in past weeks.
  const from = paris('2026-02-09T09:16:00');
  const to = from + 14 * MIN;
  /** A week's demand a minute apart from 9:15 to 9:31: `level` throughout, or `dip` from 9:20 to 9:24. */
  const demand = (n: number, level: number, dip = level): LoadSample[] =>
    Array.from({ length: 17 }, (_, m) => ({ at: from - n * WEEK + (m - 1) * MIN, load: m >= 5 && m <= 8 ? dip : level, spanMs: MIN }));
  const arrival = (n: number, minute: number, load: number) => ({ at: from - n * WEEK + minute * MIN, load });

  it('are the meetings of the week at the percentile of their summed load, all still running', () => {
    const history = [1, 2, 3, 4].flatMap((n) => demand(n, 1000));
    const arrivals = [arrival(1, 9, 600), arrival(2, 9, 500), arrival(2, 12, 400), arrival(3, 9, 300), arrival(4, 20, 900)];
    const d = weeklyProfileSource(history, settings, arrivals).demand(from, to);
    expect(d.large).toEqual({ loads: [500, 400], soon: 0, remaining: 1, source: 'weekly profile' });
    // The median week of sums 600, 900, 300 and none: 300 is the 2nd of 4.
    expect(weeklyProfileSource(history, { ...settings, percentile: 50 }, arrivals).demand(from, to).large?.loads).toEqual([300]);
  });

  it('know how much of the load ends before they come: a lesson ending frees its servers', () => {
    const history = [1, 2].flatMap((n) => demand(n, 1000, 100));
    const d = weeklyProfileSource(history, settings, [arrival(1, 10, 600)]).demand(from, to);
    expect(d.large?.remaining).toBeCloseTo(0.1);
    // A dip after the first of them does not free anything for it.
    expect(weeklyProfileSource(history, settings, [arrival(1, 3, 600), arrival(1, 10, 600)]).demand(from, to).large?.remaining).toBe(1);
  });

  it('come in the order they came, and say how many come before a server asked now could be ready', () => {
    const history = demand(1, 1000);
    const arrivals = [arrival(1, 7, 500), arrival(1, 5, 600), arrival(1, 9, 400)];
    const large = (soonMs: number) => weeklyProfileSource(history, { ...settings, soonMs }, arrivals).demand(from, to).large;
    expect(large(7 * MIN)).toMatchObject({ loads: [600, 500, 400], soon: 1 });
    expect(large(8 * MIN)).toMatchObject({ loads: [600, 500, 400], soon: 2 });
    expect(large(0)).toMatchObject({ loads: [600, 500, 400], soon: 0 });
  });

  it('say nothing when none came in the window', () => {
    const history = demand(1, 1000);
    expect(weeklyProfileSource(history, settings, [arrival(1, 15, 600), arrival(1, -1, 600)]).demand(from, to).large).toBeUndefined();
    expect(weeklyProfileSource(history, settings).demand(from, to)).toEqual({ total: 1000, byClass: {}, source: 'weekly profile' });
  });
});

describe('announced meetings', () => {
  const base = paris('2026-01-12T09:00:00');
  const classroom = expectedMeetingLoad(30, 5);
  const webinar = expectedMeetingLoad(350, 1); // 617 units: only a large server holds it
  const source = (meetings: AnnouncedMeeting[]) =>
    announcedMeetingsSource(meetings, { weights: DEFAULT_LOAD_WEIGHTS, classes: DEFAULT_SIZE_CLASSES, defaultDurationMs: 60 * MIN });

  it('are demand from their start to their end, by the load model', () => {
    const s = source([{ startsAt: base, endsAt: base + 30 * MIN, participants: 30, cameras: 5 }]);
    expect(s.demand(base - 7 * MIN, base - 1).total).toBe(0);
    expect(s.demand(base - 7 * MIN, base)).toEqual({ total: classroom, byClass: {}, source: 'announced meetings' });
    expect(s.demand(base + 10 * MIN, base + 17 * MIN).total).toBe(classroom); // started before the window
    expect(s.demand(base + 30 * MIN, base + 37 * MIN).total).toBe(0); // ended as the window opens
  });

  it('run for the default duration when they give no end', () => {
    const s = source([{ startsAt: base, participants: 30, cameras: 5 }]);
    expect(s.demand(base + 59 * MIN, base + 59 * MIN).total).toBe(classroom);
    expect(s.demand(base + 60 * MIN, base + 61 * MIN).total).toBe(0);
  });

  it('sum where they overlap, not where one ends as the next starts', () => {
    const s = source([
      { startsAt: base, endsAt: base + 60 * MIN, participants: 30, cameras: 5 },
      { startsAt: base + 10 * MIN, endsAt: base + 20 * MIN, participants: 30, cameras: 5 },
      { startsAt: base + 60 * MIN, endsAt: base + 120 * MIN, participants: 30, cameras: 5 },
      { startsAt: base + 60 * MIN, endsAt: base + 120 * MIN, participants: 30, cameras: 5 },
    ]);
    expect(s.demand(base, base + 5 * MIN).total).toBe(classroom);
    expect(s.demand(base, base + 15 * MIN).total).toBe(2 * classroom);
    expect(s.demand(base + 55 * MIN, base + 65 * MIN).total).toBe(2 * classroom); // not 3
  });

  it('pin a meeting only some classes hold to the smallest of them', () => {
    const s = source([
      { startsAt: base, endsAt: base + 60 * MIN, participants: 350, cameras: 1 },
      { startsAt: base + 30 * MIN, endsAt: base + 90 * MIN, participants: 350, cameras: 1 },
      { startsAt: base, endsAt: base + 60 * MIN, participants: 30, cameras: 5 },
    ]);
    expect(s.demand(base, base + 7 * MIN)).toEqual({ total: webinar + classroom, byClass: { large: webinar }, source: 'announced meetings' });
    expect(s.demand(base + 25 * MIN, base + 32 * MIN).byClass).toEqual({ large: 2 * webinar });
    expect(pinnedClass(200, DEFAULT_SIZE_CLASSES)).toBeUndefined();
    expect(pinnedClass(400, DEFAULT_SIZE_CLASSES)).toBe('standard');
    expect(pinnedClass(5000, DEFAULT_SIZE_CLASSES)).toBe('large');
    expect(pinnedClass(400, {})).toBeUndefined();
  });
});

describe('combining sources', () => {
  const constant = (name: string, d: Omit<Demand, 'source'>): DemandSource => ({ name, demand: () => ({ ...d, source: name }) });

  it('takes the highest total with its source, and the highest pinned part class by class', () => {
    const combined = maxOfSources([
      constant('schedule', { total: 1000, byClass: { large: 200 } }),
      constant('weekly profile', { total: 3000, byClass: {} }),
      constant('announced meetings', { total: 800, byClass: { large: 700, standard: 100 } }),
    ]);
    expect(combined.name).toBe('forecast');
    expect(combined.demand(0, 1)).toEqual({ total: 3000, byClass: { large: 700, standard: 100 }, source: 'weekly profile' });
  });

  it('keeps the largest set of large meetings, whichever source has the highest total', () => {
    const combined = maxOfSources([
      constant('weekly profile', { total: 3000, byClass: {}, large: { loads: [300], soon: 0, remaining: 1, source: 'weekly profile' } }),
      constant('other', { total: 100, byClass: {}, large: { loads: [200, 200], soon: 0, remaining: 0.5, source: 'other' } }),
    ]);
    expect(combined.demand(0, 1)).toMatchObject({ total: 3000, source: 'weekly profile', large: { loads: [200, 200], soon: 0, remaining: 0.5, source: 'other' } });
  });

  it('says nothing without sources, and passes the window on', () => {
    expect(maxOfSources([]).demand(0, 1)).toEqual({ total: 0, byClass: {}, source: 'none' });
    const windows: number[][] = [];
    maxOfSources([{ name: 'spy', demand: (from, to) => (windows.push([from, to]), noDemand('spy')) }]).demand(5, 9);
    expect(windows).toEqual([[5, 9]]);
  });
});
