// The scaler's status for metrics (scaler/status.ts): shaping a reconcile step into the status
// hash and back, the forecast windows, the job-event counters, the time-to-ready histogram; and
// the gateway's exposition of them (src/metrics/scaler-collector.ts) on a Redis stand-in.
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../scaler/plan.js';
import type { ReconcileResult } from '../../scaler/reconcile.js';
import {
  advanceForecasts,
  cumulativeHistogram,
  decisionCounts,
  encodePending,
  jobEventIncrements,
  parseCounts,
  parsePending,
  parseStatus,
  statusFields,
  statusOf,
  timeToReadyField,
  TIME_TO_READY_BUCKETS,
} from '../../scaler/status.js';
import type { PendingForecast } from '../../scaler/status.js';
import { registerScalerCollector } from '../../src/metrics/scaler-collector.js';
import { keysFor } from '../../src/state/keys.js';
import type { Store } from '../../src/state/store.js';
import { MINUTE, scalerServer } from '../helpers/scaler-fixtures.js';

const NOW = 1_000_000 * MINUTE;

function result(over: Partial<Plan> = {}, servers = [scalerServer('a', NOW)], log: ReconcileResult['log'] = []): ReconcileResult {
  const plan: Plan = {
    actions: [],
    desired: { standard: 3, large: 0 },
    reactive: 420.5,
    forecast: { total: 900, byClass: {}, source: 'schedule' },
    requiredCapacity: 1285.7,
    held: [],
    ...over,
  };
  return { tick: 42, at: NOW, plan, servers, jobIds: [], orphans: [], log };
}

describe('status of a reconcile step', () => {
  it('counts servers per class and phase, every phase present for each class the plan or the pool names', () => {
    const servers = [
      scalerServer('a', NOW),
      scalerServer('b', NOW, { phase: 'booting' }),
      scalerServer('c', NOW, { phase: 'booting' }),
      scalerServer('d', NOW, { phase: 'draining', sizeClass: 'large' }),
      scalerServer('e', NOW, { phase: 'unavailable', sizeClass: 'manual', managed: false }),
    ];
    const s = statusOf(result({}, servers), NOW);
    expect(s).toEqual({
      at: NOW,
      tick: 42,
      desired: { standard: 3, large: 0 },
      servers: {
        standard: { ready: 1, booting: 2, draining: 0, deleting: 0, unavailable: 0 },
        large: { ready: 0, booting: 0, draining: 1, deleting: 0, unavailable: 0 },
        manual: { ready: 0, booting: 0, draining: 0, deleting: 0, unavailable: 1 },
      },
      demand: { measured: 420.5, forecast: 900, requiredCapacity: 1285.7 },
    });
  });

  it('goes into its hash and comes back the same, forecast check included', () => {
    const s = { ...statusOf(result(), NOW), forecastCheck: { madeAt: NOW - 7 * MINUTE, end: NOW, forecast: 900, measured: 950 } };
    const fields = statusFields(s);
    expect(fields).toMatchObject({ at: String(NOW), 'desired:standard': '3', 'servers:standard:ready': '1', 'demand:required_capacity': '1285.7', 'check:measured': '950' });
    expect(parseStatus(fields)).toEqual(s);
    // A class name with ':' still splits at its phase.
    expect(parseStatus({ at: '1', 'servers:a:b:ready': '2' })?.servers).toEqual({ 'a:b': { ready: 2, booting: 0, draining: 0, deleting: 0, unavailable: 0 } });
  });

  it('is absent when the hash is empty or has no time: no step, no status', () => {
    expect(parseStatus({})).toBeUndefined();
    expect(parseStatus({ 'desired:standard': '3' })).toBeUndefined();
  });

  it('counts the actions enqueued, a provision by its servers, failed enqueues not at all', () => {
    const log: ReconcileResult['log'] = [
      { event: 'scaler.action', tick: 1, action: 'provision', sizeClass: 'standard', count: 3, jobIds: ['x', 'y', 'z'], reason: '' },
      { event: 'scaler.action', tick: 1, action: 'provision', sizeClass: 'large', count: 1, jobIds: ['w'], reason: '' },
      { event: 'scaler.action', tick: 1, action: 'cordon', server: 's1', jobIds: ['d'], reason: '' },
      { event: 'scaler.action', tick: 1, action: 'uncordon', server: 's2', jobIds: [], reason: '' },
      { event: 'scaler.action-failed', tick: 1, action: 'delete', server: 's3', error: 'down', reason: '' },
      { event: 'scaler.held', tick: 1, reason: 'cooldown' },
    ];
    expect(decisionCounts(result({}, [], log))).toEqual({ provision: 4, cordon: 1, uncordon: 1 });
  });
});

