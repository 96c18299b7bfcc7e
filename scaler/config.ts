// The scaler's settings as a zod schema, with the defaults a national service would keep and
// errors that name the field at fault. A sample with every setting: scaler/scaler.example.yaml.
// It is not under policies/: every policies/*.yaml is read as one capacity policy whose sections
// are fixed, so a scaler section there would be refused by `amphi policy check`.
import { z } from 'zod';
import type { ZodIssue } from 'zod';
import { DEFAULT_SIZE_CLASSES } from '../src/placement/load-model.js';
import { isTimeZone, WEEKDAYS } from './forecast/local-time.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "90s", "6m", "1h" → milliseconds. */
const duration = z
  .string()
  .regex(DURATION, 'a duration such as 90s, 6m or 1h')
  .transform((text) => {
    const [, amount, unit] = DURATION.exec(text)!;
    return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

const TIME_OF_DAY = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** "07:30" → minutes since midnight; "24:00" is the end of the day. */
const timeOfDay = z
  .string()
  .regex(TIME_OF_DAY, 'a time of day HH:MM, from 00:00 to 24:00')
  .transform((text) => {
    const [hours, minutes] = text.split(':').map(Number);
    return hours! * 60 + minutes!;
  });

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar date');

const count = (min: number) => z.number().int().min(min);
const loadUnits = z.number().min(0);

const sizeClassSchema = z
  .object({
    /** Fewest servers of this class, whatever the demand. */
    min: count(0).default(0),
    /** Most servers of this class (the budget's ceiling). */
    max: count(0),
    /** Price of one server an hour, in any unit shared by the classes; default: its capacity (price proportional to size). */
    cost: z.number().positive().optional(),
  })
  .strict();

const scheduleRuleSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, 'name at least one day (sun, mon, ... sat)'),
    /** Local time; a rule whose `to` is not after `from` runs past midnight into the next day. */
    from: timeOfDay,
    to: timeOfDay,
    /** The whole pool's demand while the rule holds, in load units. */
    load: loadUnits.default(0),
    /** The part of it only a class can hold (large servers for webinars), by class. */
    classes: z.record(loadUnits).default({}),
    /** Whether the rule also holds on the school holidays listed in `holidays`. */
    onHolidays: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.from !== r.to, { message: 'from and to are the same time (a whole day is 00:00 to 24:00)', path: ['to'] });

const scheduleSchema = z
  .object({
    timezone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris').default('Europe/Paris'),
    rules: z.array(scheduleRuleSchema).default([]),
    holidays: z
      .array(
        z
          .object({ from: date, to: date })
          .strict()
          .refine((r) => r.from <= r.to, { message: 'ends before it starts', path: ['to'] }),
      )
      .default([]),
  })
  .strict();

const settingsSchema = z
  .object({
    /** Utilization of the pool's capacity the scaler aims at: audio degrades near 80 % CPU. */
    targetUtilization: z.number().gt(0).max(1).default(0.7),
    /** A server is removed only if the pool without it stays at or below this utilization (hysteresis). */
    scaleInUtilization: z.number().gt(0).max(1).default(0.6),
    /** From asking the provider to a server that answers (DiViMS measured 6 minutes on Scaleway). */
    provisioningTime: duration.default('6m'),
    /** How often the scaler decides. */
    reconcileInterval: duration.default('1m'),
    /**
     * How long before forecast demand arrives its servers should be ready: a meeting is placed on
     * the servers ready when it is created, and teachers create their classes minutes before the
     * bell, before the load shows in the CPU the demand history records.
     */
    leadTime: duration.default('5m'),
    /** A server is never removed younger than this (DiViMS: 15 minutes). */
    minLifetime: duration.default('15m'),
    cooldowns: z
      .object({
        /** No server is drained for this long after one was asked for: demand that just rose often rises again. */
        scaleInAfterScaleOut: duration.default('10m'),
        /** Between two drain decisions, so the pool shrinks step by step. */
        scaleInAfterScaleIn: duration.default('2m'),
      })
      .strict()
      .default({}),
    /**
     * Actions at once (K). Apart, because a morning needs many servers within one provisioning
     * time (30,000 users ≈ 87,000 load units ≈ 125 large servers at 70 %) while a pool should
     * shrink a few servers at a time.
     */
    maxConcurrent: z
      .object({
        /** Servers booting at once. */
        provisions: count(1).default(50),
        /** Servers draining or being deleted at once. */
        drains: count(1).default(5),
      })
      .strict()
      .default({}),
    /** The size classes the scaler adds and removes, by name (load.sizeClasses of the policy). */
    classes: z.record(sizeClassSchema),
    schedule: scheduleSchema.default({}),
    /** Demand learned from the same weekday and time in past weeks. */
    weeklyProfile: z
      .object({
        weeks: count(1).max(52).default(4),
        /** Nearest-rank percentile over the weeks that have data: 90 of 4 weeks is their maximum. */
        percentile: z.number().gt(0).max(100).default(90),
      })
      .strict()
      .default({}),
    announced: z
      .object({
        /** How long an announced meeting that gives no end is expected to run. */
        defaultDuration: duration.default('1h'),
      })
      .strict()
      .default({}),
  })
  .strict();

