import { describe, expect, it } from 'vitest';
import {
  MalformedXmlError,
  parseXml,
  readFlag,
  readMessage,
  readReturnCode,
  toApiVersion,
  toCreateResult,
  toJoinResult,
  toMeetingInfo,
  toMeetings,
  toRecordings,
} from '../../src/bbb/parse.js';
import { BBB_ERRORS } from '../../src/bbb/errors.js';
import { antonsRoom, apiVersion, created, fredsRecording, joined } from '../helpers/bbb-captures.js';
import { fixture } from '../helpers/fixtures.js';

async function parseFixture(name: string): Promise<Record<string, unknown>> {
  return parseXml(fixture(name));
}

describe('parseXml', () => {
  it('returns the inner <response> object with values kept as strings', async () => {
    const resp = await parseFixture('is-meeting-running-true.xml');
    expect(resp).toEqual({ returncode: 'SUCCESS', running: 'true' });
  });

  it('keeps text exactly, surrounding spaces included, and drops only the indentation', async () => {
    const resp = await parseXml('<response>\n  <returncode>SUCCESS</returncode>\n  <meetingID> acme~room </meetingID>\n  <attendees>\n  </attendees>\n</response>\n');
    expect(resp).toEqual({ returncode: 'SUCCESS', meetingID: ' acme~room ', attendees: '' });
  });

  it('gives {} for an empty <response/>', async () => {
    expect(await parseXml('<response/>')).toEqual({});
    expect(await parseXml('<response></response>')).toEqual({});
  });

  it('accepts an XML declaration and surrounding whitespace', async () => {
    const resp = await parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<response><returncode>SUCCESS</returncode></response>\n');
    expect(readReturnCode(resp)).toBe('SUCCESS');
  });

  it.each([
    ['plain text', 'Service Unavailable'],
    ['an empty string', ''],
    ['truncated XML', '<response><returncode>SUCCESS</returncode>'],
    ['JSON', '{"response":{"returncode":"SUCCESS"}}'],
  ])('throws MalformedXmlError for %s', async (_label, text) => {
    await expect(parseXml(text)).rejects.toBeInstanceOf(MalformedXmlError);
  });

  it('throws MalformedXmlError for well-formed XML without a <response> root', async () => {
    await expect(parseXml('<html><body>502 Bad Gateway</body></html>')).rejects.toThrow(/no <response> root/);
  });
});

describe('readReturnCode / readMessage', () => {
  it.each([
    ['failed-notFound.xml', BBB_ERRORS.notFound],
    ['failed-checksumError.xml', BBB_ERRORS.checksumError],
    ['failed-checksumError-missing-checksum.xml', BBB_ERRORS.checksumMissing],
    ['failed-checksumError-legacy-recordings.xml', BBB_ERRORS.checksumErrorRecordings],
    ['failed-apiNotEnabled.xml', BBB_ERRORS.apiNotEnabled],
    ['failed-unsupportedContentType.xml', BBB_ERRORS.unsupportedContentType],
    ['failed-validationError-request-not-recognized.xml', BBB_ERRORS.requestNotRecognized],
    ['failed-missingParamMeetingID.xml', BBB_ERRORS.missingParamMeetingID],
    ['failed-meetingID-size.xml', BBB_ERRORS.meetingIdSize],
    ['failed-meetingID-comma.xml', BBB_ERRORS.meetingIdComma],
    ['failed-invalidPassword-length.xml', BBB_ERRORS.invalidPasswordLength],
    ['failed-missingParamMeetingID-legacy.xml', {
      messageKey: 'missingParamMeetingID',
      message: 'You must specify a meeting ID for the meeting.',
    }],
    ['failed-notFound-legacy.xml', {
      messageKey: 'notFound',
      message: 'We could not find a meeting with that meeting ID - perhaps the meeting is not yet running?',
    }],
  ])('%s is FAILED with its exact key and message', async (name, expected) => {
    const resp = await parseFixture(name);
    expect(readReturnCode(resp)).toBe('FAILED');
    expect(readMessage(resp)).toEqual({ messageKey: expected.messageKey, message: expected.message });
  });

  it('reads the first error of the api-errors list form', async () => {
    const resp = await parseFixture('create-failed-nonUniqueVoiceBridge.xml');
    expect(readReturnCode(resp)).toBe('FAILED');
    expect(readMessage(resp)).toEqual(BBB_ERRORS.nonUniqueVoiceBridge);
  });

  it("gives '' for a missing messageKey (insertDocument failures have none)", async () => {
    const resp = await parseFixture('insert-document-failed-meeting-not-found.xml');
    expect(readMessage(resp)).toEqual({ messageKey: '', message: 'Meeting with id [test01] not found.' });
  });

  it("gives '' for both when the answer carries neither", async () => {
    const resp = await parseFixture('is-meeting-running-false.xml');
    expect(readReturnCode(resp)).toBe('SUCCESS');
    expect(readMessage(resp)).toEqual({ messageKey: '', message: '' });
  });
});

