// The tenant-sizes lists in real Redis: what apply-poll.lua keeps of each meeting (its peaks)
// and leaves in its tenant's list when it forgets it, and which meetings count.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeetingInfo } from '../../src/bbb/types.js';
import { NO_TAGS, rankServers } from '../../src/placement/choose.js';
import { TENANT_SIZE_SAMPLES } from '../../src/state/keys.js';
import { Store } from '../../src/state/store.js';
import type { PolledMeeting, ProfileSource } from '../../src/state/types.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const FADE = 600_000;
const GRACE = 30_000;
const thresholds = { offlineAfter: 2, onlineAfter: 1, graceMs: GRACE, fadeMs: FADE };
const TOTALS = { meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 };

const infoOf = (meetingID: string, participantCount: number, videoCount: number): MeetingInfo => ({
  meetingName: meetingID, meetingID, internalMeetingID: `${meetingID}-1`, createTime: 1, createDate: '', voiceBridge: '70000',
  dialNumber: '', running: participantCount > 0, duration: 0, hasUserJoined: participantCount > 0, recording: false,
  hasBeenForciblyEnded: false, startTime: 1, endTime: 0, participantCount, listenerCount: 0, voiceParticipantCount: 0,
  videoCount, maxUsers: 0, moderatorCount: 0, attendees: [], metadata: {}, isBreakout: false,
});

