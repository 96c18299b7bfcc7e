// The metrics modules on their own: the poller's instruments fed by its hooks, the bounded
// failure reasons, policy reloads, Redis reachability, gauges read at scrape time when the read
// fails, and the poller's /metrics listener.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { BbbClientError, type BbbClientErrorKind } from '../../src/bbb/client.js';
import { serveMetrics } from '../../src/metrics/metrics-server.js';
import { createPollerMetrics, failureReason, FAILURE_REASONS } from '../../src/metrics/poller-metrics.js';
import { countPolicyReloads } from '../../src/metrics/policy-reloads.js';
import { registerRedisUp } from '../../src/metrics/redis-up.js';
import { Gauge } from 'prom-client';
import { logScrapeFailures, SCRAPE_FAILURE_LOG_INTERVAL_MS, scrapeGauges } from '../../src/metrics/scrape-gauges.js';
import { failureText, type RoundStats } from '../../src/poller/poller.js';
import { DEFAULT_POLICY_DIR } from '../../src/policy/loader.js';
import { PolicyStore } from '../../src/policy/policy-store.js';

/** name{labels} → value of an exposition. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

const clientError = (kind: BbbClientErrorKind, extra: Partial<ConstructorParameters<typeof BbbClientError>[0]> = {}) =>
  new BbbClientError({ kind, server: 'https://bbb.example.org/bigbluebutton/api', callName: 'getMeetings', detail: 'd', ...extra });

describe('failure reasons', () => {
  it('maps what the poller records of every client error to a bounded reason', () => {
    const cases: [unknown, string][] = [
      [clientError('timeout'), 'timeout'],
      [clientError('refused'), 'refused'],
      [clientError('network', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }), 'network'],
      [clientError('network'), 'network'],
      [clientError('http', { status: 502 }), 'http'],
      [clientError('malformed'), 'parse'],
      [clientError('failed', { messageKey: 'checksumError' }), 'checksum'],
      [clientError('failed', { messageKey: 'tooManyRequests' }), 'failed'],
      [new Error('socket hang up at https://bbb.example.org/x'), 'other'],
    ];
    expect(cases.map(([err]) => failureReason(failureText(err)))).toEqual(cases.map(([, reason]) => reason));
    expect(failureReason(undefined)).toBe('other');
  });
});

describe('poller metrics', () => {
  const round: RoundStats = {
    servers: 4, polled: 2, failed: 1, skipped: 1, deferred: 0, errors: 0, durationMs: 1500, repinned: 3, forgotten: 1, overCurve: 2, restored: true, changes: [],
  };

  it('counts what the hooks report: rounds, outcomes, reasons, adopted and forgotten meetings', async () => {
    const m = createPollerMetrics({ intervalMs: 5000, processMetrics: false, now: () => 1_700_000_000_000 });
    // Every outcome and reason is there from the start, at 0.
    let s = await samples(m.registry);
    expect(s.get('amphi_poller_servers_total{outcome="failed"}')).toBe(0);
    for (const reason of FAILURE_REASONS) expect(s.get(`amphi_poller_failures_total{reason="${reason}"}`)).toBe(0);

    m.onServer({ server: 'a', outcome: 'polled', durationMs: 10 });
    m.onServer({ server: 'b', outcome: 'failed', durationMs: 3000, error: 'timeout' });
    m.onServer({ server: 'c', outcome: 'failed', durationMs: 5, error: 'FAILED checksumError' });
    m.onServer({ server: 'd', outcome: 'skipped', durationMs: 1 });
    m.onRound(round);
    m.onRound({ ...round, restored: false, overCurve: 1 });
    s = await samples(m.registry);
    expect(s.get('amphi_poller_servers_total{outcome="polled"}')).toBe(1);
    expect(s.get('amphi_poller_servers_total{outcome="failed"}')).toBe(2);
    expect(s.get('amphi_poller_servers_total{outcome="skipped"}')).toBe(1);
    expect(s.get('amphi_poller_failures_total{reason="timeout"}')).toBe(1);
    expect(s.get('amphi_poller_failures_total{reason="checksum"}')).toBe(1);
    expect(s.get('amphi_poller_round_duration_seconds_count')).toBe(2);
    expect(s.get('amphi_poller_round_duration_seconds_sum')).toBe(3);
    expect(s.get('amphi_poller_round_duration_seconds_bucket{le="1"}')).toBe(0);
    expect(s.get('amphi_poller_round_duration_seconds_bucket{le="2.5"}')).toBe(2);
    expect(s.get('amphi_poller_meetings_adopted_total')).toBe(6);
    expect(s.get('amphi_poller_meetings_forgotten_total')).toBe(2);
    expect(s.get('amphi_poller_state_restores_total')).toBe(1);
    expect(s.get('amphi_poller_meetings_over_curve')).toBe(1);
    expect(s.get('amphi_poller_last_round_timestamp_seconds')).toBe(1_700_000_000);
    expect(s.get('amphi_poller_interval_seconds')).toBe(5);
    expect([...s.keys()].some((k) => k.startsWith('amphi_process_'))).toBe(false);
  });

  it('adds the process metrics to a registry of its own, and goes into a given one without them', async () => {
    const own = createPollerMetrics({ intervalMs: 1000 });
    expect((await own.registry.metrics())).toContain('# TYPE amphi_process_cpu_seconds_total counter');
    const shared = new Registry();
    expect(createPollerMetrics({ registry: shared, processMetrics: false, intervalMs: 1000 }).registry).toBe(shared);
  });
});

describe('policy reloads', () => {
  it('counts applied and rejected reloads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'amphi-policy-reloads-'));
    try {
      const file = join(dir, 'default.yaml');
      await copyFile(join(DEFAULT_POLICY_DIR, 'default.yaml'), file);
      const policies = new PolicyStore();
      await policies.load(dir);
      const registry = new Registry();
      countPolicyReloads(registry, policies);
      await writeFile(file, 'curve: [oops');
      await policies.reload();
      const original = await readFile(join(DEFAULT_POLICY_DIR, 'default.yaml'), 'utf8');
      await writeFile(file, original.replace(/(webinar:[\s\S]*?maxParticipants: )350/, '$1300'));
      await policies.reload();
      const s = await samples(registry);
      expect(s.get('amphi_policy_reloads_total{outcome="failed"}')).toBe(1);
      expect(s.get('amphi_policy_reloads_total{outcome="ok"}')).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Redis reachability', () => {
  it.each([
    ['answers', () => Promise.resolve('PONG'), 1],
    ['fails', () => Promise.reject(new Error('ECONNREFUSED')), 0],
    ['never answers', () => new Promise<string>(() => {}), 0],
  ])('reads %s as amphi_redis_up', async (_, ping, up) => {
    const registry = new Registry();
    registerRedisUp(registry, { ping } as never, 50);
    expect((await samples(registry)).get('amphi_redis_up')).toBe(up);
  });
});

describe('gauges read at scrape time', () => {
  it('empty themselves when the read fails, instead of failing the scrape', async () => {
    const registry = new Registry();
    let fail = false;
    const gauge = scrapeGauges(registry, async () => {
      if (fail) throw new Error('redis down');
      g.set({ server: 'a' }, 1);
    });
    const g = gauge('amphi_test_gauge', 'test', ['server']);
    expect((await samples(registry)).get('amphi_test_gauge{server="a"}')).toBe(1);
    fail = true;
    expect((await samples(registry)).has('amphi_test_gauge{server="a"}')).toBe(false);
  });
});

describe('failed scrape reads', () => {
  it('are logged when the registry has a logger: the first, then once per interval', async () => {
    const registry = new Registry();
    const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    logScrapeFailures(registry, { warn: (fields, msg) => void lines.push({ fields: fields as Record<string, unknown>, msg }) });
    let now = 1_000;
    const gauge = scrapeGauges(registry, () => Promise.reject(new Error('redis down')), () => now);
    gauge('amphi_test_failing', 'test');
    for (let i = 0; i < 3; i++) await registry.metrics();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: expect.stringContaining('scrape read failed'), fields: { err: expect.objectContaining({ message: 'redis down' }) } });
    now += SCRAPE_FAILURE_LOG_INTERVAL_MS;
    await registry.metrics();
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).toMatchObject({ notLogged: 2 });
  });
});

describe("the poller's metrics listener", () => {
  it('answers a failed collection with a generic 500, logging the error', async () => {
    const registry = new Registry();
    new Gauge({ name: 'amphi_test_broken', help: 'test', registers: [registry], collect: () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:6379')) });
    const logged: unknown[] = [];
    const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 }, { error: (fields) => void logged.push(fields) });
    try {
      const res = await request(`${server.address}/metrics`);
      expect(res.statusCode).toBe(500);
      const body = await res.body.text();
      expect(body).not.toContain('10.1.2.3');
      expect(body).toBe('metrics collection failed\n');
      expect(logged).toEqual([{ err: expect.objectContaining({ message: 'connect ECONNREFUSED 10.1.2.3:6379' }) }]);
    } finally {
      await server.close();
    }
  });

  it('logs a server error after start-up instead of ending the process', async () => {
    const logged: unknown[] = [];
    const server = await serveMetrics(new Registry(), { host: '127.0.0.1', port: 0 }, { error: (fields) => void logged.push(fields) });
    try {
      // An 'error' event without a listener would throw (and end the poller or scaler).
      expect(() => server.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))).not.toThrow();
      expect(logged).toEqual([{ err: expect.objectContaining({ code: 'EMFILE' }) }]);
      const health = await request(`${server.address}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
    } finally {
      await server.close();
    }
  });


  it('serves /metrics and /health, and nothing else', async () => {
    const registry = new Registry();
    registerRedisUp(registry, { ping: () => Promise.resolve('PONG') } as never);
    const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
    try {
      const metrics = await request(`${server.address}/metrics`);
      expect(metrics.statusCode).toBe(200);
      expect(metrics.headers['content-type']).toBe(registry.contentType);
      expect(await metrics.body.text()).toMatch(/^amphi_redis_up 1$/m);
      const health = await request(`${server.address}/health`);
      expect(await health.body.json()).toEqual({ status: 'ok' });
      const other = await request(`${server.address}/bigbluebutton/api`);
      expect(other.statusCode).toBe(404);
      await other.body.dump();
      const post = await request(`${server.address}/metrics`, { method: 'POST' });
      expect(post.statusCode).toBe(405);
      await post.body.dump();
    } finally {
      await server.close();
    }
  });
});
