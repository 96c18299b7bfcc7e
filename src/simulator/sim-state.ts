// Read-only views of a simulated server for the control API, the cluster list and /metrics.
import { deliveredStreams, serverLoad } from './load.js';
import type { LoadConstants } from './load.js';
import { loadInputOf } from './meeting-info.js';
import type { AudioMode, MeetingModel } from './meeting-model.js';
import type { Role } from '../bbb/types.js';

/** Who is in and what they send: one meeting's, or summed over a server's meetings. */
interface UsageCounts {
  participants: number;
  moderators: number;
  listeners: number;
  voice: number;
  /** Camera streams published (sum of videoCount). */
  videos: number;
  /** Camera streams the SFU sends out. */
  streamsDelivered: number;
}

export interface ServerTotals extends UsageCounts {
  /** CPU-like figure, percent of all cores (load.ts). */
  load: number;
  cores: number;
  meetings: number;
  largestMeeting: number;
  /** Joins through the API that have not entered (yet). */
  pendingJoins: number;
  meetingsCreatedTotal: number;
  recordings: number;
}

export interface UserView {
  sessionToken: string;
  userID: string;
  internalUserID: string;
  fullName: string;
  role: Role;
  presenter: boolean;
  cameras: number;
  audio: AudioMode;
}

export interface MeetingView extends UsageCounts {
  meetingID: string;
  internalMeetingID: string;
  name: string;
  createTime: number;
  running: boolean;
  ended: boolean;
  maxParticipants: number;
  meetingCameraCap: number;
  userCameraCap: number;
  webcamsOnlyForModerator: boolean;
  lockSettingsDisableCam: boolean;
  users?: UserView[];
}

export interface TotalsOptions {
  cores: number;
  constants?: Readonly<LoadConstants>;
}

/** One pass over the meetings: every total /metrics and the cluster list show. */
export function serverTotals(model: MeetingModel, opts: TotalsOptions): ServerTotals {
  const inputs = model.loadInputs();
  const t: ServerTotals = {
    load: serverLoad(inputs, opts),
    cores: opts.cores,
    meetings: inputs.length,
    participants: 0,
    moderators: 0,
    listeners: 0,
    voice: 0,
    videos: 0,
    streamsDelivered: 0,
    largestMeeting: 0,
    pendingJoins: model.pendingCount,
    meetingsCreatedTotal: model.createdTotal,
    recordings: model.recordings.size,
  };
  for (const m of inputs) {
    t.participants += m.participants;
    t.moderators += m.moderators;
    t.listeners += m.listenOnly;
    t.voice += m.microphones;
    t.videos += m.moderatorCameras + m.viewerCameras;
    t.streamsDelivered += deliveredStreams(m);
    t.largestMeeting = Math.max(t.largestMeeting, m.participants);
  }
  return t;
}

export function meetingViews(model: MeetingModel, withUsers: boolean): MeetingView[] {
  return model.meetings().map((m) => {
    const c = model.counters(m);
    const view: MeetingView = {
      meetingID: m.meetingID,
      internalMeetingID: m.internalMeetingID,
      name: m.name,
      createTime: m.createTime,
      running: m.users.size > 0,
      ended: m.forciblyEnded,
      maxParticipants: m.maxParticipants,
      meetingCameraCap: m.meetingCameraCap,
      userCameraCap: m.userCameraCap,
      webcamsOnlyForModerator: m.webcamsOnlyForModerator,
      lockSettingsDisableCam: m.lockSettingsDisableCam,
      participants: c.participants,
      moderators: c.moderators,
      listeners: c.listeners,
      voice: c.voice,
      videos: c.videos,
      streamsDelivered: deliveredStreams(loadInputOf(m)),
    };
    if (withUsers) {
      view.users = [...m.users.values()].map((u) => ({
        sessionToken: u.sessionToken,
        userID: u.externUserID,
        internalUserID: u.internalUserID,
        fullName: u.fullName,
        role: u.role,
        presenter: u.presenter,
        cameras: u.cameras,
        audio: u.audio,
      }));
    }
    return view;
  });
}
