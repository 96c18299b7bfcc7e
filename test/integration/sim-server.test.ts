import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeChecksum, sortedFormQuery } from '../../src/bbb/checksum.js';
import type { ChecksumAlgorithm } from '../../src/bbb/checksum.js';
import { BBB_ERRORS } from '../../src/bbb/errors.js';
import { SimServer } from '../../src/simulator/sim-server.js';
import { bbbGet, http, json, postJson, signedUrl, xmlValue } from '../helpers/sim-http.js';

let sim: SimServer;
let restricted: SimServer;
let rotating: SimServer;

beforeAll(async () => {
  [sim, restricted, rotating] = await Promise.all([
    SimServer.start({ sweepIntervalMs: 0 }),
    SimServer.start({ algorithms: ['sha256'], sweepIntervalMs: 0 }),
    SimServer.start({ secrets: ['new-secret-0123456789', 'old-secret-0123456789'], sweepIntervalMs: 0 }),
  ]);
});

afterAll(async () => {
  await Promise.all([sim?.close(), restricted?.close(), rotating?.close()]);
});

let seq = 0;
const uniqueId = (prefix: string): string => `${prefix}-${++seq}`;

async function create(params: Record<string, string> = {}): Promise<string> {
  const meetingID = params.meetingID ?? uniqueId('meeting');
  const r = await bbbGet(sim, 'create', { name: 'Room', meetingID, ...params });
  expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
  return meetingID;
}

function expectFailed(body: string, error: { messageKey: string; message: string }): void {
  expect(body).toBe(
    `<response>\n<returncode>FAILED</returncode>\n<messageKey>${error.messageKey}</messageKey>\n<message>${error.message
      .replace(/&/g, '&amp;')
      .replace(/"/g, '&quot;')}</message>\n</response>`,
  );
}

describe('transport', () => {
  it('answers every XML call with 200, text/xml;charset=utf-8 and Cache-Control: no-cache', async () => {
    const r = await bbbGet(sim, 'getMeetings');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/xml;charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    const failedAnswer = await http(`${sim.apiUrl}/getMeetings?checksum=bad`);
    expect(failedAnswer.status).toBe(200);
    expect(failedAnswer.headers['content-type']).toBe('text/xml;charset=utf-8');
  });

  it.each(['', '/'])('serves the index at /bigbluebutton/api%s with or without a checksum', async (suffix) => {
    for (const query of ['', `?checksum=${computeChecksum('', '', sim.secret)}`, '?checksum=whatever']) {
      const r = await http(`${sim.apiUrl}${suffix}${query}`);
      expect(r.status).toBe(200);
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
      expect(xmlValue(r.body, 'version')).toBe('2.0');
      expect(xmlValue(r.body, 'apiUrl')).toBe(sim.apiUrl);
    }
  });

  it('answers unknown paths with 404 (not the API)', async () => {
    expect((await http(`${sim.baseUrl}/nothing-here`)).status).toBe(404);
  });
});

