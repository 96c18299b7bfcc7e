// The poller against real Redis and a simulated pool: measurement written to the store, health
// thresholds, the create grace, self-repair after a Redis data loss, replicas, draining.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { BbbClient } from '../../src/bbb/client.js';
import type { MeetingInfo } from '../../src/bbb/types.js';
import { meetingLoad } from '../../src/placement/load-model.js';
import { Poller } from '../../src/poller/poller.js';
import type { MeetingsSource, PollerOptions, RoundStats } from '../../src/poller/poller.js';
import { createRedis } from '../../src/redis/connect.js';
import { SimCluster } from '../../src/simulator/sim-cluster.js';
import type { FaultMode } from '../../src/simulator/faults.js';
import type { SimServer } from '../../src/simulator/sim-server.js';
import { Store } from '../../src/state/store.js';
import type { ServerRecord } from '../../src/state/types.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';

const GRACE = 60_000;
const BASE: Omit<PollerOptions, 'store'> = {
  intervalMs: 100,
  timeoutMs: 300,
  concurrency: 4,
  offlineAfter: 2,
  onlineAfter: 1,
  graceMs: GRACE,
  fadeMs: 600_000,
  algorithm: 'sha256',
};

/** Counts getMeetings calls per server (and how many overlap) around the real client. */
class CountingClients {
  readonly calls = new Map<string, number>();
  readonly created: string[] = [];
  private readonly inFlight = new Map<string, number>();
  /** The most calls ever in flight to one server at once. */
  maxInFlight = 0;

