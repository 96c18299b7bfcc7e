// What the scaler decided and did, kept in Redis for the gateway's /metrics
// (src/metrics/scaler-collector.ts). The scaler has no HTTP listener and may run as several
// replicas, so every figure lives in Redis and any gateway replica exports the same:
//
// - scalerStatus (hash): the last reconcile step, rewritten whole by the replica that held the
//   tick's lease: its time, desired servers and servers by phase per size class, the demand
//   (measured, forecast, capacity required), and the last forecast checked against the measure.
// - scalerCounts (hash, HINCRBY only, so counter semantics that survive restarts and sum over
//   replicas): `action:<type>:<outcome>` per job step that ended (scaler/jobs.ts ScalerJobEvent)
//   and `decision:<action>` per action a step enqueued.
// - scalerTimeToReady (hash): the time-to-ready histogram: `le:<bound>` holds the servers whose
//   time fell in (previous bound, bound] (not cumulative, so changing the bounds keeps the counts
//   meaningful), `le:+Inf` those beyond the last bound, `sum` (seconds) and `count`.
// - scalerForecasts (hash): each step's forecast peak for its window (the servers asked for now
//   are ready one provisioning time later, and the next step's one interval after that), with the
//   peak measured so far inside that window; once the window has passed, the pair becomes the
//   status's forecast check, which is what a dashboard plots as forecast against actual.
//
// The shaping is pure (tested without Redis); the few functions at the end do the I/O.
import type { Redis } from 'ioredis';
import type { Keys } from '../src/state/keys.js';
import { forecastWindowMs, type ScalerConfig } from './config.js';
import type { DrainOutcome, ProvisionOutcome, ScalerJobEvent } from './jobs.js';
import type { ReconcileResult } from './reconcile.js';
import type { ServerPhase } from './servers.js';

export const SERVER_PHASES: readonly ServerPhase[] = ['ready', 'booting', 'draining', 'deleting', 'unavailable'];

/** Upper bounds of the time-to-ready histogram, in seconds (1 to 20 minutes). */
export const TIME_TO_READY_BUCKETS: readonly number[] = [60, 120, 180, 240, 300, 360, 480, 600, 900, 1200];

/** How many forecasts wait for their window at most (a window holds forecastWindowMs / interval of them). */
export const MAX_PENDING_FORECASTS = 500;

/**
 * Job steps that end an attempt. `booting` and `not-empty` are progress checks that repeat every
 * poll while a server boots or drains: counted, they would make one action look like many.
 */
const PROGRESS_CHECKS: ReadonlySet<string> = new Set(['booting', 'not-empty']);

/**
 * Every outcome that ends an attempt, per action type: what `amphi_scaler_actions_total` counts.
 * The gateway exports each combination from the scaler's first step on, 0 until it happens, so
 * that increase() sees the first failure (a series born with its first count has no earlier
 * sample to increase from).
 */
export const ACTION_OUTCOMES = {
  provision: ['registered', 'already-registered', 'boot-failed', 'retry', 'failed'],
  drain: ['removed', 'gone', 'cancelled', 'retry', 'failed'],
} as const satisfies { provision: readonly Exclude<ProvisionOutcome, 'booting'>[]; drain: readonly Exclude<DrainOutcome, 'not-empty'>[] };

/** A forecast compared with what was measured over the same window. */
export interface ForecastCheck {
  /** When the forecast was made (ms): the window's start. */
  madeAt: number;
  /** The window's end (ms). */
  end: number;
  /** The forecast's peak demand over the window, in load units. */
  forecast: number;
  /** The highest demand the steps measured inside the window. */
  measured: number;
}

/** A forecast whose window has not passed yet, with the peak measured so far. */
export interface PendingForecast {
  madeAt: number;
  end: number;
  forecast: number;
  peak: number;
}

export interface ScalerStatus {
  /** When the step ran (ms). */
  at: number;
  tick: number;
  /** Servers wanted per scaled class (ready and booting). */
  desired: Record<string, number>;
  /** Servers per size class and phase, every phase present (0 included) for each class. */
  servers: Record<string, Record<ServerPhase, number>>;
  /** Load units: measured now, the forecast peak for the window, the capacity the plan requires. */
  demand: { measured: number; forecast: number; requiredCapacity: number };
  /** The last forecast whose window has passed; absent until one has. */
  forecastCheck?: ForecastCheck;
}

/** The time-to-ready histogram, buckets cumulative as Prometheus expects. */
export interface StoredHistogram {
  /** `le` bound (seconds, or '+Inf') → servers ready within it; the last is '+Inf' = count. */
  buckets: { le: string; count: number }[];
  sum: number;
  count: number;
}

