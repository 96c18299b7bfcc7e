// What a meeting looks like from outside: BBB's counters (bbb-api.md §6), the MeetingInfo the
// renderers print, and the figures load.ts needs. Pure functions of one meeting.
import type { Attendee, MeetingInfo } from '../bbb/types.js';
import { javaDateString } from '../bbb/xml.js';
import type { MeetingLoadInput } from './load.js';
import type { SimMeeting } from './meeting-model.js';

export interface MeetingCounters {
  participants: number;
  moderators: number;
  listeners: number;
  voice: number;
  /** Camera streams (BBB videoCount): a user may publish several. */
  videos: number;
  moderatorCameras: number;
  viewerCameras: number;
}

export function countersOf(m: SimMeeting): MeetingCounters {
  const c: MeetingCounters = { participants: 0, moderators: 0, listeners: 0, voice: 0, videos: 0, moderatorCameras: 0, viewerCameras: 0 };
  for (const u of m.users.values()) {
    c.participants++;
    if (u.role === 'MODERATOR') {
      c.moderators++;
      c.moderatorCameras += u.cameras;
    } else {
      c.viewerCameras += u.cameras;
    }
    // As in BBB's own capture (get-meeting-info-success.xml): a listen-only user is a
    // listener, not a voice participant; voice = users with a microphone in the conference.
    if (u.audio === 'listen') c.listeners++;
    else if (u.audio === 'mic') c.voice++;
    c.videos += u.cameras;
  }
  return c;
}

export function meetingInfo(m: SimMeeting): MeetingInfo {
  const c = countersOf(m);
  const attendees: Attendee[] = [];
  for (const u of m.users.values()) {
    const a: Attendee = {
      userID: u.externUserID,
      fullName: u.fullName,
      role: u.role,
      isPresenter: u.presenter,
      isListeningOnly: u.audio === 'listen',
      hasJoinedVoice: u.audio === 'mic',
      hasVideo: u.cameras > 0,
      clientType: 'HTML5',
    };
    if (u.customdata) a.customdata = u.customdata;
    attendees.push(a);
  }
  const info: MeetingInfo = {
    meetingName: m.name,
    meetingID: m.meetingID,
    internalMeetingID: m.internalMeetingID,
    createTime: m.createTime,
    createDate: javaDateString(m.createTime),
    voiceBridge: m.voiceBridge,
    dialNumber: m.dialNumber,
    attendeePW: m.attendeePW,
    moderatorPW: m.moderatorPW,
    running: m.users.size > 0,
    duration: m.duration,
    hasUserJoined: m.hasUserJoined,
    recording: m.record,
    hasBeenForciblyEnded: m.forciblyEnded,
    startTime: m.startTime,
    endTime: m.endTime,
    participantCount: c.participants,
    listenerCount: c.listeners,
    voiceParticipantCount: c.voice,
    videoCount: c.videos,
    maxUsers: m.maxParticipants,
    moderatorCount: c.moderators,
    attendees,
    metadata: { ...m.metadata },
    isBreakout: m.isBreakout,
  };
  if (m.isBreakout) {
    info.parentMeetingID = m.parentMeetingID;
    info.sequence = m.sequence;
    info.freeJoin = m.freeJoin;
  }
  return info;
}

export function loadInputOf(m: SimMeeting): MeetingLoadInput {
  const c = countersOf(m);
  return {
    participants: c.participants,
    moderators: c.moderators,
    listenOnly: c.listeners,
    microphones: c.voice,
    moderatorCameras: c.moderatorCameras,
    viewerCameras: c.viewerCameras,
    webcamsOnlyForModerator: m.webcamsOnlyForModerator,
  };
}
