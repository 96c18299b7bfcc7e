import { describe, expect, it } from 'vitest';
import type { Attendee, MeetingInfo } from '../../src/bbb/types.js';
import { isEnded, measureServer, meetingCounts, voiceConnections } from '../../src/poller/measure.js';
import { DEFAULT_LOAD_WEIGHTS, meetingLoad } from '../../src/placement/load-model.js';

const tenants = new Set(['acme', 'lms-1']);

const attendee = (n: number, audio: 'mic' | 'listen' | 'none', role: Attendee['role'] = 'VIEWER', cam = false): Attendee => ({
  userID: `u${n}`,
  fullName: `User ${n}`,
  role,
  isPresenter: false,
  isListeningOnly: audio === 'listen',
  hasJoinedVoice: audio === 'mic',
  hasVideo: cam,
  clientType: 'HTML5',
});

function info(meetingID: string, over: Partial<MeetingInfo> = {}): MeetingInfo {
  const attendees = over.attendees ?? [];
  return {
    meetingName: meetingID,
    meetingID,
    internalMeetingID: `${meetingID}-int`,
    createTime: 1_700_000_000_000,
    createDate: 'Tue Nov 14 22:13:20 UTC 2023',
    voiceBridge: '70001',
    dialNumber: '',
    running: attendees.length > 0,
    duration: 0,
    hasUserJoined: attendees.length > 0,
    recording: false,
    hasBeenForciblyEnded: false,
    startTime: 1_700_000_000_000,
    endTime: 0,
    participantCount: attendees.length,
    listenerCount: attendees.filter((a) => a.isListeningOnly).length,
    voiceParticipantCount: attendees.filter((a) => a.hasJoinedVoice).length,
    videoCount: attendees.filter((a) => a.hasVideo).length,
    maxUsers: 0,
    moderatorCount: attendees.filter((a) => a.role === 'MODERATOR').length,
    attendees,
    metadata: {},
    isBreakout: false,
    ...over,
  };
}

