import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { DEFAULT_POLICY_DIR, PolicyStore } from '../../src/policy/index.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { Store } from '../../src/state/store.js';
import type { SimServer } from '../../src/simulator/index.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';
import { deleteByPrefix } from '../helpers/redis.js';

/** The default policy with `tenants:` replaced by the given YAML block. */
async function policyWithTenants(tenants: string): Promise<PolicyStore> {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-policy-'));
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
  const file = join(dir, 'default.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^tenants: \{\}$/m, `tenants:\n${tenants}`));
  const policies = new PolicyStore();
  await policies.load(dir);
  return policies;
}

const ACME_SECRET = 'acme-secret-0123456789';

/** The camera-vs-capacity rule enforced end to end: gateway, Redis admission, simulated pool. */
describe('capacity policy at create and join', () => {
  let pool: TestPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  async function setUp(servers = 2, capacity = 1000): Promise<{ pool: TestPool; gw: TestGateway; poller: Poller; warnings: unknown[][] }> {
    pool = await startTestPool({ servers, capacity, label: 'policy' });
    const gw = await pool.startGateway();
    const warnings: unknown[][] = [];
    const log = { debug: () => {}, info: () => {}, warn: (...args: unknown[]) => warnings.push(args), error: () => {} };
    const poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore(), policy: () => gw.gateway.policies.current(), log });
    return { pool, gw, poller, warnings };
  }

  const serverOf = (p: TestPool, upstreamID: string): SimServer =>
    p.cluster.servers().find(({ server }) => server.model.meeting(upstreamID))!.server;

  /** Joins through the gateway without following the redirect: admission happens here. */
  async function joinVia(gw: TestGateway, meetingID: string, user: string, role = 'VIEWER', client = gw.client): Promise<string> {
    return joinWith(client, [['fullName', user], ['meetingID', meetingID], ['role', role], ['userID', user]]);
  }

  async function joinWith(client: TestGateway['client'], params: [string, string][]): Promise<string> {
    const res = await request(client.joinUrl(params));
    await res.body.dump();
    const location = String(res.headers.location);
    return location.includes('errors=') ? (/"key":"(\w+)"|%22key%22:%22(\w+)%22/.exec(location)?.slice(1).find(Boolean) ?? 'error') : 'ok';
  }

  async function setCamera(server: SimServer, sessionToken: string, on: boolean): Promise<void> {
    const res = await request(`${server.baseUrl}/sim/sessions/${sessionToken}/camera`, {
      method: 'POST',
      body: JSON.stringify({ on }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }

  it('a webinar admits 350 joins and refuses the 351st with maxParticipantsReached', async () => {
    const { gw } = await setUp();
    const created = await gw.client.create([['meetingID', 'webinar-1'], ['name', 'State webinar'], ['meta_amphi-profile', 'webinar']]);
    expect(created.messageKey).toBe('');
    const results: string[] = [];
    for (let i = 0; i < 345; i++) results.push(await joinVia(gw, 'webinar-1', `viewer-${i}`));
    // The webinar keeps its last 5 seats for moderators (hosts arriving late).
    expect(await joinVia(gw, 'webinar-1', 'viewer-late')).toBe('maxParticipantsReached');
    for (let i = 0; i < 5; i++) results.push(await joinVia(gw, 'webinar-1', `host-${i}`, 'MODERATOR'));
    expect(results.filter((r) => r === 'ok')).toHaveLength(350);
    expect(await joinVia(gw, 'webinar-1', 'host-late', 'MODERATOR')).toBe('maxParticipantsReached');
    // Someone already admitted may always come back (a reconnect, a second tab).
    expect(await joinVia(gw, 'webinar-1', 'viewer-7')).toBe('ok');
    // The upstream create carried the webinar's BBB parameters.
    const meeting = serverOf(pool!, 'webinar-1').model.meeting('webinar-1')!;
    expect(meeting.maxParticipants).toBe(350);
    expect(meeting.meetingCameraCap).toBe(1);
    expect(meeting.userCameraCap).toBe(1);
    expect(meeting.lockSettingsDisableCam).toBe(true);
  });

  it('a classroom where 30 cameras are on admits 50 and refuses the 51st', async () => {
    const { pool, gw, poller } = await setUp();
    await gw.client.create([['meetingID', 'class-1'], ['name', 'Class 1'], ['meta_amphi-profile', 'classroom']]);
    const server = serverOf(pool, 'class-1');
    expect(server.model.meeting('class-1')!.maxParticipants).toBe(50);
    expect(server.model.meeting('class-1')!.meetingCameraCap).toBe(30);
    const inside = server.addUsers('class-1', { count: 30, cameras: 1, userIdPrefix: 'pupil-' });
    expect(inside.admitted).toHaveLength(30);
    await poller.pollOnce();
    const info = await gw.client.getMeetingInfo('class-1');
    expect(info.videoCount).toBe(30);
    const more: string[] = [];
    for (let i = 0; i < 18; i++) more.push(await joinVia(gw, 'class-1', `late-${i}`));
    expect(more.every((r) => r === 'ok')).toBe(true);
    // 48 in; the last 2 seats are the classroom's moderator margin.
    expect(await joinVia(gw, 'class-1', 'late-viewer')).toBe('maxParticipantsReached');
    expect(await joinVia(gw, 'class-1', 'teacher-1', 'MODERATOR')).toBe('ok');
    expect(await joinVia(gw, 'class-1', 'teacher-2', 'MODERATOR')).toBe('ok');
    expect(await joinVia(gw, 'class-1', 'teacher-3', 'MODERATOR')).toBe('maxParticipantsReached');
    const metrics = await (await request(`${gw.url}/metrics`)).body.text();
    expect(metrics).toMatch(/amphi_joins_refused_total\{reason="moderatorMargin"\} 1/);
    // At 30 cameras the curve (50) and the classroom's own limit (50) agree; the curve is named.
    expect(metrics).toMatch(/amphi_joins_refused_total\{reason="curve"\} 1/);
  });

  it('an auto meeting of 200 stops admitting when cameras go from 1 to 10, rejoins still pass, and admits again at 1 camera', async () => {
    const { pool, gw, poller, warnings } = await setUp(2, 2000);
    await gw.client.create([['meetingID', 'auto-1'], ['name', 'Assembly']]);
    const server = serverOf(pool, 'auto-1');
    const { admitted } = server.addUsers('auto-1', { count: 200, cameras: 0, userIdPrefix: 'p-' });
    expect(admitted).toHaveLength(200);
    await setCamera(server, admitted[0]!.sessionToken, true);
    await poller.pollOnce();
    expect(await joinVia(gw, 'auto-1', 'newcomer-1')).toBe('ok'); // 201 of 350 at 1 camera

    for (const user of admitted.slice(1, 10)) await setCamera(server, user.sessionToken, true);
    await poller.pollOnce();
    expect((await gw.client.getMeetingInfo('auto-1')).videoCount).toBe(10);
    expect(await joinVia(gw, 'auto-1', 'newcomer-2')).toBe('maxParticipantsReached'); // 150 at 10 cameras
    expect(await joinVia(gw, 'auto-1', admitted[42]!.userID)).toBe('ok'); // inside: a rejoin
    // Cameras came on after the joins: the meeting is flagged in the metrics and the logs.
    expect(await (await request(`${gw.url}/metrics`)).body.text()).toMatch(/amphi_meetings_over_curve\{server="sim00\d"\} 1/);
    expect(warnings).toContainEqual([
      expect.objectContaining({ tenant: 'default', meetingID: 'auto-1', participants: 200, cameras: 10 }),
      expect.stringMatching(/over the camera curve/),
    ]);

    for (const user of admitted.slice(1, 10)) await setCamera(server, user.sessionToken, false);
    await poller.pollOnce();
    expect(await joinVia(gw, 'auto-1', 'newcomer-3')).toBe('ok');
    expect(await (await request(`${gw.url}/metrics`)).body.text()).not.toMatch(/amphi_meetings_over_curve\{[^}]*\} 1/);
  });

  it('lowers what a caller asks above the policy, says so, and keeps what it asks below', async () => {
    const { pool, gw } = await setUp();
    const above = await gw.client.create([['meetingID', 'big'], ['name', 'Big'], ['meta_amphi-profile', 'classroom'], ['maxParticipants', '500']]);
    expect(above.messageKey).toBe('amphiPolicyApplied');
    expect(above.message).toContain('maxParticipants 500 -> 50');
    expect(serverOf(pool, 'big').model.meeting('big')!.maxParticipants).toBe(50);
    const below = await gw.client.create([['meetingID', 'small'], ['name', 'Small'], ['meta_amphi-profile', 'classroom'], ['maxParticipants', '20']]);
    expect(below.messageKey).toBe('');
    expect(serverOf(pool, 'small').model.meeting('small')!.maxParticipants).toBe(20);
    // A hint is read on the curve: 10 cameras → 150 participants.
    await gw.client.create([['meetingID', 'hinted'], ['name', 'Hinted'], ['meta_amphi-expected-cameras', '10']]);
    const hinted = serverOf(pool, 'hinted').model.meeting('hinted')!;
    expect([hinted.maxParticipants, hinted.meetingCameraCap]).toEqual([150, 10]);
    await expect(gw.client.create([['meetingID', 'odd'], ['name', 'Odd'], ['meta_amphi-profile', 'stadium']])).rejects.toMatchObject({
      messageKey: 'unknownProfile',
    });
  });

  it('refuses a create beyond a tenant quota with a clear message', async () => {
    const policies = await policyWithTenants('  acme:\n    quotas: { maxMeetings: 2 }');
    pool = await startTestPool({ servers: 2, label: 'quota' });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway({ policies });
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    await acme.create([['meetingID', 'a1'], ['name', 'A1']]);
    await acme.create([['meetingID', 'a2'], ['name', 'A2']]);
    const refused = await acme.create([['meetingID', 'a3'], ['name', 'A3']]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ messageKey: 'quotaExceeded' });
    expect((refused as { bbbMessage: string }).bbbMessage).toMatch(/2/);
    // A running meeting is not a new one: its create still answers.
    expect((await acme.create([['meetingID', 'a1'], ['name', 'A1']])).messageKey).toBe('duplicateWarning');
    // Other tenants are not limited by acme's quota.
    await gw.client.create([['meetingID', 'd1'], ['name', 'D1']]);
    await gw.client.create([['meetingID', 'd2'], ['name', 'D2']]);
    await gw.client.create([['meetingID', 'd3'], ['name', 'D3']]);
  });

  it('20 concurrent creates of a tenant with maxMeetings 5: exactly 5 meetings are created', async () => {
    const policies = await policyWithTenants('  acme:\n    quotas: { maxMeetings: 5 }');
    pool = await startTestPool({ servers: 3, label: 'quota-burst' });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway({ policies });
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acme.create([['meetingID', `burst-${i}`], ['name', `Burst ${i}`]]).then(() => 'ok', (e: unknown) => e)),
    );
    expect(answers.filter((a) => a === 'ok')).toHaveLength(5);
    const refused = answers.filter((a) => a !== 'ok');
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(r).toMatchObject({ messageKey: 'quotaExceeded', bbbMessage: "the tenant's quota of 5 concurrent meetings is reached" });
    const upstream = pool.cluster.servers().reduce((n, { server }) => n + server.model.meetings().length, 0);
    expect(upstream).toBe(5);
    expect((await acme.getMeetings()).length).toBe(5);
  });

  it("refuses joins beyond a tenant's participant quota across its meetings, admits rejoins, and refuses a create with no seat left", async () => {
    const policies = await policyWithTenants('  acme:\n    quotas: { maxParticipants: 10 }');
    pool = await startTestPool({ servers: 2, label: 'quota-join' });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway({ policies });
    // The poller's clock can move past the poll window, when admitted joins are in the polled counts.
    let skew = 0;
    const pollerStore = new Store(pool.redis.redis, { namespace: pool.redis.prefix.slice(0, -1), now: () => Date.now() + skew });
    const poller = new Poller({ ...pollerSettings(pool.settings), store: pollerStore });
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    await acme.create([['meetingID', 'room-a'], ['name', 'Room A']]);
    await acme.create([['meetingID', 'room-b'], ['name', 'Room B']]);
    const roomOf = (i: number) => (i % 2 ? 'room-b' : 'room-a');
    // 14 joins at once into two meetings: the tenant's 10 seats go to exactly 10 of them.
    const first = await Promise.all(Array.from({ length: 14 }, (_, i) => joinVia(gw, roomOf(i), `user-${i}`, 'VIEWER', acme)));
    expect(first.filter((r) => r === 'ok')).toHaveLength(10);
    expect(first.filter((r) => r !== 'ok').every((r) => r === 'maxParticipantsReached')).toBe(true);
    const admitted = first.flatMap((r, i) => (r === 'ok' ? [i] : []));
    // Admitted moments ago: a rejoin takes no new seat. A moderator gets no seat beyond the quota.
    expect(await joinVia(gw, roomOf(admitted[0]!), `user-${admitted[0]}`, 'VIEWER', acme)).toBe('ok');
    expect(await joinVia(gw, 'room-a', 'teacher', 'MODERATOR', acme)).toBe('maxParticipantsReached');
    expect(await (await request(`${gw.url}/metrics`)).body.text()).toMatch(/amphi_joins_refused_total\{reason="tenantQuota"\} 5/);
    await expect(acme.create([['meetingID', 'room-c'], ['name', 'Room C']])).rejects.toMatchObject({
      messageKey: 'quotaExceeded',
      bbbMessage: "the tenant's quota of 10 concurrent participants is reached",
    });
    // Other tenants have seats of their own.
    await gw.client.create([['meetingID', 'room-a'], ['name', 'Default room']]);
    expect(await joinVia(gw, 'room-a', 'someone')).toBe('ok');

    // The admitted users arrive: the poll counts them once, as inside; one inside rejoins.
    const sessions = admitted.map((i) => {
      const server = serverOf(pool!, `acme~${roomOf(i)}`);
      const joined = server.model.join(
        new Map([['meetingID', `acme~${roomOf(i)}`], ['fullName', `User ${i}`], ['role', 'VIEWER'], ['userID', `user-${i}`]]),
        server.clientUrl,
      );
      if (!joined.ok) throw new Error(joined.error.message);
      expect(server.model.enter(joined.result.sessionToken).ok).toBe(true);
      return { server, token: joined.result.sessionToken };
    });
    await poller.pollOnce();
    expect(await pool.store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 10 });
    expect(await joinVia(gw, roomOf(admitted[1]!), `user-${admitted[1]}`, 'VIEWER', acme)).toBe('ok');
    expect(await joinVia(gw, 'room-b', 'late-0', 'VIEWER', acme)).toBe('maxParticipantsReached');
    // Two leave; a poll later (and a poll window on) two seats are free again.
    for (const { server, token } of sessions.slice(0, 2)) server.model.leave(token);
    skew = 20_000;
    await poller.pollOnce();
    await poller.stop();
    expect(await pool.store.meetings.usage('acme')).toEqual({ meetings: 2, participants: 8 });
    expect(await joinVia(gw, 'room-b', 'late-1', 'VIEWER', acme)).toBe('ok');
    expect(await joinVia(gw, 'room-b', 'late-2', 'VIEWER', acme)).toBe('ok');
    expect(await joinVia(gw, 'room-b', 'late-3', 'VIEWER', acme)).toBe('maxParticipantsReached');
  });

  it("a meeting re-pinned after a Redis data loss keeps its profile's limits; a caller cannot set them through metadata", async () => {
    const { pool, gw, poller } = await setUp();
    const created = await gw.client.create([
      ['meetingID', 'class-1'],
      ['name', 'Class 1'],
      ['meta_amphi-profile', 'classroom'],
      // Attempts to raise its own limits: the gateway's values win.
      ['meta_amphi-max-participants', '5000'],
      ['META_AMPHI-MODERATOR-MARGIN', '0'],
    ]);
    const server = serverOf(pool, 'class-1');
    expect(server.model.meeting('class-1')!.metadata).toMatchObject({
      'amphi-profile': 'classroom',
      'amphi-max-participants': '50',
      'amphi-moderator-margin': '2',
    });
    await poller.pollOnce();

    expect(await deleteByPrefix(pool.redis.redis, pool.redis.prefix)).toBeGreaterThan(0);
    expect(await poller.pollOnce()).toMatchObject({ restored: true, repinned: 1 });
    const fields = await pool.redis.redis.hgetall(pool.store.ctx.keys.meeting('default:class-1'));
    expect(fields).toMatchObject({ profile: 'classroom', maxParticipants: '50', moderatorMargin: '2', moderatorPW: created.moderatorPW });

    const viewers = await Promise.all(Array.from({ length: 48 }, (_, i) => joinVia(gw, 'class-1', `pupil-${i}`)));
    expect(viewers.every((r) => r === 'ok')).toBe(true);
    // The last 2 seats are the classroom's moderator margin; the moderator password still makes a moderator.
    expect(await joinVia(gw, 'class-1', 'pupil-late')).toBe('maxParticipantsReached');
    expect(await joinWith(gw.client, [['fullName', 'Teacher'], ['meetingID', 'class-1'], ['password', created.moderatorPW!], ['userID', 't1']])).toBe('ok');
    expect(await joinVia(gw, 'class-1', 'teacher-2', 'MODERATOR')).toBe('ok');
    expect(await joinVia(gw, 'class-1', 'teacher-3', 'MODERATOR')).toBe('maxParticipantsReached');
  });

  it('a policy file with an error leaves the old policy in force; a valid change applies without restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-policy-'));
    cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
    const file = join(dir, 'default.yaml');
    const original = readFileSync(file, 'utf8');
    const policies = new PolicyStore();
    await policies.load(dir);
    policies.watch(50);
    const errors: string[] = [];
    policies.on('error', (e) => errors.push(e.message));
    try {
      pool = await startTestPool({ servers: 1, label: 'reload' });
      const gw = await pool.startGateway({ policies });
      const classroomMax = async (id: string) => {
        await gw.client.create([['meetingID', id], ['name', id], ['meta_amphi-profile', 'classroom']]);
        return serverOf(pool!, id).model.meeting(id)!.maxParticipants;
      };
      expect(await classroomMax('before')).toBe(50);

      writeFileSync(file, original.replace('maxParticipants: 50\n', 'maxParticipants: fifty\n'));
      await waitFor(() => errors.length > 0);
      expect(errors[0]).toMatch(/default\.yaml:\d+/);
      expect(await classroomMax('during')).toBe(50);

      writeFileSync(file, original.replace('maxParticipants: 50\n', 'maxParticipants: 40\n'));
      await waitFor(() => policies.current().profiles.classroom?.bbb.maxParticipants === 40);
      expect(await classroomMax('after')).toBe(40);
    } finally {
      policies.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