type Settings = z.output<typeof settingsSchema>;
export type ScheduleConfig = Settings['schedule'];
export type ScheduleRule = ScheduleConfig['rules'][number];

export interface SizeClass {
  /** Capacity in load units, from the policy's load.sizeClasses. */
  capacity: number;
  min: number;
  max: number;
  cost: number;
}

export type ScalerConfig = Omit<Settings, 'classes'> & { classes: Record<string, SizeClass> };

/**
 * How far ahead each step covers the forecast: servers asked for now are ready in one
 * provisioning time, and should be `leadTime` ahead of the demand; those the next step asks for
 * come one interval later.
 */
export function forecastWindowMs(config: Pick<ScalerConfig, 'provisioningTime' | 'leadTime' | 'reconcileInterval'>): number {
  return config.provisioningTime + config.leadTime + config.reconcileInterval;
}

/**
 * The schema for the given size classes (the capacity policy's `load.sizeClasses`): a class the
 * scaler scales must be one the policy knows, and takes its capacity from there, so the two
 * never disagree.
 */
export function scalerConfigSchema(sizeClasses: Readonly<Record<string, number>> = DEFAULT_SIZE_CLASSES) {
  const known = Object.keys(sizeClasses).join(', ');
  return settingsSchema
    .superRefine((s, ctx) => {
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (Object.keys(s.classes).length === 0) issue(['classes'], 'name at least one size class to scale');
      for (const [name, c] of Object.entries(s.classes)) {
        if (!Object.hasOwn(sizeClasses, name)) issue(['classes', name], `unknown size class "${name}" (the policy's: ${known})`);
        if (c.min > c.max) issue(['classes', name, 'min'], `${c.min} is above max (${c.max})`);
      }
      if (s.scaleInUtilization >= s.targetUtilization) {
        issue(['scaleInUtilization'], `must be below targetUtilization (${s.targetUtilization}), or the pool would shrink into a scale-out`);
      }
      s.schedule.rules.forEach((rule, i) => {
        for (const name of Object.keys(rule.classes)) {
          if (!Object.hasOwn(s.classes, name)) issue(['schedule', 'rules', i, 'classes', name], `"${name}" is not among the scaled classes`);
        }
      });
    })
    .transform(
      (s): ScalerConfig => ({
        ...s,
        classes: Object.fromEntries(
          Object.entries(s.classes).map(([name, c]) => {
            const capacity = sizeClasses[name]!;
            return [name, { capacity, min: c.min, max: c.max, cost: c.cost ?? capacity }];
          }),
        ),
      }),
    );
}

export type ParseResult = { ok: true; config: ScalerConfig } | { ok: false; errors: string[] };

/** Parses scaler settings (YAML already read); errors read `field.path: message`. */
export function parseScalerConfig(input: unknown, sizeClasses?: Readonly<Record<string, number>>): ParseResult {
  const parsed = scalerConfigSchema(sizeClasses).safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, errors: parsed.error.issues.flatMap(describe) };
}

function describe(issue: ZodIssue): string[] {
  const at = (path: (string | number)[]) => (path.length > 0 ? path.join('.') : '(top level)');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${at([...issue.path, key])}: unknown key`);
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return [`${at(issue.path)}: required (${issue.expected})`];
  return [`${at(issue.path)}: ${issue.message}`];
}
