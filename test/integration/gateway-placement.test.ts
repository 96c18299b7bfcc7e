import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/state/store.js';
import { createRedis } from '../../src/redis/connect.js';
import { startTestPool, type TestPool } from '../helpers/gateway.js';

describe('gateway placement under bursts', () => {
  let pool: TestPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('spreads a burst of 200 concurrent creates over 20 equal servers', async () => {
    pool = await startTestPool({ servers: 20, capacity: 10_000, label: 'burst' });
    const gw = await pool.startGateway();
    await Promise.all(Array.from({ length: 200 }, (_, i) => gw.client.create([['meetingID', `class-${i}`], ['name', `Class ${i}`]])));
    const counts = pool.cluster.servers().map(({ server }) => server.state().meetings.length);
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    console.log(`burst of 200 creates over 20 servers: max ${max}, min ${min} meetings per server (mean 10)`);
    expect(counts.reduce((a, b) => a + b)).toBe(200);
    expect(max).toBeLessThanOrEqual(20);
  });

  it('two gateways placing concurrently never put more than a server capacity on it', async () => {
    // Each server holds 3 default meetings (about 64 units each) and not 4.
    pool = await startTestPool({ servers: 4, capacity: 200, label: 'two-gw' });
    const a = await pool.startGateway();
    const b = await pool.startGateway();
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).client.create([['meetingID', `m-${i}`], ['name', `Meeting ${i}`]])),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const other = createRedis(pool.redis.url);
    try {
      const store = new Store(other, { namespace: pool.redis.prefix.slice(0, -1) });
      const meetings = await store.meetings.list();
      const perServer = new Map<string, number>();
      for (const m of meetings) perServer.set(m.server, (perServer.get(m.server) ?? 0) + (m.overcommitted ? 0 : m.reserved));
      // 12 fit (3 × 4 servers); the 4 others could only be over-committed, which the
      // placement records and reports instead of hiding.
      const placedWithinCapacity = [...perServer.values()];
      for (const load of placedWithinCapacity) expect(load).toBeLessThanOrEqual(200);
      expect(meetings).toHaveLength(16);
      expect(meetings.filter((m) => m.overcommitted)).toHaveLength(4);
    } finally {
      await other.quit();
    }
  });

  it('a meeting placed where no server has room gets the cameras its server still holds, and the answer says so', async () => {
    // One server of 600 units (540 under the fill ceiling); a 300-participant meeting takes 530 of them.
    pool = await startTestPool({ servers: 1, capacity: 600, label: 'held-cameras' });
    const gw = await pool.startGateway();
    const hint = (participants: number, cameras: number): [string, string][] => [
      ['meta_amphi-expected-participants', String(participants)],
      ['meta_amphi-expected-cameras', String(cameras)],
    ];
    const first = await gw.client.create([['meetingID', 'big'], ['name', 'Big'], ...hint(300, 1)]);
    expect(first.messageKey).toBe('');
    // 34 pupils with 29 cameras: no server has room for that now.
    const second = await gw.client.create([['meetingID', 'class'], ['name', 'Class'], ...hint(34, 29)]);
    expect(second.messageKey).toBe('amphiPolicyApplied');
    expect(second.message).toMatch(/meetingCameraCap 29 -> \d+ \(no server had room for more\)/);
    const server = pool.cluster.servers()[0]!.server;
    const held = server.model.meeting('class')!.meetingCameraCap;
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThan(29);
    // A meeting that fits is created as asked.
    const small = await gw.client.create([['meetingID', 'small'], ['name', 'Small'], ...hint(2, 1)]);
    expect(server.model.meeting('small')!.meetingCameraCap).toBe(1);
    expect(small.messageKey).toBe('');
    const meetings = await pool.store.meetings.list();
    expect(meetings.find((m) => m.meetingID === 'class')?.overcommitted).toBe(true);
    expect(meetings.find((m) => m.meetingID === 'big')?.overcommitted).toBe(false);
  });
});
