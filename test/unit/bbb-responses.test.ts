import { describe, expect, it } from 'vitest';
import { BBB_ERRORS } from '../../src/bbb/errors.js';
import {
  joinErrorRedirectUrl,
  renderApiVersion,
  renderCreate,
  renderDeleted,
  renderEnd,
  renderErrorList,
  renderFailed,
  renderInsertDocument,
  renderIsMeetingRunning,
  renderJoin,
  renderMeetingInfo,
  renderMeetings,
  renderPublished,
  renderRecordings,
  renderSendChatMessage,
  renderUpdated,
} from '../../src/bbb/responses.js';
import { escapeXml, javaDateString } from '../../src/bbb/xml.js';
import { antonsRoom, apiVersion, created, demoMeeting, fredsRecording, joined } from '../helpers/bbb-captures.js';
import { fixture } from '../helpers/fixtures.js';

// Golden tests: each renderer must reproduce a BBB wire capture byte for byte.

describe('XML rendering matches BBB wire captures', () => {
  it('create (fresh, empty messageKey/message)', () => {
    expect(renderCreate(created)).toBe(fixture('create-success.xml'));
  });

  it('create duplicateWarning', () => {
    const { messageKey, message } = BBB_ERRORS.duplicateWarning;
    expect(renderCreate({ ...created, hasUserJoined: true, messageKey, message })).toBe(fixture('create-duplicate-warning.xml'));
  });

  it('join redirect=false, ALLOW and guest WAIT', () => {
    expect(renderJoin(joined)).toBe(fixture('join-success-redirect-false.xml'));
    expect(
      renderJoin({
        ...BBB_ERRORS.guestWait,
        meetingID: 'e2423c8ce6a4f724a3d3528574397badbb97ef77-1715261728123',
        userID: 'w_hx1qpwdbkq5z',
        authToken: 'k3mdjyfnm9s2',
        sessionToken: 'zkprx8c2nwdhaz4q',
        guestStatus: 'WAIT',
        url: 'https://bbb.example.com/html5client/guestWait?sessionToken=zkprx8c2nwdhaz4q',
      }),
    ).toBe(fixture('join-guest-wait-redirect-false.xml'));
  });

  it('join error redirect in the java.net.URI form BBB sends', () => {
    expect(joinErrorRedirectUrl('https://t012.rna1.blindsidenetworks.com/', [BBB_ERRORS.maxParticipantsReached])).toBe(
      'https://t012.rna1.blindsidenetworks.com/?errors=[%7B%22message%22:%22The%20number%20of%20participants%20allowed%20for%20this%20meeting%20has%20been%20reached.%22,%22key%22:%22maxParticipantsReached%22%7D]',
    );
    expect(joinErrorRedirectUrl('https://xxx.com/', [BBB_ERRORS.meetingForciblyEnded])).toBe(
      'https://xxx.com/?errors=[%7B%22message%22:%22You%20can%20not%20join%20a%20meeting%20that%20has%20already%20been%20forcibly%20ended%22,%22key%22:%22meetingForciblyEnded%22%7D]',
    );
  });

  it('end, isMeetingRunning true/false', () => {
    expect(renderEnd()).toBe(fixture('end-success.xml'));
    expect(renderIsMeetingRunning(true)).toBe(fixture('is-meeting-running-true.xml'));
    expect(renderIsMeetingRunning(false)).toBe(fixture('is-meeting-running-false.xml'));
  });

  it('getMeetingInfo with attendees, customdata and metadata', () => {
    expect(renderMeetingInfo(antonsRoom)).toBe(fixture('get-meeting-info-success.xml'));
  });

  it('getMeetingInfo of a breakout room and of a parent with breakout rooms', () => {
    const breakout = {
      ...antonsRoom,
      isBreakout: true,
      parentMeetingID: 'b9a2d1a3c0f6e4b7a8c9d0e1f2a3b4c5d6e7f8a9-1715261700000',
      sequence: 1,
      freeJoin: false,
    };
    expect(renderMeetingInfo(breakout)).toBe(fixture('get-meeting-info-breakout-room.xml'));
    const parent = { ...antonsRoom, breakoutRooms: ['breakout-room-id-1', 'breakout-room-id-2'] };
    expect(renderMeetingInfo(parent)).toBe(fixture('get-meeting-info-with-breakout-rooms.xml'));
  });

  it('getMeetings with one meeting and with none', () => {
    expect(renderMeetings([demoMeeting])).toBe(fixture('get-meetings-success.xml'));
    expect(renderMeetings([])).toBe(fixture('get-meetings-no-meetings.xml'));
  });

  it('getRecordings (Scala whitespace) with one recording and with none', () => {
    expect(renderRecordings([fredsRecording])).toBe(fixture('get-recordings-success-wire.xml'));
    expect(renderRecordings([])).toBe(fixture('get-recordings-no-recordings.xml'));
  });

  it('publish/delete/update recordings', () => {
    expect(renderPublished('true')).toBe(fixture('publish-recordings-success.xml'));
    expect(renderDeleted()).toBe(fixture('delete-recordings-success.xml'));
    expect(renderUpdated()).toBe(fixture('update-recordings-success.xml'));
  });

  it('index (api version)', () => {
    expect(renderApiVersion(apiVersion)).toBe(fixture('api-version-index.xml'));
  });

  it('insertDocument and sendChatMessage', () => {
    expect(renderInsertDocument(true, 'Presentation is being uploaded')).toBe(fixture('insert-document-success.xml'));
    expect(renderInsertDocument(false, 'Meeting with id [test01] not found.')).toBe(
      fixture('insert-document-failed-meeting-not-found.xml'),
    );
    expect(renderSendChatMessage()).toBe(fixture('send-chat-message-success.xml'));
  });

  it('the errors list form', () => {
    expect(renderErrorList([BBB_ERRORS.nonUniqueVoiceBridge])).toBe(fixture('create-failed-nonUniqueVoiceBridge.xml'));
  });

  // Every single-error FAILED capture of the reference, by its catalogue entry.
  const failures: [string, keyof typeof BBB_ERRORS][] = [
    ['failed-checksumError.xml', 'checksumError'],
    ['failed-checksumError-missing-checksum.xml', 'checksumMissing'],
    ['failed-checksumError-legacy-recordings.xml', 'checksumErrorRecordings'],
    ['failed-unsupportedContentType.xml', 'unsupportedContentType'],
    ['failed-validationError-request-not-recognized.xml', 'requestNotRecognized'],
    ['failed-apiNotEnabled.xml', 'apiNotEnabled'],
    ['failed-notFound.xml', 'notFound'],
    ['failed-missingParamMeetingID.xml', 'missingParamMeetingID'],
    ['failed-meetingID-size.xml', 'meetingIdSize'],
    ['failed-meetingID-comma.xml', 'meetingIdComma'],
    ['failed-invalidPassword-length.xml', 'invalidPasswordLength'],
    ['create-failed-idNotUnique.xml', 'idNotUnique'],
    ['create-failed-invalid-meeting-id.xml', 'invalidMeetingId'],
    ['create-failed-meeting-name-missing.xml', 'meetingNameMissing'],
    ['create-failed-meeting-name-size.xml', 'meetingNameSize'],
    ['create-failed-parentMeetingIdMissing.xml', 'parentMeetingIdMissing'],
    ['end-failed-invalidPassword.xml', 'endWrongPassword'],
    ['join-failed-maxParticipantsReached.xml', 'maxParticipantsReached'],
    ['join-failed-meetingForciblyEnded.xml', 'meetingForciblyEnded'],
    ['join-failed-invalidMeetingIdentifier.xml', 'invalidMeetingIdentifier'],
    ['join-failed-missingParamFullName.xml', 'missingParamFullName'],
    ['join-failed-mismatchCreateTimeParam.xml', 'mismatchCreateTimeParam'],
    ['join-failed-guestDeniedAccess.xml', 'guestDeniedAccess'],
    ['join-failed-params-required-invalid-password.xml', 'joinInvalidPassword'],
    ['join-failed-params-required-role-needed.xml', 'joinRoleNeeded'],
    ['join-failed-params-required-no-role-no-password.xml', 'joinNoRoleNoPassword'],
    ['recordings-failed-notFound.xml', 'recordingsNotFound'],
    ['recordings-failed-missingParamRecordID.xml', 'missingParamRecordID'],
    ['publish-recordings-failed-missingParamPublish.xml', 'missingParamPublish'],
    ['send-chat-message-failed-message-size.xml', 'chatMessageSize'],
  ];
  for (const [file, name] of failures) {
    it(`FAILED ${name} (${file})`, () => {
      expect(renderFailed(BBB_ERRORS[name])).toBe(fixture(file));
    });
  }

  it('escapes values, keeps the apostrophe, and renders a createDate like Java', () => {
    expect(escapeXml(`a&b<c>"d'`)).toBe(`a&amp;b&lt;c&gt;&quot;d'`);
    const info = renderMeetingInfo({ ...antonsRoom, meetingName: 'R&D <1>', attendees: [], metadata: { 'x y': 'v&' } });
    expect(info).toContain('<meetingName>R&amp;D &lt;1&gt;</meetingName>');
    expect(info).toContain('<x_y>v&amp;</x_y>');
    expect(javaDateString(1531241258036)).toBe('Tue Jul 10 16:47:38 UTC 2018');
  });
});
