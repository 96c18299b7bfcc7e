import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { BbbClientError } from '../../src/bbb/client.js';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { startTestPool, GATEWAY_SECRET, type TestGateway, type TestPool } from '../helpers/gateway.js';

describe('gateway BBB API over a simulated pool', () => {
  let pool: TestPool;
  let gw: TestGateway;

  beforeAll(async () => {
    pool = await startTestPool({ servers: 3 });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  const get = (path: string) => request(`${gw.url}${path}`, { method: 'GET' });
  const signed = (call: string, query: string, secret = GATEWAY_SECRET) =>
    `/bigbluebutton/api/${call}?${query}${query ? '&' : ''}checksum=${computeChecksum(call, query, secret)}`;

  it('answers the index call with and without a checksum', async () => {
    for (const path of ['/bigbluebutton/api', '/bigbluebutton/api/', `/bigbluebutton/api?checksum=${computeChecksum('', '', GATEWAY_SECRET)}`]) {
      const res = await get(path);
      expect(res.statusCode).toBe(200);
      const body = await res.body.text();
      expect(body).toContain('<returncode>SUCCESS</returncode>');
      expect(body).toContain('<apiVersion>2.0</apiVersion>');
    }
  });

  it('creates a meeting on a pool server and answers duplicateWarning on a second create', async () => {
    const first = await gw.client.create([['meetingID', 'room-1'], ['name', 'Room 1'], ['attendeePW', 'ap'], ['moderatorPW', 'mp']]);
    expect(first.meetingID).toBe('room-1');
    expect(first.messageKey).toBe('');
    const record = await pool.store.meetings.get('default', 'room-1');
    expect(record?.status).toBe('running');
    const again = await gw.client.create([['meetingID', 'room-1'], ['name', 'Room 1']]);
    expect(again.messageKey).toBe('duplicateWarning');
    expect(again.internalMeetingID).toBe(first.internalMeetingID);
    // The meeting exists on exactly one simulated server.
    const holders = pool.cluster.servers().filter(({ server }) => server.state().meetings.some((m) => m.meetingID === 'room-1'));
    expect(holders).toHaveLength(1);
  });

  it('passes a server-side FAILED through (idNotUnique) and refuses invalid params like BBB', async () => {
    await expect(gw.client.create([['meetingID', 'room-1'], ['name', 'Room 1'], ['attendeePW', 'other'], ['moderatorPW', 'mp']])).rejects.toMatchObject({
      kind: 'failed',
      messageKey: 'idNotUnique',
    });
    await expect(gw.client.create([['meetingID', 'x'], ['name', 'Name']])).rejects.toMatchObject({ messageKey: 'sizeError' });
    await expect(gw.client.create([['meetingID', 'a,b'], ['name', 'Name']])).rejects.toMatchObject({ messageKey: 'validationError' });
    await expect(gw.client.create([['meetingID', 'nameless']])).rejects.toMatchObject({ messageKey: 'nullError' });
  });

  it('redirects a join to the meeting server with a checksum valid for that server', async () => {
    await gw.client.create([['meetingID', 'room-2'], ['name', 'Room 2']]);
    const res = await get(signed('join', 'fullName=Ada+L%27ovelace&meetingID=room-2&role=MODERATOR&userID=ada'));
    expect(res.statusCode).toBe(302);
    await res.body.dump();
    const location = res.headers.location as string;
    const server = pool.cluster.servers().find(({ server }) => location.startsWith(server.apiUrl))?.server;
    expect(server).toBeDefined();
    // Following it as a browser does: the simulated server accepts the checksum and lets the user in.
    const upstream = await request(location);
    expect(upstream.statusCode).toBe(302);
    const client = await request(upstream.headers.location as string);
    expect(client.statusCode).toBe(200);
    await client.body.dump();
    await upstream.body.dump();
    const info = await gw.client.getMeetingInfo('room-2');
    expect(info.meetingID).toBe('room-2');
  });

  it('answers join errors as BBB does: redirect with errors, or XML with redirect=false', async () => {
    const res = await get(signed('join', 'fullName=A&meetingID=nope&role=VIEWER'));
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toContain('meetingForciblyEnded');
    await res.body.dump();
    const xml = await get(signed('join', 'fullName=A&meetingID=nope&role=VIEWER&redirect=false'));
    expect(await xml.body.text()).toContain('<messageKey>meetingForciblyEnded</messageKey>');
    const bad = await get('/bigbluebutton/api/join?fullName=A&meetingID=room-2&role=VIEWER&redirect=false&checksum=00');
    expect(await bad.body.text()).toContain('<messageKey>checksumError</messageKey>');
  });

  it('join redirect=false passes the server XML through', async () => {
    await gw.client.create([['meetingID', 'room-3'], ['name', 'Room 3']]);
    const res = await get(signed('join', 'fullName=Bob&meetingID=room-3&role=VIEWER&redirect=false'));
    const body = await res.body.text();
    expect(body).toContain('<messageKey>successfullyJoined</messageKey>');
    expect(body).toMatch(/<url>http:\/\/127\.0\.0\.1:\d+\/html5client\/join\?sessionToken=/);
  });

  it('checks checksums: missing, wrong, and sha256/sha512 accepted', async () => {
    expect(await (await get('/bigbluebutton/api/getMeetings')).body.text()).toContain('You must provide the checksum');
    expect(await (await get('/bigbluebutton/api/getMeetings?checksum=abc')).body.text()).toContain('Checksums do not match');
    const sha512 = computeChecksum('getMeetings', '', GATEWAY_SECRET, 'sha512');
    expect(await (await get(`/bigbluebutton/api/getMeetings?checksum=${sha512}`)).body.text()).toContain('<returncode>SUCCESS</returncode>');
    const rec = await (await get('/bigbluebutton/api/getRecordings?checksum=abc')).body.text();
    expect(rec).toContain('You did not pass the checksum security check');
  });

  it('unknown calls, unsupported calls, wrong methods and bad content types get BBB FAILED answers with 200', async () => {
    const unknown = await get(signed('doSomething', ''));
    expect(unknown.statusCode).toBe(200);
    expect(await unknown.body.text()).toContain('Request not recognized');
    expect(await (await get(signed('getSessions', ''))).body.text()).toContain('<messageKey>unsupportedRequest</messageKey>');
    const post = await request(`${gw.url}${signed('getMeetings', '')}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.statusCode).toBe(200);
    expect(await post.body.text()).toContain('unsupportedContentType');
    const put = await request(`${gw.url}${signed('getMeetings', '')}`, { method: 'PUT' });
    expect(put.statusCode).toBe(200);
    expect(await put.body.text()).toContain('<returncode>FAILED</returncode>');
  });

  it('accepts a POST form with all params in the body, signed over the empty query', async () => {
    const body = 'meetingID=room-post&name=Posted+Room';
    const res = await request(`${gw.url}/bigbluebutton/api/create?checksum=${computeChecksum('create', '', GATEWAY_SECRET)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await res.body.text()).toContain('<meetingID>room-post</meetingID>');
  });

  it('isMeetingRunning, getMeetingInfo, getMeetings and end', async () => {
    expect(await gw.client.isMeetingRunning('unknown-meeting')).toBe(false);
    await expect(gw.client.getMeetingInfo('unknown-meeting')).rejects.toMatchObject({ messageKey: 'notFound' });
    const meetings = await gw.client.getMeetings();
    expect(meetings.map((m) => m.meetingID)).toEqual(expect.arrayContaining(['room-1', 'room-2', 'room-3']));
    await gw.client.end('room-3');
    await expect(gw.client.end('unknown-meeting')).rejects.toMatchObject({ messageKey: 'notFound' });
  });

  it('exposes request counters and pool gauges on /metrics, and health and readiness', async () => {
    const body = await (await get('/metrics')).body.text();
    expect(body).toMatch(/amphi_requests_total\{call="create",outcome="success"\} [1-9]/);
    expect(body).toMatch(/amphi_requests_total\{call="create",outcome="duplicate"\} [1-9]/);
    expect(body).toMatch(/amphi_requests_total\{call="join",outcome="success"\} [1-9]/);
    expect(body).toMatch(/amphi_joins_refused_total\{reason="refused"\} [1-9]/);
    expect(body).toMatch(/amphi_request_duration_seconds_count\{call="getMeetings"\} [1-9]/);
    expect(body).toMatch(/amphi_placement_duration_seconds_count\{outcome="placed"\} [1-9]/);
    expect(body).toContain('amphi_pool_capacity 1500');
    expect(body).toMatch(/amphi_pool_reserved [1-9]/);
    expect(body).toMatch(/amphi_server_online\{server="sim000"\} 1/);
    expect(body).toMatch(/amphi_pool_servers\{health="online",state="enabled"\} 3/);
    expect((await get('/health')).statusCode).toBe(200);
    expect((await get('/ready')).statusCode).toBe(200);
  });

  it('never answers 500: an internal failure is a BBB FAILED', async () => {
    const err = await gw.client.create([['meetingID', 'x'.repeat(300)], ['name', 'N']]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BbbClientError);
    expect((err as BbbClientError).kind).toBe('failed');
  });
});

describe('gateway without Redis', () => {
  it('answers BBB FAILED serviceUnavailable (not a 500) and /ready 503', async () => {
    const { buildApp } = await import('../../src/api/app.js');
    const { loadSettings } = await import('../../src/config/settings.js');
    const { createRedis } = await import('../../src/redis/connect.js');
    const { Store } = await import('../../src/state/store.js');
    // Nothing listens on port 1: every command fails fast.
    const redis = createRedis('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => {});
    const settings = loadSettings({ AMPHI_SECRET: GATEWAY_SECRET, LOG_LEVEL: 'silent' });
    const { app } = await buildApp({ store: new Store(redis), redis, settings, logger: false });
    try {
      const query = 'meetingID=m1&name=Meeting';
      const res = await app.inject({ url: `/bigbluebutton/api/create?${query}&checksum=${computeChecksum('create', query, GATEWAY_SECRET)}` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<messageKey>serviceUnavailable</messageKey>');
      expect((await app.inject({ url: '/ready' })).statusCode).toBe(503);
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