describe('poller measurement', () => {
  it('maps upstream IDs to tenant-local IDs and rewrites the stored info; foreign IDs weigh but are no one\'s', () => {
    const { meetings, totals } = measureServer([info('acme~room 1'), info('plain%7Ea'), info('other~x')], tenants);
    expect(meetings.map((m) => [m.tenant, m.meetingID, m.upstreamID, m.info.meetingID])).toEqual([
      ['acme', 'room 1', 'acme~room 1', 'room 1'],
      ['default', 'plain~a', 'plain%7Ea', 'plain~a'],
    ]);
    expect(totals.meetings).toBe(3);
    expect(meetings[0]!.createTime).toBe(1_700_000_000_000);
    expect(meetings[0]!.info.internalMeetingID).toBe('acme~room 1-int');
  });

  it('counts voice connections from the attendees: microphones and listen-only', () => {
    const m = info('m', { attendees: [attendee(1, 'mic'), attendee(2, 'listen'), attendee(3, 'none')] });
    expect(voiceConnections(m)).toBe(2);
    // A BBB that counts listen-only users in voiceParticipantCount too must not be counted twice.
    expect(voiceConnections({ ...m, voiceParticipantCount: 2, listenerCount: 1 })).toBe(2);
  });

  it('falls back to the counters, bounded by the participants, when no attendee is listed', () => {
    const m = info('m', { participantCount: 5, voiceParticipantCount: 2, listenerCount: 2 });
    expect(voiceConnections(m)).toBe(4);
    expect(voiceConnections({ ...m, voiceParticipantCount: 5, listenerCount: 2 })).toBe(5);
  });

  it('sums the server totals and each meeting load with the load model', () => {
    const small = info('small', { attendees: [attendee(1, 'mic', 'MODERATOR', true), attendee(2, 'listen'), attendee(3, 'listen')] });
    // 4 users, 2 cameras: each camera goes to the 3 others.
    const cams = info('acme~cams', {
      attendees: [attendee(4, 'mic', 'MODERATOR', true), attendee(5, 'mic', 'VIEWER', true), attendee(6, 'none'), attendee(7, 'listen')],
    });
    const empty = info('empty');
    const { totals, meetings } = measureServer([small, cams, empty], tenants);

    const loadSmall = 5 + 3 + 0.5 * 3 + 0.25 * 1 * 2;
    const loadCams = 5 + 4 + 0.5 * 3 + 0.25 * 2 * 3;
    expect(meetings.map((m) => m.measuredLoad)).toEqual([loadSmall, loadCams, 5]);
    expect(totals).toEqual({
      meetings: 3,
      participants: 7,
      voice: 6,
      videos: 3,
      streamsDelivered: 2 + 6,
      measuredLoad: loadSmall + loadCams + 5,
    });
    expect(meetings[1]!.measuredLoad).toBe(meetingLoad(meetingCounts(cams), DEFAULT_LOAD_WEIGHTS));
  });

  it('uses the weights it is given', () => {
    const m = info('m', { attendees: [attendee(1, 'mic'), attendee(2, 'mic', 'VIEWER', true)] });
    const weights = { perMeeting: 0, perParticipant: 10, perVoice: 0, perStreamDelivered: 100 };
    expect(measureServer([m], tenants, weights).totals.measuredLoad).toBe(2 * 10 + 100 * 1);
  });

  it('counts breakout rooms as meetings of their parent tenant', () => {
    const parent = info('acme~class', { internalMeetingID: 'parent-int', attendees: [attendee(1, 'mic', 'MODERATOR')] });
    const breakout = info('3c6f0e1e9a2b-1715261728123', {
      isBreakout: true,
      parentMeetingID: 'parent-int',
      sequence: 1,
      attendees: [attendee(2, 'mic'), attendee(3, 'listen')],
    });
    const orphan = info('77aa-1715261728999', { isBreakout: true, parentMeetingID: 'gone-int', attendees: [attendee(4, 'mic')] });
    const { totals, meetings } = measureServer([parent, breakout, orphan], tenants);
    expect(meetings.map((m) => [m.tenant, m.meetingID, m.upstreamID])).toEqual([
      ['acme', 'class', 'acme~class'],
      ['acme', '3c6f0e1e9a2b-1715261728123', '3c6f0e1e9a2b-1715261728123'],
      ['default', '77aa-1715261728999', '77aa-1715261728999'],
    ]);
    expect(totals.meetings).toBe(3);
    expect(totals.participants).toBe(4);
    expect(totals.measuredLoad).toBe(3 * 5 + 4 + 0.5 * 4);
  });

  it('keeps ended meetings listed but weighs them at nothing', () => {
    const ended = info('done', { hasBeenForciblyEnded: true, endTime: 1_700_000_100_000 });
    expect(isEnded(ended)).toBe(true);
    expect(isEnded(info('live'))).toBe(false);
    const { totals, meetings } = measureServer([ended], tenants);
    expect(meetings).toHaveLength(1);
    expect(meetings[0]!.measuredLoad).toBe(0);
    expect(meetings[0]!.info.hasBeenForciblyEnded).toBe(true);
    expect(totals).toEqual({ meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 });
  });

  it('keeps the live meeting when an ended one with the same ID is still listed', () => {
    const ended = info('again', { internalMeetingID: 'old', hasBeenForciblyEnded: true, endTime: 5, createTime: 1 });
    const live = info('again', { internalMeetingID: 'new', createTime: 2, attendees: [attendee(1, 'mic')] });
    for (const order of [[ended, live], [live, ended]]) {
      const { totals, meetings } = measureServer(order, tenants);
      expect(meetings.map((m) => m.info.internalMeetingID)).toEqual(['new']);
      expect(totals.meetings).toBe(1);
    }
  });

  it('measures an empty server as zero', () => {
    expect(measureServer([], tenants)).toEqual({
      totals: { meetings: 0, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 0 },
      meetings: [],
    });
  });
});
