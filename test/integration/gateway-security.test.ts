// The request path against hostile clients: each case here was an attack that worked before
// (a crash, an open redirect, a smuggled meeting ID, a prototype call name, a body read before
// its checksum, no rate limit, no deadline).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { BbbClient } from '../../src/bbb/client.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { enterMeeting } from '../helpers/browser.js';
import { startTestPool, GATEWAY_SECRET, type TestGateway, type TestPool } from '../helpers/gateway.js';

const signedPath = (call: string, query: string, secret = GATEWAY_SECRET, prefix = '') =>
  `${prefix}/bigbluebutton/api/${call}?${query}${query ? '&' : ''}checksum=${computeChecksum(call, query, secret)}`;

function requestsTotal(metrics: string, call: string, outcome: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`amphi_requests_total{call="${call}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('gateway request path against hostile clients', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const get = (path: string, headers: Record<string, string> = {}) => request(`${gw.url}${path}`, { headers });

  beforeAll(async () => {
    pool = await startTestPool({ servers: 2, label: 'security', env: { AMPHI_PUBLIC_URL: 'https://amphi.example.org' } });
    await pool.store.tenants.put({ name: 'acme', secrets: ['acme-secret'], hostnames: [], settings: {} });
    gw = await pool.startGateway();
    await gw.client.create([['meetingID', 'own'], ['name', 'Own room'], ['moderatorPW', 'own-mod']]);
    await gw.clientFor('/t/acme', 'acme-secret').create([['meetingID', 'victim'], ['name', 'Victim room'], ['moderatorPW', 'victim-mod']]);
  });
  afterAll(() => pool.close());

  it('survives an unsigned join whose logoutURL is not ASCII, and redirects to its own base', async () => {
    for (const path of ['/bigbluebutton/api/join?logoutURL=%E2%98%83&checksum=0', '/bigbluebutton/api/join?errorRedirectUrl=%E2%98%83&fullName=x']) {
      const res = await get(path);
      await res.body.dump();
      expect(res.statusCode).toBe(302);
      expect(String(res.headers.location)).toMatch(/^https:\/\/amphi\.example\.org\?errors=/);
    }
    const alive = await get('/bigbluebutton/api');
    expect(alive.statusCode).toBe(200);
    await alive.body.dump();
  });

  it('never lets an unsigned join choose where the browser goes', async () => {
    for (const param of ['errorRedirectUrl', 'logoutURL']) {
      const res = await get(`/bigbluebutton/api/join?${param}=https://evil.example&meetingID=own&fullName=x&checksum=00`);
      await res.body.dump();
      expect(res.statusCode).toBe(302);
      expect(String(res.headers.location)).toMatch(/^https:\/\/amphi\.example\.org\?errors=.*checksumError/);
    }
  });

  it('sends a signed join error to the caller URL in ASCII, and never to a non-http one', async () => {
    const cases: [string, RegExp][] = [
      ['https://lms.example/☃ page?x=1#frag', /^https:\/\/lms\.example\/%E2%98%83%20page\?x=1&errors=/],
      ['javascript:alert(1)', /^https:\/\/amphi\.example\.org\?errors=/],
      ['not a url', /^https:\/\/amphi\.example\.org\?errors=/],
    ];
    for (const [url, expected] of cases) {
      const res = await get(signedPath('join', `meetingID=nowhere&fullName=x&errorRedirectUrl=${encodeURIComponent(url)}`));
      await res.body.dump();
      expect(res.statusCode).toBe(302);
      const location = String(res.headers.location);
      expect(location).toMatch(expected);
      expect(location).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  it('forwards the parsed meeting ID, whatever spelling of the name smuggles another one', async () => {
    const victimUpstream = 'acme~victim';
    const smuggled = [
      'meetingID=own&%6DeetingID=acme~victim',
      '%6DeetingID=acme~victim&meetingID=own',
      'meetingID=own&meeting%49D=acme~victim',
      'meetingID=own&meeting%00ID=acme~victim',
      'meetingID=own&meetingID=acme~victim',
    ];
    let entered = 0;
    for (const ids of smuggled) {
      const res = await get(signedPath('join', `fullName=Mallory&role=MODERATOR&${ids}`));
      await res.body.dump();
      expect(res.statusCode).toBe(302);
      const location = new URL(String(res.headers.location));
      expect(location.search).not.toContain('victim');
      // The first spelling wins, as BBB reads it: the decoded ID is looked up in the caller's
      // own namespace, where `acme~victim` is no meeting at all.
      if (location.origin === 'https://amphi.example.org') {
        expect(location.search).toContain('meetingForciblyEnded');
        continue;
      }
      const meetingIDs = [...location.searchParams].filter(([k]) => k.replace(/\p{Cc}/gu, '') === 'meetingID');
      expect(meetingIDs).toEqual([['meetingID', 'own']]);
      // The browser follows the redirects into the meeting the server chose.
      const upstream = await request(location);
      await upstream.body.dump();
      expect(upstream.statusCode).toBe(302);
      await (await request(String(upstream.headers.location))).body.dump();
      entered++;
    }
    expect(entered).toBe(4);
    const meetings = pool.cluster.servers().flatMap(({ server }) => server.state().meetings);
    expect(meetings.find((m) => m.meetingID === victimUpstream)!.participants).toBe(0);
    expect(meetings.find((m) => m.meetingID === 'own')!.participants).toBe(entered);
  });

  it('counts every spelling of one anonymous signed join URL as one seat', async () => {
    await gw.client.create([['meetingID', 'small'], ['name', 'Small room'], ['maxParticipants', '3']]);
    const query = 'meetingID=small&fullName=Guest&role=VIEWER';
    const checksum = computeChecksum('join', query, GATEWAY_SECRET);
    const spellings = [
      `${query}&checksum=${checksum}`,
      `${query}&checksum=${checksum.toUpperCase()}`,
      `checksum=${checksum}&${query}`,
      `meetingID=small&checksum=${checksum}&fullName=Guest&role=VIEWER`,
      ...Array.from({ length: 8 }, (_, i) => `${query}&checksum=${checksum.slice(0, i)}${checksum.slice(i, i + 1).toUpperCase()}${checksum.slice(i + 1)}`),
    ];
    for (const spelling of spellings) {
      const res = await get(`/bigbluebutton/api/join?${spelling}`);
      await res.body.dump();
      expect(String(res.headers.location)).not.toContain('maxParticipantsReached');
    }
    // Seats are left for the class.
    const named = await get(signedPath('join', 'meetingID=small&fullName=Pupil&role=VIEWER&userID=pupil-1'));
    await named.body.dump();
    expect(String(named.headers.location)).not.toContain('errors=');
  });

  it('answers call names that are Object.prototype members as unknown calls, not internal errors', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const res = await get(`/bigbluebutton/api/${name}?checksum=0`);
      const body = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(body).toContain('<messageKey>validationError</messageKey>');
    }
    const metrics = await (await get('/metrics')).body.text();
    expect(requestsTotal(metrics, 'unknown', 'internalError')).toBe(0);
  });

  it('refuses an unsigned XML body without reading it, and bodies over their limit', async () => {
    const huge = `<modules>${'x'.repeat(40 * 1024 * 1024)}</modules>`;
    const unsigned = await request(`${gw.url}/bigbluebutton/api/create?meetingID=big&name=Big&checksum=00`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: huge,
    }).catch((err: Error) => err);
    // Either the XML FAILED arrives before the upload ends, or the socket closes under the upload.
    if (!(unsigned instanceof Error)) {
      expect(await unsigned.body.text()).toContain('<messageKey>checksumError</messageKey>');
    }
    const query = 'meetingID=big&name=Big';
    const tooBig = await request(`${gw.url}${signedPath('create', query)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: huge,
    }).catch((err: Error) => err);
    if (!(tooBig instanceof Error)) expect(await tooBig.body.text()).toContain('<messageKey>bodyTooLarge</messageKey>');
    const form = await request(`${gw.url}/bigbluebutton/api/getMeetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `x=${'y'.repeat(300 * 1024)}`,
    });
    expect(await form.body.text()).toContain('<messageKey>bodyTooLarge</messageKey>');
    const strange = await request(`${gw.url}${signedPath('getMeetings', '')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await strange.body.text()).toContain('<messageKey>unsupportedContentType</messageKey>');
    const metrics = await (await get('/metrics')).body.text();
    expect(requestsTotal(metrics, 'create', 'checksumError')).toBeGreaterThan(0);
  });

  it('keeps the tenant namespace injective: the default tenant cannot reach acme~victim', async () => {
    const created = await gw.client.create([['meetingID', 'acme~victim'], ['name', 'Impostor']]);
    expect(created.messageKey).not.toBe('duplicateWarning');
    expect(created.moderatorPW).not.toBe('victim-mod');
    const upstreamIDs = pool.cluster.servers().flatMap(({ server }) => server.state().meetings.map((m) => m.meetingID));
    expect(upstreamIDs).toEqual(expect.arrayContaining(['acme~victim', 'acme%7Evictim']));
    expect((await gw.clientFor('/t/acme', 'acme-secret').getMeetingInfo('victim')).meetingName).toBe('Victim room');
  });

  it('answers an undecodable API path with BBB XML, not fastify JSON', async () => {
    for (const path of ['/bigbluebutton/api/%FF', '/bigbluebutton/api/join%C3%28x', '/t/%E2%82/bigbluebutton/api/getMeetings']) {
      const res = await get(path);
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toContain('<messageKey>validationError</messageKey>');
    }
  });

  it('reads an empty redirect as BBB does (a redirect), and never passes a non-200 upstream answer on', async () => {
    const res = await get(signedPath('join', 'meetingID=own&fullName=Empty&redirect='));
    await res.body.dump();
    expect(res.statusCode).toBe(302);
    // A query the server refuses outright (over its header limit) is a FAILED answer, not an empty 200.
    const huge = await get(signedPath('join', `meetingID=own&fullName=Huge&redirect=false&userdata-x=${'%25'.repeat(5000)}`));
    const body = await huge.body.text();
    expect(huge.statusCode).toBe(200);
    expect(body).toContain('<returncode>FAILED</returncode>');
  });

  it('refuses a tenant meeting ID that would not fit BBB limits once namespaced', async () => {
    const acme = gw.clientFor('/t/acme', 'acme-secret');
    await expect(acme.create([['meetingID', 'x'.repeat(252)], ['name', 'Long']])).rejects.toMatchObject({ messageKey: 'sizeError' });
    expect((await acme.create([['meetingID', 'y'.repeat(251)], ['name', 'Long enough']])).meetingID).toBe('y'.repeat(251));
  });

  it('never lets a client create a breakout room that the poller would file under another tenant', async () => {
    const victim = pool.cluster
      .servers()
      .flatMap(({ server }) => server.state().meetings)
      .find((m) => m.meetingID === 'acme~victim')!;
    const created = await gw.client.create([
      ['meetingID', 'fake-breakout'],
      ['name', 'Fake breakout'],
      ['isBreakout', 'true'],
      ['parentMeetingID', victim.internalMeetingID],
      ['sequence', '1'],
    ]);
    expect(created.meetingID).toBe('fake-breakout');
    // Asked of the server itself: the gateway's own answer would not show what BBB made of it.
    const infos = await Promise.all(
      pool.cluster.servers().map(({ server }) =>
        new BbbClient({ apiUrl: server.apiUrl, secret: server.secret, timeoutMs: 2000 }).getMeetingInfo('fake-breakout').catch(() => undefined),
      ),
    );
    const onServer = infos.filter((i) => i !== undefined);
    expect(onServer).toHaveLength(1);
    expect(onServer[0]!.isBreakout).toBe(false);
  });

  it('does not move default-tenant meetings to a tenant added later with their prefix', async () => {
    await gw.client.create([['meetingID', 'newco~lesson'], ['name', 'Default lesson']]);
    await pool.store.tenants.put({ name: 'newco', secrets: ['newco-secret'], hostnames: [], settings: {} });
    const newco = gw.clientFor('/t/newco', 'newco-secret');
    // The poller files what it finds on the servers under their owners.
    const poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() });
    await poller.pollOnce();
    await new Promise((r) => setTimeout(r, 2100)); // the gateway re-reads tenants every 2 s
    expect(await newco.getMeetings()).toEqual([]);
    expect((await pool.store.meetings.list('newco')).map((m) => m.meetingID)).toEqual([]);
    expect((await gw.client.getMeetingInfo('newco~lesson')).meetingName).toBe('Default lesson');
  });
});

describe('gateway rate limits, the same on the join fast path and the fastify route', () => {
  let pool: TestPool;
  let gw: TestGateway;

  beforeAll(async () => {
    pool = await startTestPool({
      servers: 1,
      label: 'ratelimit',
      env: { AMPHI_RATE_LIMIT_PER_IP: '6', AMPHI_RATE_LIMIT_PER_TENANT: '1000', AMPHI_TRUST_PROXY: 'loopback', AMPHI_PUBLIC_URL: 'https://amphi.example.org' },
    });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  it('limits per client address, on joins too, with BBB-style answers identical on both paths', async () => {
    const joinPath = signedPath('join', 'meetingID=nowhere&fullName=x');
    const fast = async (ip: string) => {
      const res = await request(`${gw.url}${joinPath}`, { headers: { 'x-forwarded-for': ip } });
      await res.body.dump();
      return { status: res.statusCode, location: String(res.headers.location) };
    };
    // app.inject goes through fastify's routing, never through the fast path.
    const routed = async (ip: string) => {
      const res = await gw.app.inject({ method: 'GET', url: joinPath, headers: { 'x-forwarded-for': ip } });
      return { status: res.statusCode, location: String(res.headers.location) };
    };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await fast('203.0.113.7'), await routed('203.0.113.7'));
    const [first] = answers;
    expect(first!.location).toContain('meetingForciblyEnded');
    expect(answers.slice(0, 6).every((a) => a.status === 302 && a.location === first!.location)).toBe(true);
    expect(answers[6]).toEqual(answers[7]);
    expect(answers[6]!.location).toMatch(/^https:\/\/amphi\.example\.org\?errors=.*tooManyRequests/);
    // Another address is counted apart.
    expect((await fast('203.0.113.8')).location).toContain('meetingForciblyEnded');

    const getMeetings = await request(`${gw.url}${signedPath('getMeetings', '')}`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const body = await getMeetings.body.text();
    expect(getMeetings.statusCode).toBe(200);
    expect(body).toContain('<messageKey>tooManyRequests</messageKey>');
  });

  it('counts joins sent by another method, unread, before any work', async () => {
    const answers = [];
    for (let i = 0; i < 8; i++) {
      const res = await request(`${gw.url}/t/nosuch/bigbluebutton/api/join?meetingID=x&fullName=y&checksum=00`, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.20', 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x--',
      });
      answers.push(`${res.statusCode} ${String(res.headers.location ?? '')} ${await res.body.text()}`);
    }
    expect(answers.slice(0, 6).every((a) => a.includes('validationError'))).toBe(true);
    // Over the limit: BBB's join error redirect, to our own base.
    expect(answers.slice(6).every((a) => /^302 https:\/\/amphi\.example\.org\?errors=.*tooManyRequests/.test(a))).toBe(true);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const strict = await startTestPool({ servers: 1, label: 'ratelimit-strict', env: { AMPHI_RATE_LIMIT_PER_IP: '3', AMPHI_TRUST_PROXY: 'false' } });
    try {
      const g = await strict.startGateway();
      const bodies = [];
      for (let i = 0; i < 4; i++) {
        const res = await request(`${g.url}${signedPath('getMeetings', '')}`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } });
        bodies.push(await res.body.text());
      }
      expect(bodies.slice(0, 3).every((b) => b.includes('<returncode>SUCCESS</returncode>'))).toBe(true);
      expect(bodies[3]).toContain('tooManyRequests');
    } finally {
      await strict.close();
    }
  });

  it('gives calls that ask every server (recordings) a budget of their own', async () => {
    const fanOutPool = await startTestPool({ servers: 2, label: 'ratelimit-fanout', env: { AMPHI_RATE_LIMIT_FAN_OUT_PER_TENANT: '2', AMPHI_RATE_LIMIT_PER_IP: '0' } });
    try {
      const g = await fanOutPool.startGateway();
      for (let i = 0; i < 2; i++) expect(await g.client.getRecordings()).toEqual([]);
      await expect(g.client.getRecordings()).rejects.toMatchObject({ messageKey: 'tooManyRequests' });
      expect(await g.client.getMeetings()).toEqual([]);
    } finally {
      await fanOutPool.close();
    }
  });

  it('limits per tenant, counting only signed requests', async () => {
    const tenantPool = await startTestPool({ servers: 1, label: 'ratelimit-tenant', env: { AMPHI_RATE_LIMIT_PER_TENANT: '3', AMPHI_RATE_LIMIT_PER_IP: '0' } });
    try {
      await tenantPool.store.tenants.put({ name: 'acme', secrets: ['acme-secret'], hostnames: [], settings: {} });
      const g = await tenantPool.startGateway();
      // Strangers' unsigned requests do not spend the tenant's budget.
      for (let i = 0; i < 10; i++) await (await request(`${g.url}/t/acme/bigbluebutton/api/getMeetings?checksum=00`)).body.dump();
      const acme = g.clientFor('/t/acme', 'acme-secret');
      // Joins come from browsers holding signed URLs: they never spend the tenant's budget.
      for (let i = 0; i < 5; i++) await (await request(acme.joinUrl([['meetingID', 'nowhere'], ['fullName', 'x']]))).body.dump();
      for (let i = 0; i < 3; i++) await acme.getMeetings();
      await expect(acme.getMeetings()).rejects.toMatchObject({ messageKey: 'tooManyRequests' });
      // The default tenant has its own budget.
      expect(await g.client.getMeetings()).toEqual([]);
    } finally {
      await tenantPool.close();
    }
  });
});

describe('gateway request deadline', () => {
  it('answers FAILED within the deadline when a server hangs', async () => {
    const pool = await startTestPool({ servers: 1, label: 'deadline', env: { AMPHI_REQUEST_TIMEOUT_MS: '300', AMPHI_UPSTREAM_TIMEOUT_MS: '5000' } });
    try {
      const gw = await pool.startGateway();
      await pool.cluster.server(0)!.setFault('hang');
      const started = performance.now();
      const res = await request(`${gw.url}${signedPath('create', 'meetingID=slow&name=Slow')}`);
      const body = await res.body.text();
      expect(performance.now() - started).toBeLessThan(4000);
      expect(res.statusCode).toBe(200);
      expect(body).toContain('<messageKey>serviceUnavailable</messageKey>');
      await pool.cluster.server(0)!.setFault('none');
    } finally {
      await pool.close();
    }
  });
});

describe('gateway meeting state after a repeated create and after end', () => {
  let pool: TestPool;
  let gw: TestGateway;
  beforeAll(async () => {
    pool = await startTestPool({ servers: 1, label: 'lifecycle' });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  const enter = enterMeeting;

  it('a duplicate create keeps what the poll measured', async () => {
    await gw.client.create([['meetingID', 'lesson'], ['name', 'Lesson']]);
    await enter(gw.client.joinUrl([['meetingID', 'lesson'], ['fullName', 'Ada'], ['role', 'VIEWER'], ['userID', 'ada']]));
    await new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() }).pollOnce();
    expect(await gw.client.isMeetingRunning('lesson')).toBe(true);
    const again = await gw.client.create([['meetingID', 'lesson'], ['name', 'Lesson']]);
    expect(again.messageKey).toBe('duplicateWarning');
    expect(await gw.client.isMeetingRunning('lesson')).toBe(true);
    expect((await gw.client.getMeetingInfo('lesson')).participantCount).toBe(1);
  });

  it('refuses joins once the gateway ended the meeting, until it is created again', async () => {
    await gw.client.create([['meetingID', 'ended'], ['name', 'Ended']]);
    await gw.client.end('ended');
    const refused = await request(gw.client.joinUrl([['meetingID', 'ended'], ['fullName', 'Late'], ['role', 'VIEWER']]));
    await refused.body.dump();
    expect(String(refused.headers.location)).toContain('meetingForciblyEnded');
    await gw.client.create([['meetingID', 'ended'], ['name', 'Ended, again']]);
    const location = await enter(gw.client.joinUrl([['meetingID', 'ended'], ['fullName', 'Back'], ['role', 'VIEWER']]));
    expect(location).toContain('meetingID=ended');
  });
});
