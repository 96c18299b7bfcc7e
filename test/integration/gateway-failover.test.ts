import { afterEach, describe, expect, it } from 'vitest';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { deleteByPrefix } from '../helpers/redis.js';
import { startTestPool, type TestPool } from '../helpers/gateway.js';

/** Gateway and poller together on a simulated pool: what happens when things break. */
describe('gateway with the poller: failures', () => {
  let running: TestPool | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  /** A pool of simulated servers, its gateway, and a poller that gives up on a server quickly. */
  async function start(servers: number, label: string) {
    const pool = await startTestPool({ servers, label });
    running = pool;
    const gw = await pool.startGateway();
    const poller = new Poller({ ...pollerSettings(pool.settings), timeoutMs: 300, offlineAfter: 2, onlineAfter: 1, store: pool.pollerStore() });
    return { pool, gw, poller };
  }

  it('a server killed mid-run goes offline within the thresholds; its meetings are placed elsewhere on the next create', async () => {
    const { pool, gw, poller } = await start(3, 'failover');
    await poller.pollOnce();
    for (let i = 0; i < 6; i++) await gw.client.create([['meetingID', `lesson-${i}`], ['name', `Lesson ${i}`]]);
    const victim = (await pool.store.meetings.get('default', 'lesson-0'))!.server;
    const victimIndex = pool.serverIds.indexOf(victim);
    const onVictim = (await pool.store.meetings.list()).filter((m) => m.server === victim).map((m) => m.meetingID);

    await pool.cluster.server(victimIndex)!.setFault('down');
    await poller.pollOnce();
    expect((await pool.store.servers.get(victim))!.health).toBe('online'); // one failure of two
    await poller.pollOnce();
    expect((await pool.store.servers.get(victim))!.health).toBe('offline');

    // Its meetings are gone for clients, and a create places each of them on a live server.
    expect(await gw.client.isMeetingRunning('lesson-0')).toBe(false);
    await expect(gw.client.getMeetingInfo('lesson-0')).rejects.toMatchObject({ messageKey: 'notFound' });
    for (const id of onVictim) {
      const created = await gw.client.create([['meetingID', id], ['name', 'Again']]);
      expect(created.messageKey).toBe(''); // a fresh meeting, not a duplicate
      const moved = await pool.store.meetings.get('default', id);
      expect(moved!.server).not.toBe(victim);
    }
    // Joins go to the new server.
    const url = new URL(gw.client.joinUrl([['fullName', 'Late pupil'], ['meetingID', 'lesson-0'], ['role', 'VIEWER']]));
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).not.toContain(pool.cluster.server(victimIndex)!.apiUrl);
  });

  it('Redis flushed during a run: the next poll rebuilds servers and meeting placements', async () => {
    const { pool, gw, poller } = await start(3, 'flush');
    await poller.pollOnce();
    for (let i = 0; i < 5; i++) await gw.client.create([['meetingID', `kept-${i}`], ['name', `Kept ${i}`]]);
    const before = new Map((await pool.store.meetings.list()).map((m) => [m.meetingID, m.server]));
    await poller.pollOnce();

    await deleteByPrefix(pool.redis.redis, pool.redis.prefix);
    expect(await pool.store.meetings.list()).toEqual([]);
    await expect(gw.client.getMeetingInfo('kept-0')).rejects.toMatchObject({ messageKey: 'notFound' });

    const round = await poller.pollOnce();
    expect(round.restored).toBe(true);
    const after = new Map((await pool.store.meetings.list()).map((m) => [m.meetingID, m.server]));
    expect(after).toEqual(before);
    expect((await gw.client.getMeetingInfo('kept-3')).meetingID).toBe('kept-3');
    // A create of a running meeting goes back to its server as a duplicate.
    expect((await gw.client.create([['meetingID', 'kept-1'], ['name', 'Kept 1']])).messageKey).toBe('duplicateWarning');
  });

  it('polled counts answer getMeetingInfo: users who entered on the server show through the gateway', async () => {
    const { pool, gw, poller } = await start(2, 'counts');
    await gw.client.create([['meetingID', 'counted'], ['name', 'Counted']]);
    const server = pool.cluster.servers().find(({ server }) => server.state().meetings.some((m) => m.meetingID === 'counted'))!.server;
    server.addUsers('counted', { count: 2, cameras: 1 });
    server.addUsers('counted', { count: 5, cameras: 0, userIdPrefix: 'quiet' });
    await poller.pollOnce();
    const info = await gw.client.getMeetingInfo('counted');
    expect(info.participantCount).toBe(7);
    expect(info.videoCount).toBe(2);
    expect(info.attendees).toHaveLength(7);
    expect(await gw.client.isMeetingRunning('counted')).toBe(true);
    const record = await pool.store.servers.get((await pool.store.meetings.get('default', 'counted'))!.server);
    expect(record!.participants).toBe(7);
    expect(record!.measuredLoad).toBeGreaterThan(0);
  });
});