/** Everything the gateway exports, read in one pass. */
export interface ScalerMetricsSnapshot {
  /** Absent when no scaler step has run on this pool. */
  status?: ScalerStatus;
  /** `type` and `outcome` → count. */
  actions: { type: string; outcome: string; count: number }[];
  /** Action → count. */
  decisions: Record<string, number>;
  /** Absent until a server has been registered. */
  timeToReady?: StoredHistogram;
}

// ---- pure shaping ----

const emptyPhases = (): Record<ServerPhase, number> => ({ ready: 0, booting: 0, draining: 0, deleting: 0, unavailable: 0 });

/** The status of one reconcile step (without its forecast check). */
export function statusOf(result: ReconcileResult, at: number): ScalerStatus {
  const { plan } = result;
  const servers: Record<string, Record<ServerPhase, number>> = {};
  for (const c of Object.keys(plan.desired)) servers[c] = emptyPhases();
  for (const s of result.servers) (servers[s.sizeClass] ??= emptyPhases())[s.phase]++;
  return {
    at,
    tick: result.tick,
    desired: { ...plan.desired },
    servers,
    demand: { measured: plan.reactive, forecast: plan.forecast.total, requiredCapacity: plan.requiredCapacity },
  };
}

/** The status as the fields of its hash. */
export function statusFields(s: ScalerStatus): Record<string, string> {
  const f: Record<string, string> = {
    at: String(s.at),
    tick: String(s.tick),
    'demand:measured': String(s.demand.measured),
    'demand:forecast': String(s.demand.forecast),
    'demand:required_capacity': String(s.demand.requiredCapacity),
  };
  for (const [c, n] of Object.entries(s.desired)) f[`desired:${c}`] = String(n);
  for (const [c, phases] of Object.entries(s.servers)) for (const p of SERVER_PHASES) f[`servers:${c}:${p}`] = String(phases[p]);
  if (s.forecastCheck) Object.assign(f, checkFields(s.forecastCheck));
  return f;
}

const CHECK_FIELDS = ['check:made_at', 'check:end', 'check:forecast', 'check:measured'] as const;

function checkFields(c: ForecastCheck): Record<string, string> {
  return { 'check:made_at': String(c.madeAt), 'check:end': String(c.end), 'check:forecast': String(c.forecast), 'check:measured': String(c.measured) };
}

function parseCheck(values: readonly (string | null | undefined)[]): ForecastCheck | undefined {
  const [madeAt, end, forecast, measured] = values.map((v) => (v === null || v === undefined || v === '' ? NaN : Number(v)));
  if (![madeAt, end, forecast, measured].every((n) => Number.isFinite(n))) return undefined;
  return { madeAt: madeAt!, end: end!, forecast: forecast!, measured: measured! };
}

const isPhase = (p: string): p is ServerPhase => (SERVER_PHASES as readonly string[]).includes(p);

/** A status hash read back; undefined when empty (no step yet) or without its time. */
export function parseStatus(fields: Readonly<Record<string, string>>): ScalerStatus | undefined {
  const at = Number(fields.at);
  if (fields.at === undefined || !Number.isFinite(at)) return undefined;
  const num = (v: string | undefined) => (v === undefined || !Number.isFinite(Number(v)) ? 0 : Number(v));
  const desired: Record<string, number> = {};
  const servers: Record<string, Record<ServerPhase, number>> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('desired:')) desired[field.slice('desired:'.length)] = num(value);
    else if (field.startsWith('servers:')) {
      // servers:<class>:<phase>; the phase is after the last ':'.
      const rest = field.slice('servers:'.length);
      const cut = rest.lastIndexOf(':');
      const phase = rest.slice(cut + 1);
      if (cut <= 0 || !isPhase(phase)) continue;
      (servers[rest.slice(0, cut)] ??= emptyPhases())[phase] = num(value);
    }
  }
  const check = parseCheck(CHECK_FIELDS.map((k) => fields[k]));
  return {
    at,
    tick: num(fields.tick),
    desired,
    servers,
    demand: { measured: num(fields['demand:measured']), forecast: num(fields['demand:forecast']), requiredCapacity: num(fields['demand:required_capacity']) },
    ...(check && { forecastCheck: check }),
  };
}

export function encodePending(p: PendingForecast): [field: string, value: string] {
  return [String(p.madeAt), `${p.end}|${p.forecast}|${p.peak}`];
}

export function parsePending(field: string, value: string): PendingForecast | undefined {
  const [end, forecast, peak] = value.split('|').map(Number);
  const madeAt = Number(field);
  if (![madeAt, end, forecast, peak].every((n) => n !== undefined && Number.isFinite(n))) return undefined;
  return { madeAt, end: end!, forecast: forecast!, peak: peak! };
}

