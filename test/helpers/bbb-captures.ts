// The typed values behind the BBB wire captures in test/fixtures/bbb-xml: what the parser must
// read out of a capture and what the renderer must turn back into it, byte for byte.

import { BBB_ERRORS } from '../../src/bbb/errors.js';
import type { ApiVersion, Attendee, CreateResult, JoinResult, MeetingInfo, Recording } from '../../src/bbb/types.js';
import { javaDateString } from '../../src/bbb/xml.js';

/** create-success.xml */
export const created: CreateResult = {
  meetingID: 'random-1730297',
  internalMeetingID: 'e2423c8ce6a4f724a3d3528574397badbb97ef77-1715261728123',
  parentMeetingID: 'bbb-none',
  attendeePW: 'ap',
  moderatorPW: 'mp',
  createTime: 1715261728123,
  voiceBridge: '70757',
  dialNumber: '613-555-1234',
  createDate: 'Thu May 09 13:35:28 UTC 2024',
  hasUserJoined: false,
  duration: 0,
  hasBeenForciblyEnded: false,
  messageKey: '',
  message: '',
};

/** join-success-redirect-false.xml */
export const joined: JoinResult = {
  ...BBB_ERRORS.successfullyJoined,
  meetingID: 'e2423c8ce6a4f724a3d3528574397badbb97ef77-1715261728123',
  userID: 'w_euxnssffnsbs',
  authToken: '14mm5y3eurjw',
  sessionToken: 'ai1wqj8wb6s7rnk0',
  guestStatus: 'ALLOW',
  url: 'https://bbb.example.com/html5client/join?sessionToken=ai1wqj8wb6s7rnk0',
};

const anton: Attendee = {
  userID: 'w_ftcrsyuh44oj',
  fullName: 'Anton G',
  role: 'MODERATOR',
  isPresenter: true,
  isListeningOnly: false,
  hasJoinedVoice: true,
  hasVideo: true,
  clientType: 'HTML5',
};
const mary: Attendee = {
  userID: 'student-42',
  fullName: 'Mary Sue',
  role: 'VIEWER',
  isPresenter: false,
  isListeningOnly: true,
  hasJoinedVoice: false,
  hasVideo: false,
  clientType: 'HTML5',
  customdata: { bbb_skip_check_audio: 'true' },
};

/** get-meeting-info-success.xml: 2 attendees, customdata, metadata. */
export const antonsRoom: MeetingInfo = {
  meetingName: "Anton G's Room",
  meetingID: 'gbesu6dht08uobpislzqxsizjzihn87cmewqyacs',
  internalMeetingID: 'e5ac8bc5f4be660fa44b79591dc90848aa1f2f79-1715261728123',
  createTime: 1715261728123,
  createDate: 'Thu May 09 13:35:28 UTC 2024',
  voiceBridge: '66052',
  dialNumber: '613-555-1234',
  attendeePW: '1umEM3ic',
  moderatorPW: 'V91JirCa',
  running: true,
  duration: 0,
  hasUserJoined: true,
  recording: true,
  hasBeenForciblyEnded: false,
  startTime: 1715261728142,
  endTime: 0,
  participantCount: 2,
  listenerCount: 1,
  voiceParticipantCount: 1,
  videoCount: 1,
  maxUsers: 0,
  moderatorCount: 1,
  attendees: [anton, mary],
  metadata: { 'bbb-origin': 'greenlight', endcallbackurl: 'https://app.example.com/meeting_ended' },
  isBreakout: false,
};

/** The one meeting of get-meetings-success.xml. */
export const demoMeeting: MeetingInfo = {
  ...antonsRoom,
  meetingName: 'Demo Meeting',
  meetingID: 'Demo Meeting',
  internalMeetingID: '183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036',
  createTime: 1531241258036,
  createDate: javaDateString(1531241258036),
  voiceBridge: '70066',
  attendeePW: 'ap',
  moderatorPW: 'mp',
  running: false,
  hasUserJoined: false,
  recording: false,
  startTime: 1531241258074,
  participantCount: 0,
  listenerCount: 0,
  voiceParticipantCount: 0,
  videoCount: 0,
  moderatorCount: 0,
  attendees: [],
  metadata: {},
};

/** The one recording of get-recordings-success-wire.xml. */
export const fredsRecording: Recording = {
  recordID: 'ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124',
  meetingID: 'c637ba21adcd0191f48f5c4bf23fab0f96ed5c18',
  internalMeetingID: 'ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124',
  name: "Fred's Room",
  isBreakout: false,
  published: true,
  state: 'published',
  startTime: 1530718721124,
  endTime: 1530718810456,
  participants: 3,
  metadata: {
    isBreakout: 'false',
    meetingName: "Fred's Room",
    'gl-listed': 'false',
    meetingId: 'c637ba21adcd0191f48f5c4bf23fab0f96ed5c18',
  },
  formats: [
    {
      type: 'presentation',
      url: 'https://demo.bigbluebutton.org/playback/presentation/2.3/ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124',
      processingTime: 7177,
      length: 1,
    },
  ],
};

/** api-version-index.xml */
export const apiVersion: ApiVersion = {
  version: '2.0',
  apiVersion: '2.0',
  bbbVersion: '',
  apiUrl: 'https://bbb.example.com/bigbluebutton/api',
  graphqlWebsocketUrl: 'wss://bbb.example.com/graphql',
  graphqlApiUrl: 'https://bbb.example.com/api/rest',
};
