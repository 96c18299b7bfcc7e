// No secret and no checksum ever reaches a log. `amphi all` and `amphi scaler`, the built
// binary as an operator runs it, at LOG_LEVEL=trace, take real traffic with its failures (a
// server registered with a wrong secret, bad checksums, unknown meetings, a server that goes
// down, admin calls with a bad token, a scaler whose webhook does not answer); then everything
// both processes wrote, stdout and stderr, is searched for every secret the run knew and every
// checksum it sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/admin/token.js';
import { BbbClient } from '../../src/bbb/client.js';
import { SimServer } from '../../src/simulator/index.js';
import { Store } from '../../src/state/store.js';
import { closedPort } from '../helpers/bbb-stub.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** Distinct random values, so that a hit can only be a leak. */
const secret = (): string => randomBytes(20).toString('hex');
const SECRETS = {
  AMPHI_SECRET: secret(),
  AMPHI_SECRET_OLD: secret(),
  acme: secret(),
  AMPHI_JWT_SECRET: secret(),
  otherJwtKey: secret(),
  REDIS_PASSWORD: secret(),
  AMPHI_SCALER_WEBHOOK_SECRET: secret(),
  SCW_SECRET_KEY: secret(),
  serverA: secret(),
  serverB: secret(),
  serverWrong: secret(),
  registeredWrong: secret(),
  moderatorPW: secret(),
  attendeePW: secret(),
};

interface Running {
  child: ChildProcess;
  output: string[];
}

function start(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  return { child, output };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((resolve) => r.child.once('exit', resolve));
  r.child.kill('SIGTERM');
  await exited;
}

