import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { phpUrl as phpShape, rubyUrl as rubyShape } from '../helpers/client-shapes.js';
import { GATEWAY_SECRET, startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

// The PHP and Ruby clients' request shapes (bbb-api.md §1.3), byte for byte, against the gateway.

const phpUrl = (base: string, call: string, params: [string, string][]) => phpShape(base, GATEWAY_SECRET, call, params);
const rubyUrl = (base: string, call: string, params: [string, string][]) => rubyShape(base, GATEWAY_SECRET, call, params);

describe('the PHP and Ruby clients request shapes through the gateway', () => {
  let pool: TestPool;
  let gw: TestGateway;
  beforeAll(async () => {
    pool = await startTestPool({ servers: 2, label: 'clients' });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  const text = async (url: string, init?: Parameters<typeof request>[1]) => (await request(url, init)).body.text();

  it('PHP: create with spaces and apostrophes, getMeetings as `?&checksum=`, join, end', async () => {
    const created = await text(phpUrl(gw.url, 'create', [['name', "Anton G's Room (maths)"], ['meetingID', 'php room 1'], ['attendeePW', 'ap'], ['moderatorPW', 'mp']]));
    expect(created).toContain('<returncode>SUCCESS</returncode>');
    expect(created).toContain('<meetingID>php room 1</meetingID>');
    const checksum = createHash('sha256').update(`getMeetings${GATEWAY_SECRET}`).digest('hex');
    const list = await text(`${gw.url}/bigbluebutton/api/getMeetings?&checksum=${checksum}`);
    expect(list).toContain('<meetingID>php room 1</meetingID>');
    const joined = await request(phpUrl(gw.url, 'join', [['meetingID', 'php room 1'], ['fullName', "Zoë O'Brien"], ['password', 'mp']]));
    await joined.body.dump();
    expect(joined.statusCode).toBe(302);
    // The server accepts the re-signed query: following the redirect enters the user.
    const upstream = await request(String(joined.headers.location));
    await upstream.body.dump();
    expect(String(upstream.headers.location)).toContain('/html5client/join?sessionToken=');
    expect(await text(phpUrl(gw.url, 'end', [['meetingID', 'php room 1'], ['password', 'mp']]))).toContain('sentEndMeetingRequest');
  });

  it('Ruby: sorted parameters with + for spaces, and create with XML modules in a POST body', async () => {
    const modules = '<modules><module name="presentation"><document url="https://example.org/slides.pdf" filename="slides.pdf"/></module></modules>';
    const created = await text(rubyUrl(gw.url, 'create', [['name', 'Greenlight room'], ['meetingID', 'gl-room'], ['record', 'true']]), {
      method: 'POST',
      body: modules,
      headers: { 'content-type': 'application/xml' },
    });
    expect(created).toContain('<meetingID>gl-room</meetingID>');
    const info = await text(rubyUrl(gw.url, 'getMeetingInfo', [['meetingID', 'gl-room']]));
    expect(info).toContain('<meetingName>Greenlight room</meetingName>');
    expect(info).toContain('<recording>true</recording>');
    const running = await text(rubyUrl(gw.url, 'isMeetingRunning', [['meetingID', 'gl-room']]));
    expect(running).toContain('<running>false</running>');
    const version = await text(`${gw.url}/bigbluebutton/api`);
    expect(version).toContain('<apiVersion>2.0</apiVersion>');
  });
});
