// A create nobody sized (no profile, no hint) reserves what the tenant's such meetings became,
// end to end: gateway, poller, Redis, simulated pool.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { mintAdminToken } from '../../src/admin/token.js';
import { reservationFor, type Policy } from '../../src/policy/index.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import type { SimServer } from '../../src/simulator/index.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

const JWT_SECRET = 'size-estimate-test-jwt-secret-0123456789';
const ACME_SECRET = 'acme-secret-0123456789';

describe('reservation of a meeting nobody sized', () => {
  let pool: TestPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const serverOf = (p: TestPool, upstreamID: string): SimServer =>
    p.cluster.servers().find(({ server }) => server.model.meeting(upstreamID))!.server;

  async function reserved(p: TestPool, ref: string): Promise<number> {
    return Number(await p.redis.redis.hget(p.store.ctx.keys.meeting(ref), 'reserved'));
  }

  async function sizeEstimate(gw: TestGateway, tenant: string) {
    const res = await request(`${gw.url}/admin/tenants/${tenant}/size-estimate`, { headers: { authorization: `Bearer ${mintAdminToken(JWT_SECRET)}` } });
    expect(res.statusCode).toBe(200);
    return (await res.body.json()) as Record<string, unknown>;
  }

  it("follows the peaks of the tenant's ended meetings (~30 people, 4 cameras), not the profile's guess, and only theirs", async () => {
    pool = await startTestPool({ servers: 2, capacity: 5000, label: 'size-estimate', env: { AMPHI_JWT_SECRET: JWT_SECRET } });
    const p = pool;
    const gw = await p.startGateway();
    const policy: Policy = gw.gateway.policies.current();
    const poller = new Poller({ ...pollerSettings(p.settings), graceMs: 0, store: p.pollerStore(), policy: () => gw.gateway.policies.current() });
    const prior = reservationFor(policy, { participants: 25, cameras: 2 }); // auto's expected

    // 20 Greenlight-like rooms: no profile, no hint. Each peaks at 28..32 people with 4 cameras,
    // then half of them leave before the end (the peak is what counts).
    const rooms = Array.from({ length: 20 }, (_, i) => `room-${i}`);
    for (const id of rooms) expect((await gw.client.create([['meetingID', id], ['name', id]])).meetingID).toBe(id);
    // Meetings that must not feed the estimate: an explicit profile, a hint, nobody joining.
    await gw.client.create([['meetingID', 'named'], ['name', 'named'], ['meta_amphi-profile', 'auto']]);
    await gw.client.create([['meetingID', 'hinted'], ['name', 'hinted'], ['meta_amphi-expected-participants', '200']]);
    await gw.client.create([['meetingID', 'nobody'], ['name', 'nobody']]);
    for (const id of [...rooms, 'named', 'hinted', 'nobody']) expect(await reserved(p, `default:${id}`), id).toBeGreaterThan(0);
    expect(await reserved(p, 'default:room-0')).toBe(prior);
    expect(await reserved(p, 'default:hinted')).toBe(reservationFor(policy, { participants: 200, cameras: 2 }));

    const entered = new Map<string, string[]>();
    rooms.forEach((id, i) => {
      const server = serverOf(p, id);
      const withCamera = server.addUsers(id, { count: 4, cameras: 1 }).admitted;
      const others = server.addUsers(id, { count: 24 + (i % 5), cameras: 0 }).admitted;
      expect(withCamera.every((u) => u.cameras === 1)).toBe(true);
      entered.set(id, [...withCamera, ...others].map((u) => u.sessionToken));
    });
    serverOf(p, 'named').addUsers('named', { count: 300 });
    serverOf(p, 'hinted').addUsers('hinted', { count: 150, cameras: 0 });
    await poller.pollOnce();
    for (const id of rooms) {
      const server = serverOf(p, id);
      for (const token of entered.get(id)!.slice(0, 15)) server.model.leave(token);
    }
    await poller.pollOnce();
    expect(await p.redis.redis.hmget(p.store.ctx.keys.meeting('default:room-4'), 'participants', 'peakParticipants', 'peakCameras')).toEqual(['17', '32', '4']);

    // Most end through the gateway; a few end on the server alone (everybody left, BBB ended it).
    for (const id of [...rooms.slice(0, 17), 'named', 'hinted', 'nobody']) await gw.client.end(id);
    for (const id of rooms.slice(17)) serverOf(p, id).model.end(new Map([['meetingID', id]]));
    expect((await poller.pollOnce()).forgotten).toBe(23);

    const samples = await p.store.meetings.sizeSamples('default');
    expect(samples).toHaveLength(20);
    expect(samples.every((s) => s.profile === 'auto' && s.cameras === 4 && s.participants >= 28 && s.participants <= 32)).toBe(true);

    // p90 of the peaks: 32 people, 4 cameras; the prior (25, 2) weighs 10 meetings against 20:
    // (20 × 32 + 10 × 25) / 30 = 29.7 → 30 people, (20 × 4 + 10 × 2) / 30 = 3.3 → 4 cameras.
    const learnt = reservationFor(policy, { participants: 30, cameras: 4 });
    expect(learnt).toBeGreaterThan(prior);

    // This gateway read the (then empty) history at its first create: it keeps it for 30 s.
    await gw.client.create([['meetingID', 'soon'], ['name', 'soon']]);
    expect(await reserved(p, 'default:soon')).toBe(prior);

    // Another gateway (or this one 30 s later) reserves the estimate.
    const other = await p.startGateway();
    expect((await other.client.create([['meetingID', 'next'], ['name', 'next']])).meetingID).toBe('next');
    expect(await reserved(p, 'default:next')).toBe(learnt);
    // Asking for a profile or giving a hint still reserves what was asked.
    await other.client.create([['meetingID', 'next-named'], ['name', 'next'], ['meta_amphi-profile', 'auto']]);
    expect(await reserved(p, 'default:next-named')).toBe(prior);
    await other.client.create([['meetingID', 'next-hinted'], ['name', 'next'], ['meta_amphi-expected-participants', '10']]);
    expect(await reserved(p, 'default:next-hinted')).toBe(reservationFor(policy, { participants: 10, cameras: 2 }));
    // A caller's lower maxParticipants holds the estimate too.
    await other.client.create([['meetingID', 'next-small'], ['name', 'next'], ['maxParticipants', '12']]);
    expect(await reserved(p, 'default:next-small')).toBe(reservationFor(policy, { participants: 12, cameras: 4 }));

    // What an operator sees.
    expect(await sizeEstimate(other, 'default')).toMatchObject({
      tenant: 'default',
      profile: 'auto',
      prior: { participants: 25, cameras: 2 },
      samples: 20,
      observed: { participants: 32, cameras: 4 },
      weight: 20 / 30,
      expected: { participants: 30, cameras: 4 },
      reservation: Math.round(learnt * 10) / 10,
      settings: { enabled: true, percentile: 90, priorWeight: 10, window: 200 },
    });
  });

  it("one tenant's meetings never size another's", async () => {
    pool = await startTestPool({ servers: 1, capacity: 5000, label: 'size-estimate-tenants', env: { AMPHI_JWT_SECRET: JWT_SECRET } });
    const p = pool;
    await p.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await p.startGateway();
    const policy = gw.gateway.policies.current();
    const poller = new Poller({ ...pollerSettings(p.settings), graceMs: 0, store: p.pollerStore() });
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    for (let i = 0; i < 10; i++) {
      await acme.create([['meetingID', `big-${i}`], ['name', 'big']]);
      serverOf(p, `acme~big-${i}`).addUsers(`acme~big-${i}`, { count: 120 });
    }
    await poller.pollOnce();
    for (let i = 0; i < 10; i++) await acme.end(`big-${i}`);
    await poller.pollOnce();
    expect(await p.store.meetings.sizeSamples('acme')).toHaveLength(10);
    expect(await p.store.meetings.sizeSamples('default')).toEqual([]);

    const other = await p.startGateway();
    await other.client.create([['meetingID', 'plain'], ['name', 'plain']]);
    expect(await reserved(p, 'default:plain')).toBe(reservationFor(policy, { participants: 25, cameras: 2 }));
    await other.clientFor('/t/acme', ACME_SECRET).create([['meetingID', 'next'], ['name', 'next']]);
    // (10 × 120 + 10 × 25) / 20 = 72.5 → 73; cameras (0 + 20) / 20 = 1.
    expect(await reserved(p, 'acme:next')).toBe(reservationFor(policy, { participants: 73, cameras: 1 }));
    expect(await sizeEstimate(other, 'acme')).toMatchObject({ samples: 10, expected: { participants: 73, cameras: 1 } });

    const unknown = await request(`${other.url}/admin/tenants/nobody/size-estimate`, { headers: { authorization: `Bearer ${mintAdminToken(JWT_SECRET)}` } });
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
  });
});
