// What Greenlight and LMS plugins do right after a join: ask isMeetingRunning ("waiting for the
// moderator") and getMeetingInfo (the participant list). Through the gateway they must see the
// join at once, as on the server itself, in each client library's request shape; and when the
// meeting's server hangs, the polled state answers within the live-read timeout.
import bbb from 'bigbluebutton-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { BbbClient } from '../../src/bbb/client.js';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { parseXml, toMeetingInfo } from '../../src/bbb/parse.js';
import type { MeetingInfo } from '../../src/bbb/types.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { enterMeeting } from '../helpers/browser.js';
import { phpUrl, rubyUrl } from '../helpers/client-shapes.js';
import { GATEWAY_SECRET, startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

type UrlOf = (call: string, params: [string, string][]) => string;

async function readInfo(url: string): Promise<{ text: string; info?: MeetingInfo }> {
  const text = await (await request(url)).body.text();
  return { text, info: text.includes('<returncode>SUCCESS</returncode>') ? toMeetingInfo(await parseXml(text)) : undefined };
}

/** What a client compares: who is in, with which role, and the counts. */
const seen = (info: MeetingInfo) => ({
  running: info.running,
  participantCount: info.participantCount,
  moderatorCount: info.moderatorCount,
  hasUserJoined: info.hasUserJoined,
  attendees: info.attendees.map((a) => ({ userID: a.userID, fullName: a.fullName, role: a.role })).sort((a, b) => a.userID.localeCompare(b.userID)),
});

describe('reads right after a join, as each client library sends them', () => {
  let pool: TestPool;
  let gw: TestGateway;
  beforeAll(async () => {
    // A poll every minute: nothing here may depend on one.
    pool = await startTestPool({ servers: 2, label: 'read-after-join', env: { AMPHI_POLL_INTERVAL_MS: '60000' } });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  const bbbJs = (): UrlOf => {
    const api = bbb.api(`${gw.url}/bigbluebutton`, GATEWAY_SECRET);
    return (call, params) => {
      const p = Object.fromEntries(params);
      if (call === 'isMeetingRunning') return api.monitoring.isMeetingRunning(p.meetingID!);
      if (call === 'getMeetingInfo') return api.monitoring.getMeetingInfo(p.meetingID!);
      if (call === 'join') {
        const { fullName, meetingID, password, ...rest } = p;
        return api.administration.join(fullName!, meetingID!, password!, rest);
      }
      const { name, meetingID, ...rest } = p;
      return api.administration.create(name!, meetingID!, rest);
    };
  };
  const shapes: [string, () => UrlOf][] = [
    ['bigbluebutton-api-php (RFC 3986, SHA-256)', () => (call, params) => phpUrl(gw.url, GATEWAY_SECRET, call, params)],
    ['bigbluebutton-api-ruby (sorted, + for spaces, SHA-1)', () => (call, params) => rubyUrl(gw.url, GATEWAY_SECRET, call, params)],
    ['bigbluebutton-js', bbbJs],
  ];

  for (const [name, shape] of shapes) {
    it(`${name}: running and the attendees at once after the join`, async () => {
      const url = shape();
      const meetingID = `raj ${name.split(' ')[0]}`;
      const created = await (await request(url('create', [['name', 'Class 4B'], ['meetingID', meetingID], ['attendeePW', 'ap'], ['moderatorPW', 'mp']]))).body.text();
      expect(created).toContain('<returncode>SUCCESS</returncode>');
      expect(await (await request(url('isMeetingRunning', [['meetingID', meetingID]]))).body.text()).toContain('<running>false</running>');

      await enterMeeting(url('join', [['fullName', 'Mme Curie'], ['meetingID', meetingID], ['password', 'mp'], ['userID', 'teacher-1']]));
      expect(await (await request(url('isMeetingRunning', [['meetingID', meetingID]]))).body.text()).toContain('<running>true</running>');
      await enterMeeting(url('join', [['fullName', 'Élève Zoé'], ['meetingID', meetingID], ['password', 'ap'], ['userID', 'pupil-1']]));
      const { info } = await readInfo(url('getMeetingInfo', [['meetingID', meetingID]]));
      expect(info).toBeDefined();
      expect(seen(info!)).toEqual({
        running: true,
        participantCount: 2,
        moderatorCount: 1,
        hasUserJoined: true,
        attendees: [
          { userID: 'pupil-1', fullName: 'Élève Zoé', role: 'VIEWER' },
          { userID: 'teacher-1', fullName: 'Mme Curie', role: 'MODERATOR' },
        ],
      });
      expect(info!.meetingID).toBe(meetingID);

      // The server's own answer, as a client talking to it directly would get it.
      const record = (await pool.store.meetings.get('default', meetingID))!;
      const server = pool.cluster.servers()[pool.serverIds.indexOf(record.server)]!.server;
      const direct = await new BbbClient({ apiUrl: server.apiUrl, secret: server.secret }).getMeetingInfo(record.upstreamID);
      expect(seen(info!)).toEqual(seen(direct));
      expect(info!.internalMeetingID).toBe(direct.internalMeetingID);
    });
  }

  it('admission counts the users a live read saw, without waiting for a poll', async () => {
    await gw.client.create([['meetingID', 'tiny'], ['name', 'Tiny room'], ['maxParticipants', '2']]);
    for (const user of ['a', 'b']) await enterMeeting(gw.client.joinUrl([['meetingID', 'tiny'], ['fullName', user], ['role', 'VIEWER'], ['userID', user]]));
    expect((await gw.client.getMeetingInfo('tiny')).participantCount).toBe(2);
    const record = await pool.store.meetings.get('default', 'tiny');
    expect(record?.info?.participantCount).toBe(2);
    const third = await request(gw.client.joinUrl([['meetingID', 'tiny'], ['fullName', 'c'], ['role', 'VIEWER'], ['userID', 'c']]));
    await third.body.dump();
    expect(String(third.headers.location)).toContain('maxParticipantsReached');
    // Both users already in get back in.
    const again = await request(gw.client.joinUrl([['meetingID', 'tiny'], ['fullName', 'a'], ['role', 'VIEWER'], ['userID', 'a']]));
    await again.body.dump();
    expect(String(again.headers.location)).not.toContain('errors=');
  });
});

describe('reads when the meeting server hangs', () => {
  let pool: TestPool;
  let gw: TestGateway;
  beforeAll(async () => {
    pool = await startTestPool({
      servers: 1,
      label: 'read-hang',
      env: { AMPHI_LIVE_READ_TIMEOUT_MS: '300', AMPHI_UPSTREAM_TIMEOUT_MS: '5000', AMPHI_LIVE_READ_CACHE_MS: '0' },
    });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  it('answers from the polled state within the live-read timeout', async () => {
    await gw.client.create([['meetingID', 'polled'], ['name', 'Polled room']]);
    await enterMeeting(gw.client.joinUrl([['meetingID', 'polled'], ['fullName', 'Ada'], ['role', 'MODERATOR'], ['userID', 'ada']]));
    await new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() }).pollOnce();
    await pool.cluster.server(0)!.setFault('hang');
    try {
      const query = 'meetingID=polled';
      const path = (call: string) => `${gw.url}/bigbluebutton/api/${call}?${query}&checksum=${computeChecksum(call, query, GATEWAY_SECRET)}`;
      const started = performance.now();
      const { info } = await readInfo(path('getMeetingInfo'));
      const running = await (await request(path('isMeetingRunning'))).body.text();
      // Well under the 5 s upstream timeout: the first read waited 300 ms, the next none.
      expect(performance.now() - started).toBeLessThan(2500);
      expect(info && seen(info)).toMatchObject({ running: true, participantCount: 1, attendees: [{ userID: 'ada', role: 'MODERATOR' }] });
      expect(running).toContain('<running>true</running>');
    } finally {
      await pool.cluster.server(0)!.setFault('none');
    }
  });
});