export interface ForecastStep {
  now: number;
  /** Demand measured at this step. */
  measured: number;
  /** This step's forecast peak for [now, now + windowMs]. */
  forecast: number;
  windowMs: number;
  /**
   * Steps run on tick boundaries a few ms late: a window closes at the first step within this
   * of its end (half a reconcile interval), that step's measure included.
   */
  toleranceMs: number;
  /** A window whose end passed longer ago than this missed steps: dropped, never checked. */
  staleMs: number;
  cap?: number;
}

/**
 * One step for the forecasts in wait: this step's measure raises the peak of every open window,
 * windows that have passed close (the latest one closed is the new check), stale ones are
 * dropped, and this step's forecast opens a window. At most `cap` are kept, the newest.
 */
export function advanceForecasts(pending: readonly PendingForecast[], step: ForecastStep): { pending: PendingForecast[]; checked?: ForecastCheck } {
  const open: PendingForecast[] = [];
  let checked: ForecastCheck | undefined;
  for (const p of pending) {
    if (p.madeAt >= step.now) continue; // this step's own (a step run again), or from a clock ahead
    if (step.now - p.end > step.staleMs) continue;
    const peak = Math.max(p.peak, step.measured);
    if (step.now + step.toleranceMs >= p.end) {
      if (!checked || p.end > checked.end) checked = { madeAt: p.madeAt, end: p.end, forecast: p.forecast, measured: peak };
    } else {
      open.push({ ...p, peak });
    }
  }
  open.push({ madeAt: step.now, end: step.now + step.windowMs, forecast: step.forecast, peak: step.measured });
  open.sort((a, b) => a.madeAt - b.madeAt);
  const cap = step.cap ?? MAX_PENDING_FORECASTS;
  return { pending: open.slice(Math.max(0, open.length - cap)), ...(checked && { checked }) };
}

/** Actions a step enqueued, by action: a provision counts each server asked for. Failed enqueues are not counted. */
export function decisionCounts(result: ReconcileResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of result.log) if (r.event === 'scaler.action') counts[r.action] = (counts[r.action] ?? 0) + (r.action === 'provision' ? (r.count ?? 1) : 1);
  return counts;
}

/** The time-to-ready field a boot of `seconds` falls in. */
export function timeToReadyField(seconds: number, bounds: readonly number[] = TIME_TO_READY_BUCKETS): string {
  const bound = bounds.find((b) => seconds <= b);
  return `le:${bound === undefined ? '+Inf' : bound}`;
}

/** What one job event adds: its count field (none for a progress check) and, once registered, its boot time in seconds. */
export function jobEventIncrements(e: ScalerJobEvent): { count?: string; bootSeconds?: number } {
  return {
    ...(!PROGRESS_CHECKS.has(e.outcome) && { count: `action:${e.type}:${e.outcome}` }),
    ...(e.type === 'provision' && e.outcome === 'registered' && e.bootMs !== undefined && e.bootMs >= 0 && { bootSeconds: e.bootMs / 1000 }),
  };
}

/**
 * The stored histogram made cumulative over `bounds`: each bound counts every stored bucket at or
 * below it (buckets of bounds used before included), '+Inf' is the count. Undefined when empty.
 */
export function cumulativeHistogram(fields: Readonly<Record<string, string>>, bounds: readonly number[] = TIME_TO_READY_BUCKETS): StoredHistogram | undefined {
  const count = Number(fields.count);
  if (fields.count === undefined || !Number.isFinite(count)) return undefined;
  const stored: { bound: number; n: number }[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith('le:') || field === 'le:+Inf') continue;
    const bound = Number(field.slice(3));
    const n = Number(value);
    if (Number.isFinite(bound) && Number.isFinite(n)) stored.push({ bound, n });
  }
  const buckets = bounds.map((b) => ({ le: String(b), count: Math.min(count, stored.reduce((sum, s) => sum + (s.bound <= b ? s.n : 0), 0)) }));
  buckets.push({ le: '+Inf', count });
  return { buckets, sum: Number(fields.sum) || 0, count };
}

/**
 * The action counts to export: once the scaler has run (a status, or any count), every
 * combination of ACTION_OUTCOMES, 0 when not counted yet, then any other combination stored (an
 * older or newer scaler's outcome) as it is; nothing before.
 */
