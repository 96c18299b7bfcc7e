import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScalerConfig } from '../../scaler/config.js';

const ok = (input: unknown, sizeClasses?: Record<string, number>): ScalerConfig => {
  const r = parseScalerConfig(input, sizeClasses);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
};
const errors = (input: unknown): string[] => {
  const r = parseScalerConfig(input);
  if (r.ok) throw new Error('expected the settings to be refused');
  return r.errors;
};
const minimal = { classes: { standard: { max: 10 } } };

describe('scaler settings', () => {
  it('fills the defaults a national service keeps, capacities from the policy size classes', () => {
    const c = ok(minimal);
    expect(c.targetUtilization).toBe(0.7);
    expect(c.scaleInUtilization).toBe(0.6);
    expect(c.provisioningTime).toBe(6 * 60_000);
    expect(c.reconcileInterval).toBe(60_000);
    expect(c.minLifetime).toBe(15 * 60_000);
    expect(c.cooldowns).toEqual({ scaleInAfterScaleOut: 10 * 60_000, scaleInAfterScaleIn: 2 * 60_000 });
    expect(c.maxConcurrent).toEqual({ provisions: 50, drains: 5 });
    expect(c.classes).toEqual({ standard: { capacity: 500, min: 0, max: 10, cost: 500 } });
    expect(c.schedule).toEqual({ timezone: 'Europe/Paris', rules: [], holidays: [] });
    expect(c.weeklyProfile).toEqual({ weeks: 4, percentile: 90 });
    expect(c.announced).toEqual({ defaultDuration: 60 * 60_000 });
  });

  it('takes capacities from the size classes it is given', () => {
    expect(ok({ classes: { xl: { min: 1, max: 3, cost: 7 } } }, { xl: 2000 }).classes.xl).toEqual({ capacity: 2000, min: 1, max: 3, cost: 7 });
  });

  it('reads durations in ms, s, m and h, and times of day in minutes', () => {
    const c = ok({
      ...minimal,
      provisioningTime: '90s',
      minLifetime: '1.5h',
      reconcileInterval: '500ms',
      schedule: { rules: [{ days: ['mon'], from: '07:30', to: '24:00', load: 100 }] },
    });
    expect([c.provisioningTime, c.minLifetime, c.reconcileInterval]).toEqual([90_000, 5_400_000, 500]);
    expect(c.schedule.rules[0]).toEqual({ days: ['mon'], from: 450, to: 1440, load: 100, classes: {}, onHolidays: false });
  });

  it('accepts the sample file, as YAML reads it', () => {
    // Its provider section is amphi scaler's (scaler/file.ts), not one of the decision settings.
    const { provider, ...settings } = parse(readFileSync(new URL('../../scaler/scaler.example.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(provider).toMatchObject({ type: 'simulated' });
    const c = ok(settings);
    expect(c.classes.large).toEqual({ capacity: 1000, min: 1, max: 40, cost: 1100 });
    expect(c.schedule.rules[0]).toMatchObject({ from: 450, to: 750, load: 40000 });
    expect(c.schedule.rules[3]).toMatchObject({ days: ['sun'], onHolidays: true });
    expect(c.schedule.holidays[1]).toEqual({ from: '2026-12-19', to: '2027-01-03' });
  });

  it.each([
    [null, '(top level): Expected object, received null'],
    [{}, 'classes: required (object)'],
    [{ classes: {} }, 'classes: name at least one size class to scale'],
    [{ classes: { huge: { max: 1 } } }, 'classes.huge: unknown size class "huge" (the policy\'s: small, standard, large)'],
    [{ classes: { standard: { min: 5, max: 2 } } }, 'classes.standard.min: 5 is above max (2)'],
    [{ classes: { standard: { min: 1 } } }, 'classes.standard.max: required (number)'],
    [{ ...minimal, targetUtilisation: 0.8 }, 'targetUtilisation: unknown key'],
    [{ ...minimal, targetUtilization: 1.2 }, 'targetUtilization: Number must be less than or equal to 1'],
    [{ ...minimal, targetUtilization: 0.5 }, 'scaleInUtilization: must be below targetUtilization (0.5), or the pool would shrink into a scale-out'],
    [{ ...minimal, provisioningTime: '6 minutes' }, 'provisioningTime: a duration such as 90s, 6m or 1h'],
    [{ ...minimal, maxConcurrent: { provisions: 0 } }, 'maxConcurrent.provisions: Number must be greater than or equal to 1'],
    [{ ...minimal, schedule: { timezone: 'Europe/Pariss' } }, 'schedule.timezone: an IANA time zone such as Europe/Paris'],
    [{ ...minimal, schedule: { rules: [{ days: ['mon'], from: '7:30', to: '12:00' }] } }, 'schedule.rules.0.from: a time of day HH:MM, from 00:00 to 24:00'],
    [{ ...minimal, schedule: { rules: [{ days: ['mon'], from: '08:00', to: '24:30' }] } }, 'schedule.rules.0.to: a time of day HH:MM, from 00:00 to 24:00'],
    [{ ...minimal, schedule: { rules: [{ days: ['mon'], from: '08:00', to: '08:00' }] } }, 'schedule.rules.0.to: from and to are the same time (a whole day is 00:00 to 24:00)'],
    [{ ...minimal, schedule: { rules: [{ days: [], from: '08:00', to: '09:00' }] } }, 'schedule.rules.0.days: name at least one day (sun, mon, ... sat)'],
    [{ ...minimal, schedule: { rules: [{ days: ['mon'], from: '08:00', to: '09:00', classes: { large: 10 } }] } }, 'schedule.rules.0.classes.large: "large" is not among the scaled classes'],
    [{ ...minimal, schedule: { holidays: [{ from: '2026-12-19', to: '2026-12-01' }] } }, 'schedule.holidays.0.to: ends before it starts'],
    [{ ...minimal, schedule: { holidays: [{ from: '2026-02-30', to: '2026-03-01' }] } }, 'schedule.holidays.0.from: not a calendar date'],
  ])('refuses %j with the field at fault', (input, message) => {
    expect(errors(input)).toContain(message);
  });
});