describe('forecast windows', () => {
  const step = (now: number, measured: number, forecast = 0) => ({ now, measured, forecast, windowMs: 7 * MINUTE, toleranceMs: 30_000, staleMs: 2 * MINUTE });

  it('closes a window at the step on its end, with the peak measured inside it', () => {
    let pending: PendingForecast[] = [];
    const checks = [];
    // One step a minute (a few ms late each time): measured 100, 300, 200, ... and forecasts of 500.
    for (let i = 0; i <= 8; i++) {
      const moved = advanceForecasts(pending, step(NOW + i * MINUTE + (i % 3), [100, 300, 200, 150, 150, 150, 150, 120, 110][i]!, 500));
      pending = moved.pending;
      if (moved.checked) checks.push(moved.checked);
    }
    // The first window [0, 7 min] closes at minute 7: peak 300 over its 8 steps; the second at minute 8.
    expect(checks).toEqual([
      { madeAt: NOW, end: NOW + 7 * MINUTE, forecast: 500, measured: 300 },
      { madeAt: NOW + MINUTE + 1, end: NOW + 8 * MINUTE + 1, forecast: 500, measured: 300 },
    ]);
    expect(pending).toHaveLength(7);
  });

  it('drops a window whose end passed long ago (missed steps) and keeps at most `cap`, the newest', () => {
    const old = { madeAt: NOW - 60 * MINUTE, end: NOW - 53 * MINUTE, forecast: 1, peak: 1 };
    expect(advanceForecasts([old], step(NOW, 5))).toEqual({ pending: [{ madeAt: NOW, end: NOW + 7 * MINUTE, forecast: 0, peak: 5 }] });
    const many = Array.from({ length: 10 }, (_, i) => ({ madeAt: NOW - (10 - i) * 1000, end: NOW + MINUTE, forecast: 0, peak: 0 }));
    const kept = advanceForecasts(many, { ...step(NOW, 1), cap: 4 }).pending;
    expect(kept.map((p) => p.madeAt)).toEqual([NOW - 3000, NOW - 2000, NOW - 1000, NOW]);
  });

  it('round-trips through its hash field', () => {
    const p = { madeAt: NOW, end: NOW + 7 * MINUTE, forecast: 812.25, peak: 3 };
    expect(parsePending(...encodePending(p))).toEqual(p);
    expect(parsePending('x', '1|2|3')).toBeUndefined();
    expect(parsePending('1', '1|2')).toBeUndefined();
  });
});

describe('job events', () => {
  it('counts attempts that ended, not progress checks; a registration adds its boot time in seconds', () => {
    expect(jobEventIncrements({ type: 'provision', outcome: 'registered', jobId: 'j', sizeClass: 'standard', bootMs: 185_000 })).toEqual({ count: 'action:provision:registered', bootSeconds: 185 });
    expect(jobEventIncrements({ type: 'provision', outcome: 'boot-failed', jobId: 'j', sizeClass: 'standard' })).toEqual({ count: 'action:provision:boot-failed' });
    expect(jobEventIncrements({ type: 'provision', outcome: 'booting', jobId: 'j', sizeClass: 'standard' })).toEqual({});
    expect(jobEventIncrements({ type: 'drain', outcome: 'not-empty', jobId: 'j', serverId: 's' })).toEqual({});
    expect(jobEventIncrements({ type: 'drain', outcome: 'removed', jobId: 'j', serverId: 's' })).toEqual({ count: 'action:drain:removed' });
  });

  it('puts a boot time in the bucket of the smallest bound at or above it', () => {
    expect(timeToReadyField(0)).toBe('le:60');
    expect(timeToReadyField(60)).toBe('le:60');
    expect(timeToReadyField(60.5)).toBe('le:120');
    expect(timeToReadyField(1200)).toBe('le:1200');
    expect(timeToReadyField(1201)).toBe('le:+Inf');
  });

  it('reads the counts hash back by type and outcome, and decisions by action', () => {
    expect(parseCounts({ 'action:provision:registered': '4', 'action:drain:retry': '1', 'decision:provision': '6', junk: '1', 'action:x': '2' })).toEqual({
      actions: [
        { type: 'provision', outcome: 'registered', count: 4 },
        { type: 'drain', outcome: 'retry', count: 1 },
      ],
      decisions: { provision: 6 },
    });
  });
});