export function actionSeries(snapshot: Pick<ScalerMetricsSnapshot, 'status' | 'actions'>): ScalerMetricsSnapshot['actions'] {
  const { status, actions } = snapshot;
  if (status === undefined && actions.length === 0) return [];
  const counted = new Map(actions.map((a) => [`${a.type}:${a.outcome}`, a.count]));
  const out: ScalerMetricsSnapshot['actions'] = [];
  for (const [type, outcomes] of Object.entries(ACTION_OUTCOMES)) {
    for (const outcome of outcomes) {
      const key = `${type}:${outcome}`;
      out.push({ type, outcome, count: counted.get(key) ?? 0 });
      counted.delete(key);
    }
  }
  for (const a of actions) if (counted.has(`${a.type}:${a.outcome}`)) out.push(a);
  return out;
}

/** The counts hash read back: actions by type and outcome, decisions by action. */
export function parseCounts(fields: Readonly<Record<string, string>>): Pick<ScalerMetricsSnapshot, 'actions' | 'decisions'> {
  const actions: ScalerMetricsSnapshot['actions'] = [];
  const decisions: Record<string, number> = {};
  for (const [field, value] of Object.entries(fields)) {
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    const parts = field.split(':');
    if (parts[0] === 'action' && parts.length === 3) actions.push({ type: parts[1]!, outcome: parts[2]!, count: n });
    else if (parts[0] === 'decision' && parts.length === 2) decisions[parts[1]!] = n;
  }
  return { actions, decisions };
}

// ---- Redis ----

/** The scaler's settings that make the forecast's window (config.ts forecastWindowMs). */
export type StepWindow = Pick<ScalerConfig, 'provisioningTime' | 'leadTime' | 'reconcileInterval'>;

/**
 * After a step (never a dry run): rewrites the status, moves the forecasts in wait on, and counts
 * the actions enqueued. The replica holding the tick's lease is the only writer of a tick.
 */
export async function recordStep(redis: Redis, keys: Keys, result: ReconcileResult, window: StepWindow, now: number): Promise<ScalerStatus> {
  const [pendingFields, lastCheck] = await Promise.all([redis.hgetall(keys.scalerForecasts), redis.hmget(keys.scalerStatus, ...CHECK_FIELDS)]);
  const pending = Object.entries(pendingFields).flatMap(([f, v]) => parsePending(f, v) ?? []);
  const status = statusOf(result, now);
  const moved = advanceForecasts(pending, {
    now,
    measured: status.demand.measured,
    forecast: status.demand.forecast,
    windowMs: forecastWindowMs(window),
    toleranceMs: window.reconcileInterval / 2,
    staleMs: 2 * window.reconcileInterval,
  });
  const check = moved.checked ?? parseCheck(lastCheck);
  if (check) status.forecastCheck = check;

  const tx = redis.multi();
  tx.del(keys.scalerStatus);
  tx.hset(keys.scalerStatus, statusFields(status));
  tx.del(keys.scalerForecasts);
  if (moved.pending.length > 0) tx.hset(keys.scalerForecasts, Object.fromEntries(moved.pending.map(encodePending)));
  for (const [action, n] of Object.entries(decisionCounts(result))) tx.hincrby(keys.scalerCounts, `decision:${action}`, n);
  await run(tx);
  return status;
}

/** One job step's outcome (ScalerJobs onEvent): counted, and a registration's boot time into the histogram. */
export async function recordJobEvent(redis: Redis, keys: Keys, e: ScalerJobEvent): Promise<void> {
  const inc = jobEventIncrements(e);
  if (inc.count === undefined && inc.bootSeconds === undefined) return;
  const tx = redis.multi();
  if (inc.count !== undefined) tx.hincrby(keys.scalerCounts, inc.count, 1);
  if (inc.bootSeconds !== undefined) {
    tx.hincrby(keys.scalerTimeToReady, timeToReadyField(inc.bootSeconds), 1);
    tx.hincrbyfloat(keys.scalerTimeToReady, 'sum', inc.bootSeconds);
    tx.hincrby(keys.scalerTimeToReady, 'count', 1);
  }
  await run(tx);
}

/** A MULTI's commands fail inside exec() without rejecting it: the first error is thrown. */
async function run(tx: ReturnType<Redis['multi']>): Promise<void> {
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (failed) throw failed[0];
}

/** Everything /metrics exports about the scaler, in one read. */
export async function readScalerMetrics(redis: Redis, keys: Keys): Promise<ScalerMetricsSnapshot> {
  const [status, counts, ttr] = await Promise.all([redis.hgetall(keys.scalerStatus), redis.hgetall(keys.scalerCounts), redis.hgetall(keys.scalerTimeToReady)]);
  const parsed = parseStatus(status);
  const histogram = cumulativeHistogram(ttr);
  return { ...(parsed && { status: parsed }), ...parseCounts(counts), ...(histogram && { timeToReady: histogram }) };
}
