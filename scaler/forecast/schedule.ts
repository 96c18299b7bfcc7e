// Schedule minima: the demand an operator knows in advance (school from 7:30 to 12:30 on
// weekdays, not on holidays), in load units, from the scaler's YAML.
import type { ScheduleConfig, ScheduleRule } from '../config.js';
import type { Demand, DemandSource } from './demand.js';
import { inDateRanges, localClock, MINUTE_MS, previousDate, weekdayOf } from './local-time.js';
import type { LocalTime, Weekday } from './local-time.js';

const SCHEDULE_SOURCE = 'schedule';

/** Whether `rule` holds at local time `t`; `holiday` says whether a date is a school holiday. */
function ruleHolds(rule: ScheduleRule, t: LocalTime, holiday: (date: string) => boolean): boolean {
  const startsOn = (date: string, weekday: Weekday) => rule.days.includes(weekday) && (rule.onHolidays || !holiday(date));
  const wraps = rule.to <= rule.from; // runs past midnight: its tail belongs to the day it started
  if (t.minute >= rule.from && (wraps || t.minute < rule.to) && startsOn(t.date, t.weekday)) return true;
  if (!wraps || t.minute >= rule.to) return false;
  const yesterday = previousDate(t.date);
  return startsOn(yesterday, weekdayOf(yesterday));
}

export function scheduleSource(schedule: ScheduleConfig): DemandSource {
  const clock = localClock(schedule.timezone);
  const holiday = (date: string) => inDateRanges(date, schedule.holidays);

  const demandAt = (t: number): Demand => {
    const local = clock.at(t);
    let total = 0;
    const byClass: Record<string, number> = {};
    for (const rule of schedule.rules) {
      if (!ruleHolds(rule, local, holiday)) continue;
      const pinned = Object.values(rule.classes).reduce((a, b) => a + b, 0);
      total = Math.max(total, rule.load, pinned);
      for (const [cls, load] of Object.entries(rule.classes)) byClass[cls] = Math.max(byClass[cls] ?? 0, load);
    }
    return { total, byClass, source: SCHEDULE_SOURCE };
  };

  return {
    name: SCHEDULE_SOURCE,
    demand(from, to) {
      // Rules change on whole local minutes (time zones are whole minutes off UTC), so `from` and
      // every minute boundary after it see every rule that holds at some instant of the window.
      let total = 0;
      const byClass: Record<string, number> = {};
      const firstBoundary = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
      const instants = [from];
      for (let t = firstBoundary === from ? from + MINUTE_MS : firstBoundary; t <= to; t += MINUTE_MS) instants.push(t);
      for (const t of instants) {
        const d = demandAt(t);
        total = Math.max(total, d.total);
        for (const [cls, load] of Object.entries(d.byClass)) byClass[cls] = Math.max(byClass[cls] ?? 0, load);
      }
      return { total, byClass, source: SCHEDULE_SOURCE };
    },
  };
}
