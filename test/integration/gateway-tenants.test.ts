import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

describe('tenants', () => {
  let pool: TestPool;
  let gw: TestGateway;

  beforeAll(async () => {
    pool = await startTestPool({ servers: 2, label: 'tenants' });
    await pool.store.tenants.put({ name: 'acme', secrets: ['acme-new', 'acme-old'], hostnames: ['bbb.acme.test'], settings: {} });
    await pool.store.tenants.put({ name: 'globex', secrets: ['globex-secret'], hostnames: [], settings: {} });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  it('gives each tenant its own meeting-ID namespace on the servers', async () => {
    const acme = gw.clientFor('/t/acme', 'acme-new');
    const globex = gw.clientFor('/t/globex', 'globex-secret');
    const a = await acme.create([['meetingID', 'maths'], ['name', 'Acme maths'], ['attendeePW', 'ap'], ['moderatorPW', 'mp']]);
    const g = await globex.create([['meetingID', 'maths'], ['name', 'Globex maths'], ['attendeePW', 'xx'], ['moderatorPW', 'yy']]);
    expect(a.meetingID).toBe('maths');
    expect(g.meetingID).toBe('maths');
    expect(a.internalMeetingID).not.toBe(g.internalMeetingID);
    const upstream = pool.cluster.servers().flatMap(({ server }) => server.state().meetings.map((m) => m.meetingID));
    expect(upstream).toEqual(expect.arrayContaining(['acme~maths', 'globex~maths']));
    expect((await acme.getMeetingInfo('maths')).meetingName).toBe('Acme maths');
    expect((await globex.getMeetingInfo('maths')).meetingName).toBe('Globex maths');
  });

  it('accepts every secret of a tenant (rotation), and no other tenant secret', async () => {
    const old = gw.clientFor('/t/acme', 'acme-old');
    expect((await old.getMeetings()).map((m) => m.meetingID)).toEqual(['maths']);
    await expect(gw.clientFor('/t/acme', 'globex-secret').getMeetings()).rejects.toMatchObject({ messageKey: 'checksumError' });
    await expect(gw.clientFor('/t/nobody', 'acme-new').getMeetings()).rejects.toMatchObject({ messageKey: 'checksumError' });
  });

  it('never lets a tenant see, join or end another tenant meeting', async () => {
    const globex = gw.clientFor('/t/globex', 'globex-secret');
    await gw.clientFor('/t/acme', 'acme-new').create([['meetingID', 'acme-only'], ['name', 'Acme only']]);
    expect((await globex.getMeetings()).map((m) => m.meetingID)).toEqual(['maths']);
    await expect(globex.getMeetingInfo('acme-only')).rejects.toMatchObject({ messageKey: 'notFound' });
    await expect(globex.end('acme-only')).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(await globex.isMeetingRunning('acme-only')).toBe(false);
    const join = await globex.join([['fullName', 'Spy'], ['meetingID', 'acme-only'], ['role', 'MODERATOR']]).catch((e: unknown) => e);
    expect(join).toMatchObject({ messageKey: 'meetingForciblyEnded' });
    // The default tenant does not see tenant meetings either.
    expect((await gw.client.getMeetings()).map((m) => m.meetingID)).not.toContain('acme-only');
  });

  it('selects the tenant by host name', async () => {
    const query = '';
    const res = await request(`${gw.url}/bigbluebutton/api/getMeetings?checksum=${computeChecksum('getMeetings', query, 'acme-new')}`, {
      headers: { host: 'bbb.acme.test' },
    });
    const body = await res.body.text();
    expect(body).toContain('<meetingID>maths</meetingID>');
    expect(body).toContain('<meetingID>acme-only</meetingID>');
  });

  it('joins a tenant meeting on its namespaced upstream ID', async () => {
    const acme = gw.clientFor('/t/acme', 'acme-new');
    const url = acme.joinUrl([['fullName', 'Teacher'], ['meetingID', 'maths'], ['role', 'MODERATOR']]);
    const res = await request(url);
    expect(res.statusCode).toBe(302);
    await res.body.dump();
    const location = String(res.headers.location);
    expect(location).toContain('meetingID=acme~maths');
    const upstream = await request(location);
    expect(upstream.statusCode).toBe(302);
    expect(String(upstream.headers.location)).toContain('/html5client/join?sessionToken=');
    await upstream.body.dump();
  });
});