describe('time-to-ready histogram', () => {
  it('is cumulative, ends with +Inf equal to the count, and counts buckets of bounds used before', () => {
    const h = cumulativeHistogram({ 'le:60': '1', 'le:180': '2', 'le:450': '1', 'le:+Inf': '1', sum: '1900.5', count: '5' });
    expect(h?.buckets).toEqual([
      { le: '60', count: 1 },
      { le: '120', count: 1 },
      { le: '180', count: 3 },
      { le: '240', count: 3 },
      { le: '300', count: 3 },
      { le: '360', count: 3 },
      { le: '480', count: 4 },
      { le: '600', count: 4 },
      { le: '900', count: 4 },
      { le: '1200', count: 4 },
      { le: '+Inf', count: 5 },
    ]);
    expect(h?.sum).toBe(1900.5);
    expect(cumulativeHistogram({})).toBeUndefined();
  });

  it('for any boot times, is a valid histogram: monotonic buckets, +Inf = count, sum = the times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 })), (times) => {
        const fields: Record<string, number> = {};
        for (const t of times) fields[timeToReadyField(t)] = (fields[timeToReadyField(t)] ?? 0) + 1;
        const stored = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
        const h = cumulativeHistogram({ ...stored, sum: String(times.reduce((a, b) => a + b, 0)), count: String(times.length) })!;
        expect(h.buckets.at(-1)).toEqual({ le: '+Inf', count: times.length });
        for (let i = 1; i < h.buckets.length; i++) expect(h.buckets[i]!.count).toBeGreaterThanOrEqual(h.buckets[i - 1]!.count);
        TIME_TO_READY_BUCKETS.forEach((b, i) => expect(h.buckets[i]!.count).toBe(times.filter((t) => t <= b).length));
      }),
    );
  });
});

describe('scaler collector (on a Redis stand-in)', () => {
  const keys = keysFor('default', 'unit');
  function registry(hashes: Record<string, Record<string, string>>): Registry {
    const redis = { hgetall: async (key: string) => ({ ...(hashes[key] ?? {}) }) };
    const r = new Registry();
    registerScalerCollector(r, { ctx: { redis, keys } } as unknown as Store);
    return r;
  }

  it('exports nothing but HELP and TYPE lines when the scaler never ran', async () => {
    const text = await registry({}).metrics();
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
    expect(text).toContain('# TYPE amphi_scaler_time_to_ready_seconds histogram');
  });

  it('renders the histogram in the exposition format: _bucket lines with le, then _sum and _count', async () => {
    const text = await registry({ [keys.scalerTimeToReady]: { 'le:120': '2', 'le:+Inf': '1', sum: '1500', count: '3' } }).metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('amphi_scaler_time_to_ready_seconds'));
    expect(lines).toEqual([
      'amphi_scaler_time_to_ready_seconds_bucket{le="60"} 0',
      'amphi_scaler_time_to_ready_seconds_bucket{le="120"} 2',
      ...['180', '240', '300', '360', '480', '600', '900', '1200'].map((le) => `amphi_scaler_time_to_ready_seconds_bucket{le="${le}"} 2`),
      'amphi_scaler_time_to_ready_seconds_bucket{le="+Inf"} 3',
      'amphi_scaler_time_to_ready_seconds_sum 1500',
      'amphi_scaler_time_to_ready_seconds_count 3',
    ]);
  });
});
