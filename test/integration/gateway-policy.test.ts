import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { DEFAULT_POLICY_DIR, PolicyStore } from '../../src/policy/index.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import type { SimServer } from '../../src/simulator/index.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

/** The camera-vs-capacity rule enforced end to end: gateway, Redis admission, simulated pool. */
describe('capacity policy at create and join', () => {
  let pool: TestPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  async function setUp(servers = 2, capacity = 1000): Promise<{ pool: TestPool; gw: TestGateway; poller: Poller; warnings: string[] }> {
    pool = await startTestPool({ servers, capacity, label: 'policy' });
    const gw = await pool.startGateway();
    const warnings: string[] = [];
    const log = { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore(), policy: () => gw.gateway.policies.current(), log });
    return { pool, gw, poller, warnings };
  }

  const serverOf = (p: TestPool, upstreamID: string): SimServer =>
    p.cluster.servers().find(({ server }) => server.model.meeting(upstreamID))!.server;

  /** Joins through the gateway without following the redirect: admission happens here. */
  async function joinVia(gw: TestGateway, meetingID: string, user: string, role = 'VIEWER'): Promise<string> {
    const res = await request(gw.client.joinUrl([['fullName', user], ['meetingID', meetingID], ['role', role], ['userID', user]]));
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
    expect(warnings.join('\n')).toMatch(/default:auto-1 .* over the camera curve: 200 participants with 10 cameras/);

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
    const dir = mkdtempSync(join(tmpdir(), 'amphi-policy-'));
    cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
    const file = join(dir, 'default.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^tenants: \{\}$/m, 'tenants:\n  acme:\n    quotas: { maxMeetings: 2 }'));
    const policies = new PolicyStore();
    await policies.load(dir);
    pool = await startTestPool({ servers: 2, label: 'quota' });
    await pool.store.tenants.put({ name: 'acme', secrets: ['acme-secret-0123456789'], hostnames: [], settings: {} });
    const gw = await pool.startGateway({ policies });
    const acme = gw.clientFor('/t/acme', 'acme-secret-0123456789');
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
