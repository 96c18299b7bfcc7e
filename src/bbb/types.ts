// Typed shapes of what BBB servers answer. Shared by the XML renderer (simulator, gateway)
// and the XML parser (upstream client), so both sides agree on one model.

export type Role = 'MODERATOR' | 'VIEWER';

export interface Attendee {
  userID: string;
  fullName: string;
  role: Role;
  isPresenter: boolean;
  isListeningOnly: boolean;
  hasJoinedVoice: boolean;
  hasVideo: boolean;
  clientType: string;
  /** Present only when the user joined with userdata-* params (keys without the prefix). */
  customdata?: Record<string, string>;
}

/** One meeting as getMeetingInfo (and each getMeetings entry) describes it. */
export interface MeetingInfo {
  meetingName: string;
  meetingID: string;
  internalMeetingID: string;
  createTime: number;
  createDate: string;
  voiceBridge: string;
  dialNumber: string;
  attendeePW?: string;
  moderatorPW?: string;
  running: boolean;
  duration: number;
  hasUserJoined: boolean;
  recording: boolean;
  hasBeenForciblyEnded: boolean;
  startTime: number;
  endTime: number;
  participantCount: number;
  listenerCount: number;
  voiceParticipantCount: number;
  videoCount: number;
  maxUsers: number;
  moderatorCount: number;
  attendees: Attendee[];
  /** meta_* create params, names lower-cased without the prefix, in insertion order. */
  metadata: Record<string, string>;
  isBreakout: boolean;
  parentMeetingID?: string;
  sequence?: number;
  freeJoin?: boolean;
  breakoutRooms?: string[];
}

/** The body of a successful create (fresh or duplicateWarning). */
export interface CreateResult {
  meetingID: string;
  internalMeetingID: string;
  parentMeetingID: string;
  attendeePW?: string;
  moderatorPW?: string;
  createTime: number;
  voiceBridge: string;
  dialNumber: string;
  createDate: string;
  hasUserJoined: boolean;
  duration: number;
  hasBeenForciblyEnded: boolean;
  /** '' for a fresh create, 'duplicateWarning' for an existing meeting. */
  messageKey: string;
  message: string;
}

/** join with redirect=false. */
export interface JoinResult {
  messageKey: string;
  message: string;
  meetingID: string;
  userID: string;
  authToken: string;
  sessionToken: string;
  guestStatus: string;
  url: string;
}

export interface RecordingImage {
  url: string;
  width?: string;
  height?: string;
  alt?: string;
}

export interface RecordingFormat {
  type: string;
  url: string;
  processingTime: number;
  length: number;
  preview?: RecordingImage[];
}

export interface Recording {
  recordID: string;
  meetingID: string;
  internalMeetingID: string;
  name: string;
  isBreakout: boolean;
  /** A breakout room's recording: the internal meeting ID of its parent (`<breakout><parentId>`). */
  parentId?: string;
  published: boolean;
  state: string;
  startTime: number;
  endTime: number;
  participants: number;
  metadata: Record<string, string>;
  formats: RecordingFormat[];
}

export interface ApiVersion {
  version: string;
  apiVersion: string;
  bbbVersion: string;
  apiUrl?: string;
  graphqlWebsocketUrl?: string;
  graphqlApiUrl?: string;
}

/** A FAILED answer (or a SUCCESS answer's messageKey/message pair). */
export interface BbbMessage {
  messageKey: string;
  message: string;
}
