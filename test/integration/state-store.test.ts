import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Attendee, MeetingInfo } from '../../src/bbb/types.js';
import { rankServers, NO_TAGS } from '../../src/placement/choose.js';
import { createRedis } from '../../src/redis/connect.js';
import type { JoinCount, MeetingLimits } from '../../src/state/meeting-directory.js';
import { RateCounter } from '../../src/state/rate-counter.js';
import { Store } from '../../src/state/store.js';
import type { PolledMeeting } from '../../src/state/types.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const FADE = 600_000;

const infoOf = (meetingID: string, participantCount = 0): MeetingInfo => ({
  meetingName: meetingID, meetingID, internalMeetingID: `${meetingID}-1`, createTime: 1, createDate: '', voiceBridge: '70000',
  dialNumber: '', running: participantCount > 0, duration: 0, hasUserJoined: participantCount > 0, recording: false,
  hasBeenForciblyEnded: false, startTime: 1, endTime: 0, participantCount, listenerCount: 0, voiceParticipantCount: 0,
  videoCount: 0, maxUsers: 0, moderatorCount: 0, attendees: [], metadata: {}, isBreakout: false,
});
/** A join counted with no address limit: its count, or undefined for an unknown meeting. */
const countJoin = (store: Store, ...args: Parameters<Store['meetings']['countJoin']>) => store.meetings.countJoin(...args) as Promise<JoinCount | undefined>;

const thresholds = { offlineAfter: 2, onlineAfter: 1, graceMs: 30_000, fadeMs: FADE };
const TOTALS = { meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 };

const attendee = (userID: string): Attendee => ({
  userID, fullName: userID, role: 'VIEWER', isPresenter: false, isListeningOnly: false, hasJoinedVoice: false, hasVideo: false, clientType: 'HTML5',
});