describe('checksum', () => {
  it.each<ChecksumAlgorithm>(['sha1', 'sha256', 'sha384', 'sha512'])('accepts %s', async (algorithm) => {
    const r = await bbbGet(sim, 'create', { name: 'Room', meetingID: uniqueId(algorithm) }, algorithm);
    expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
  });

  it('accepts the checksum in any case, anywhere in the query', async () => {
    const query = `name=Room&meetingID=${uniqueId('pos')}`;
    const cs = computeChecksum('create', query, sim.secret).toUpperCase();
    const r = await http(`${sim.apiUrl}/create?checksum=${cs}&${query}`);
    expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
  });

  it('refuses a bad checksum and a missing one with the exact messages', async () => {
    expectFailed((await http(`${sim.apiUrl}/getMeetings?checksum=${'0'.repeat(40)}`)).body, BBB_ERRORS.checksumError);
    expectFailed((await http(`${sim.apiUrl}/getMeetings`)).body, BBB_ERRORS.checksumMissing);
    expectFailed((await http(`${sim.apiUrl}/getMeetings?checksum=`)).body, BBB_ERRORS.checksumMissing);
    // A checksum of a length no algorithm has.
    expectFailed((await http(`${sim.apiUrl}/getMeetings?checksum=abc`)).body, BBB_ERRORS.checksumError);
    // Signed with another secret.
    expectFailed((await http(signedUrl(sim, 'getMeetings', {}, 'sha1', 'not-the-secret'))).body, BBB_ERRORS.checksumError);
    // Signed for another call.
    const cs = computeChecksum('getMeetingInfo', '', sim.secret);
    expectFailed((await http(`${sim.apiUrl}/getMeetings?checksum=${cs}`)).body, BBB_ERRORS.checksumError);
  });

  it('uses the legacy message on the recordings calls', async () => {
    for (const call of ['getRecordings', 'publishRecordings', 'deleteRecordings', 'updateRecordings']) {
      expectFailed((await http(`${sim.apiUrl}/${call}?recordID=x&checksum=${'1'.repeat(40)}`)).body, BBB_ERRORS.checksumErrorRecordings);
      expectFailed((await http(`${sim.apiUrl}/${call}?recordID=x`)).body, BBB_ERRORS.checksumErrorRecordings);
    }
  });

  it('refuses algorithms the server does not allow', async () => {
    expectFailed((await bbbGet(restricted, 'getMeetings', {}, 'sha1')).body, BBB_ERRORS.checksumError);
    expect(xmlValue((await bbbGet(restricted, 'getMeetings', {}, 'sha256')).body, 'returncode')).toBe('SUCCESS');
  });

  it('accepts every configured secret (rotation)', async () => {
    for (const secret of rotating.secrets) {
      const r = await http(signedUrl(rotating, 'getMeetings', {}, 'sha256', secret));
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
    }
  });
});

