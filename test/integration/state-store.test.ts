import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { MeetingInfo } from '../../src/bbb/types.js';
import { rankServers, NO_TAGS } from '../../src/placement/choose.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const FADE = 600_000;

const infoOf = (meetingID: string, participantCount = 0): MeetingInfo => ({
  meetingName: meetingID, meetingID, internalMeetingID: `${meetingID}-1`, createTime: 1, createDate: '', voiceBridge: '70000',
  dialNumber: '', running: participantCount > 0, duration: 0, hasUserJoined: participantCount > 0, recording: false,
  hasBeenForciblyEnded: false, startTime: 1, endTime: 0, participantCount, listenerCount: 0, voiceParticipantCount: 0,
  videoCount: 0, maxUsers: 0, moderatorCount: 0, attendees: [], metadata: {}, isBreakout: false,
});
const thresholds = { offlineAfter: 2, onlineAfter: 1, graceMs: 30_000, fadeMs: FADE };

describe('state store (real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  let clock: number;
  const namespace = () => t.prefix.slice(0, -1);

  beforeEach(() => {
    t = testRedis('state');
    clock = 1_000_000;
    store = new Store(t.redis, { namespace: namespace(), now: () => clock });
  });
  afterEach(() => t.cleanup());

  async function addServers(n: number, capacity: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = await store.servers.add({ id: `s${String(i).padStart(2, '0')}`, url: `http://127.0.0.1:${9000 + i}/bigbluebutton/api/`, secret: `k${i}`, capacity, health: 'online' });
      ids.push(s.id);
    }
    return ids;
  }

  async function place(s: Store, meetingID: string, need: number, random = Math.random) {
    const { views } = await s.snapshot(FADE);
    const { candidates, sampled } = rankServers(views, need, NO_TAGS, random);
    return s.meetings.place({ tenant: 'default', meetingID, upstreamID: meetingID, need, candidates, sampled, fadeMs: FADE });
  }

  it('adds, lists, cordons and removes servers', async () => {
    await addServers(2, 500);
    const listed = await store.servers.list();
    expect(listed.map((s) => [s.id, s.url, s.capacity, s.state, s.health])).toEqual([
      ['s00', 'http://127.0.0.1:9000/bigbluebutton/api', 500, 'enabled', 'online'],
      ['s01', 'http://127.0.0.1:9001/bigbluebutton/api', 500, 'enabled', 'online'],
    ]);
    expect((await store.servers.setState('s01', 'cordoned')).state).toBe('cordoned');
    await store.servers.remove('s00');
    expect((await store.servers.list()).map((s) => s.id)).toEqual(['s01']);
    await expect(store.servers.setState('nope', 'enabled')).rejects.toThrow(/no server/);
  });

  it('places a meeting once: a second create finds the existing placement', async () => {
    await addServers(3, 500);
    const first = await place(store, 'm1', 50);
    expect(first.outcome).toBe('placed');
    const again = await place(store, 'm1', 50);
    expect(again).toEqual({ outcome: 'existing', server: first.outcome === 'placed' ? first.server : '' });
    const record = await store.meetings.get('default', 'm1');
    expect(record).toMatchObject({ tenant: 'default', meetingID: 'm1', status: 'creating', reserved: 50 });
  });

  it('a burst of 200 concurrent creates over 20 servers spreads evenly', async () => {
    const ids = await addServers(20, 10_000);
    // Every create ranks on the same (stale) snapshot, as a burst between polls does.
    const { views } = await store.snapshot(FADE);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const { candidates, sampled } = rankServers(views, 40, NO_TAGS, Math.random);
        return store.meetings.place({ tenant: 'default', meetingID: `m${i}`, upstreamID: `m${i}`, need: 40, candidates, sampled, fadeMs: FADE });
      }),
    );
    const perServer = new Map(ids.map((id) => [id, 0]));
    for (const r of results) if (r.outcome === 'placed') perServer.set(r.server, perServer.get(r.server)! + 1);
    const counts = [...perServer.values()];
    expect(counts.reduce((a, b) => a + b)).toBe(200);
    expect(Math.max(...counts)).toBeLessThanOrEqual(20); // 2 × the mean of 10
  });

  it('two connections placing concurrently never exceed a server capacity', async () => {
    await addServers(4, 100); // room for 2 meetings of 50 on each server: 8 in all
    const other: Redis = createRedis(t.url);
    const store2 = new Store(other, { namespace: namespace(), now: () => clock });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => place(i % 2 ? store : store2, `m${i}`, 50)),
      );
      const placed = results.filter((r) => r.outcome === 'placed');
      expect(placed).toHaveLength(8);
      expect(results.filter((r) => r.outcome === 'overcommitted')).toHaveLength(4);
      const { views } = await store.snapshot(FADE);
      // The overcommitted ones are the only reason any server is above capacity.
      const placedLoad = new Map<string, number>();
      for (const r of placed) if (r.outcome === 'placed') placedLoad.set(r.server, (placedLoad.get(r.server) ?? 0) + 50);
      for (const v of views) expect(placedLoad.get(v.id) ?? 0).toBeLessThanOrEqual(100);
    } finally {
      await other.quit();
    }
  });

  it('never places on cordoned, disabled or offline servers', async () => {
    await addServers(3, 500);
    await store.servers.setState('s00', 'cordoned');
    await store.servers.setState('s01', 'disabled');
    for (let i = 0; i < 10; i++) {
      const r = await place(store, `m${i}`, 10);
      expect(r).toMatchObject({ outcome: 'placed', server: 's02' });
    }
    await store.polls.failure('s02', 'down', 1);
    expect(await place(store, 'late', 10)).toEqual({ outcome: 'none' });
  });

  it('reservations fade with time and with measured load', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 100);
    let { views } = await store.snapshot(FADE);
    expect(views[0]!.load).toBe(100);
    clock += FADE / 2;
    ({ views } = await store.snapshot(FADE));
    expect(views[0]!.load).toBe(50);
    await store.polls.success('s00', { meetings: 1, participants: 20, voice: 20, videos: 0, streamsDelivered: 0, measuredLoad: 35 }, [
      { tenant: 'default', meetingID: 'm1', upstreamID: 'm1', createTime: 1, measuredLoad: 35, info: infoOf('m1', 20) },
    ], thresholds);
    ({ views } = await store.snapshot(FADE));
    expect(views[0]!.load).toBe(35 + (50 - 35)); // measured, plus what the reservation still adds
    clock += FADE;
    ({ views } = await store.snapshot(FADE));
    expect(views[0]!.load).toBe(35);
  });

  it('a poll re-pins unknown meetings, keeps young in-flight ones and forgets ended ones', async () => {
    await addServers(2, 500);
    await place(store, 'young', 10);
    const old = await place(store, 'old', 10);
    const oldServer = old.outcome === 'placed' ? old.server : '';
    clock += 60_000;
    await place(store, 'young2', 10);
    const totals = { meetings: 1, participants: 3, voice: 3, videos: 0, streamsDelivered: 0, measuredLoad: 9 };
    const applied = await store.polls.success(oldServer, totals, [
      { tenant: 'default', meetingID: 'adopted', upstreamID: 'adopted', createTime: 5, measuredLoad: 9, info: infoOf('adopted', 3) },
    ], thresholds);
    expect(applied.repinned).toBe(1);
    expect(applied.forgotten).toBe(1); // 'old' is older than the grace and gone from the server
    expect(await store.meetings.get('default', 'old')).toBeUndefined();
    expect((await store.meetings.get('default', 'adopted'))?.server).toBe(oldServer);
    expect((await store.meetings.get('default', 'adopted'))?.info?.participantCount).toBe(3);
    expect(await store.meetings.get('default', 'young2')).toBeDefined();
  });

  it('marks a server offline after N failed polls and online again after M successes', async () => {
    await addServers(1, 500);
    const empty = { meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 };
    expect(await store.polls.failure('s00', 'timeout', 2)).toBe('online');
    expect(await store.polls.failure('s00', 'timeout', 2)).toBe('offline');
    expect((await store.servers.get('s00'))!.lastError).toBe('timeout');
    const back = await store.polls.success('s00', empty, [], { ...thresholds, onlineAfter: 2 });
    expect(back.health).toBe('offline');
    expect((await store.polls.success('s00', empty, [], { ...thresholds, onlineAfter: 2 })).health).toBe('online');
  });

  it('a cordoned server becomes disabled once it has no meetings', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    await store.servers.setState('s00', 'cordoned');
    const empty = { meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 };
    expect((await store.polls.success('s00', empty, [], thresholds)).state).toBe('cordoned'); // m1 is young
    clock += 60_000;
    expect((await store.polls.success('s00', empty, [], thresholds)).state).toBe('disabled');
  });

  it('counts concurrent join attempts in one batch exactly as one by one, in arrival order', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    await store.meetings.markRunning('default', 'm1', infoOf('m1'), { profile: 'auto', maxParticipants: 40, moderatorMargin: 2 });
    const counts = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => store.meetings.countJoin('default', 'm1', `u${i}`)),
      store.meetings.countJoin('default', 'nowhere', 'u0'),
      store.meetings.countJoin('default', 'm1', 'u3'), // the same user again: a rejoin
      store.meetings.countJoin('default', 'm1', undefined), // anonymous: always a new seat
    ]);
    expect(counts.slice(0, 10).map((c) => c!.pendingOthers)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(counts.slice(0, 10).every((c) => c!.server === 's00' && !c!.rejoin && c!.maxParticipants === 40 && c!.moderatorMargin === 2)).toBe(true);
    expect(counts[10]).toBeUndefined();
    expect(counts[11]).toMatchObject({ rejoin: true, pendingOthers: 9 });
    expect(counts[12]).toMatchObject({ rejoin: false, pendingOthers: 10 });
    await store.meetings.uncountJoin('default', 'm1', counts[12]!.member);
    await store.meetings.uncountJoin('default', 'm1', counts[0]!.member);
    expect((await store.meetings.countJoin('default', 'm1', 'late'))!.pendingOthers).toBe(9);
  });

  it('forget only removes a placement that is still on the given server', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    expect(await store.meetings.forget('default', 'm1', 'other')).toBe(false);
    expect(await store.meetings.forget('default', 'm1', 's00')).toBe(true);
    expect(await store.meetings.list()).toEqual([]);
  });

  it('detects a data loss and restores servers and tenants it still knows', async () => {
    await addServers(2, 500);
    await store.tenants.put({ name: 'acme', secrets: ['s3cret'], hostnames: ['bbb.acme.test'], settings: {} });
    expect(await store.dataLost()).toBe(false);
    const servers = await store.servers.list();
    const tenants = await store.tenants.list();
    const { deleteByPrefix } = await import('../helpers/redis.js');
    await deleteByPrefix(t.redis, t.prefix);
    expect(await store.dataLost()).toBe(true);
    await store.restore(servers, tenants);
    expect((await store.servers.list()).map((s) => s.id)).toEqual(['s00', 's01']);
    expect((await store.tenants.get('acme'))?.secrets).toEqual(['s3cret']);
    expect(await store.dataLost()).toBe(false);
  });
});
