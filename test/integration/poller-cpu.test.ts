// Servers' own CPU, end to end: a simulated server exports node_exporter counters from its CPU
// model, the poller reads them through its metrics URL, the measured load placement and the
// scaler read becomes max(model, cpu × capacity), and the pool learns its load model's weights.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BbbClient } from '../../src/bbb/client.js';
import { PoolView } from '../../src/api/bbb/pool-view.js';
import { Placer } from '../../src/api/bbb/placer.js';
import { rankServers, NO_TAGS } from '../../src/placement/choose.js';
import { DEFAULT_LOAD_WEIGHTS, expectedMeetingLoad, meetingLoad } from '../../src/placement/load-model.js';
import { learnedWeights, LEARNING_TAU_MS } from '../../src/placement/learned-weights.js';
import { Poller, fetchMetricsText } from '../../src/poller/poller.js';
import type { PollerOptions, ServerPollResult } from '../../src/poller/poller.js';
import { parseNodeCpu } from '../../src/poller/node-cpu.js';
import { SimServer } from '../../src/simulator/sim-server.js';
import { Store } from '../../src/state/store.js';
import { addServer } from '../../src/admin/operations.js';
import { Registry } from 'prom-client';
import { registerPoolCollector } from '../../src/metrics/pool-collector.js';
import { registerLoadModelCollector } from '../../src/metrics/load-model-collector.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const INTERVAL = 1000;
const BASE: Omit<PollerOptions, 'store'> = {
  intervalMs: INTERVAL,
  timeoutMs: 1000,
  concurrency: 4,
  offlineAfter: 2,
  onlineAfter: 1,
  graceMs: 60_000,
  fadeMs: 600_000,
  algorithm: 'sha256',
};

describe('simulated server: node_exporter CPU counters on /metrics', () => {
  let simNow = 1_000_000;
  let sim: SimServer;
  beforeEach(async () => {
    sim = await SimServer.start({ sweepIntervalMs: 0, cores: 8, model: { now: () => simNow } });
  });
  afterEach(async () => sim.close());

  it('serves node_cpu_seconds_total per core and mode, integrated from its CPU model, beside bbb_sim_cpu_percent', async () => {
    const api = new BbbClient({ apiUrl: sim.apiUrl, secret: sim.secret });
    await api.create([['name', 'Room'], ['meetingID', 'room']]);
    sim.addUsers('room', { count: 1, role: 'MODERATOR', cameras: 1 });
    sim.addUsers('room', { count: 4, cameras: 1 });
    sim.addUsers('room', { count: 20 });
    const percent = sim.load();
    expect(percent).toBeGreaterThan(25);

    const before = parseNodeCpu(await fetchMetricsText(`${sim.baseUrl}/metrics`, 2000, 1 << 20))!;
    simNow += 10_000;
    const text = await fetchMetricsText(`${sim.baseUrl}/metrics`, 2000, 1 << 20);
    expect(text).toContain(`bbb_sim_cpu_percent ${percent}`);
    for (let cpu = 0; cpu < 8; cpu++) {
      for (const mode of ['idle', 'user', 'system']) expect(text).toMatch(new RegExp(`^node_cpu_seconds_total\\{cpu="${cpu}",mode="${mode}"\\} [0-9.]+$`, 'm'));
    }
    const after = parseNodeCpu(text)!;
    expect(after.cpus).toBe(8);
    // 10 s on 8 cores: 80 cpu-seconds, busy at the model's figure.
    expect(after.total - before.total).toBeCloseTo(80, 1);
    expect(1 - (after.idle - before.idle) / (after.total - before.total)).toBeCloseTo(percent / 100, 3);

    // Users leaving change the figure from then on (the control API observes after each change).
    simNow += 5_000;
    await api.end('room');
    const afterEnd = sim.load();
    expect(afterEnd).toBeLessThan(percent / 2);
    simNow += 5_000;
    const ended = parseNodeCpu(await fetchMetricsText(`${sim.baseUrl}/metrics`, 2000, 1 << 20))!;
    expect(ended.total - after.total).toBeCloseTo(80, 1);
    expect(1 - (ended.idle - after.idle) / (ended.total - after.total)).toBeCloseTo((percent + afterEnd) / 200, 3);
  });
});

