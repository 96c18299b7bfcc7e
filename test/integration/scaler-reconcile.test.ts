// One reconcile step on a real Redis (the test's own key prefix) with a cloud in memory: the pool
// read into plan(), the actions enqueued once however many replicas decide the same tick, the
// measured demand recorded, and the provider's servers nothing accounts for reported as orphans.
// The queues run without workers: the test sees exactly the jobs the step enqueued.
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScalerConfig } from '../../scaler/config.js';
import { DemandHistory } from '../../scaler/history.js';
import { LargeArrivalHistory } from '../../scaler/arrivals.js';
import { ScalerJobs } from '../../scaler/jobs.js';
import type { CloudProvider } from '../../scaler/providers/provider.js';
import { Reconciler } from '../../scaler/reconcile.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { ALL_DAYS, MemoryCloud, MINUTE, T0 } from '../helpers/scaler-fixtures.js';
import { testRedis } from '../helpers/redis.js';
import type { TestRedis } from '../helpers/redis.js';

function config(settings: Record<string, unknown> = {}): ScalerConfig {
  const parsed = parseScalerConfig({ classes: { standard: { min: 0, max: 10 } }, ...settings });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

/** The whole pool's demand, all day every day: a schedule minimum. */
const scheduleOf = (load: number) => ({ schedule: { timezone: 'UTC', rules: [{ days: ALL_DAYS, from: '00:00', to: '24:00', load }] } });

const WEEK_MS = 7 * 24 * 60 * MINUTE;

describe('scaler reconcile step (real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  let clock = T0;
  const connections: Redis[] = [];
  const queues: ScalerJobs[] = [];

  function setup(label: string): void {
    t = testRedis(label);
    clock = T0;
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => clock });
  }

  /** One scaler replica: its own BullMQ connection on the shared queue, no worker. */
  function replica(provider: CloudProvider, cfg: ScalerConfig): { reconciler: Reconciler; jobs: ScalerJobs; history: DemandHistory; arrivals: LargeArrivalHistory } {
    const connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
    connections.push(connection);
    const jobs = new ScalerJobs({ connection, store, provider, classes: cfg.classes, prefix: `${t.prefix}bull`, worker: false });
    queues.push(jobs);
    const history = new DemandHistory(t.redis, store.ctx.keys.demandHistory);
    const arrivals = new LargeArrivalHistory(t.redis, store.ctx.keys.largeArrivals);
    return { reconciler: new Reconciler({ store, jobs, provider, history, arrivals, config: cfg, placementFill: 0.9, largeShare: 0.25, fadeMs: 5 * MINUTE }), jobs, history, arrivals };
  }

  const addServer = (id: string, managedBy: string, addedAt: number) => {
    clock = addedAt;
    return store.servers.add({ id, url: `http://127.0.0.1:9/${id}/bigbluebutton/api`, secret: `s-${id}`, capacity: 500, sizeClass: 'standard', managedBy, state: 'enabled', health: 'online' });
  };

  const jobIds = async (jobs: ScalerJobs) => (await jobs.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).map((j) => j!.id!).sort();

  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close(true).catch(() => {});
    for (const c of connections.splice(0)) c.disconnect();
    await t.cleanup();
  });

  it('an empty pool below the schedule minimum: provisions enqueued once, even by two replicas on the same tick', async () => {
    setup('reconcile-provision');
    const provider = new MemoryCloud();
    const cfg = config(scheduleOf(1000)); // 1000 units at 70 % of 500-unit servers: 3 servers
    const a = replica(provider, cfg);
    const b = replica(provider, cfg);

    const [ra, rb] = await Promise.all([a.reconciler.step(T0), b.reconciler.step(T0 + 1000)]);
    for (const r of [ra, rb]) {
      expect(r.plan.actions).toEqual([expect.objectContaining({ type: 'provision', sizeClass: 'standard', count: 3 })]);
      expect(r.log).toContainEqual(expect.objectContaining({ event: 'scaler.action', action: 'provision', count: 3, reason: expect.stringContaining('forecast by schedule') }));
    }
    const tick = a.reconciler.tickOf(T0);
    expect(rb.tick).toBe(tick);
    const expected = [0, 1, 2].map((i) => `provision-standard-t${tick}-${i}`);
    expect(ra.jobIds).toEqual([expected]);
    expect(await jobIds(a.jobs)).toEqual(expected);

    // The next tick sees the three booting from the jobs in flight and asks for nothing more.
    const next = await b.reconciler.step(T0 + MINUTE);
    expect(next.plan.actions).toEqual([]);
    expect(next.servers.filter((s) => s.phase === 'booting')).toHaveLength(3);
    expect(next.plan.desired).toEqual({ standard: 3 });
    expect(await jobIds(a.jobs)).toEqual(expected);
    expect(Number(await t.redis.hget(`${store.ctx.keys.prefix}scaler:last-scale`, 'out'))).toBeGreaterThanOrEqual(T0);
  });

  it('a pool above demand: an old, empty managed server drained; a young one and a hand-added one never', async () => {
    setup('reconcile-drain');
    const provider = new MemoryCloud();
    const cfg = config({ classes: { standard: { min: 1, max: 10 } }, cooldowns: { scaleInAfterScaleIn: '30m' } });
    await addServer('old-1', 'fake', T0 - 2 * 60 * MINUTE);
    await addServer('hand-1', '', T0 - 3 * 60 * MINUTE);
    await addServer('young-1', 'fake', T0 - MINUTE);
    const a = replica(provider, cfg);

    const r = await a.reconciler.step(T0);
    expect(r.servers.find((s) => s.id === 'hand-1')).toMatchObject({ managed: false, phase: 'ready' });
    expect(r.servers.find((s) => s.id === 'old-1')).toMatchObject({ managed: true, phase: 'ready', startedAt: T0 - 2 * 60 * MINUTE });
    expect(r.plan.actions).toEqual([expect.objectContaining({ type: 'cordon', server: 'old-1' })]);
    expect(r.jobIds).toEqual([['drain-old-1']]);
    expect(r.log).toContainEqual(expect.objectContaining({ event: 'scaler.action', action: 'cordon', server: 'old-1', jobIds: ['drain-old-1'] }));
    expect(await jobIds(a.jobs)).toEqual(['drain-old-1']);

    // Later, the young one old enough: the drain job in flight makes old-1 draining, and the
    // scale-in cooldown (shared through Redis) holds the next drain.
    const later = await a.reconciler.step(T0 + 16 * MINUTE);
    expect(later.servers.find((s) => s.id === 'old-1')?.phase).toBe('draining');
    expect(later.plan.actions.filter((x) => x.type === 'cordon')).toEqual([]);
    expect(later.log).toContainEqual(expect.objectContaining({ event: 'scaler.held', reason: expect.stringContaining('since the last scale-in') }));
  });

  it('a pool of hand-added servers far above demand: none is ever drained', async () => {
    setup('reconcile-hand');
    const provider = new MemoryCloud();
    const cfg = config();
    for (const id of ['h1', 'h2', 'h3']) await addServer(id, '', T0 - 24 * 60 * MINUTE);
    await addServer('other-provider', 'scaleway', T0 - 24 * 60 * MINUTE);
    const a = replica(provider, cfg);
    for (let i = 0; i < 3; i++) {
      const r = await a.reconciler.step(T0 + i * 20 * MINUTE);
      expect(r.plan.actions).toEqual([]);
      expect(r.servers.every((s) => !s.managed)).toBe(true);
    }
    expect(await jobIds(a.jobs)).toEqual([]);
  });

  it('a server its job registered that the poller has not found online yet is booting, not missing: nothing asked again', async () => {
    setup('reconcile-registered');
    const provider = new MemoryCloud();
    const cfg = config(scheduleOf(1000)); // 3 servers
    for (const id of ['n1', 'n2', 'n3']) {
      clock = T0;
      await store.servers.add({ id, url: `http://127.0.0.1:9/${id}/bigbluebutton/api`, secret: `s-${id}`, capacity: 500, sizeClass: 'standard', managedBy: 'fake', state: 'enabled' });
    }
    const a = replica(provider, cfg);
    const r = await a.reconciler.step(T0 + 1000);
    expect(r.servers.map((s) => s.phase)).toEqual(['booting', 'booting', 'booting']);
    expect(r.plan.actions).toEqual([]);
    // One that failed its polls is unavailable: a replacement is asked for.
    await t.redis.hset(store.ctx.keys.server('n1'), { failures: '3' });
    const failed = await a.reconciler.step(T0 + MINUTE);
    expect(failed.servers.find((s) => s.id === 'n1')?.phase).toBe('unavailable');
    expect(failed.plan.actions).toEqual([expect.objectContaining({ type: 'provision', count: 1 })]);
  });

  it('decides in its clock\'s time: lifetimes, cooldowns and the history read through it, ticks in wall ms', async () => {
    setup('reconcile-clock');
    const provider = new MemoryCloud();
    const cfg = config({ classes: { standard: { min: 1, max: 10 } }, minLifetime: '15m', cooldowns: { scaleInAfterScaleIn: '30m' } });
    // Wall time since T0 runs 20 times faster in the scaler's clock, which starts a day later.
    const DAY = 24 * 60 * MINUTE;
    const sim = (wall: number) => T0 + DAY + (wall - T0) * 20;
    await addServer('old-1', 'fake', T0);
    await addServer('old-2', 'fake', T0);
    const connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
    connections.push(connection);
    const jobs = new ScalerJobs({ connection, store, provider, classes: cfg.classes, prefix: `${t.prefix}bull`, worker: false });
    queues.push(jobs);
    const history = new DemandHistory(t.redis, store.ctx.keys.demandHistory);
    const arrivals = new LargeArrivalHistory(t.redis, store.ctx.keys.largeArrivals);
    const reconciler = new Reconciler({ store, jobs, provider, history, arrivals, config: cfg, placementFill: 0.9, largeShare: 0.25, fadeMs: 5 * MINUTE, clock: sim, tickMs: 3_000 });

    // 30 wall seconds after they were added: 10 minutes in the clock, younger than 15.
    const young = await reconciler.step(T0 + 30_000);
    expect(young.at).toBe(sim(T0 + 30_000));
    expect(young.tick).toBe(Math.floor((T0 + 30_000) / 3_000));
    expect(young.servers.find((s) => s.id === 'old-1')).toMatchObject({ startedAt: sim(T0), phaseSince: sim(T0) });
    expect(young.plan.actions).toEqual([]);
    // 60 wall seconds: 20 minutes in the clock, old enough; one drained, its scale-in written in wall time.
    const drained = await reconciler.step(T0 + 60_000);
    expect(drained.plan.actions).toEqual([expect.objectContaining({ type: 'cordon' })]);
    expect(Number(await t.redis.hget(store.ctx.keys.scalerLastScale, 'in'))).toBe(T0 + 60_000);
    // 90 wall seconds later is 30 clock minutes: the scale-in cooldown is over in the clock's time (it would not be in wall time).
    await jobs.queue.obliterate({ force: true });
    const held = await reconciler.step(T0 + 60_000 + 60_000);
    expect(held.log).toContainEqual(expect.objectContaining({ event: 'scaler.held', reason: expect.stringContaining('since the last scale-in') }));
    const free = await reconciler.step(T0 + 60_000 + 90_000);
    expect(free.plan.actions).toEqual([expect.objectContaining({ type: 'cordon' })]);
    // The demand history is written at the clock's instants.
    expect((await history.read(T0 + DAY, T0 + 2 * DAY)).map((h) => h.at)).toEqual([young.at, drained.at, held.at, free.at]);
  });

  it('records the measured demand into the history at each step', async () => {
    setup('reconcile-history');
    const provider = new MemoryCloud();
    const cfg = config();
    await addServer('h1', '', T0 - 60 * MINUTE);
    const a = replica(provider, cfg);
    const setLoad = (load: number) => t.redis.hset(store.ctx.keys.server('h1'), { measuredLoad: String(load), polledAt: String(clock) });

    await setLoad(120);
    await a.reconciler.step(T0);
    // Same minute: the bucket keeps its peak.
    await setLoad(80);
    await a.reconciler.step(T0 + 30_000);
    await setLoad(200);
    await a.reconciler.step(T0 + 6 * MINUTE);
    expect(await a.history.read(T0 - 1, T0 + 10 * MINUTE)).toEqual([
      { at: T0, load: 120, byClass: {}, spanMs: MINUTE },
      { at: T0 + 6 * MINUTE, load: 200, byClass: {}, spanMs: MINUTE },
    ]);

    // A week later the weekly profile reads it back: the forecast holds last Monday's peak.
    const r = await a.reconciler.step(T0 + 7 * 24 * 60 * MINUTE);
    expect(r.plan.forecast).toMatchObject({ total: 200, source: 'weekly profile' });
  });

  it('at the end of a lesson, shrinks to the next, smaller wave before its meetings are created (minute history)', async () => {
    setup('reconcile-lesson-end');
    const provider = new MemoryCloud();
    const cfg = config(); // 70 % target, 60 % to scale in, 6 min to boot, 5 min lead: a 12-minute window
    const end = T0 + 3 * 60 * MINUTE; // the lesson's classes end by then; the next wave is created from end + 90 s
    for (let i = 1; i <= 6; i++) await addServer(`s${i}`, 'fake', end - 2 * 60 * MINUTE);
    const a = replica(provider, cfg);
    // Last week, minute by minute: the lesson at 2,000 units until end − 1 min, then the next wave's 500.
    for (let m = -20; m <= 30; m++) await a.history.record(end - 7 * 24 * 60 * MINUTE + m * MINUTE, { total: m < 0 ? 2000 : 500, byClass: {} });
    const measure = async (load: number, at: number) => {
      clock = at;
      for (let i = 1; i <= 6; i++) await t.redis.hset(store.ctx.keys.server(`s${i}`), { measuredLoad: String(load), polledAt: String(at) });
    };

    // Three minutes before the end the lesson still fills the window: nothing goes.
    await measure(330, end - 3 * MINUTE);
    const before = await a.reconciler.step(end - 3 * MINUTE);
    expect(before.plan.forecast.total).toBe(2000);
    expect(before.plan.actions).toEqual([]);

    // The classes ended: the window holds only the next wave (500 ÷ 0.6 = 2 servers of 500 units
    // kept), so 4 servers are cordoned before its meetings are placed on them. A history of
    // five-minute buckets would still show the lesson's 2,000 until the bucket of the end is over.
    await measure(0, end);
    const after = await a.reconciler.step(end);
    expect(after.plan.forecast).toMatchObject({ total: 500, source: 'weekly profile' });
    expect(after.plan.actions.filter((x) => x.type === 'cordon')).toHaveLength(4);
  });

  it('records the large meetings placed, and a week later keeps a server with room for them', async () => {
    setup('reconcile-large');
    const provider = new MemoryCloud();
    const cfg = config();
    for (let i = 1; i <= 4; i++) await addServer(`s${i}`, 'fake', T0 - 60 * MINUTE);
    const a = replica(provider, cfg);
    clock = T0;
    // A webinar reserving 300 of 500 units (60 %) and a class reserving 100 (20 %: not large, the share is 25 %).
    for (const [meetingID, need, server] of [['webinar', 300, 's1'], ['class', 100, 's2']] as const) {
      const placed = await store.meetings.place({ tenant: 'default', meetingID, upstreamID: meetingID, need, candidates: [server], sampled: 1, fadeMs: 5 * MINUTE });
      expect(placed.outcome).toBe('placed');
    }
    await a.reconciler.step(T0 + 30_000);
    await a.reconciler.step(T0 + 90_000); // seen again: still one arrival
    expect(await a.arrivals.read(T0 - WEEK_MS, T0 + WEEK_MS)).toEqual([{ at: T0, load: 300 }]);

    // A week later, 12 minutes before (the forecast window: a server asked then is ready in 6,
    // with the 5-minute lead and a step), every server holds 280 of 500 units: 1,120 units,
    // which 2,000 hold at 70 % with nothing short, but 170 of room each at 90 %. Only the room
    // the webinar needs asks for a server.
    const week = T0 + WEEK_MS;
    clock = week - 12 * MINUTE;
    for (let i = 1; i <= 4; i++) await t.redis.hset(store.ctx.keys.server(`s${i}`), { measuredLoad: '280', polledAt: String(clock) });
    const r = await a.reconciler.step(clock);
    expect(r.plan.forecast.large).toEqual({ loads: [300], soon: 0, remaining: 1, source: 'weekly profile' });
    const provision = r.plan.actions.filter((x) => x.type === 'provision');
    expect(provision).toEqual([expect.objectContaining({ sizeClass: 'standard', count: 1, reason: expect.stringContaining('1 large meeting(s) of up to 300 units') })]);
  });

  it('reports the provider servers the pool does not hold and no provision job is creating', async () => {
    setup('reconcile-orphans');
    const provider = new MemoryCloud();
    const cfg = config(scheduleOf(300)); // one server
    const a = replica(provider, cfg);
    const first = await a.reconciler.step(T0);
    const tick = first.tick;
    expect(first.jobIds).toEqual([[`provision-standard-t${tick}`]]);
    expect(first.orphans).toEqual([]);

    // The job's first step asked the provider (no worker here: as it would); one server left over
    // from an earlier run; one the pool holds.
    const booting = await provider.create({ sizeClass: 'standard', idempotencyKey: `standard-t${tick}` });
    provider.adopt('left-over', 'standard-t1');
    provider.adopt('registered', 'standard-t2');
    await addServer('registered', 'fake', T0);

    const r = await a.reconciler.step(T0 + MINUTE);
    expect(r.orphans).toEqual([expect.objectContaining({ id: 'left-over', sizeClass: 'standard', status: 'running', idempotencyKey: 'standard-t1', reason: expect.stringContaining('no provision job') })]);
    expect(r.log).toContainEqual(expect.objectContaining({ event: 'scaler.orphan', server: 'left-over' }));
    expect(r.orphans.map((o) => o.id)).not.toContain(booting.id);
    expect(await provider.get('left-over')).toBeDefined(); // reported, not deleted
  });
});