describe('tenant sizes (real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  let clock: number;

  beforeEach(async () => {
    t = testRedis('sizes');
    clock = 1_000_000;
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1), now: () => clock });
    await store.servers.add({ id: 's00', url: 'http://127.0.0.1:9000/bigbluebutton/api/', secret: 'k', capacity: 10_000, health: 'online' });
  });
  afterEach(() => t.cleanup());

  /** Placed and created as the gateway does: `source` is how its profile was chosen. */
  async function create(tenant: string, meetingID: string, source: ProfileSource | undefined, profile = 'auto'): Promise<void> {
    const { views } = await store.snapshot(FADE);
    const { candidates, sampled } = rankServers(views, 40, NO_TAGS, Math.random);
    const placed = await store.meetings.place({ tenant, meetingID, upstreamID: meetingID, need: 40, candidates, sampled, fadeMs: FADE });
    expect(placed.outcome).toBe('placed');
    await store.meetings.markRunning(tenant, meetingID, {
      info: infoOf(meetingID, 0, 0),
      limits: { profile, maxParticipants: 350, moderatorMargin: 0 },
      ...(source === undefined ? {} : { profileSource: source }),
    });
  }

  /** One poll of s00 listing these meetings with these counts (the others are gone from it). */
  function poll(meetings: Record<string, [participants: number, cameras: number]>) {
    const polled: PolledMeeting[] = Object.entries(meetings).map(([ref, [p, c]]) => {
      const [tenant, meetingID] = ref.split(':') as [string, string];
      return { tenant, meetingID, upstreamID: meetingID, createTime: 1, measuredLoad: p, info: infoOf(meetingID, p, c) };
    });
    return store.polls.success('s00', TOTALS, polled, thresholds);
  }

  const sizes = (tenant: string) => t.redis.lrange(store.ctx.keys.tenantSizes(tenant), 0, -1);
  const hash = (ref: string) => t.redis.hgetall(store.ctx.keys.meeting(ref));

  it('keeps the peaks over polls and leaves them in the tenant list when the meeting ends', async () => {
    await create('default', 'room', 'tenant');
    expect(await hash('default:room')).toMatchObject({ profileSource: 'tenant', profile: 'auto' });
    await poll({ 'default:room': [12, 1] });
    await poll({ 'default:room': [31, 2] });
    await poll({ 'default:room': [20, 5] }); // people left, cameras came on: each peak on its own
    expect(await hash('default:room')).toMatchObject({ participants: '20', cameras: '5', peakParticipants: '31', peakCameras: '5' });
    await store.meetings.markEnded('default', 'room', 's00', undefined);
    clock += 1000;
    expect((await poll({})).forgotten).toBe(1);
    expect(await sizes('default')).toEqual([`31|5|auto|${clock}`]);
    expect(await store.meetings.sizeSamples('default')).toEqual([{ participants: 31, cameras: 5, profile: 'auto', endedAt: clock }]);
  });

  it('counts only meetings the tenant default sized that anyone joined, in their own tenant', async () => {
    await create('default', 'named', 'param', 'classroom');
    await create('default', 'hinted', 'hint');
    await create('default', 'empty', 'tenant');
    await create('default', 'unknown', undefined); // re-pinned after a data loss, or an older gateway
    await create('acme', 'a1', 'tenant', 'classroom');
    await create('default', 'd1', 'tenant');
    await poll({ 'default:named': [40, 10], 'default:hinted': [200, 1], 'default:empty': [0, 0], 'default:unknown': [9, 1], 'acme:a1': [18, 6], 'default:d1': [7, 0] });
    clock += GRACE + 1; // gone from the server past the grace, without an end call: BBB ended them
    expect((await poll({})).forgotten).toBe(6);
    expect(await sizes('default')).toEqual([`7|0|auto|${clock}`]);
    expect(await sizes('acme')).toEqual([`18|6|classroom|${clock}`]);
  });

  it('a meeting still young and not ended is kept, and leaves nothing yet', async () => {
    await create('default', 'young', 'tenant');
    await poll({ 'default:young': [5, 0] });
    expect((await poll({})).forgotten).toBe(0);
    expect(await sizes('default')).toEqual([]);
  });

  it('a new meeting under the ID of an ended one starts from no peaks', async () => {
    await create('default', 'room', 'tenant');
    await poll({ 'default:room': [50, 3] });
    // Created again while the ended one is still listed: a fresh create of the same record.
    await store.meetings.markRunning('default', 'room', { info: infoOf('room', 0, 0), limits: { profile: 'auto', maxParticipants: 350, moderatorMargin: 0 }, profileSource: 'tenant' });
    expect(await hash('default:room')).not.toHaveProperty('peakParticipants');
    await poll({ 'default:room': [8, 1] });
    // A duplicate create changes nothing of it.
    await store.meetings.markRunning('default', 'room');
    await store.meetings.markEnded('default', 'room', 's00', undefined);
    await poll({});
    expect(await sizes('default')).toEqual([`8|1|auto|${clock}`]);
  });

  it('keeps the newest TENANT_SIZE_SAMPLES entries, newest first', async () => {
    const key = store.ctx.keys.tenantSizes('default');
    await t.redis.rpush(key, ...Array.from({ length: TENANT_SIZE_SAMPLES }, (_, i) => `${i + 1}|0|auto|1`));
    await create('default', 'room', 'tenant');
    await poll({ 'default:room': [33, 4] });
    await store.meetings.markEnded('default', 'room', 's00', undefined);
    await poll({});
    const entries = await sizes('default');
    expect(entries).toHaveLength(TENANT_SIZE_SAMPLES);
    expect(entries[0]).toBe(`33|4|auto|${clock}`);
    expect(entries.at(-1)).toBe(`${TENANT_SIZE_SAMPLES - 1}|0|auto|1`);
    expect(await store.meetings.sizeSamples('default', 3)).toEqual([
      { participants: 33, cameras: 4, profile: 'auto', endedAt: clock },
      { participants: 1, cameras: 0, profile: 'auto', endedAt: 1 },
      { participants: 2, cameras: 0, profile: 'auto', endedAt: 1 },
    ]);
    expect(await store.meetings.sizeSamples('default', 0)).toEqual([]);
  });

  it('reads back skipping entries it cannot parse', async () => {
    await t.redis.rpush(store.ctx.keys.tenantSizes('default'), '30|2|auto|5', 'garbage', '12|1|webinar|4');
    expect(await store.meetings.sizeSamples('default')).toEqual([
      { participants: 30, cameras: 2, profile: 'auto', endedAt: 5 },
      { participants: 12, cameras: 1, profile: 'webinar', endedAt: 4 },
    ]);
    expect(await store.meetings.sizeSamples('nobody')).toEqual([]);
  });
});
