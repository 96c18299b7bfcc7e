// The unmodified npm client bigbluebutton-js (sha1, querystring encoding, fast-xml-parser)
// against the simulator: what an LMS plugin built on it would see.
import bbb from 'bigbluebutton-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimServer } from '../../src/simulator/sim-server.js';
import { http, json } from '../helpers/sim-http.js';

let sim: SimServer;
let api: ReturnType<typeof bbb.api>;

beforeAll(async () => {
  sim = await SimServer.start({ sweepIntervalMs: 0 });
  // The library appends /api/<call> to the host it is given.
  api = bbb.api(`${sim.baseUrl}/bigbluebutton`, sim.secret);
});

afterAll(async () => {
  await sim?.close();
});

describe('bigbluebutton-js against the simulator', () => {
  const meetingID = 'js-client-room';

  it('creates a meeting', async () => {
    const created = await bbb.http(api.administration.create('JS Room', meetingID, { attendeePW: 'ap', moderatorPW: 'mp', record: false }));
    expect(created).toMatchObject({
      returncode: 'SUCCESS',
      meetingID,
      parentMeetingID: 'bbb-none',
      attendeePW: 'ap',
      moderatorPW: 'mp',
      dialNumber: '613-555-1234',
      hasBeenForciblyEnded: false,
    });
    expect(String(created.internalMeetingID)).toMatch(/^[0-9a-f]{40}-\d+$/);
    const again = await bbb.http(api.administration.create('JS Room', meetingID, { attendeePW: 'ap', moderatorPW: 'mp' }));
    expect(again).toMatchObject({ returncode: 'SUCCESS', messageKey: 'duplicateWarning', internalMeetingID: created.internalMeetingID });
  });

  it('builds a join URL whose 302 leads to the server, and following it enters the user', async () => {
    const url = api.administration.join('Ada Lovelace', meetingID, 'mp', { userID: 'ada' });
    const redirect = await http(url);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.location ?? '';
    expect(location.startsWith(`${sim.baseUrl}/html5client/join?sessionToken=`)).toBe(true);
    const entered = await http(location);
    expect(entered.status).toBe(200);
    expect(json<{ response: { returncode: string; role: string } }>(entered).response).toMatchObject({ returncode: 'SUCCESS', role: 'MODERATOR' });
  });

  it('joins with redirect=false and parses the XML', async () => {
    const joined = await bbb.http(api.administration.join('Viewer', meetingID, 'ap', { redirect: false }));
    expect(joined).toMatchObject({ returncode: 'SUCCESS', messageKey: 'successfullyJoined', guestStatus: 'ALLOW' });
    expect(String(joined.url)).toContain('/html5client/join?sessionToken=');
  });

  it('reads getMeetingInfo, isMeetingRunning and getMeetings', async () => {
    const info = await bbb.http(api.monitoring.getMeetingInfo(meetingID));
    expect(info).toMatchObject({
      returncode: 'SUCCESS',
      meetingName: 'JS Room',
      meetingID,
      running: true,
      participantCount: 1,
      moderatorCount: 1,
      hasUserJoined: true,
    });
    expect(info.attendees).toMatchObject({ attendee: { userID: 'ada', fullName: 'Ada Lovelace', role: 'MODERATOR' } });
    expect(await bbb.http(api.monitoring.isMeetingRunning(meetingID))).toEqual({ returncode: 'SUCCESS', running: true });
    const list = await bbb.http(api.monitoring.getMeetings());
    expect(list.returncode).toBe('SUCCESS');
    expect(list.meetings).toEqual([expect.objectContaining({ meetingID, participantCount: 1 })]);
  });

  it('reads getRecordings', async () => {
    const recordings = await bbb.http(api.recording.getRecordings({ meetingID }));
    expect(recordings).toMatchObject({ returncode: 'SUCCESS', messageKey: 'noRecordings' });
  });

  it('ends the meeting', async () => {
    const ended = await bbb.http(api.administration.end(meetingID, 'mp'));
    expect(ended).toMatchObject({ returncode: 'SUCCESS', messageKey: 'sentEndMeetingRequest' });
    expect(await bbb.http(api.monitoring.getMeetingInfo(meetingID))).toMatchObject({ returncode: 'FAILED', messageKey: 'notFound' });
    expect(await bbb.http(api.monitoring.getMeetings())).toMatchObject({ returncode: 'SUCCESS', messageKey: 'noMeetings' });
  });

  it('is refused with the wrong secret', async () => {
    const wrong = bbb.api(`${sim.baseUrl}/bigbluebutton/`, 'not-the-secret');
    expect(await bbb.http(wrong.monitoring.getMeetings())).toMatchObject({ returncode: 'FAILED', messageKey: 'checksumError' });
  });
});