describe('POST bodies', () => {
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

  it('accepts a form body checksummed over the empty query, and over the sorted form', async () => {
    for (const variant of ['empty', 'sorted'] as const) {
      const params = new Map([
        ['name', 'Posted Room'],
        ['meetingID', uniqueId(`post-${variant}`)],
      ]);
      const signed = variant === 'empty' ? '' : sortedFormQuery(params);
      const cs = computeChecksum('create', signed, sim.secret);
      const body = new URLSearchParams([...params]).toString();
      const r = await http(`${sim.apiUrl}/create?checksum=${cs}`, { method: 'POST', headers: form, body });
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
      expect(xmlValue(r.body, 'meetingID')).toBe(params.get('meetingID'));
    }
  });

  it('accepts create with an XML modules body (never checksummed)', async () => {
    const meetingID = uniqueId('xml');
    const r = await http(signedUrl(sim, 'create', { name: 'Room', meetingID }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml' },
      body: '<modules><module name="presentation"><document url="https://x.example/a.pdf"/></module></modules>',
    });
    expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
  });

  it('refuses an unsupported content type, after the checksum', async () => {
    const url = signedUrl(sim, 'getMeetings');
    const bad = await http(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
    expectFailed(bad.body, BBB_ERRORS.unsupportedContentType);
    const missing = await http(url, { method: 'POST', body: 'a=b' });
    expectFailed(missing.body, BBB_ERRORS.unsupportedContentType);
    const xmlOnGetMeetings = await http(url, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: '<a/>' });
    expectFailed(xmlOnGetMeetings.body, BBB_ERRORS.unsupportedContentType);
    const badChecksumToo = await http(`${sim.apiUrl}/getMeetings?checksum=${'2'.repeat(40)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    expectFailed(badChecksumToo.body, BBB_ERRORS.checksumError);
  });
});

describe('unknown calls and wrong methods', () => {
  it('answers requestNotRecognized to an unknown call, even correctly signed', async () => {
    expectFailed((await bbbGet(sim, 'doSomething')).body, BBB_ERRORS.requestNotRecognized);
    expectFailed((await bbbGet(sim, 'hooks/create', { callbackURL: 'http://x' })).body, BBB_ERRORS.requestNotRecognized);
  });

  it.each([
    ['POST', 'join'],
    ['PUT', 'create'],
    ['DELETE', 'getMeetings'],
    ['GET', 'insertDocument'],
    ['POST', 'sendChatMessage'],
    ['POST', ''],
  ])('answers %s on %s with requestNotRecognized (HTTP 200 XML)', async (method, call) => {
    const url = call === '' ? sim.apiUrl : signedUrl(sim, call, { meetingID: 'x1', fullName: 'Jo', role: 'VIEWER' });
    const r = await http(url, { method });
    expect(r.status).toBe(200);
    expectFailed(r.body, BBB_ERRORS.requestNotRecognized);
  });
});

describe('create / getMeetingInfo / getMeetings / isMeetingRunning / end', () => {
  it('renders create as BBB does, then duplicateWarning and idNotUnique', async () => {
    const meetingID = uniqueId('dup');
    const first = await bbbGet(sim, 'create', { name: 'Room', meetingID, attendeePW: 'ap', moderatorPW: 'mp' });
    expect(first.body).toMatch(
      new RegExp(
        `^<response>\\n<returncode>SUCCESS</returncode>\\n<meetingID>${meetingID}</meetingID>\\n<internalMeetingID>[0-9a-f]{40}-\\d+</internalMeetingID>\\n` +
          '<parentMeetingID>bbb-none</parentMeetingID>\\n<attendeePW>ap</attendeePW>\\n<moderatorPW>mp</moderatorPW>\\n<createTime>\\d+</createTime>\\n' +
          '<voiceBridge>\\d{5}</voiceBridge>\\n<dialNumber>613-555-1234</dialNumber>\\n<createDate>\\w{3} \\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\d{4}</createDate>\\n' +
          '<hasUserJoined>false</hasUserJoined>\\n<duration>0</duration>\\n<hasBeenForciblyEnded>false</hasBeenForciblyEnded>\\n' +
          '<messageKey></messageKey>\\n<message></message>\\n</response>$',
      ),
    );
    const again = await bbbGet(sim, 'create', { name: 'Room', meetingID });
    expect(xmlValue(again.body, 'messageKey')).toBe('duplicateWarning');
    expect(xmlValue(again.body, 'internalMeetingID')).toBe(xmlValue(first.body, 'internalMeetingID'));
    expectFailed((await bbbGet(sim, 'create', { name: 'Room', meetingID, attendeePW: 'x1', moderatorPW: 'y1' })).body, BBB_ERRORS.idNotUnique);
  });

  it('answers create validation errors', async () => {
    expectFailed((await bbbGet(sim, 'create', { name: 'Room' })).body, BBB_ERRORS.missingParamMeetingID);
    expectFailed((await bbbGet(sim, 'create', { meetingID: 'a,b', name: 'Room' })).body, BBB_ERRORS.meetingIdComma);
    expectFailed((await bbbGet(sim, 'create', { meetingID: uniqueId('noname') })).body, BBB_ERRORS.meetingNameMissing);
  });

  it('reports meetings, running state and end', async () => {
    const meetingID = await create({ maxParticipants: '7', 'meta_bbb-origin': 'test' });
    const running = await bbbGet(sim, 'isMeetingRunning', { meetingID });
    expect(running.body).toBe('<response>\n<returncode>SUCCESS</returncode>\n<running>false</running>\n</response>');
    const infoAnswer = await bbbGet(sim, 'getMeetingInfo', { meetingID });
    expect(xmlValue(infoAnswer.body, 'meetingID')).toBe(meetingID);
    expect(xmlValue(infoAnswer.body, 'maxUsers')).toBe('7');
    expect(xmlValue(infoAnswer.body, 'bbb-origin')).toBe('test');
    expect(infoAnswer.body).toContain('<attendees>\n</attendees>');
    const list = await bbbGet(sim, 'getMeetings');
    expect(list.body).toContain(`<meetingID>${meetingID}</meetingID>`);

    const end = await bbbGet(sim, 'end', { meetingID });
    expect(xmlValue(end.body, 'messageKey')).toBe('sentEndMeetingRequest');
    expectFailed((await bbbGet(sim, 'getMeetingInfo', { meetingID })).body, BBB_ERRORS.notFound);
    expectFailed((await bbbGet(sim, 'end', { meetingID })).body, BBB_ERRORS.notFound);
    expect(xmlValue((await bbbGet(sim, 'isMeetingRunning', { meetingID })).body, 'running')).toBe('false');
    expect((await bbbGet(sim, 'getMeetings')).body).not.toContain(`<meetingID>${meetingID}</meetingID>`);
  });

  it('answers the other meetingID errors', async () => {
    expectFailed((await bbbGet(sim, 'isMeetingRunning', {})).body, BBB_ERRORS.missingParamMeetingID);
    // No meetingID also fails @MeetingExistsConstraint, whose key comes first in bbb-web's map.
    expectFailed((await bbbGet(sim, 'getMeetingInfo', {})).body, BBB_ERRORS.notFound);
    expectFailed((await bbbGet(sim, 'isMeetingRunning', { meetingID: 'a,b' })).body, BBB_ERRORS.meetingIdComma);
    const meetingID = await create({ moderatorPW: 'mp', attendeePW: 'ap' });
    expectFailed((await bbbGet(sim, 'end', { meetingID, password: 'ap' })).body, BBB_ERRORS.endWrongPassword);
  });

  it('answers getMeetings with the noMeetings form when empty', async () => {
    const empty = await SimServer.start({ sweepIntervalMs: 0 });
    try {
      const r = await bbbGet(empty, 'getMeetings');
      expect(r.body).toBe(
        '<response>\n<returncode>SUCCESS</returncode>\n<meetings/>\n<messageKey>noMeetings</messageKey>\n<message>no meetings were found on this server</message>\n</response>',
      );
    } finally {
      await empty.close();
    }
  });
});

describe('join and the HTML5 client', () => {
  it('redirects (302) to the client, and following the redirect enters the user', async () => {
    const meetingID = await create();
    const r = await bbbGet(sim, 'join', { meetingID, fullName: 'Ada', role: 'MODERATOR', userID: 'ada-1' });
    expect(r.status).toBe(302);
    const location = r.headers.location ?? '';
    expect(location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${sim.port}/html5client/join\\?sessionToken=[a-z0-9]{16}$`));
    expect(xmlValue((await bbbGet(sim, 'getMeetingInfo', { meetingID })).body, 'participantCount')).toBe('0');

    const entered = await http(location);
    expect(entered.status).toBe(200);
    const body = json<{ response: Record<string, unknown> }>(entered).response;
    expect(body).toMatchObject({ returncode: 'SUCCESS', fullname: 'Ada', externMeetingID: meetingID, externUserID: 'ada-1', role: 'MODERATOR' });

    const info = (await bbbGet(sim, 'getMeetingInfo', { meetingID })).body;
    expect(xmlValue(info, 'participantCount')).toBe('1');
    expect(xmlValue(info, 'moderatorCount')).toBe('1');
    expect(xmlValue(info, 'running')).toBe('true');
    expect(xmlValue(info, 'fullName')).toBe('Ada');
    expect(xmlValue((await bbbGet(sim, 'isMeetingRunning', { meetingID })).body, 'running')).toBe('true');
  });

  it('answers XML with redirect=false', async () => {
    const meetingID = await create();
    const r = await bbbGet(sim, 'join', { meetingID, fullName: 'Bo', role: 'VIEWER', redirect: 'false' });
    expect(r.status).toBe(200);
    expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
    expect(xmlValue(r.body, 'messageKey')).toBe('successfullyJoined');
    expect(xmlValue(r.body, 'user_id')).toMatch(/^w_[a-z0-9]{12}$/);
    expect(xmlValue(r.body, 'url')).toBe(`${sim.clientUrl}?sessionToken=${xmlValue(r.body, 'session_token')}`);
  });

  it('redirects errors to <server>/?errors=[…], or to errorRedirectUrl / logoutURL', async () => {
    const unknown = await bbbGet(sim, 'join', { meetingID: 'no-such-meeting', fullName: 'Jo', role: 'VIEWER' });
    expect(unknown.status).toBe(302);
    expect(unknown.headers.location).toBe(
      `${sim.baseUrl}/?errors=[%7B%22message%22:%22You%20can%20not%20join%20a%20meeting%20that%20has%20already%20been%20forcibly%20ended%22,%22key%22:%22meetingForciblyEnded%22%7D]`,
    );
    const custom = await bbbGet(sim, 'join', {
      meetingID: 'no-such-meeting',
      fullName: 'Jo',
      role: 'VIEWER',
      errorRedirectUrl: 'https://lms.example/error',
    });
    expect(custom.headers.location).toMatch(/^https:\/\/lms\.example\/error\?errors=\[/);
    const meetingID = await create({ logoutURL: 'https://app.example/bye' });
    const noName = await bbbGet(sim, 'join', { meetingID, fullName: '', role: 'VIEWER' });
    expect(noName.headers.location).toMatch(/^https:\/\/app\.example\/bye\?errors=\[.*missingParamFullName/);
  });

  it('answers join errors as XML with redirect=false', async () => {
    const r = await bbbGet(sim, 'join', { meetingID: 'no-such-meeting', fullName: 'Jo', role: 'VIEWER', redirect: 'false' });
    expect(r.status).toBe(200);
    expectFailed(r.body, BBB_ERRORS.meetingForciblyEnded);
  });

  it("answers the 'Params required' errors as XML even with redirect=true", async () => {
    const meetingID = await create({ attendeePW: 'ap', moderatorPW: 'mp' });
    const wrong = await bbbGet(sim, 'join', { meetingID, fullName: 'Jo', password: 'zz' });
    expect(wrong.status).toBe(200);
    expectFailed(wrong.body, BBB_ERRORS.joinInvalidPassword);
    expectFailed((await bbbGet(sim, 'join', { meetingID, fullName: 'Jo' })).body, BBB_ERRORS.joinNoRoleNoPassword);
  });

  it('redirects a join with a bad checksum (XML with redirect=false)', async () => {
    const bad = await http(`${sim.apiUrl}/join?meetingID=x1&fullName=Jo&checksum=${'3'.repeat(40)}`);
    expect(bad.status).toBe(302);
    expect(bad.headers.location).toContain('%22key%22:%22checksumError%22');
    const xml = await http(`${sim.apiUrl}/join?meetingID=x1&fullName=Jo&redirect=false&checksum=${'3'.repeat(40)}`);
    expectFailed(xml.body, BBB_ERRORS.checksumError);
  });

  it('refuses the join over maxParticipants, and ejects at enter when the meeting filled since', async () => {
    const meetingID = await create({ maxParticipants: '1' });
    const a = await bbbGet(sim, 'join', { meetingID, fullName: 'A', role: 'VIEWER', userID: 'a' });
    const b = await bbbGet(sim, 'join', { meetingID, fullName: 'B', role: 'VIEWER', userID: 'b' });
    expect(a.status).toBe(302);
    expect(b.status).toBe(302);
    expect((await http(a.headers.location ?? '')).status).toBe(200);
    const ejected = await http(b.headers.location ?? '');
    expect(ejected.status).toBe(403);
    expect(json<{ response: Record<string, unknown> }>(ejected).response).toMatchObject({
      returncode: 'FAILED',
      messageKey: 'maxParticipantsReached',
      ejected: true,
    });
    const c = await bbbGet(sim, 'join', { meetingID, fullName: 'C', role: 'VIEWER', userID: 'c' });
    expect(c.status).toBe(302);
    expect(c.headers.location).toContain('%22key%22:%22maxParticipantsReached%22');
    const again = await bbbGet(sim, 'join', { meetingID, fullName: 'A', role: 'VIEWER', userID: 'a' });
    expect(again.headers.location).toContain('/html5client/join?sessionToken=');
  });

  it('answers the client entry point with 400 / 401 for a missing or unknown token', async () => {
    expect((await http(`${sim.baseUrl}/html5client/join`)).status).toBe(400);
    expect((await http(`${sim.baseUrl}/html5client/join?sessionToken=nope`)).status).toBe(401);
  });
});

describe('recordings, insertDocument, sendChatMessage', () => {
  it('answers getRecordings with the Scala form when there are none', async () => {
    const r = await bbbGet(sim, 'getRecordings', { meetingID: 'nothing' });
    expect(r.body).toBe(
      '<response>\n          <returncode>SUCCESS</returncode>\n          <recordings></recordings>\n          <messageKey>noRecordings</messageKey>\n          <message>There are no recordings for the meeting(s).</message>\n        </response>',
    );
  });

  it('lists, publishes, updates and deletes the recording of a recorded meeting', async () => {
    const meetingID = await create({ record: 'true' });
    sim.addUsers(meetingID, { count: 2 });
    await bbbGet(sim, 'end', { meetingID });
    const list = await bbbGet(sim, 'getRecordings', { meetingID });
    const recordID = xmlValue(list.body, 'recordID') ?? '';
    expect(recordID).toMatch(/^[0-9a-f]{40}-\d+$/);
    expect(xmlValue(list.body, 'participants')).toBe('2');
    expect(xmlValue(list.body, 'state')).toBe('published');

    const published = await bbbGet(sim, 'publishRecordings', { recordID, publish: 'false' });
    expect(published.body).toBe('<response><returncode>SUCCESS</returncode><published>false</published></response>');
    expect(xmlValue((await bbbGet(sim, 'getRecordings', { recordID })).body, 'state')).toBe('unpublished');
    const updated = await bbbGet(sim, 'updateRecordings', { recordID, meta_course: 'maths' });
    expect(updated.body).toBe('<response><returncode>SUCCESS</returncode><updated>true</updated></response>');
    expect(xmlValue((await bbbGet(sim, 'getRecordings', { meta_course: 'maths' })).body, 'recordID')).toBe(recordID);
    const deleted = await bbbGet(sim, 'deleteRecordings', { recordID });
    expect(deleted.body).toBe('<response><returncode>SUCCESS</returncode><deleted>true</deleted></response>');
    expect(xmlValue((await bbbGet(sim, 'getRecordings', { recordID })).body, 'messageKey')).toBe('noRecordings');
    expect(xmlValue((await bbbGet(sim, 'getRecordings', { recordID, state: 'any' })).body, 'state')).toBe('deleted');
  });

  it('answers the recording errors', async () => {
    expectFailed((await bbbGet(sim, 'publishRecordings', { publish: 'true' })).body, BBB_ERRORS.missingParamRecordID);
    expectFailed((await bbbGet(sim, 'publishRecordings', { recordID: 'x' })).body, BBB_ERRORS.missingParamPublish);
    expectFailed((await bbbGet(sim, 'publishRecordings', { recordID: 'x', publish: 'true' })).body, BBB_ERRORS.recordingsNotFound);
    expectFailed((await bbbGet(sim, 'deleteRecordings', { recordID: 'x' })).body, BBB_ERRORS.recordingsNotFound);
    expectFailed((await bbbGet(sim, 'updateRecordings', { recordID: 'x' })).body, BBB_ERRORS.recordingsNotFound);
    expectFailed((await bbbGet(sim, 'deleteRecordings', {})).body, BBB_ERRORS.missingParamRecordID);
  });

  it('accepts insertDocument as an XML POST', async () => {
    const meetingID = await create();
    const doc = '<modules><module name="presentation"><document url="https://x.example/b.pdf"/></module></modules>';
    const ok = await http(signedUrl(sim, 'insertDocument', { meetingID }), { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: doc });
    expect(ok.body).toBe('<response>\n<returncode>SUCCESS</returncode>\n<message>Presentation is being uploaded</message>\n</response>');
    const unknown = await http(signedUrl(sim, 'insertDocument', { meetingID: 'unknown-meeting' }), {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml' },
      body: doc,
    });
    expectFailed(unknown.body, BBB_ERRORS.notFound);
    const form = await http(signedUrl(sim, 'insertDocument', { meetingID }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    expectFailed(form.body, BBB_ERRORS.unsupportedContentType);
  });

  it('answers sendChatMessage', async () => {
    const meetingID = await create();
    expect((await bbbGet(sim, 'sendChatMessage', { meetingID, message: 'hello' })).body).toBe(
      '<response>\n<returncode>SUCCESS</returncode>\n<messageKey></messageKey>\n<message></message>\n</response>',
    );
    expectFailed((await bbbGet(sim, 'sendChatMessage', { meetingID })).body, BBB_ERRORS.chatMessageMissing);
    expectFailed((await bbbGet(sim, 'sendChatMessage', { meetingID, message: 'x'.repeat(501) })).body, BBB_ERRORS.chatMessageSize);
    expectFailed((await bbbGet(sim, 'sendChatMessage', { meetingID: 'unknown-meeting', message: 'hi' })).body, BBB_ERRORS.notFound);
  });
});

describe('control API', () => {
  interface Added {
    admitted: { sessionToken: string; userID: string; cameras: number; cameraRefusals: string[] }[];
    refused: { stage: string; messageKey: string }[];
  }
  const users = (meetingID: string, body: unknown) => postJson(`${sim.baseUrl}/sim/meetings/${encodeURIComponent(meetingID)}/users`, body);

  it('adds users through the model rules and reports admitted and refused', async () => {
    const meetingID = await create({ maxParticipants: '3', meetingCameraCap: '2' });
    const r = await users(meetingID, { count: 4, cameras: 1, audio: 'mic', userIdPrefix: 'student-' });
    expect(r.status).toBe(200);
    const added = json<Added>(r);
    expect(added.admitted).toHaveLength(3);
    expect(added.refused).toEqual([expect.objectContaining({ stage: 'join', messageKey: 'maxParticipantsReached' })]);
    expect(added.admitted.map((u) => u.cameras)).toEqual([1, 1, 0]);
    expect(added.admitted[2]?.cameraRefusals).toEqual(['meetingCameraCap']);
    expect(added.admitted[0]?.userID).toMatch(/^student-\d+$/);

    const info = (await bbbGet(sim, 'getMeetingInfo', { meetingID })).body;
    expect(xmlValue(info, 'participantCount')).toBe('3');
    expect(xmlValue(info, 'voiceParticipantCount')).toBe('3');
    expect(xmlValue(info, 'videoCount')).toBe('2');
  });

  it('drives cameras, audio and leave per session', async () => {
    const meetingID = await create({ userCameraCap: '1' });
    const added = json<Added>(await users(meetingID, { count: 1 }));
    const token = added.admitted[0]?.sessionToken ?? '';
    const session = `${sim.baseUrl}/sim/sessions/${token}`;
    expect(json(await postJson(`${session}/camera`, { on: true }))).toEqual({ cameras: 1 });
    const refused = await postJson(`${session}/camera`, { on: true });
    expect(refused.status).toBe(409);
    expect(json(refused)).toEqual({ refused: 'userCameraCap' });
    expect((await postJson(`${session}/audio`, { mode: 'mic' })).status).toBe(200);
    expect(xmlValue((await bbbGet(sim, 'getMeetingInfo', { meetingID })).body, 'voiceParticipantCount')).toBe('1');
    expect(json(await postJson(`${session}/camera`, { on: false }))).toEqual({ cameras: 0 });
    expect((await postJson(`${session}/audio`, { mode: 'loud' })).status).toBe(400);
    expect((await postJson(`${session}/leave`, {})).status).toBe(200);
    expect((await postJson(`${session}/leave`, {})).status).toBe(404);
    expect(xmlValue((await bbbGet(sim, 'getMeetingInfo', { meetingID })).body, 'participantCount')).toBe('0');
  });

  it('validates control requests', async () => {
    const meetingID = await create();
    expect((await users('no-such-meeting', {})).status).toBe(404);
    expect((await users(meetingID, { count: 0 })).status).toBe(400);
    expect((await users(meetingID, { role: 'ADMIN' })).status).toBe(400);
    expect((await http(`${sim.baseUrl}/sim/meetings/${meetingID}/users`, { method: 'POST', body: '{bad' })).status).toBe(400);
    expect((await postJson(`${sim.baseUrl}/sim/sessions/nope/camera`, { on: true })).status).toBe(404);
    expect((await http(`${sim.baseUrl}/sim/nothing`)).status).toBe(404);
  });

  it('shows the state and Prometheus metrics', async () => {
    const meetingID = await create();
    await users(meetingID, { count: 5, cameras: 1, audio: 'listen' });
    const state = json<{ url: string; totals: { load: number; participants: number }; meetings: { meetingID: string; participants: number; videos: number; users?: unknown[] }[] }>(
      await http(`${sim.baseUrl}/sim/state`),
    );
    expect(state.url).toBe(sim.apiUrl);
    const m = state.meetings.find((x) => x.meetingID === meetingID);
    expect(m).toMatchObject({ participants: 5, videos: 5 });
    expect(m?.users).toHaveLength(5);
    expect(state.totals.load).toBeGreaterThan(0);
    const light = json<{ meetings: { users?: unknown }[] }>(await http(`${sim.baseUrl}/sim/state?users=false`));
    expect(light.meetings.every((x) => x.users === undefined)).toBe(true);

    const metrics = await http(`${sim.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/^# HELP bbb_api_up /);
    expect(metrics.body).toContain('# TYPE bbb_sim_cpu_percent gauge');
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics.body)?.[1]);
    expect(value('bbb_api_up')).toBe(1);
    expect(value('bbb_meetings')).toBe(state.meetings.length);
    expect(value('bbb_meetings_participants')).toBe(state.totals.participants);
    expect(value('bbb_meetings_video_participants')).toBeGreaterThanOrEqual(5);
    expect(value('bbb_sim_cpu_percent')).toBeGreaterThan(0);
    expect(metrics.body).toContain('bbb_sim_fault{mode="none"} 1');
  });
});
