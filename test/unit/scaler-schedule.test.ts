import { describe, expect, it } from 'vitest';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScheduleConfig } from '../../scaler/config.js';
import { scheduleSource } from '../../scaler/forecast/schedule.js';

const schedule = (s: unknown): ScheduleConfig => {
  const r = parseScalerConfig({ classes: { standard: { max: 10 }, large: { max: 4 } }, schedule: s });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.schedule;
};
/** Paris wall-clock time: ISO local time and the offset in force then. */
const paris = (local: string, offset = '+01:00') => Date.parse(`${local}${offset}`);
const at = (source: ReturnType<typeof scheduleSource>, t: number) => source.demand(t, t).total;

const school = scheduleSource(
  schedule({
    rules: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:30', to: '12:30', load: 40000 }],
    holidays: [{ from: '2026-12-19', to: '2027-01-03' }],
  }),
);

describe('schedule minima', () => {
  it('hold on their weekdays, from the start minute to just before the end', () => {
    // 2026-01-12 is a Monday, 2026-01-17 a Saturday.
    expect(at(school, paris('2026-01-12T08:00:00'))).toBe(40000);
    expect(at(school, paris('2026-01-12T07:30:00'))).toBe(40000);
    expect(at(school, paris('2026-01-12T07:29:59'))).toBe(0);
    expect(at(school, paris('2026-01-12T12:29:59'))).toBe(40000);
    expect(at(school, paris('2026-01-12T12:30:00'))).toBe(0);
    expect(at(school, paris('2026-01-17T08:00:00'))).toBe(0);
    expect(school.demand(0, 0).source).toBe('schedule');
  });

  it('are read on the wall clock, on both sides of a daylight-saving change', () => {
    // 07:30 in Paris is 06:30 UTC in January and 05:30 UTC in June (2026-06-15 is a Monday).
    expect(at(school, Date.parse('2026-01-12T06:30:00Z'))).toBe(40000);
    expect(at(school, Date.parse('2026-01-12T06:29:00Z'))).toBe(0);
    expect(at(school, Date.parse('2026-06-15T05:30:00Z'))).toBe(40000);
    expect(at(school, Date.parse('2026-06-15T05:29:00Z'))).toBe(0);
  });

  it('count a rule that starts within the window, not one that starts after it', () => {
    expect(school.demand(paris('2026-01-12T07:23:00'), paris('2026-01-12T07:30:00')).total).toBe(40000);
    expect(school.demand(paris('2026-01-12T07:22:30'), paris('2026-01-12T07:29:59')).total).toBe(0);
    // A window spanning a whole weekend night still sees Monday morning.
    expect(school.demand(paris('2026-01-17T08:00:00'), paris('2026-01-19T07:30:00')).total).toBe(40000);
  });

  it('skip school holidays, both ends included, unless a rule holds on holidays', () => {
    expect(at(school, paris('2026-12-21T08:00:00'))).toBe(0); // Monday in the holidays
    expect(at(school, paris('2026-12-18T08:00:00'))).toBe(40000); // the Friday before
    expect(at(school, paris('2027-01-04T08:00:00'))).toBe(40000); // the Monday after
    const daily = scheduleSource(
      schedule({ rules: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '08:00', to: '09:00', load: 1 }], holidays: [{ from: '2026-12-19', to: '2027-01-03' }] }),
    );
    expect([18, 19, 20].map((d) => at(daily, paris(`2026-12-${d}T08:30:00`)))).toEqual([1, 0, 0]);
    expect(['02', '03', '04'].map((d) => at(daily, paris(`2027-01-${d}T08:30:00`)))).toEqual([0, 0, 1]);
    const staff = scheduleSource(
      schedule({ rules: [{ days: ['mon'], from: '09:00', to: '10:00', load: 500, onHolidays: true }], holidays: [{ from: '2026-12-19', to: '2027-01-03' }] }),
    );
    expect(at(staff, paris('2026-12-21T09:30:00'))).toBe(500);
  });

  it('run past midnight when they end before they start, as part of the day they started', () => {
    const night = scheduleSource(
      schedule({ rules: [{ days: ['fri'], from: '22:00', to: '02:00', load: 300 }], holidays: [{ from: '2026-01-23', to: '2026-01-23' }] }),
    );
    expect(at(night, paris('2026-01-16T21:59:00'))).toBe(0);
    expect(at(night, paris('2026-01-16T22:00:00'))).toBe(300); // Friday
    expect(at(night, paris('2026-01-16T23:59:59'))).toBe(300);
    expect(at(night, paris('2026-01-17T00:00:00'))).toBe(300); // Saturday, Friday's night
    expect(at(night, paris('2026-01-17T01:59:00'))).toBe(300);
    expect(at(night, paris('2026-01-17T02:00:00'))).toBe(0);
    expect(at(night, paris('2026-01-17T22:30:00'))).toBe(0); // Saturday evening
    expect(at(night, paris('2026-01-18T01:00:00'))).toBe(0); // Saturday's night
    expect(at(night, paris('2026-01-15T23:00:00'))).toBe(0); // Thursday
    // Friday the 23rd is a holiday: its night is too, the Saturday after is not one.
    expect(at(night, paris('2026-01-24T01:00:00'))).toBe(0);
  });

  it('end at 24:00 on the day itself', () => {
    const evening = scheduleSource(schedule({ rules: [{ days: ['mon'], from: '20:00', to: '24:00', load: 100 }] }));
    expect(at(evening, paris('2026-01-12T23:59:59'))).toBe(100);
    expect(at(evening, paris('2026-01-13T00:00:00'))).toBe(0);
    const allDay = scheduleSource(schedule({ rules: [{ days: ['tue'], from: '00:00', to: '24:00', load: 100 }] }));
    expect(at(allDay, paris('2026-01-13T00:00:00'))).toBe(100);
    expect(at(allDay, paris('2026-01-12T23:59:59'))).toBe(0);
  });

  it('take the highest rule, and pin the part only a class can hold', () => {
    const s = scheduleSource(
      schedule({
        rules: [
          { days: ['mon'], from: '08:00', to: '12:00', load: 1000 },
          { days: ['mon'], from: '09:00', to: '10:00', load: 3000 },
          { days: ['mon'], from: '08:00', to: '12:00', classes: { large: 1500, standard: 200 } },
        ],
      }),
    );
    expect(s.demand(paris('2026-01-12T08:30:00'), paris('2026-01-12T08:30:00'))).toEqual({ total: 1700, byClass: { large: 1500, standard: 200 }, source: 'schedule' });
    expect(s.demand(paris('2026-01-12T08:55:00'), paris('2026-01-12T09:02:00')).total).toBe(3000);
    expect(s.demand(paris('2026-01-12T12:00:00'), paris('2026-01-12T12:07:00'))).toEqual({ total: 0, byClass: {}, source: 'schedule' });
  });

  it('use the time zone it names', () => {
    const ny = scheduleSource(schedule({ timezone: 'America/New_York', rules: [{ days: ['mon'], from: '08:00', to: '09:00', load: 10 }] }));
    expect(at(ny, Date.parse('2026-01-12T13:00:00Z'))).toBe(10);
    expect(at(ny, Date.parse('2026-01-12T08:00:00Z'))).toBe(0);
  });
});