  readonly clientFor = (server: ServerRecord): MeetingsSource => {
    this.created.push(server.id);
    const real = new BbbClient({ apiUrl: server.url, secret: server.secret, timeoutMs: BASE.timeoutMs });
    return {
      getMeetings: async (): Promise<MeetingInfo[]> => {
        this.calls.set(server.id, (this.calls.get(server.id) ?? 0) + 1);
        const now = (this.inFlight.get(server.id) ?? 0) + 1;
        this.inFlight.set(server.id, now);
        this.maxInFlight = Math.max(this.maxInFlight, now);
        try {
          return await real.getMeetings();
        } finally {
          this.inFlight.set(server.id, (this.inFlight.get(server.id) ?? 1) - 1);
        }
      },
    };
  };

  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('poller (real Redis, simulated pool)', () => {
  let t: TestRedis;
  let store: Store;
  let cluster: SimCluster;
  /** Added to the store's clock: moves "now" past the create grace without waiting. */
  let skew: number;
  const pollers: Poller[] = [];
  const extraRedis: Redis[] = [];
  const namespace = () => t.prefix.slice(0, -1);

  beforeEach(async () => {
    t = testRedis('poller');
    skew = 0;
    store = new Store(t.redis, { namespace: namespace(), now: () => Date.now() + skew });
    cluster = await SimCluster.start({ servers: 3, controlPort: false, server: { sweepIntervalMs: 0 } });
    for (const { index, server } of cluster.servers()) {
      await store.servers.add({ id: `sim${index}`, url: server.apiUrl, secret: server.secret, capacity: 500 });
    }
  });

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.stop()));
    await Promise.all(extraRedis.splice(0).map((r) => r.quit()));
    await cluster.close();
    await t.cleanup();
  });

  function poller(opts: Partial<PollerOptions> = {}, on: Store = store): Poller {
    const p = new Poller({ ...BASE, store: on, ...opts });
    pollers.push(p);
    return p;
  }

  const sim = (i: number): SimServer => cluster.server(i)!;

  async function createMeeting(i: number, meetingID: string): Promise<void> {
    const s = sim(i);
    await new BbbClient({ apiUrl: s.apiUrl, secret: s.secret }).create([
      ['name', `Room ${meetingID}`],
      ['meetingID', meetingID],
    ]);
  }

  it('writes each server’s measured counters and its meetings under tenant-local IDs', async () => {
    await store.tenants.put({ name: 'acme', secrets: ['acme-secret'], hostnames: [], settings: {} });
    await createMeeting(0, 'acme~room-1');
    const mods = sim(0).addUsers('acme~room-1', { count: 2, role: 'MODERATOR', cameras: 1, audio: 'mic' });
    const viewers = sim(0).addUsers('acme~room-1', { count: 3, role: 'VIEWER', cameras: 0, audio: 'listen' });
    expect(mods.admitted.length + viewers.admitted.length).toBe(5);
    await createMeeting(1, 'plain');
    sim(1).addUsers('plain', { count: 1, audio: 'mic' });

    const stats = await poller().pollOnce();
    expect(stats).toMatchObject({ servers: 3, polled: 3, failed: 0, skipped: 0, deferred: 0, errors: 0, repinned: 2, restored: false });
    // Servers are added offline; one good poll (onlineAfter 1) brings each online.
    expect(stats.changes.map((c) => `${c.server}:${c.to}`).sort()).toEqual(['sim0:online', 'sim1:online', 'sim2:online']);

    const expectedLoad = meetingLoad({ participants: 5, voice: 5, videos: 2, moderators: 2 });
    expect(expectedLoad).toBe(5 + 5 + 2.5 + 0.25 * 2 * 4);
    expect(await store.servers.get('sim0')).toMatchObject({
      health: 'online',
      meetings: 1,
      participants: 5,
      voice: 5,
      videos: 2,
      streamsDelivered: 8,
      measuredLoad: expectedLoad,
      failures: 0,
      lastError: '',
    });
    expect((await store.servers.get('sim2'))!).toMatchObject({ meetings: 0, participants: 0, measuredLoad: 0 });
    expect((await store.servers.get('sim2'))!.polledAt).toBeGreaterThan(0);

    const room = await store.meetings.get('acme', 'room-1');
    expect(room).toMatchObject({ server: 'sim0', upstreamID: 'acme~room-1', status: 'running', measuredLoad: expectedLoad });
    expect(room!.info).toMatchObject({ meetingID: 'room-1', participantCount: 5, videoCount: 2, moderatorCount: 2 });
    expect((await store.meetings.get('default', 'plain'))?.server).toBe('sim1');
    expect(await store.meetings.get('default', 'acme~room-1')).toBeUndefined();
    // Placement sees the measured load.
    const { views } = await store.snapshot(BASE.fadeMs);
    expect(views.find((v) => v.id === 'sim0')!.load).toBe(expectedLoad);
  });

  it('marks a dead server offline after offlineAfter failed rounds, and online after onlineAfter good ones', async () => {
    const p = poller({ offlineAfter: 2, onlineAfter: 2 });
    await p.pollOnce();
    await p.pollOnce();
    expect((await store.servers.get('sim1'))!.health).toBe('online');

    await sim(1).setFault('down');
    let stats = await p.pollOnce();
    expect(stats).toMatchObject({ polled: 2, failed: 1, changes: [] });
    expect(await store.servers.get('sim1')).toMatchObject({ health: 'online', failures: 1, lastError: 'refused' });
    stats = await p.pollOnce();
    expect(stats.changes).toEqual([{ server: 'sim1', to: 'offline', error: 'refused' }]);
    expect((await store.servers.get('sim1'))!.health).toBe('offline');
    // Placement no longer offers it.
    const { views } = await store.snapshot(BASE.fadeMs);
    expect(views.find((v) => v.id === 'sim1')).toMatchObject({ health: 'offline' });

    await sim(1).setFault('none');
    stats = await p.pollOnce();
    expect(stats.changes).toEqual([]);
    expect((await store.servers.get('sim1'))!.health).toBe('offline'); // 1 of 2 good polls
    stats = await p.pollOnce();
    expect(stats.changes).toEqual([{ server: 'sim1', to: 'online' }]);
    expect(await store.servers.get('sim1')).toMatchObject({ health: 'online', failures: 0, lastError: '' });
  });

  it.each<[FaultMode, string]>([
    ['down', 'refused'],
    ['hang', 'timeout'],
    ['error500', 'http 500'],
    ['malformed', 'malformed XML'],
  ])('records a %s server as failed with "%s", without holding up the others', async (mode, text) => {
    const p = poller({ offlineAfter: 1 });
    await p.pollOnce();
    await sim(2).setFault(mode);
    const stats = await p.pollOnce();
    expect(stats).toMatchObject({ polled: 2, failed: 1, changes: [{ server: 'sim2', to: 'offline', error: text }] });
    expect(await store.servers.get('sim2')).toMatchObject({ health: 'offline', lastError: text });
    expect((await store.servers.get('sim0'))!.health).toBe('online');
  });

  it('reports a wrong secret as FAILED checksumError, and uses a new client once the secret is fixed', async () => {
    const counting = new CountingClients();
    const p = poller({ clientFor: counting.clientFor });
    await p.pollOnce();
    await p.pollOnce();
    expect(counting.created.sort()).toEqual(['sim0', 'sim1', 'sim2']); // cached across rounds

    await store.servers.update('sim0', { secret: 'not-the-secret' });
    let stats = await p.pollOnce();
    expect(stats.failed).toBe(1);
    expect((await store.servers.get('sim0'))!.lastError).toBe('FAILED checksumError');
    await store.servers.update('sim0', { secret: sim(0).secret });
    stats = await p.pollOnce();
    expect(stats.failed).toBe(0);
    expect(counting.created.filter((id) => id === 'sim0')).toHaveLength(3);

    await store.servers.remove('sim2');
    stats = await p.pollOnce();
    expect(stats.servers).toBe(2);
    expect(counting.calls.get('sim2')).toBe(4); // not polled once removed
  });

  it('never drops a meeting placed but not yet on its server within the grace, and drops it after', async () => {
    const p = poller();
    await p.pollOnce();
    const placed = await store.meetings.place({
      tenant: 'default',
      meetingID: 'in-flight',
      upstreamID: 'in-flight',
      need: 40,
      candidates: ['sim0'],
      sampled: 1,
      fadeMs: BASE.fadeMs,
    });
    expect(placed).toMatchObject({ outcome: 'placed', server: 'sim0' });

    let stats = await p.pollOnce();
    expect(stats.forgotten).toBe(0);
    expect(await store.meetings.get('default', 'in-flight')).toMatchObject({ server: 'sim0', status: 'creating' });
    // The create reaches the server: the next poll confirms the placement.
    await createMeeting(0, 'in-flight');
    stats = await p.pollOnce();
    expect(stats).toMatchObject({ forgotten: 0, repinned: 0 });
    expect(await store.meetings.get('default', 'in-flight')).toMatchObject({ server: 'sim0', status: 'running' });

    // A create that never arrived is dropped once the grace is over.
    await store.meetings.place({ tenant: 'default', meetingID: 'lost', upstreamID: 'lost', need: 40, candidates: ['sim1'], sampled: 1, fadeMs: BASE.fadeMs });
    skew = GRACE - 5_000;
    expect((await p.pollOnce()).forgotten).toBe(0);
    skew = GRACE + 1_000;
    stats = await p.pollOnce();
    expect(stats.forgotten).toBe(1);
    expect(await store.meetings.get('default', 'lost')).toBeUndefined();
    expect((await store.meetings.get('default', 'in-flight'))?.server).toBe('sim0');
  });

  it('forgets the meetings of a server that restarted empty only after the grace', async () => {
    await createMeeting(1, 'doomed');
    sim(1).addUsers('doomed', { count: 2 });
    const p = poller();
    expect((await p.pollOnce()).repinned).toBe(1);
    expect((await store.meetings.get('default', 'doomed'))?.server).toBe('sim1');

    // The server dies and comes back on the same address with nothing running.
    const { apiUrl, secret, port } = sim(1);
    await cluster.removeServer(1);
    expect((await p.pollOnce()).failed).toBe(1);
    const reborn = await cluster.addServer({ port, secret });
    expect(reborn.server.apiUrl).toBe(apiUrl);

    // The meeting was created moments ago on the server's clock: still within the grace.
    let stats = await p.pollOnce();
    expect(stats).toMatchObject({ failed: 0, forgotten: 0 });
    expect((await store.meetings.get('default', 'doomed'))?.server).toBe('sim1');
    skew = GRACE + 1_000;
    stats = await p.pollOnce();
    expect(stats.forgotten).toBe(1);
    expect(await store.meetings.get('default', 'doomed')).toBeUndefined();
    expect(await store.meetings.countOn('sim1')).toBe(0);
  });

  it('rebuilds the store after Redis lost its data: servers, tenants and every running meeting', async () => {
    await store.tenants.put({ name: 'acme', secrets: ['acme-secret'], hostnames: ['acme.test'], settings: { quota: 3 } });
    await store.servers.setState('sim2', 'cordoned');
    await createMeeting(0, 'acme~a');
    sim(0).addUsers('acme~a', { count: 3 });
    await createMeeting(1, 'bb');
    await createMeeting(2, 'cc');
    // Two good polls to come online: restored servers must come back online, not start over.
    const p = poller({ onlineAfter: 2 });
    expect(await p.pollOnce()).toMatchObject({ repinned: 3, restored: false });
    await p.pollOnce();
    const before = await store.servers.list();
    expect(before.map((s) => s.health)).toEqual(['online', 'online', 'online']);

    expect(await deleteByPrefix(t.redis, t.prefix)).toBeGreaterThan(0);
    expect(await store.servers.list()).toEqual([]);

    const stats = await p.pollOnce();
    expect(stats).toMatchObject({ restored: true, servers: 3, polled: 3, failed: 0, repinned: 3 });
    const after = await store.servers.list();
    expect(after.map((s) => [s.id, s.url, s.secret, s.capacity, s.state, s.health])).toEqual(
      before.map((s) => [s.id, s.url, s.secret, s.capacity, s.state, s.health]),
    );
    expect(await store.tenants.get('acme')).toEqual({ name: 'acme', secrets: ['acme-secret'], hostnames: ['acme.test'], settings: { quota: 3 } });
    expect((await store.meetings.get('acme', 'a'))?.server).toBe('sim0');
    expect((await store.meetings.get('acme', 'a'))!.info!.participantCount).toBe(3);
    expect((await store.meetings.get('default', 'bb'))?.server).toBe('sim1');
    expect((await store.meetings.get('default', 'cc'))?.server).toBe('sim2');
    expect((await store.servers.get('sim0'))!.participants).toBe(3);
    // Nothing to restore the round after.
    expect((await p.pollOnce()).restored).toBe(false);
  });

  it("keeps each tenant's participants per server, drops a dead server's, and re-pins meetings with their recorded limits", async () => {
    await store.tenants.put({ name: 'acme', secrets: ['acme-secret'], hostnames: [], settings: {} });
    // As the gateway creates a classroom: its limits in BBB's own maxParticipants and in metadata.
    await new BbbClient({ apiUrl: sim(0).apiUrl, secret: sim(0).secret }).create([
      ['name', 'Class'],
      ['meetingID', 'acme~class'],
      ['moderatorPW', 'mod-pw'],
      ['maxParticipants', '50'],
      ['meta_amphi-profile', 'classroom'],
      ['meta_amphi-max-participants', '50'],
      ['meta_amphi-moderator-margin', '2'],
    ]);
    sim(0).addUsers('acme~class', { count: 3 });
    await createMeeting(1, 'acme~b');
    sim(1).addUsers('acme~b', { count: 2 });
    await createMeeting(2, 'plain');
    sim(2).addUsers('plain', { count: 4 });
    const p = poller({ offlineAfter: 1 });
    await p.pollOnce();
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 5 });
    expect(await store.meetings.usage('default')).toEqual({ meetings: 1, participants: 4 });

    expect(await deleteByPrefix(t.redis, t.prefix)).toBeGreaterThan(0);
    expect(await p.pollOnce()).toMatchObject({ restored: true, repinned: 3 });
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 5 });
    expect(await t.redis.hgetall(store.ctx.keys.meeting('acme:class'))).toMatchObject({
      profile: 'classroom',
      maxParticipants: '50',
      moderatorMargin: '2',
      moderatorPW: 'mod-pw',
    });

    await sim(1).setFault('down');
    await p.pollOnce();
    expect((await store.servers.get('sim1'))!.health).toBe('offline');
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 3 });
  });

  it('still restores when Redis is flushed between the data-loss check and the listing', async () => {
    const p = poller();
    await p.pollOnce();
    const check = store.dataLost.bind(store);
    let flushNext = true;
    store.dataLost = async () => {
      const lost = await check();
      if (flushNext) {
        flushNext = false;
        await deleteByPrefix(t.redis, t.prefix);
      }
      return lost;
    };
    expect(await p.pollOnce()).toMatchObject({ servers: 0, restored: false });
    expect(await p.pollOnce()).toMatchObject({ servers: 3, polled: 3, restored: true });
  });

  it('two replicas on one store poll each server exactly once per round, and one takes over when the other stops', async () => {
    const counting = new CountingClients();
    const other = createRedis(t.url);
    extraRedis.push(other);
    const store2 = new Store(other, { namespace: namespace() });
    const a = poller({ clientFor: counting.clientFor, owner: 'replica-a' });
    const b = poller({ clientFor: counting.clientFor, owner: 'replica-b' }, store2);

    for (let round = 1; round <= 3; round++) {
      const [sa, sb] = await Promise.all([a.pollOnce(), b.pollOnce()]);
      expect(sa.polled + sb.polled).toBe(3);
      expect(sa.skipped + sb.skipped).toBe(3);
      expect([...counting.calls.values()]).toEqual([round, round, round]);
    }
    expect(counting.calls.size).toBe(3);

    // Replica a stops renewing its leases; b polls its servers once they expire.
    const held = (await a.pollOnce()).polled;
    if (held > 0) {
      expect((await b.pollOnce()).polled).toBe(3 - held);
      await sleep(BASE.intervalMs + BASE.timeoutMs + 100);
    }
    expect((await b.pollOnce()).polled).toBe(3);
  });

  it('a replica that stops gives its servers to the others at once, not after the lease expires', async () => {
    const counting = new CountingClients();
    const other = createRedis(t.url);
    extraRedis.push(other);
    const a = poller({ clientFor: counting.clientFor, owner: 'replica-a' });
    const b = poller({ clientFor: counting.clientFor, owner: 'replica-b' }, new Store(other, { namespace: namespace() }));
    expect((await a.pollOnce()).polled).toBe(3);
    expect((await b.pollOnce()).skipped).toBe(3); // a holds every lease
    await a.stop();
    expect((await b.pollOnce()).polled).toBe(3);
  });

  it('drains a cordoned server into disabled once empty, then polls it only now and then', async () => {
    await createMeeting(0, 'keeps-it-busy');
    await store.servers.setState('sim0', 'cordoned');
    await store.servers.setState('sim2', 'cordoned');
    const counting = new CountingClients();
    const p = poller({ clientFor: counting.clientFor, disabledIntervalMs: 60_000 });

    let stats = await p.pollOnce();
    expect(stats.changes.filter((c) => c.to === 'disabled')).toEqual([{ server: 'sim2', to: 'disabled' }]);
    expect((await store.servers.get('sim2'))!.state).toBe('disabled');
    expect((await store.servers.get('sim0'))!.state).toBe('cordoned');

    stats = await p.pollOnce();
    expect(stats).toMatchObject({ polled: 2, deferred: 1 });
    expect(counting.calls.get('sim2')).toBe(1);
    skew = 60_000;
    stats = await p.pollOnce();
    expect(stats).toMatchObject({ polled: 3, deferred: 0 });
    expect(counting.calls.get('sim2')).toBe(2);
  });

  it('runs rounds on a schedule without overlapping them, and stop() waits for the round in flight', async () => {
    // Every answer takes longer than the interval: overlapping rounds would poll a server twice at once.
    for (const { server } of cluster.servers()) await server.setFault('slow', 150);
    const counting = new CountingClients();
    const rounds: RoundStats[] = [];
    const p = poller({ clientFor: counting.clientFor, concurrency: 3, intervalMs: 100, timeoutMs: 1000, onRound: (s) => rounds.push(s) });

    const a = p.pollOnce();
    expect(p.pollOnce()).toBe(a);
    await a;
    p.start();
    await until('three scheduled rounds', () => rounds.length >= 4);
    await p.stop();
    const settled = rounds.length;
    expect(counting.maxInFlight).toBe(1);
    expect(rounds.every((r) => r.polled === 3)).toBe(true);
    expect(counting.total()).toBe(3 * settled);
    await sleep(300);
    expect(rounds.length).toBe(settled);
  });
});