describe('readFlag', () => {
  it('reads isMeetingRunning and recording mutation flags', async () => {
    expect(readFlag(await parseFixture('is-meeting-running-true.xml'), 'running')).toBe(true);
    expect(readFlag(await parseFixture('is-meeting-running-false.xml'), 'running')).toBe(false);
    expect(readFlag(await parseFixture('publish-recordings-success.xml'), 'published')).toBe(true);
    expect(readFlag(await parseFixture('delete-recordings-success.xml'), 'deleted')).toBe(true);
    expect(readFlag(await parseFixture('update-recordings-success.xml'), 'updated')).toBe(true);
    expect(readFlag(await parseFixture('update-recordings-success.xml'), 'absent')).toBe(false);
  });

  it('follows Boolean.parseBoolean: only "true" in any case', async () => {
    const resp = await parseXml('<response><a>TRUE</a><b>yes</b><c>1</c></response>');
    expect([readFlag(resp, 'a'), readFlag(resp, 'b'), readFlag(resp, 'c')]).toEqual([true, false, false]);
  });
});

describe('toMeetingInfo', () => {
  it('maps get-meeting-info-success.xml (2 attendees, customdata, metadata)', async () => {
    const info = toMeetingInfo(await parseFixture('get-meeting-info-success.xml'));
    expect(info).toEqual(antonsRoom);
    // No breakout-only fields on a plain meeting.
    expect(Object.keys(info)).not.toContain('parentMeetingID');
    expect(Object.keys(info)).not.toContain('breakoutRooms');
    expect(Object.keys(info.attendees[0]!)).not.toContain('customdata');
  });

  it('maps the tab-indented docs example, keeping metadata order and an empty customdata', async () => {
    const info = toMeetingInfo(await parseFixture('get-meeting-info-docs-example.xml'));
    expect(info.internalMeetingID).toBe('a0715c95000a2bcb90604ecc7097dbc94592c690-1715261728123');
    expect(info.participantCount).toBe(1);
    expect(info.listenerCount).toBe(0);
    expect(info.attendees).toHaveLength(1);
    expect(info.attendees[0]!.fullName).toBe('Anton G');
    expect(info.attendees[0]!.customdata).toEqual({});
    expect(Object.keys(info.metadata)).toEqual([
      'bbb-origin-version',
      'bbb-origin-server-name',
      'bbb-recording-ready-url',
      'bbb-origin',
      'endcallbackurl',
    ]);
    expect(info.metadata['bbb-origin-version']).toBe('summit2024-6d8120x');
    expect(info.metadata['bbb-recording-ready-url']).toBe('https://test30.bigbluebutton.org/recording_ready');
  });

  it('maps a breakout room (parentMeetingID, sequence, freeJoin)', async () => {
    const info = toMeetingInfo(await parseFixture('get-meeting-info-breakout-room.xml'));
    expect(info.isBreakout).toBe(true);
    expect(info.parentMeetingID).toBe('b9a2d1a3c0f6e4b7a8c9d0e1f2a3b4c5d6e7f8a9-1715261700000');
    expect(info.sequence).toBe(1);
    expect(info.freeJoin).toBe(false);
    expect(info.breakoutRooms).toBeUndefined();
  });

  it('maps a parent meeting with its breakout rooms', async () => {
    const info = toMeetingInfo(await parseFixture('get-meeting-info-with-breakout-rooms.xml'));
    expect(info.isBreakout).toBe(false);
    expect(info.breakoutRooms).toEqual(['breakout-room-id-1', 'breakout-room-id-2']);
    expect(info.parentMeetingID).toBeUndefined();
  });

  it('keeps numeric-looking ids as strings and parses grouped counters', async () => {
    const info = toMeetingInfo(
      await parseXml(
        '<response><returncode>SUCCESS</returncode><meetingID>007</meetingID><voiceBridge>01234</voiceBridge>' +
          '<maxUsers>1,500</maxUsers><participantCount>12</participantCount><attendees><attendee><userID>0042</userID>' +
          '<role>VIEWER</role></attendee></attendees><metadata><ext-id>00017</ext-id></metadata>' +
          '<breakoutRooms><breakout>0099</breakout></breakoutRooms></response>',
      ),
    );
    expect(info.meetingID).toBe('007');
    expect(info.voiceBridge).toBe('01234');
    expect(info.maxUsers).toBe(1500);
    expect(info.participantCount).toBe(12);
    expect(info.attendees[0]!.userID).toBe('0042');
    expect(info.metadata).toEqual({ 'ext-id': '00017' });
    expect(info.breakoutRooms).toEqual(['0099']);
    // Missing counters default to 0, missing passwords stay absent (newer templates omit them).
    expect(info.videoCount).toBe(0);
    expect('attendeePW' in info).toBe(false);
  });

  it('keeps metadata named after Object.prototype members as plain string data', async () => {
    const info = toMeetingInfo(
      await parseXml(
        '<response><meetingID>m1</meetingID><metadata><constructor>c</constructor><toString>t</toString>' +
          '<__proto__>p</__proto__></metadata></response>',
      ),
    );
    expect(info.metadata['constructor']).toBe('c');
    expect(info.metadata['toString']).toBe('t');
    expect(Object.getOwnPropertyDescriptor(info.metadata, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(info.metadata)).toBe(Object.prototype);
  });

  it('unescapes XML entities in values', async () => {
    const info = toMeetingInfo(
      await parseXml('<response><meetingID>a&amp;b</meetingID><meetingName>&lt;Room&gt; &quot;1&quot;</meetingName></response>'),
    );
    expect(info.meetingID).toBe('a&b');
    expect(info.meetingName).toBe('<Room> "1"');
  });

  it('throws MalformedXmlError when handed an answer that is not a meeting', async () => {
    expect(() => toMeetingInfo({ returncode: 'SUCCESS' })).toThrow(MalformedXmlError);
  });
});

describe('toMeetings', () => {
  it('maps get-meetings-success.xml (one meeting, whitespace-only empty containers)', async () => {
    const meetings = toMeetings(await parseFixture('get-meetings-success.xml'));
    expect(meetings).toHaveLength(1);
    const m = meetings[0]!;
    expect(m.meetingID).toBe('Demo Meeting');
    expect(m.meetingName).toBe('Demo Meeting');
    expect(m.internalMeetingID).toBe('183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036');
    expect(m.createTime).toBe(1531241258036);
    expect(m.startTime).toBe(1531241258074);
    expect(m.voiceBridge).toBe('70066');
    expect(m.attendeePW).toBe('ap');
    expect(m.moderatorPW).toBe('mp');
    expect(m.running).toBe(false);
    expect(m.participantCount).toBe(0);
    expect(m.attendees).toEqual([]);
    expect(m.metadata).toEqual({});
    expect(m.isBreakout).toBe(false);
  });

  it('maps the docs example with self-closing <attendees /> and <metadata />', async () => {
    const meetings = toMeetings(await parseFixture('get-meetings-docs-example.xml'));
    expect(meetings).toHaveLength(1);
    expect(meetings[0]!.createDate).toBe('Tue Jul 10 16:47:38 UTC 2018');
    expect(meetings[0]!.attendees).toEqual([]);
    expect(meetings[0]!.metadata).toEqual({});
  });

  it('gives [] for the noMeetings answer and keeps its message', async () => {
    const resp = await parseFixture('get-meetings-no-meetings.xml');
    expect(readReturnCode(resp)).toBe('SUCCESS');
    expect(toMeetings(resp)).toEqual([]);
    expect(readMessage(resp)).toEqual(BBB_ERRORS.noMeetings);
  });

  it('maps several meetings, each with one or many attendees', async () => {
    const meeting = (id: string, users: string[]): string =>
      `<meeting><meetingID>${id}</meetingID><participantCount>${users.length}</participantCount><attendees>` +
      users.map((u) => `<attendee><userID>${u}</userID><role>MODERATOR</role></attendee>`).join('') +
      '</attendees><metadata/></meeting>';
    const resp = await parseXml(
      `<response><returncode>SUCCESS</returncode><meetings>${meeting('a', ['u1'])}${meeting('b', ['u2', 'u3'])}${meeting('c', [])}</meetings></response>`,
    );
    const meetings = toMeetings(resp);
    expect(meetings.map((m) => m.meetingID)).toEqual(['a', 'b', 'c']);
    expect(meetings.map((m) => m.attendees.map((a) => a.userID))).toEqual([['u1'], ['u2', 'u3'], []]);
    expect(meetings.map((m) => m.participantCount)).toEqual([1, 2, 0]);
  });
});

describe('toCreateResult', () => {
  it('maps a fresh create with empty messageKey/message', async () => {
    expect(toCreateResult(await parseFixture('create-success.xml'))).toEqual(created);
  });

  it('maps a duplicateWarning create', async () => {
    const result = toCreateResult(await parseFixture('create-duplicate-warning.xml'));
    expect(result.messageKey).toBe('duplicateWarning');
    expect(result.message).toBe(BBB_ERRORS.duplicateWarning.message);
    expect(result.hasUserJoined).toBe(true);
    expect(result.meetingID).toBe('random-1730297');
  });

  it('maps the indented docs example', async () => {
    const result = toCreateResult(await parseFixture('create-duplicate-warning-docs-example.xml'));
    expect(result.meetingID).toBe('Test');
    expect(result.createTime).toBe(1531155809613);
    expect(result.messageKey).toBe('duplicateWarning');
  });
});

describe('toJoinResult', () => {
  it('maps join redirect=false (snake_case wire names)', async () => {
    expect(toJoinResult(await parseFixture('join-success-redirect-false.xml'))).toEqual(joined);
  });

  it('maps a guest-wait join', async () => {
    const result = toJoinResult(await parseFixture('join-guest-wait-redirect-false.xml'));
    expect(result.messageKey).toBe('guestWait');
    expect(result.guestStatus).toBe('WAIT');
    expect(result.url).toBe('https://bbb.example.com/html5client/guestWait?sessionToken=zkprx8c2nwdhaz4q');
  });

  it("gives guestStatus '' for the docs example, which has none", async () => {
    const result = toJoinResult(await parseFixture('join-success-docs-example.xml'));
    expect(result.guestStatus).toBe('');
    expect(result.sessionToken).toBe('ai1wqj8wb6s7rnk0');
  });
});

describe('toRecordings', () => {
  it('maps the docs example (two formats, a preview with three images)', async () => {
    const recordings = toRecordings(await parseFixture('get-recordings-docs-example.xml'));
    expect(recordings).toHaveLength(1);
    const r = recordings[0]!;
    expect(r.recordID).toBe('ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124');
    expect(r.meetingID).toBe('c637ba21adcd0191f48f5c4bf23fab0f96ed5c18');
    expect(r.name).toBe("Fred's Room");
    expect(r.isBreakout).toBe(false);
    expect(r.published).toBe(true);
    expect(r.state).toBe('published');
    expect(r.startTime).toBe(1530718721124);
    expect(r.endTime).toBe(1530718810456);
    expect(r.participants).toBe(3);
    // Recording metadata values stay strings even when they look boolean.
    expect(r.metadata).toEqual({
      isBreakout: 'false',
      meetingName: "Fred's Room",
      'gl-listed': 'false',
      meetingId: 'c637ba21adcd0191f48f5c4bf23fab0f96ed5c18',
    });
    expect(r.formats.map((f) => f.type)).toEqual(['podcast', 'presentation']);
    expect(r.formats[0]).toEqual({
      type: 'podcast',
      url: 'https://demo.bigbluebutton.org/podcast/ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124/audio.ogg',
      processingTime: 0,
      length: 0,
    });
    const presentation = r.formats[1]!;
    expect(presentation.processingTime).toBe(7177);
    expect(presentation.preview).toHaveLength(3);
    expect(presentation.preview![0]).toEqual({
      url: 'https://demo.bigbluebutton.org/presentation/ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124/presentation/d2d9a672040fbde2a47a10bf6c37b6a4b5ae187f-1530718721134/thumbnails/thumb-1.png',
      width: '176',
      height: '136',
      alt: 'Welcome to',
    });
    expect(presentation.preview![2]!.alt).toBe('(this slide left blank for use as a whiteboard)');
  });

  it('maps the compact wire form (no whitespace between elements)', async () => {
    const [r, ...rest] = toRecordings(await parseFixture('get-recordings-success-wire.xml'));
    expect(rest).toEqual([]);
    expect(r!.internalMeetingID).toBe('ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124');
    expect(r!.formats).toEqual(fredsRecording.formats);
  });

  it('gives [] for noRecordings', async () => {
    const resp = await parseFixture('get-recordings-no-recordings.xml');
    expect(readReturnCode(resp)).toBe('SUCCESS');
    expect(toRecordings(resp)).toEqual([]);
    expect(readMessage(resp)).toEqual(BBB_ERRORS.noRecordings);
  });

  it('collects formats from several <playback> elements and handles a single image', async () => {
    const resp = await parseXml(
      '<response><returncode>SUCCESS</returncode><recordings><recording><recordID>r1</recordID><metadata/>' +
        '<playback><format><type>video</type><url>u1</url><processingTime>5</processingTime><length>2</length></format></playback>' +
        '<playback><format><type>presentation</type><url>u2</url><preview><images><image>i1</image></images></preview></format></playback>' +
        '</recording><recording><recordID>r2</recordID></recording></recordings></response>',
    );
    const recordings = toRecordings(resp);
    expect(recordings.map((r) => r.recordID)).toEqual(['r1', 'r2']);
    expect(recordings[0]!.formats.map((f) => [f.type, f.url, f.length])).toEqual([
      ['video', 'u1', 2],
      ['presentation', 'u2', 0],
    ]);
    expect(recordings[0]!.formats[1]!.preview).toEqual([{ url: 'i1' }]);
    expect(recordings[1]!.formats).toEqual([]);
    expect(recordings[1]!.metadata).toEqual({});
  });
});

describe('toApiVersion', () => {
  it('maps the index answer (empty bbbVersion kept as "")', async () => {
    expect(toApiVersion(await parseFixture('api-version-index.xml'))).toEqual(apiVersion);
  });

  it('omits the 3.0-only URLs on older servers', async () => {
    const version = toApiVersion(
      await parseXml('<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion>2.7.3</bbbVersion></response>'),
    );
    expect(version).toEqual({ version: '2.0', apiVersion: '2.0', bbbVersion: '2.7.3' });
  });
});