describe.skipIf(!existsSync(CLI))('logs at LOG_LEVEL=trace', () => {
  let t: TestRedis;
  const pool = `logsecrets${randomBytes(4).toString('hex')}`;
  const sims: SimServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'amphi-log-secrets-'));
  let all: Running;
  let scaler: Running;
  /** Every URL the test sent, and every signed URL it was sent to: their checksums. */
  const urls: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    t = testRedis('log-secrets');
    const store = new Store(t.redis, { pool });
    const [a, b, wrong] = await Promise.all([SECRETS.serverA, SECRETS.serverB, SECRETS.serverWrong].map((s) => SimServer.start({ host: '127.0.0.1', port: 0, secret: s })));
    sims.push(a!, b!, wrong!);
    // With their node exporters, whose scrapes fail too when a server goes down.
    await store.servers.add({ id: 'a', url: a!.apiUrl, secret: SECRETS.serverA, capacity: 1000, health: 'online', metricsUrl: `${a!.baseUrl}/metrics` });
    await store.servers.add({ id: 'b', url: b!.apiUrl, secret: SECRETS.serverB, capacity: 1000, health: 'online', metricsUrl: `${b!.baseUrl}/metrics` });
    // Registered with a secret its server does not accept: every poll fails with checksumError.
    await store.servers.add({ id: 'wrong', url: wrong!.apiUrl, secret: SECRETS.registeredWrong, capacity: 1000, health: 'online', state: 'cordoned' });
    await store.tenants.put({ name: 'acme', secrets: [SECRETS.acme], hostnames: [], settings: {} });

    const hook = `http://127.0.0.1:${await closedPort()}/hook`;
    const config = join(dir, 'scaler.json');
    writeFileSync(
      config,
      JSON.stringify({
        reconcileInterval: '1s',
        classes: { standard: { min: 1, max: 3 } },
        schedule: { timezone: 'UTC', rules: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', to: '24:00', load: 1500 }] },
        provider: { type: 'webhook', url: hook, timeoutMs: 500 },
      }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AMPHI_CONFIG: '',
      REDIS_URL: t.url,
      REDIS_PASSWORD: SECRETS.REDIS_PASSWORD,
      AMPHI_POOL: pool,
      AMPHI_SECRET: `${SECRETS.AMPHI_SECRET},${SECRETS.AMPHI_SECRET_OLD}`,
      AMPHI_JWT_SECRET: SECRETS.AMPHI_JWT_SECRET,
      AMPHI_SCALER_WEBHOOK_SECRET: SECRETS.AMPHI_SCALER_WEBHOOK_SECRET,
      SCW_SECRET_KEY: SECRETS.SCW_SECRET_KEY,
      LOG_LEVEL: 'trace',
      HOST: '127.0.0.1',
      PORT: '0',
      AMPHI_METRICS_PORT: '0',
      AMPHI_POLL_INTERVAL_MS: '200',
      AMPHI_POLL_TIMEOUT_MS: '500',
      AMPHI_LIVE_READ_TIMEOUT_MS: '300',
      AMPHI_UPSTREAM_TIMEOUT_MS: '500',
      AMPHI_SNAPSHOT_MS: '0',
    };
    all = start(['all'], env);
    scaler = start(['scaler', '--config', config], env);
  }, 30_000);

  afterAll(async () => {
    for (const r of [all, scaler]) if (r) await stop(r);
    for (const sim of sims) await sim.close();
    rmSync(dir, { recursive: true, force: true });
    await deleteByPrefix(t.redis, `amphi:{${pool}}:`);
    await t.cleanup();
  });

  it('hold no secret, password, token or checksum, failures included', async () => {
    const base = await waitFor('the gateway', () => /listening on (http:\/\/\S+)\/bigbluebutton\/api/.exec(all.output.join(''))?.[1]);
    const store = new Store(t.redis, { pool });
    const bbb = (tenantPath: string, key: string) => new BbbClient({ apiUrl: `${base}${tenantPath}/bigbluebutton/api`, secret: key });
    const get = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number; location: string; body: string }> => {
      urls.push(url);
      const res = await request(url, { headers });
      return { status: res.statusCode, location: String(res.headers.location ?? ''), body: await res.body.text() };
    };
    const own = bbb('', SECRETS.AMPHI_SECRET);
    const acme = bbb('/t/acme', SECRETS.acme);
    const passwords = { moderatorPW: SECRETS.moderatorPW, attendeePW: SECRETS.attendeePW };

    // Meetings on both servers, for two tenants; joins (their redirects are signed for the server).
    for (const id of ['room-1', 'room-2', 'room-3', 'room-4']) expect((await get(own.url('create', { meetingID: id, name: id, ...passwords }))).body).toContain('SUCCESS');
    expect((await get(acme.url('create', { meetingID: 'class', name: 'class', ...passwords }))).body).toContain('SUCCESS');
    for (const [client, id] of [[own, 'room-1'], [acme, 'class']] as const) {
      const joined = await get(client.url('join', { meetingID: id, fullName: 'Ada', role: 'MODERATOR', password: SECRETS.moderatorPW }));
      expect(joined.status).toBe(302);
      urls.push(joined.location);
    }
    expect((await get(own.url('getMeetingInfo', { meetingID: 'room-1' }))).body).toContain('SUCCESS');
    expect((await get(own.url('isMeetingRunning', { meetingID: 'room-2' }))).body).toContain('SUCCESS');
    expect((await get(own.url('getMeetings'))).body).toContain('SUCCESS');
    expect((await get(own.url('getRecordings'))).body).toContain('SUCCESS');

    // Refusals: bad checksums (another tenant's secret, a server's), unknown meetings, an end with a wrong password.
    expect((await get(bbb('', SECRETS.acme).url('getMeetings'))).body).toContain('checksumError');
    expect((await get(bbb('/t/acme', SECRETS.serverA).url('create', { meetingID: 'x', name: 'x' }))).body).toContain('checksumError');
    expect((await get(`${base}/bigbluebutton/api/getMeetings?checksum=${SECRETS.AMPHI_SECRET}`)).body).toContain('checksumError');
    expect((await get(own.url('getMeetingInfo', { meetingID: 'nobody-here' }))).body).toContain('notFound');
    expect((await get(own.url('join', { meetingID: 'nobody-here', fullName: 'Bob', role: 'VIEWER' }))).status).toBe(302);
    await get(own.url('end', { meetingID: 'room-4', password: SECRETS.attendeePW }));

    // The admin API: a good token, a token signed with another key, a server added with a secret its server refuses.
    const token = mintAdminToken(SECRETS.AMPHI_JWT_SECRET);
    const forged = mintAdminToken(SECRETS.otherJwtKey);
    tokens.push(token, forged);
    expect((await get(`${base}/admin/servers`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(`${base}/admin/servers`, { authorization: `Bearer ${forged}` })).status).toBe(401);
    const added = await request(`${base}/admin/servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c', url: sims[0]!.apiUrl, secret: SECRETS.serverWrong, capacity: 500 }),
    });
    expect(added.statusCode).toBeGreaterThanOrEqual(400);
    await added.body.dump();

    // A server goes down under its meetings: live reads fail, a create goes elsewhere, the poller marks it offline.
    const room1 = (await store.meetings.get('default', 'room-1'))!;
    const down = sims[room1.server === 'a' ? 0 : 1]!;
    await down.setFault('down');
    expect((await get(own.url('getMeetingInfo', { meetingID: 'room-1' }))).body).toContain('SUCCESS');
    await get(own.url('create', { meetingID: 'room-1', name: 'room-1', ...passwords }));
    await waitFor('the server marked offline', async () => ((await store.servers.get(room1.server))?.health === 'offline' ? true : undefined));
    // The scaler's webhook never answers: its attempts fail and are logged.
    await waitFor('a scaler job outcome', () => (/scaler\.job\.provision/.test(scaler.output.join('')) ? true : undefined));

    await stop(all);
    await stop(scaler);
    const logged = [...all.output, ...scaler.output].join('');

    // What was logged is pino JSON, each line naming its role; the failures are there, with their request ids.
    const lines = logged
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const roles = new Set(lines.map((l) => l.role));
    expect([...roles].sort()).toEqual(['gateway', 'poller', 'scaler']);
    expect(lines.some((l) => l.role === 'gateway' && l.reqId !== undefined && l.server === room1.server)).toBe(true);
    expect(lines.some((l) => l.role === 'poller' && Array.isArray(l.offline))).toBe(true);
    expect(lines.some((l) => l.role === 'scaler' && l.level === 40)).toBe(true);

    const checksums = urls.flatMap((u) => [...u.matchAll(/checksum=([0-9a-fA-F]+)/g)].map((m) => m[1]!));
    expect(checksums.length).toBeGreaterThan(20);
    const leaks = [
      ...Object.entries(SECRETS).map(([name, value]) => ({ name, value })),
      ...checksums.map((value) => ({ name: `checksum ${value}`, value })),
      ...tokens.map((value, i) => ({ name: `admin token ${i}`, value })),
    ].filter(({ value }) => logged.includes(value));
    expect(leaks.map((l) => l.name)).toEqual([]);
    expect(logged).not.toMatch(/checksum=/i);
  }, 60_000);
});