describe('poller reads servers’ CPU (real Redis, simulated servers)', () => {
  let t: TestRedis;
  let store: Store;
  let now: number;
  let simNow: number;
  const sims: SimServer[] = [];
  const pollers: Poller[] = [];
  let brokenMetrics: boolean;

  beforeEach(async () => {
    t = testRedis('poller-cpu');
    now = 1_700_000_000_000;
    simNow = 5_000_000;
    brokenMetrics = false;
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => now });
    for (let i = 0; i < 3; i++) sims.push(await SimServer.start({ sweepIntervalMs: 0, cores: 8, model: { now: () => simNow } }));
  });

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
    await Promise.all(sims.splice(0).map((s) => s.close()));
    await t.cleanup();
  });

  function poller(opts: Partial<PollerOptions> = {}): Poller {
    const p = new Poller({
      ...BASE,
      store,
      fetchMetrics: async (url) => {
        if (brokenMetrics) throw new Error('exporter down');
        return fetchMetricsText(url, 1000, 1 << 20);
      },
      ...opts,
    });
    pollers.push(p);
    return p;
  }

  async function classWithCameras(sim: SimServer, meetingID: string): Promise<void> {
    await new BbbClient({ apiUrl: sim.apiUrl, secret: sim.secret }).create([['name', 'Class'], ['meetingID', meetingID]]);
    sim.addUsers(meetingID, { count: 1, role: 'MODERATOR', cameras: 1 });
    sim.addUsers(meetingID, { count: 4, cameras: 1 });
    sim.addUsers(meetingID, { count: 20 });
  }

  it('stores the CPU, measures max(model, cpu × capacity), and placement then prefers the other server', async () => {
    const [heavy, plain] = sims as [SimServer, SimServer];
    await store.servers.add({ id: 'heavy', url: heavy.apiUrl, secret: heavy.secret, capacity: 500, metricsUrl: `${heavy.baseUrl}/metrics` });
    await store.servers.add({ id: 'plain', url: plain.apiUrl, secret: plain.secret, capacity: 500 });
    // A class of 25 with 5 cameras: ≈ 30 % of 8 cores by the server's own CPU, 72.5 of 500 units by the model.
    await classWithCameras(heavy, 'class');
    // 60 listeners without cameras: more than the class by the model, less than it by the CPU.
    await new BbbClient({ apiUrl: plain.apiUrl, secret: plain.secret }).create([['name', 'Lecture'], ['meetingID', 'lecture']]);
    plain.addUsers('lecture', { count: 60 });
    const model = meetingLoad({ participants: 25, voice: 25, videos: 5 });
    expect(model).toBe(72.5);
    const truth = heavy.load() / 100;
    expect(truth).toBeGreaterThan(0.28);

    // The first round has no rate yet: the model alone, and it would place on `heavy`.
    const results = new Map<string, ServerPollResult>();
    const p = poller({ onServer: (r) => results.set(r.server, r) });
    await p.pollOnce();
    const first = await store.snapshot(BASE.fadeMs);
    expect(first.servers.find((s) => s.id === 'heavy')).toMatchObject({ measuredLoad: model, modelLoad: model });
    expect(first.servers.find((s) => s.id === 'heavy')?.cpu).toBeUndefined();
    expect(first.servers.find((s) => s.id === 'heavy')?.cpuSample).toBeDefined();
    expect(rankServers(first.views, 10, NO_TAGS, () => 0).candidates[0]).toBe('heavy');

    now += 5000;
    simNow += 5000;
    await p.pollOnce();
    expect(results.get('heavy')).toMatchObject({ outcome: 'polled' });
    expect(results.get('heavy')?.cpu).toBeCloseTo(truth, 3);

    const heavyRecord = (await store.servers.get('heavy'))!;
    expect(heavyRecord.cpu).toBeCloseTo(truth, 3);
    expect(heavyRecord.cpuAt).toBe(now);
    expect(heavyRecord.modelLoad).toBe(model);
    expect(heavyRecord.measuredLoad).toBeCloseTo(truth * 500, 0);
    expect(heavyRecord.measuredLoad).toBeGreaterThan(2 * model);
    const plainRecord = (await store.servers.get('plain'))!;
    expect(plainRecord.cpu).toBeUndefined();
    expect(plainRecord.measuredLoad).toBe(5 + 60 + 30);

    // Prometheus: the server's CPU as a fraction, only for the server that reports it.
    const registry = new Registry();
    registerPoolCollector(registry, store, BASE.fadeMs);
    const exposed = await registry.metrics();
    const gauge = /^amphi_server_cpu_utilization\{server="heavy"\} (\S+)$/m.exec(exposed);
    expect(Number(gauge?.[1])).toBeCloseTo(truth, 3);
    expect(exposed).not.toContain('amphi_server_cpu_utilization{server="plain"}');

    // What placement reads: the snapshot's views, then the atomic step on live counters.
    const snap = await store.snapshot(BASE.fadeMs);
    expect(snap.views.find((v) => v.id === 'heavy')?.load).toBeCloseTo(truth * 500, 0);
    const ranked = rankServers(snap.views, 10, NO_TAGS, () => 0);
    expect(ranked.candidates[0]).toBe('plain');
    const placed = await store.meetings.place({
      tenant: 'default',
      meetingID: 'new-room',
      upstreamID: 'new-room',
      need: 10,
      candidates: ['heavy', 'plain'],
      sampled: 2,
      fadeMs: BASE.fadeMs,
    });
    expect(placed).toMatchObject({ outcome: 'placed', server: 'plain' });

    // One observation of the load model so far: too little to learn from, so placement
    // reserves with the policy's weights.
    expect((await store.polls.learnedLoad())?.xtx[0]).toBe(1);
    const pool = new PoolView(store, { maxAgeMs: 0, fadeMs: BASE.fadeMs, algorithm: 'sha256', timeoutMs: 1000 });
    const placer = new Placer(store, pool, { choices: 2, fadeMs: BASE.fadeMs, random: () => 0 });
    const byPlacer = await placer.place({ tenant: 'default', meetingID: 'sized', upstreamID: 'sized', expected: { participants: 30, cameras: 15 }, weights: DEFAULT_LOAD_WEIGHTS, tags: NO_TAGS });
    expect(byPlacer.outcome).toBe('placed');
    expect((await store.meetings.get('default', 'sized'))?.reserved).toBeCloseTo(expectedMeetingLoad(30, 15), 6);
  });

  it('learns the load model from the servers’ CPU: the poller measures with it and placement reserves with it', async () => {
    for (const [i, sim] of sims.entries()) {
      await store.servers.add({ id: `s${i}`, url: sim.apiUrl, secret: sim.secret, capacity: 500, metricsUrl: `${sim.baseUrl}/metrics` });
    }
    const [cams, lecture, mixed] = sims as [SimServer, SimServer, SimServer];
    await classWithCameras(cams, 'class');
    await new BbbClient({ apiUrl: lecture.apiUrl, secret: lecture.secret }).create([['name', 'Lecture'], ['meetingID', 'lecture']]);
    lecture.addUsers('lecture', { count: 1, role: 'MODERATOR', cameras: 1 });
    await classWithCameras(mixed, 'first');
    const p = poller();
    await p.pollOnce();
    // Rounds with the pool changing between them: every server says something new each time.
    for (let round = 1; round <= 5; round++) {
      lecture.addUsers('lecture', { count: 15 });
      cams.addUsers('class', { count: 1, cameras: 1 });
      await new BbbClient({ apiUrl: mixed.apiUrl, secret: mixed.secret }).create([['name', `Room ${round}`], ['meetingID', `r${round}`]]);
      mixed.addUsers(`r${round}`, { count: 10 + 3 * round });
      now += INTERVAL;
      simNow += 5000;
      await p.pollOnce();
    }
    const stats = (await store.polls.learnedLoad())!;
    // 5 rounds of 3 servers (the first had no CPU rate yet), decayed a little over their 5 s.
    expect(stats.xtx[0]).toBeGreaterThan(14.9);
    expect(stats.xtx[0]).toBeLessThanOrEqual(15);
    // Each server stamped when it last fed the model: the fit rests on three of them.
    expect(Object.keys(stats.seen).sort()).toEqual(['s0', 's1', 's2']);
    expect(Object.values(stats.seen).every((at) => at === now)).toBe(true);
    const learned = learnedWeights(stats, DEFAULT_LOAD_WEIGHTS, now)!;
    // The simulator's streams cost 1.6 % of a core each: 1 unit of a 500-unit 8-core server, 4× the policy's weight.
    expect(learned.perStreamDelivered).toBeGreaterThan(0.7);
    expect(learned.perStreamDelivered).toBeLessThan(1.3);
    // Prometheus: the weights in force and the evidence behind them.
    const registry = new Registry();
    registerLoadModelCollector(registry, store, () => DEFAULT_LOAD_WEIGHTS);
    const exposed = await registry.metrics();
    const streamWeight = /^amphi_load_model_weight\{term="perStreamDelivered",source="learned"\} (\S+)$/m.exec(exposed);
    expect(Number(streamWeight?.[1])).toBeCloseTo(learned.perStreamDelivered, 6);
    expect(exposed).toMatch(/^amphi_load_model_observations 14\.9\d*$/m);

    // The next round measures with the learned weights: the model now says what the CPU says.
    now += INTERVAL;
    simNow += 5000;
    await p.pollOnce();
    const heavy = (await store.servers.get('s0'))!;
    expect(heavy.modelLoad! / (heavy.cpu! * 500)).toBeGreaterThan(0.85);
    expect(heavy.modelLoad! / (heavy.cpu! * 500)).toBeLessThan(1.15);

    // A camera class is reserved at what the CPU says it costs, not at the policy's figure.
    const pool = new PoolView(store, { maxAgeMs: 0, fadeMs: BASE.fadeMs, algorithm: 'sha256', timeoutMs: 1000 });
    const placer = new Placer(store, pool, { choices: 3, fadeMs: BASE.fadeMs, random: () => 0 });
    const placed = await placer.place({ tenant: 'default', meetingID: 'cams', upstreamID: 'cams', expected: { participants: 20, cameras: 5 }, weights: DEFAULT_LOAD_WEIGHTS, tags: NO_TAGS });
    expect(placed.outcome).toBe('placed');
    const reserved = (await store.meetings.get('default', 'cams'))!.reserved;
    expect(reserved).toBeCloseTo(expectedMeetingLoad(20, 5, learnedWeights((await store.polls.learnedLoad())!, DEFAULT_LOAD_WEIGHTS, now)!), 6);
    expect(reserved).toBeGreaterThan(1.7 * expectedMeetingLoad(20, 5));
  });

  it('folds observations atomically: replicas at once lose nothing, old evidence decays in time', async () => {
    const writers = [new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => now }), store];
    const observation = { server: 'a', meetings: 2, participants: 40, voice: 30, streamsDelivered: 100, capacity: 500, cpu: 0.4 };
    await Promise.all(writers.flatMap((w) => Array.from({ length: 10 }, () => w.polls.learnLoad([observation]))));
    expect((await store.polls.learnedLoad())?.xtx[0]).toBeCloseTo(20, 9);
    expect((await store.polls.learnedLoad())?.xty[4]).toBeCloseTo(20 * 100 * 200, 6);
    now += LEARNING_TAU_MS;
    await store.polls.learnLoad([observation, { ...observation, cpu: 0.99 }]);
    const after = (await store.polls.learnedLoad())!;
    expect(after.xtx[0]).toBeCloseTo(20 * Math.exp(-1) + 1, 9);
    expect(after.at).toBe(now);
  });

  it('a server whose meetings ended since the last poll measures empty, though its CPU averaged them over the interval', async () => {
    const [sim] = sims as [SimServer];
    await store.servers.add({ id: 'busy', url: sim.apiUrl, secret: sim.secret, capacity: 500, metricsUrl: `${sim.baseUrl}/metrics` });
    await classWithCameras(sim, 'class');
    const truth = sim.load() / 100;
    const results = new Map<string, ServerPollResult>();
    const p = poller({ onServer: (r) => results.set(r.server, r) });
    await p.pollOnce();
    now += 5000;
    simNow += 5000;
    await p.pollOnce();
    expect((await store.servers.get('busy'))!.measuredLoad).toBeCloseTo(truth * 500, 0);

    // The class ends halfway through the next interval: the CPU reading averages half of it.
    simNow += 2500;
    await new BbbClient({ apiUrl: sim.apiUrl, secret: sim.secret }).end('class');
    simNow += 2500;
    now += 5000;
    await p.pollOnce();
    expect(results.get('busy')?.cpu).toBeCloseTo(truth / 2, 3);
    const after = (await store.servers.get('busy'))!;
    expect(after.modelLoad).toBe(0);
    expect(after.measuredLoad).toBe(0);
  });

  it('a failed or malformed scrape leaves the CPU unknown and never fails the poll; a stale reading is cleared', async () => {
    const [heavy, other, third] = sims as [SimServer, SimServer, SimServer];
    await store.servers.add({ id: 'heavy', url: heavy.apiUrl, secret: heavy.secret, capacity: 500, metricsUrl: `${heavy.baseUrl}/metrics` });
    // An exporter that is not there, and a URL that answers something else than metrics.
    await store.servers.add({ id: 'refused', url: other.apiUrl, secret: other.secret, capacity: 500, metricsUrl: 'http://127.0.0.1:9/metrics' });
    await store.servers.add({ id: 'xml', url: third.apiUrl, secret: third.secret, capacity: 500, metricsUrl: `${third.apiUrl}/getMeetings` });
    await classWithCameras(heavy, 'class');
    const warnings: string[] = [];
    const line = (...args: unknown[]): number => warnings.push(JSON.stringify(args));
    const log = { debug: () => {}, info: () => {}, warn: line, error: line };

    const results = new Map<string, ServerPollResult>();
    const p = poller({ log, onServer: (r) => results.set(r.server, r) });
    await p.pollOnce();
    now += 5000;
    simNow += 5000;
    const stats = await p.pollOnce();
    expect(stats).toMatchObject({ polled: 3, failed: 0, errors: 0 });
    expect(results.get('refused')).toMatchObject({ outcome: 'polled', health: 'online' });
    expect(results.get('refused')?.cpuError).toBeDefined();
    expect(results.get('xml')?.cpuError).toMatch(/node_cpu_seconds_total/);
    expect((await store.servers.get('refused'))?.cpu).toBeUndefined();
    expect((await store.servers.get('xml'))?.cpu).toBeUndefined();
    // One warning per server, not one per round.
    expect(warnings.filter((w) => w.includes('refused')).length).toBe(1);
    await p.pollOnce();
    expect(warnings.filter((w) => w.includes('refused')).length).toBe(1);

    const measured = (await store.servers.get('heavy'))!;
    expect(measured.cpu).toBeGreaterThan(0.28);

    // The exporter stops answering: the last reading counts while fresh, then goes.
    brokenMetrics = true;
    now += INTERVAL;
    await p.pollOnce();
    expect((await store.servers.get('heavy'))?.measuredLoad).toBeCloseTo(measured.measuredLoad, 6);
    now += 10 * INTERVAL;
    await p.pollOnce();
    const stale = (await store.servers.get('heavy'))!;
    expect(stale.cpu).toBeUndefined();
    expect(stale.measuredLoad).toBe(72.5);
    expect(stale.health).toBe('online');
  });

  it('the admin API takes a metrics URL, refuses credentials and other schemes, and keeps older records readable', async () => {
    const [sim] = sims as [SimServer];
    const row = await addServer(store, { url: sim.apiUrl, secret: sim.secret, metricsUrl: `${sim.baseUrl}/`, check: false, id: 'm1' });
    expect(row.metricsUrl).toBe(`${sim.baseUrl}/metrics`);
    expect((await store.servers.get('m1'))?.metricsUrl).toBe(`${sim.baseUrl}/metrics`);
    for (const metricsUrl of ['ftp://bbb1.example.org/metrics', 'http://user:pw@bbb1.example.org:9100/metrics', 'http://bbb1.example.org:9100/metrics?x=1', 'not a url']) {
      await expect(addServer(store, { url: 'https://bbb9.example.org/bigbluebutton/api', secret: 's', metricsUrl, check: false })).rejects.toThrow(/metricsUrl/);
    }
    // A record written before these fields: no metrics URL, no CPU, the model's load.
    await t.redis.hset(store.ctx.keys.server('old'), { url: 'https://old.example.org/bigbluebutton/api', secret: 's', capacity: '500', measuredLoad: '42' });
    await t.redis.sadd(store.ctx.keys.servers, 'old');
    const old = (await store.servers.get('old'))!;
    expect(old.metricsUrl).toBeUndefined();
    expect(old.cpu).toBeUndefined();
    expect(old.modelLoad).toBeUndefined();
    expect(old.measuredLoad).toBe(42);
  });
});
