// The scaler's metrics end to end on a real Redis (the test's own key prefix): reconcile steps
// and job outcomes recorded by scaler/status.ts, then the gateway's /metrics, which reads them
// back at scrape time (src/metrics/scaler-collector.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import type { App } from '../../src/api/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScalerConfig } from '../../scaler/config.js';
import { DemandHistory } from '../../scaler/history.js';
import { LargeArrivalHistory } from '../../scaler/arrivals.js';
import { ScalerJobs } from '../../scaler/jobs.js';
import { Reconciler } from '../../scaler/reconcile.js';
import { SimulatedProvider } from '../../scaler/providers/simulated.js';
import { ACTION_OUTCOMES, recordJobEvent, recordStep } from '../../scaler/status.js';
import { startScalerRole } from '../../src/cli/commands/scaler.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { request } from 'undici';
import { closedPort } from '../helpers/bbb-stub.js';
import { capture } from '../helpers/cli-io.js';
import { ALL_DAYS, MemoryCloud, MINUTE, T0 } from '../helpers/scaler-fixtures.js';
import { testRedis } from '../helpers/redis.js';
import type { TestRedis } from '../helpers/redis.js';

function config(): ScalerConfig {
  // 1000 units all day at 70 % of 500-unit servers: 3 servers; the forecast window is 6 + 1 min.
  const parsed = parseScalerConfig({
    classes: { standard: { min: 0, max: 10 } },
    provisioningTime: '6m',
    leadTime: '0s',
    reconcileInterval: '1m',
    schedule: { timezone: 'UTC', rules: [{ days: ALL_DAYS, from: '00:00', to: '24:00', load: 1000 }] },
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

/** The exposition's sample lines as name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

describe('scaler metrics on the gateway (real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  let connection: Redis | undefined;
  let jobs: ScalerJobs | undefined;
  let gateway: App | undefined;

  afterEach(async () => {
    await gateway?.app.close();
    await jobs?.close(true).catch(() => {});
    connection?.disconnect();
    gateway = jobs = connection = undefined;
    await t.cleanup();
  });

  async function scrape(): Promise<string> {
    if (!gateway) {
      const namespace = t.prefix.slice(0, -1);
      gateway = await buildApp({
        store: new Store(t.redis, { namespace }),
        redis: t.redis,
        settings: loadSettings({ AMPHI_SECRET: 'metrics-test-secret', LOG_LEVEL: 'silent' }),
        logger: false,
      });
    }
    const res = await gateway.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return res.body;
  }

  it('exports no scaler sample while no scaler has run on the pool', async () => {
    t = testRedis('scaler-metrics-none');
    const text = await scrape();
    expect(text).toContain('# TYPE amphi_scaler_desired_servers gauge');
    expect([...samples(text).keys()].filter((k) => k.startsWith('amphi_scaler_'))).toEqual([]);
  });

  it('exports the last step, the decisions, the job outcomes, time to ready and forecast against measure', async () => {
    t = testRedis('scaler-metrics');
    const cfg = config();
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => T0 });
    const provider = new MemoryCloud();
    connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
    jobs = new ScalerJobs({ connection, store, provider, classes: cfg.classes, prefix: `${t.prefix}bull`, worker: false });
    const reconciler = new Reconciler({ store, jobs, provider, history: new DemandHistory(t.redis, store.ctx.keys.demandHistory),
      arrivals: new LargeArrivalHistory(t.redis, store.ctx.keys.largeArrivals),
      config: cfg,
      placementFill: 0.9,
      largeShare: 0.25,
      fadeMs: 5 * MINUTE,
    });

    // Step 1: an empty pool under a 1000-unit schedule: 3 servers asked for.
    const first = await reconciler.step(T0);
    expect(first.plan.actions).toEqual([expect.objectContaining({ type: 'provision', count: 3 })]);
    await recordStep(t.redis, store.ctx.keys, first, cfg, T0);
    let m = samples(await scrape());
    expect(m.get('amphi_scaler_desired_servers{size_class="standard"}')).toBe(3);
    expect(m.get('amphi_scaler_decisions_total{action="provision"}')).toBe(3);
    expect(m.get('amphi_scaler_demand_load_units{kind="forecast"}')).toBe(1000);
    // No forecast window has passed yet: nothing to compare.
    expect(m.has('amphi_scaler_forecast_error_load_units')).toBe(false);
    // Every action type × outcome exists from the first step on, at 0: increase() over the
    // series then sees the first failure (a series born at 1 has nothing to increase from).
    const actionSeries = [...m.entries()].filter(([k]) => k.startsWith('amphi_scaler_actions_total{'));
    expect(actionSeries).toEqual(
      Object.entries(ACTION_OUTCOMES).flatMap(([type, outcomes]) => outcomes.map((outcome) => [`amphi_scaler_actions_total{type="${type}",outcome="${outcome}"}`, 0])),
    );
    expect(actionSeries.map(([k]) => k)).toEqual(
      expect.arrayContaining(['amphi_scaler_actions_total{type="provision",outcome="failed"}', 'amphi_scaler_actions_total{type="provision",outcome="boot-failed"}', 'amphi_scaler_actions_total{type="drain",outcome="retry"}']),
    );

    // Step 2, one forecast window later: the 3 still booting, nothing more asked for; the first
    // forecast (1000 units) meets what was measured over its window (nothing: 0 units).
    const at = T0 + 7 * MINUTE;
    const second = await reconciler.step(at);
    expect(second.plan.actions).toEqual([]);
    await recordStep(t.redis, store.ctx.keys, second, cfg, at);

    // Job outcomes, as the workers report them.
    const base = { type: 'provision' as const, jobId: 'j', sizeClass: 'standard' };
    for (const bootMs of [50_000, 185_000, 2_000_000]) await recordJobEvent(t.redis, store.ctx.keys, { ...base, outcome: 'registered', bootMs });
    await recordJobEvent(t.redis, store.ctx.keys, { ...base, outcome: 'booting' });
    await recordJobEvent(t.redis, store.ctx.keys, { ...base, outcome: 'boot-failed', error: 'gone' });
    await recordJobEvent(t.redis, store.ctx.keys, { type: 'drain', outcome: 'removed', jobId: 'd', serverId: 's' });
    await recordJobEvent(t.redis, store.ctx.keys, { type: 'drain', outcome: 'not-empty', jobId: 'd', serverId: 's' });

    const text = await scrape();
    m = samples(text);
    const expected: Record<string, number> = {
      'amphi_scaler_desired_servers{size_class="standard"}': 3,
      'amphi_scaler_servers{size_class="standard",phase="ready"}': 0,
      'amphi_scaler_servers{size_class="standard",phase="booting"}': 3,
      'amphi_scaler_servers{size_class="standard",phase="draining"}': 0,
      'amphi_scaler_servers{size_class="standard",phase="deleting"}': 0,
      'amphi_scaler_demand_load_units{kind="measured"}': 0,
      'amphi_scaler_demand_load_units{kind="forecast"}': 1000,
      'amphi_scaler_last_step_timestamp_seconds': at / 1000,
      'amphi_scaler_forecast_check_load_units{kind="forecast"}': 1000,
      'amphi_scaler_forecast_check_load_units{kind="measured"}': 0,
      'amphi_scaler_forecast_error_load_units': -1000,
      'amphi_scaler_decisions_total{action="provision"}': 3,
      'amphi_scaler_actions_total{type="provision",outcome="registered"}': 3,
      'amphi_scaler_actions_total{type="provision",outcome="boot-failed"}': 1,
      'amphi_scaler_actions_total{type="drain",outcome="removed"}': 1,
      'amphi_scaler_actions_total{type="provision",outcome="failed"}': 0,
      'amphi_scaler_actions_total{type="drain",outcome="failed"}': 0,
      'amphi_scaler_time_to_ready_seconds_bucket{le="60"}': 1,
      'amphi_scaler_time_to_ready_seconds_bucket{le="180"}': 1,
      'amphi_scaler_time_to_ready_seconds_bucket{le="240"}': 2,
      'amphi_scaler_time_to_ready_seconds_bucket{le="1200"}': 2,
      'amphi_scaler_time_to_ready_seconds_bucket{le="+Inf"}': 3,
      'amphi_scaler_time_to_ready_seconds_sum': 2235,
      'amphi_scaler_time_to_ready_seconds_count': 3,
    };
    for (const [name, value] of Object.entries(expected)) expect([name, m.get(name)]).toEqual([name, value]);
    expect(m.get('amphi_scaler_demand_load_units{kind="required_capacity"}')).toBeCloseTo(1000 / 0.7, 6);
    // Progress checks are not actions.
    expect([...m.keys()].filter((k) => k.includes('outcome="booting"') || k.includes('outcome="not-empty"'))).toEqual([]);
    expect(text).toContain('# TYPE amphi_scaler_actions_total counter');
    expect(text).toContain('# TYPE amphi_scaler_time_to_ready_seconds histogram');

    // A valid histogram: buckets in increasing `le`, cumulative, +Inf last and equal to _count.
    const buckets = [...m.entries()].filter(([k]) => k.startsWith('amphi_scaler_time_to_ready_seconds_bucket'));
    const les = buckets.map(([k]) => /le="([^"]+)"/.exec(k)![1]!);
    expect(les.at(-1)).toBe('+Inf');
    expect(les.slice(0, -1).map(Number)).toEqual([...les.slice(0, -1).map(Number)].sort((a, b) => a - b));
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    expect(buckets.at(-1)![1]).toBe(m.get('amphi_scaler_time_to_ready_seconds_count'));
  });

  it('`amphi scaler` records its steps and its jobs\' outcomes, which the gateway exports', async () => {
    t = testRedis('scaler-metrics-role');
    const namespace = t.prefix.slice(0, -1);
    const settings = loadSettings({ LOG_LEVEL: 'silent', AMPHI_METRICS_PORT: '0' });
    const runtime = { settings, log: createLogger('silent'), redisTarget: { kind: 'url' as const, url: t.url, tls: false }, redis: t.redis, store: new Store(t.redis, { namespace }), close: async () => {} };
    const parsed = parseScalerConfig({
      classes: { standard: { min: 1, max: 2 } },
      reconcileInterval: '1s',
      provisioningTime: '6m',
    });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const provider = new SimulatedProvider({ bootDelayMs: 0 });
    const role = await startScalerRole(runtime, capture(), { file: 'test', config: parsed.config, providerSettings: { type: 'simulated' } }, provider);
    try {
      // The class minimum: a server asked for at the first step, registered by the worker at once
      // (no poller here: a later step may find it unpolled and ask for the class's second one).
      let m = new Map<string, number>();
      const deadline = Date.now() + 25_000;
      while (Date.now() < deadline) {
        m = samples(await scrape());
        if ((m.get('amphi_scaler_time_to_ready_seconds_count') ?? 0) >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const registered = m.get('amphi_scaler_time_to_ready_seconds_count')!;
      expect(registered).toBeGreaterThanOrEqual(1);
      expect(m.get('amphi_scaler_actions_total{type="provision",outcome="registered"}')).toBe(registered);
      // Simulated servers with no boot delay are ready within the first bucket.
      expect(m.get('amphi_scaler_time_to_ready_seconds_bucket{le="60"}')).toBe(registered);
      expect(m.get('amphi_scaler_decisions_total{action="provision"}')).toBeGreaterThanOrEqual(registered);
      expect(m.get('amphi_scaler_desired_servers{size_class="standard"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('amphi_scaler_last_step_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 10);
    } finally {
      await role.stop(); // closes the provider too
    }
  });

  it('`amphi scaler` serves /health and its process metrics on HOST:AMPHI_METRICS_PORT', async () => {
    t = testRedis('scaler-metrics-listener');
    const port = await closedPort();
    const settings = loadSettings({ LOG_LEVEL: 'silent', HOST: '127.0.0.1', AMPHI_METRICS_PORT: String(port) });
    const runtime = { settings, log: createLogger('silent'), redisTarget: { kind: 'url' as const, url: t.url, tls: false }, redis: t.redis, store: new Store(t.redis, { namespace: t.prefix.slice(0, -1) }), close: async () => {} };
    const parsed = parseScalerConfig({ classes: { standard: { min: 0, max: 1 } }, reconcileInterval: '1m' });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const role = await startScalerRole(runtime, capture(), { file: 'test', config: parsed.config, providerSettings: { type: 'simulated' } }, new SimulatedProvider({ bootDelayMs: 0 }));
    try {
      expect(role.metricsAddress).toBe(`http://127.0.0.1:${port}`);
      expect(await (await request(`${role.metricsAddress}/health`)).body.json()).toEqual({ status: 'ok' });
      const text = await (await request(`${role.metricsAddress}/metrics`)).body.text();
      expect(text).toMatch(/^amphi_process_cpu_seconds_total \d/m);
      expect(text).toMatch(/^amphi_redis_up 1$/m);
    } finally {
      await role.stop();
    }
    // Stopped, the port is free again.
    await expect(request(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