/** A meeting as a poll reports it: `inside` users listed, `participants` counted (≥ inside). */
function polled(tenant: string, meetingID: string, participants: number, inside: string[] = [], limits?: MeetingLimits): PolledMeeting {
  const info = { ...infoOf(meetingID, participants), attendees: inside.map(attendee) };
  return { tenant, meetingID, upstreamID: `${tenant}~${meetingID}`, createTime: 1, measuredLoad: 10, info, limits };
}

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

  it("records a server's size class, who manages it, and since when it is in its state", async () => {
    await addServers(1, 500);
    await store.servers.add({ id: 'c1', url: 'http://127.0.0.1:9100/bigbluebutton/api', secret: 'k', capacity: 320 });
    await store.servers.add({ id: 'm1', url: 'http://127.0.0.1:9101/bigbluebutton/api', secret: 'k', capacity: 1000, sizeClass: 'large', managedBy: 'scaleway' });
    const pick = (s: { id: string; sizeClass: string; managedBy: string; stateSince: number; addedAt: number }) => [s.id, s.sizeClass, s.managedBy, s.stateSince, s.addedAt];
    expect((await store.servers.list()).map(pick)).toEqual([
      ['c1', 'custom', '', 1_000_000, 1_000_000],
      ['m1', 'large', 'scaleway', 1_000_000, 1_000_000],
      ['s00', 'standard', '', 1_000_000, 1_000_000],
    ]);

    clock += 5_000;
    expect((await store.servers.setState('m1', 'cordoned')).stateSince).toBe(1_005_000);
    clock += 5_000;
    // The same state again is no change: the drain still began when it was cordoned.
    expect(await store.servers.setState('m1', 'cordoned')).toMatchObject({ state: 'cordoned', stateSince: 1_005_000 });
    expect(await store.servers.setState('m1', 'enabled')).toMatchObject({ state: 'enabled', stateSince: 1_010_000 });
    await expect(store.servers.setState('nope', 'cordoned')).rejects.toThrow(/no server/);
    expect(await store.ctx.redis.exists(store.ctx.keys.server('nope'))).toBe(0);
  });

  it('decodes a server written before size classes, managers and stateSince', async () => {
    const old = { url: 'http://127.0.0.1:9000/bigbluebutton/api', secret: 'k', capacity: '250', tags: '[]', state: 'cordoned', health: 'online', addedAt: '123' };
    await t.redis.hset(store.ctx.keys.server('old'), old);
    await t.redis.hset(store.ctx.keys.server('odd'), { ...old, url: 'http://127.0.0.1:9001/bigbluebutton/api', capacity: '300' });
    await t.redis.sadd(store.ctx.keys.servers, 'old', 'odd');
    const pick = (s: { id: string; sizeClass: string; managedBy: string; stateSince: number }) => [s.id, s.sizeClass, s.managedBy, s.stateSince];
    expect((await store.servers.list()).map(pick)).toEqual([
      ['odd', 'custom', '', 123],
      ['old', 'small', '', 123],
    ]);
    expect((await store.servers.setState('old', 'disabled')).stateSince).toBe(clock);
  });

  it('the atomic step holds the fill ceiling on live counters: a server past it is passed over while another has room', async () => {
    await addServers(2, 100);
    await store.polls.success('s00', { ...TOTALS, meetings: 1, measuredLoad: 82 }, [], thresholds);
    // s00 offered first (as a sample from a stale view would): 18 units by capacity, 8 under a 0.9 ceiling.
    const req = { tenant: 'default', upstreamID: 'x', need: 10, candidates: ['s00', 's01'], sampled: 1, fadeMs: FADE };
    expect(await store.meetings.place({ ...req, meetingID: 'whole', maxFill: 1 })).toMatchObject({ outcome: 'placed', server: 's00' });
    await store.meetings.forget('default', 'whole', 's00');
    expect(await store.meetings.place({ ...req, meetingID: 'margin', maxFill: 0.9 })).toMatchObject({ outcome: 'placed', server: 's01', headroom: 90 });
    // Neither has room under the ceiling any more: the fuller pool still places, overcommitted, on the roomiest.
    await store.polls.success('s01', { ...TOTALS, meetings: 1, measuredLoad: 85 }, [], thresholds);
    clock += FADE;
    expect(await store.meetings.place({ ...req, meetingID: 'full', maxFill: 0.9 })).toMatchObject({ outcome: 'overcommitted', server: 's00' });
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

  it('a reservation measured in full adds nothing until a poll measures less of it, and the last one forgotten leaves no sums', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 100);
    const poll = (measuredLoad: number) =>
      store.polls.success('s00', { ...TOTALS, meetings: 1, measuredLoad }, [
        { tenant: 'default', meetingID: 'm1', upstreamID: 'm1', createTime: 1, measuredLoad, info: infoOf('m1', 20) },
      ], thresholds);
    await poll(120);
    expect((await store.snapshot(FADE)).views[0]!.load).toBe(120);
    clock += FADE / 4;
    await poll(20); // people left: 75 still reserved, 20 of it measured
    expect((await store.snapshot(FADE)).views[0]!.load).toBe(75);
    await store.meetings.forget('default', 'm1', 's00');
    expect((await store.snapshot(FADE)).views[0]!.load).toBe(20);
    expect(Object.keys(await t.redis.hgetall(store.ctx.keys.server('s00'))).filter((f) => f.startsWith('resv'))).toEqual([]);
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
    expect((await store.servers.require('s00')).stateSince).toBe(1_000_000);
    clock += 60_000;
    expect((await store.polls.success('s00', empty, [], thresholds)).state).toBe('disabled');
    expect(await store.servers.require('s00')).toMatchObject({ state: 'disabled', stateSince: 1_060_000 });
  });

  it('counts concurrent join attempts in one batch exactly as one by one, in arrival order', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    await store.meetings.markRunning('default', 'm1', { info: infoOf('m1'), limits: { profile: 'auto', maxParticipants: 40, moderatorMargin: 2 } });
    const counts = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => countJoin(store, 'default', 'm1', { userID: `u${i}` })),
      countJoin(store, 'default', 'nowhere', { userID: 'u0' }),
      countJoin(store, 'default', 'm1', { userID: 'u3' }), // the same user again: a rejoin
      countJoin(store, 'default', 'm1', { signedUrl: 'join?fullName=A&checksum=1' }), // anonymous: a new seat
    ]);
    expect(counts.slice(0, 10).map((c) => c!.pendingOthers)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(counts.slice(0, 10).every((c) => c!.server === 's00' && !c!.rejoin && c!.maxParticipants === 40 && c!.moderatorMargin === 2)).toBe(true);
    expect(counts[10]).toBeUndefined();
    expect(counts[11]).toMatchObject({ rejoin: true, pendingOthers: 9 });
    expect(counts[12]).toMatchObject({ rejoin: false, pendingOthers: 10 });
    await store.meetings.uncountJoin('default', 'm1', counts[12]!.member);
    await store.meetings.uncountJoin('default', 'm1', counts[0]!.member);
    expect((await countJoin(store, 'default', 'm1', { userID: 'late' }))!.pendingOthers).toBe(9);
  });

  it('a meeting created again under the ID of one that ended starts empty, before any poll', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    const limits = { profile: 'classroom', maxParticipants: 3, moderatorMargin: 0 };
    await store.meetings.markRunning('default', 'm1', { info: infoOf('m1'), limits });
    await store.polls.success('s00', { ...TOTALS, meetings: 1, participants: 3 }, [polled('default', 'm1', 3, ['a', 'b', 'c'])], thresholds, clock);
    await countJoin(store, 'default', 'm1', { userID: 'late' });
    await store.meetings.markEnded('default', 'm1', 's00', undefined);
    expect(await countJoin(store, 'default', 'm1', { userID: 'x' })).toBeUndefined();
    // Created again (the create found the old record, its server answered a fresh meeting).
    await store.meetings.markRunning('default', 'm1', { info: infoOf('m1'), limits });
    expect(await countJoin(store, 'default', 'm1', { userID: 'a' })).toMatchObject({ participants: 0, cameras: 0, pendingOthers: 0, rejoin: false });
  });

  it('an end takes the meeting out of its server at once (load, participants, reservation), once, and only on its own server', async () => {
    await addServers(2, 500);
    for (const [meetingID, need] of [['gone', 100], ['stays', 50]] as const) {
      expect(await store.meetings.place({ tenant: 'default', meetingID, upstreamID: meetingID, need, candidates: ['s00'], sampled: 1, fadeMs: FADE })).toMatchObject({ server: 's00' });
    }
    const meetings = [
      { ...polled('default', 'gone', 20), measuredLoad: 40 },
      { ...polled('default', 'stays', 10), measuredLoad: 20 },
    ];
    await store.polls.success('s00', { ...TOTALS, meetings: 2, participants: 30, measuredLoad: 60 }, meetings, thresholds, clock);
    const s00 = async () => {
      const { servers, views } = await store.snapshot(FADE);
      const record = servers.find((x) => x.id === 's00')!;
      return { measuredLoad: record.measuredLoad, participants: record.participants, load: views.find((v) => v.id === 's00')!.load };
    };
    // Measured 60, and what the two still reserve beyond it: (100 − 40) + (50 − 20).
    expect(await s00()).toEqual({ measuredLoad: 60, participants: 30, load: 150 });

    expect(await store.meetings.markEnded('default', 'gone', 's01', undefined)).toBe(false);
    expect(await s00()).toEqual({ measuredLoad: 60, participants: 30, load: 150 });
    expect(await store.meetings.markEnded('default', 'gone', 's00', undefined)).toBe(true);
    // Without it: its 40 units and 20 participants gone, its reservation too; the other's stays.
    expect(await s00()).toEqual({ measuredLoad: 20, participants: 10, load: 50 });
    expect((await store.meetings.get('default', 'gone'))?.status).toBeDefined();
    expect(await t.redis.hexists(store.ctx.keys.meeting('default:gone'), 'endedAt')).toBe(1);
    // A second end (a retry, another gateway) takes nothing more.
    expect(await store.meetings.markEnded('default', 'gone', 's00', undefined)).toBe(false);
    expect(await s00()).toEqual({ measuredLoad: 20, participants: 10, load: 50 });

    // The next poll no longer finds it: forgotten, and the server's figures are the poll's.
    clock += 1000;
    await store.polls.success('s00', { ...TOTALS, meetings: 1, participants: 10, measuredLoad: 22 }, [{ ...meetings[1]!, measuredLoad: 22 }], thresholds, clock);
    expect(await store.meetings.get('default', 'gone')).toBeUndefined();
    expect((await s00()).measuredLoad).toBe(22);
  });

  it('a poll asked before an end and written after it does not put the ended meeting back on its server', async () => {
    await addServers(1, 500);
    for (const meetingID of ['gone', 'stays']) await store.meetings.place({ tenant: 'default', meetingID, upstreamID: meetingID, need: 50, candidates: ['s00'], sampled: 1, fadeMs: FADE });
    const listing = [
      { ...polled('default', 'gone', 20), measuredLoad: 40 },
      { ...polled('default', 'stays', 10), measuredLoad: 20 },
    ];
    const totals = { ...TOTALS, meetings: 2, participants: 30, measuredLoad: 60 };
    await store.polls.success('s00', totals, listing, thresholds, clock);
    const askedBefore = clock;
    clock += 500;
    expect(await store.meetings.markEnded('default', 'gone', 's00', undefined)).toBe(true);
    clock += 500;
    // The server answered before the end: its listing still has the meeting.
    await store.polls.success('s00', totals, listing, thresholds, askedBefore);
    const s00 = (await store.servers.get('s00'))!;
    expect(s00.measuredLoad).toBe(20);
    expect(s00.participants).toBe(10);
    expect(await t.redis.hget(store.ctx.keys.meeting('default:gone'), 'endedAt')).toBe(String(askedBefore + 500));
    // A poll asked after the end that still lists it (BBB keeps ended meetings listed a while) is the server's word.
    await store.polls.success('s00', totals, listing, thresholds, clock);
    expect((await store.servers.get('s00'))!.measuredLoad).toBe(60);
  });

  it('keeps a live read over a poll asked before it, and takes a poll asked after it', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    for (const u of ['a', 'b', 'c']) await countJoin(store, 'default', 'm1', { userID: u });
    const askedBefore = clock;
    clock += 500;
    const live = { ...infoOf('m1', 3), attendees: ['a', 'b', 'c'].map(attendee) };
    expect(await store.meetings.refreshLive('default', 'm1', 's00', live)).toBe(true);
    // The poll's snapshot predates the live read: it must not forget the three who entered.
    await store.polls.success('s00', { ...TOTALS, meetings: 1 }, [polled('default', 'm1', 0)], thresholds, askedBefore);
    expect((await countJoin(store, 'default', 'm1', { userID: 'd' }))!).toMatchObject({ participants: 3, pendingOthers: 0 });
    clock += 500;
    await store.polls.success('s00', { ...TOTALS, meetings: 1, participants: 4 }, [polled('default', 'm1', 4, ['a', 'b', 'c', 'd'])], thresholds, clock);
    expect((await countJoin(store, 'default', 'm1', { userID: 'e' }))!).toMatchObject({ participants: 4, pendingOthers: 0 });
  });

  it('removes what the store kept of a tenant with it, so a new tenant of that name starts afresh', async () => {
    await store.tenants.put({ name: 'acme', secrets: ['s3cret'], hostnames: [], settings: {} });
    await t.redis.lpush(store.ctx.keys.tenantSizes('acme'), '30|4|auto|1');
    await t.redis.hset(store.ctx.keys.tenantUsage('acme'), 's00', 12);
    expect(await store.tenants.remove('acme')).toBe(true);
    expect(await store.tenants.remove('acme')).toBe(false);
    expect(await t.redis.exists(store.ctx.keys.tenantSizes('acme'), store.ctx.keys.tenantUsage('acme'))).toBe(0);
  });

  it('counts a flood of requests in several script calls, each exactly once', async () => {
    const counter = new RateCounter(store.ctx, 60_000);
    const counts = await Promise.all(Array.from({ length: 2500 }, () => counter.count('ip:203.0.113.9')));
    expect(counts.map((c) => c.current).sort((a, b) => a - b)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it('counts a join against its address window in the same call, and not at all past the limit', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    const address = { subject: 'ip:203.0.113.7', max: 2, windowMs: 60_000 };
    const counts = await Promise.all(['a', 'b', 'c'].map((u) => store.meetings.countJoin('default', 'm1', { userID: u }, undefined, address)));
    expect(counts.slice(0, 2).map((c) => (c as JoinCount).pendingOthers)).toEqual([0, 1]);
    expect(counts[2]).toMatchObject({ limitedForMs: expect.any(Number) });
    expect((counts[2] as { limitedForMs: number }).limitedForMs).toBeGreaterThan(59_000);
    // The limited attempt took no seat; another address is counted apart.
    const other = await store.meetings.countJoin('default', 'm1', { userID: 'd' }, undefined, { ...address, subject: 'ip:203.0.113.8' });
    expect((other as JoinCount).pendingOthers).toBe(2);
  });

  it('counts replays of one anonymous signed join URL as one seat, and different URLs apart', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    const url = { signedUrl: 'fullName=Anon&meetingID=m1&checksum=abc' };
    const first = await countJoin(store, 'default', 'm1', url);
    const replays = await Promise.all(Array.from({ length: 50 }, () => countJoin(store, 'default', 'm1', url)));
    expect(first).toMatchObject({ rejoin: false, pendingOthers: 0 });
    expect(replays.every((r) => r!.rejoin && r!.member === first!.member)).toBe(true);
    const other = await countJoin(store, 'default', 'm1', { signedUrl: 'fullName=Other&meetingID=m1&checksum=def' });
    expect(other).toMatchObject({ rejoin: false, pendingOthers: 1 });
  });

  it('forget only removes a placement that is still on the given server', async () => {
    await addServers(1, 500);
    await place(store, 'm1', 10);
    expect(await store.meetings.forget('default', 'm1', 'other')).toBe(false);
    expect(await store.meetings.forget('default', 'm1', 's00')).toBe(true);
    expect(await store.meetings.list()).toEqual([]);
  });

  it('places concurrent meetings of one tenant within its meeting quota, atomically, and a forgotten one frees its place', async () => {
    await addServers(4, 10_000);
    const { views } = await store.snapshot(FADE);
    const quotas = { maxMeetings: 5, maxParticipants: undefined };
    const placeFor = (tenant: string, meetingID: string) => {
      const { candidates, sampled } = rankServers(views, 10, NO_TAGS, Math.random);
      return store.meetings.place({ tenant, meetingID, upstreamID: `${tenant}~${meetingID}`, need: 10, candidates, sampled, fadeMs: FADE, quotas });
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => placeFor('acme', `m${i}`)));
    const placed = results.flatMap((r, i) => (r.outcome === 'placed' ? [{ meetingID: `m${i}`, server: r.server }] : []));
    expect(placed).toHaveLength(5);
    expect(results.filter((r) => r.outcome !== 'placed')).toEqual(Array(15).fill({ outcome: 'quota', quota: 'maxMeetings' }));
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 5, participants: 0 });
    expect((await store.meetings.list('acme')).map((m) => m.meetingID).sort()).toEqual(placed.map((p) => p.meetingID).sort());
    // A meeting already placed is no new meeting; other tenants have quotas of their own.
    expect(await placeFor('acme', placed[0]!.meetingID)).toEqual({ outcome: 'existing', server: placed[0]!.server });
    expect((await placeFor('other', 'x')).outcome).toBe('placed');
    expect((await store.meetings.list('other')).map((m) => m.ref)).toEqual(['other:x']);

    expect(await store.meetings.forget('acme', placed[0]!.meetingID, placed[0]!.server)).toBe(true);
    expect((await store.meetings.usage('acme')).meetings).toBe(4);
    expect((await placeFor('acme', 'late')).outcome).toBe('placed');
    expect((await placeFor('acme', 'later')).outcome).toBe('quota');
  });

  it("keeps each tenant's participants as the last poll of each server saw them, without drift", async () => {
    await addServers(3, 500);
    const usageFields = (tenant: string) => t.redis.hgetall(store.ctx.keys.tenantUsage(tenant));
    await store.polls.success('s00', TOTALS, [polled('acme', 'a', 30)], thresholds);
    await store.polls.success('s01', TOTALS, [polled('acme', 'b', 20), polled('default', 'x', 7)], thresholds);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 50 });
    expect(await store.meetings.usage('default')).toEqual({ meetings: 1, participants: 7 });
    // Each poll overwrites its server's share; a tenant gone from a server loses its field there.
    await store.polls.success('s00', TOTALS, [polled('acme', 'a', 10)], thresholds);
    clock += 60_000;
    await store.polls.success('s01', TOTALS, [polled('default', 'x', 7)], thresholds);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 1, participants: 10 });
    expect(await usageFields('acme')).toEqual({ s00: '10' });
    // A create needs a seat left within the tenant's participant quota.
    const quotas = { maxMeetings: undefined, maxParticipants: 10 };
    const create = () =>
      store.meetings.place({ tenant: 'acme', meetingID: 'new', upstreamID: 'acme~new', need: 10, candidates: ['s01'], sampled: 1, fadeMs: FADE, quotas });
    expect(await create()).toEqual({ outcome: 'quota', quota: 'maxParticipants' });
    // An offline server's meetings are gone for the gateway: their participants stop counting.
    await store.polls.failure('s00', 'down', 2);
    expect(await usageFields('acme')).toEqual({ s00: '10' });
    await store.polls.failure('s00', 'down', 2);
    expect(await usageFields('acme')).toEqual({});
    expect((await create()).outcome).toBe('placed');
    // A removed server takes its share and its meetings with it.
    await store.polls.success('s02', TOTALS, [polled('acme', 'c', 5)], thresholds);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 3, participants: 5 });
    await store.servers.remove('s02');
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 0 });
    expect(await t.redis.exists(store.ctx.keys.serverTenants('s02'))).toBe(0);
  });

  it("counts joins against a tenant's participant quota over all its meetings, and takes refused ones back from both counts", async () => {
    await addServers(1, 500);
    await store.polls.success('s00', TOTALS, [polled('acme', 'm1', 3, ['in1', 'in2', 'in3']), polled('acme', 'm2', 0)], thresholds);
    const join = (meetingID: string, userID: string) => countJoin(store, 'acme', meetingID, { userID }, 20);
    const counts = await Promise.all([
      ...['u0', 'u1', 'u2', 'u3', 'u4'].map((u) => join('m1', u)),
      join('m2', 'v0'),
      join('m2', 'v1'),
      join('m1', 'in2'), // inside: a rejoin
      join('m1', 'u1'), // admitted moments ago: a rejoin
    ]);
    expect(counts.slice(0, 7).map((c) => c!.tenantQuota)).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((pendingOthers) => ({ maxParticipants: 20, participants: 3, pendingOthers })),
    );
    expect(counts.slice(7).map((c) => c!.rejoin)).toEqual([true, true]);
    // Without a quota the tenant's count is neither read nor added to.
    expect((await countJoin(store, 'acme', 'm2', { userID: 'w0' }))!.tenantQuota).toBeUndefined();
    expect((await join('m2', 'v2'))!.tenantQuota).toEqual({ maxParticipants: 20, participants: 3, pendingOthers: 7 });
    await store.meetings.uncountJoin('acme', 'm2', 'v2');
    await store.meetings.uncountJoin('acme', 'm1', counts[4]!.member);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 3 + 6 });

    // The poll sees u0 and u1 inside: counted once, as polled participants.
    await store.polls.success('s00', TOTALS, [polled('acme', 'm1', 5, ['in1', 'in2', 'in3', 'u0', 'u1']), polled('acme', 'm2', 0)], thresholds);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 5 + 4 });
    // A forgotten meeting's pending joins no longer count.
    expect(await store.meetings.forget('acme', 'm2', 's00')).toBe(true);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 1, participants: 5 + 2 });
    // Joins older than the poll window are in the polled counts by then.
    clock += 20_000;
    await store.polls.success('s00', TOTALS, [polled('acme', 'm1', 7, ['in1', 'in2', 'in3', 'u0', 'u1'])], thresholds);
    expect(await store.meetings.usage('acme')).toEqual({ meetings: 1, participants: 7 });
    expect(await t.redis.zcard(store.ctx.keys.tenantPending('acme'))).toBe(0);
  });

  it('a re-pinned meeting gets the limits it was created with; a known one keeps its own', async () => {
    await addServers(1, 500);
    const classroom = { profile: 'classroom', maxParticipants: 50, moderatorMargin: 2 };
    const adopted = polled('default', 'lost', 3, [], classroom);
    adopted.info.moderatorPW = 'mod-pw';
    await place(store, 'known', 10);
    await store.meetings.markRunning('default', 'known', { info: infoOf('known'), limits: { profile: 'webinar', maxParticipants: 350, moderatorMargin: 5 } });
    await store.polls.success('s00', TOTALS, [adopted, polled('default', 'known', 0, [], classroom)], thresholds);
    const fields = await t.redis.hgetall(store.ctx.keys.meeting('default:lost'));
    expect(fields).toMatchObject({ profile: 'classroom', maxParticipants: '50', moderatorMargin: '2', moderatorPW: 'mod-pw' });
    expect(await countJoin(store, 'default', 'lost', { userID: 'u' })).toMatchObject({ maxParticipants: 50, moderatorMargin: 2, moderatorPW: 'mod-pw' });
    expect(await countJoin(store, 'default', 'known', { userID: 'u' })).toMatchObject({ maxParticipants: 350, moderatorMargin: 5 });
  });

  it('detects a data loss and restores servers and tenants it still knows', async () => {
    await addServers(2, 500);
    await store.servers.add({ id: 's02', url: 'http://127.0.0.1:9002/bigbluebutton/api/', secret: 'k2', capacity: 1000, sizeClass: 'large', managedBy: 'scaleway' });
    await store.tenants.put({ name: 'acme', secrets: ['s3cret'], hostnames: ['bbb.acme.test'], settings: {} });
    expect(await store.dataLost()).toBe(false);
    const servers = await store.servers.list();
    const tenants = await store.tenants.list();
    const { deleteByPrefix } = await import('../helpers/redis.js');
    await deleteByPrefix(t.redis, t.prefix);
    expect(await store.dataLost()).toBe(true);
    await store.restore(servers, tenants);
    expect((await store.servers.list()).map((s) => s.id)).toEqual(['s00', 's01', 's02']);
    // A scaler-created server stays the scaler's to remove.
    expect(await store.servers.get('s02')).toMatchObject({ sizeClass: 'large', managedBy: 'scaleway' });
    expect((await store.tenants.get('acme'))?.secrets).toEqual(['s3cret']);
    expect(await store.dataLost()).toBe(false);
  });
});
