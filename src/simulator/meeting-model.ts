// One simulated BBB server's meetings and users: the rules bbb-web and akka-apps apply
// (bbb-api.md §3.1–3.6, §5, §6), without any I/O. Time and randomness are injected, so every
// rule is testable exactly. The HTTP layer (sim-api.ts) only parses, signs and renders.
import { createHash } from 'node:crypto';
import { BBB_ERRORS } from '../bbb/errors.js';
import type { BbbMessage, CreateResult, JoinResult, MeetingInfo, Role } from '../bbb/types.js';
import { javaDateString } from '../bbb/xml.js';
import { metadataOf, parseBoolean } from '../bbb/validate.js';
import { LOWER_ALNUM, randomPassword, randomString, randomVoiceBridge } from './ids.js';
import type { RandomSource } from './ids.js';
import type { MeetingLoadInput } from './load.js';
import { countersOf, loadInputOf, meetingInfo } from './meeting-info.js';
import type { MeetingCounters } from './meeting-info.js';
import { firstViolation } from './precedence.js';
import { RecordingStore } from './recording-store.js';

export type Params = ReadonlyMap<string, string>;
export type AudioMode = 'none' | 'listen' | 'mic';

export interface MeetingModelOptions {
  now?: () => number;
  random?: RandomSource;
  /** How long an ended meeting stays listed (hasBeenForciblyEnded=true) before akka destroys it. */
  endedRetentionMs?: number;
  /** bbb-web property `userCameraCap` (docs default 3; 0 = off), used when create omits it. */
  defaultUserCameraCap?: number;
  /** bbb-web property `meetingCameraCap` (default 0 = off). */
  defaultMeetingCameraCap?: number;
  /** `maxUserConcurrentAccesses` (default 3; 0 = unlimited): sessions per external userID. */
  maxUserConcurrentAccesses?: number;
  /** Generate 8-char passwords when create omits them (bbb-web does). */
  generatePasswords?: boolean;
  /** A join that never enters is forgotten after this (bbb-web's HTTP session: 4 h). */
  pendingSessionTtlMs?: number;
  /** Bound on joins that never entered (load tests join without entering). Oldest go first. */
  maxPendingSessions?: number;
  maxRecordings?: number;
  /** Playback URL of a simulated recording. */
  playbackUrl?: (recordID: string) => string;
}

/** Who a join let in: made by the join call, kept by the user once the client enters. */
interface JoinIdentity {
  readonly sessionToken: string;
  readonly internalUserID: string;
  readonly externUserID: string;
  readonly authToken: string;
  readonly fullName: string;
  readonly role: Role;
  readonly customdata: Record<string, string> | undefined;
}

export interface SimUser extends JoinIdentity {
  readonly enteredAt: number;
  presenter: boolean;
  cameras: number;
  audio: AudioMode;
}

interface PendingSession {
  readonly meeting: SimMeeting;
  readonly identity: JoinIdentity;
  readonly createdAt: number;
}

export interface SimMeeting {
  readonly meetingID: string;
  readonly internalMeetingID: string;
  readonly name: string;
  readonly createTime: number;
  readonly attendeePW: string;
  readonly moderatorPW: string;
  readonly voiceBridge: string;
  readonly dialNumber: string;
  readonly duration: number;
  readonly record: boolean;
  readonly maxParticipants: number;
  readonly meetingCameraCap: number;
  readonly userCameraCap: number;
  readonly lockSettingsDisableCam: boolean;
  readonly webcamsOnlyForModerator: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly logoutURL: string | undefined;
  readonly expireNoUserJoinedMs: number;
  readonly expireLastUserLeftMs: number;
  readonly isBreakout: boolean;
  readonly parentMeetingID: string;
  readonly sequence: number;
  readonly freeJoin: boolean;
  /** Entered users by session token (one browser session = one BBB user). */
  readonly users: Map<string, SimUser>;
  /** Entered users per external userID: the maxParticipants count is this map's size. */
  readonly extIdCounts: Map<string, number>;
  hasUserJoined: boolean;
  forciblyEnded: boolean;
  startTime: number;
  endTime: number;
  lastUserLeftAt: number | undefined;
  /** When an ended meeting disappears from the lists. */
  removeAt: number | undefined;
  /** Distinct external userIDs that ever entered (a recording's `participants`). */
  readonly everEntered: Set<string>;
}


export type { MeetingCounters } from './meeting-info.js';

export type CreateOutcome =
  | { ok: true; result: CreateResult; meeting: SimMeeting; duplicate: boolean }
  | { ok: false; error: BbbMessage; /** api-errors.ftlx list form (nonUniqueVoiceBridge) */ list?: true };

export type JoinOutcome =
  | { ok: true; result: JoinResult; meeting: SimMeeting }
  | {
      ok: false;
      error: BbbMessage;
      /** False for the 'Params required' errors: XML even when redirect=true. */
      redirectable: boolean;
      meeting?: SimMeeting;
    };

export type EnterOutcome =
  | { ok: true; user: SimUser; meeting: SimMeeting; reentered: boolean }
  | { ok: false; reason: 'unknownSession' | 'ended' | 'full'; error: BbbMessage };

export type CameraOutcome =
  | { ok: true; cameras: number }
  | { ok: false; reason: 'unknownSession' | 'locked' | 'meetingCameraCap' | 'userCameraCap' };

/** The text akka/bbb-web's `enter` gives when ejecting a user over the limit (§4). */
export const ENTER_FULL: BbbMessage = {
  messageKey: 'maxParticipantsReached',
  message: 'The maximum number of participants allowed for this meeting has been reached.',
};
export const INVALID_SESSION: BbbMessage = { messageKey: 'missingSession', message: 'Invalid session token' };

const MINUTE = 60_000;

/** `Integer.parseInt` with the default on anything unparsable. */
function parseIntOr(v: string | undefined, dflt: number): number {
  if (v === undefined || !/^\s*[+-]?\d+\s*$/.test(v)) return dflt;
  const n = Number.parseInt(v, 10);
  return Number.isSafeInteger(n) ? n : dflt;
}

const isIntegral = (v: string): boolean => /^[+-]?\d+$/.test(v);
const isBooleanText = (v: string): boolean => /^(true|false)$/i.test(v);
const nonEmpty = (v: string | undefined): v is string => v !== undefined && v !== '';

/** `@MeetingIDConstraint`: absent, empty, size and comma rules. */
export function meetingIdViolations(meetingID: string | undefined): BbbMessage[] {
  if (meetingID === undefined) return [BBB_ERRORS.missingParamMeetingID];
  const out: BbbMessage[] = [];
  if (meetingID === '') out.push(BBB_ERRORS.missingParamMeetingID);
  if (meetingID.length < 2 || meetingID.length > 256) out.push(BBB_ERRORS.meetingIdSize);
  if (meetingID.includes(',')) out.push(BBB_ERRORS.meetingIdComma);
  return out;
}

export class MeetingModel {
  readonly now: () => number;
  private readonly random: RandomSource;
  private readonly opts: Required<Omit<MeetingModelOptions, 'now' | 'random' | 'playbackUrl'>>;
  private readonly playbackUrl: (recordID: string) => string;
  /** Every meeting bbb-web still knows, ended ones included, by internal id. */
  private readonly byInternalId = new Map<string, SimMeeting>();
  /** The newest meeting for each external id. */
  private readonly byMeetingId = new Map<string, SimMeeting>();
  private readonly voiceBridges = new Set<string>();
  /** Joined through the API, not yet entered; insertion order = age. */
  private readonly pending = new Map<string, PendingSession>();
  /** Entered users by session token, for O(1) camera/audio/leave. */
  private readonly entered = new Map<string, { meeting: SimMeeting; user: SimUser }>();
  readonly recordings: RecordingStore;
  /** Creates that made a new meeting, for bbb_unique_meetings_total. */
  createdTotal = 0;

  constructor(options: MeetingModelOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.playbackUrl = options.playbackUrl ?? ((id) => `http://127.0.0.1/playback/presentation/2.3/${id}`);
    this.opts = {
      endedRetentionMs: options.endedRetentionMs ?? 0,
      defaultUserCameraCap: options.defaultUserCameraCap ?? 3,
      defaultMeetingCameraCap: options.defaultMeetingCameraCap ?? 0,
      maxUserConcurrentAccesses: options.maxUserConcurrentAccesses ?? 3,
      generatePasswords: options.generatePasswords ?? true,
      pendingSessionTtlMs: options.pendingSessionTtlMs ?? 4 * 60 * MINUTE,
      maxPendingSessions: options.maxPendingSessions ?? 100_000,
      maxRecordings: options.maxRecordings ?? 1000,
    };
    this.recordings = new RecordingStore(this.opts.maxRecordings);
  }

  // ---------------------------------------------------------------- create

  create(params: Params): CreateOutcome {
    const meetingID = params.get('meetingID');
    const name = params.get('name');
    const attendeePW = params.get('attendeePW');
    const moderatorPW = params.get('moderatorPW');
    const violations = meetingIdViolations(meetingID);
    if (name === undefined) violations.push(BBB_ERRORS.meetingNameMissing);
    else if (name.length < 2 || name.length > 256) violations.push(BBB_ERRORS.meetingNameSize);
    for (const pw of [attendeePW, moderatorPW]) {
      if (nonEmpty(pw) && (pw.length < 2 || pw.length > 64)) violations.push(BBB_ERRORS.invalidPasswordLength);
    }
    const record = params.get('record');
    if (record !== undefined && !isBooleanText(record)) violations.push(BBB_ERRORS.recordNotBoolean);
    const voiceBridgeParam = params.get('voiceBridge');
    if (nonEmpty(voiceBridgeParam) && !isIntegral(voiceBridgeParam)) violations.push(BBB_ERRORS.voiceBridgeNotIntegral);
    const violation = firstViolation(violations);
    if (violation || meetingID === undefined || name === undefined) {
      return { ok: false, error: violation ?? BBB_ERRORS.missingParamMeetingID };
    }

    const existing = this.liveMeeting(meetingID);
    if (existing) {
      // Same passwords, or none given at all: the create is idempotent (duplicateWarning).
      const noneGiven = !nonEmpty(attendeePW) && !nonEmpty(moderatorPW);
      const same = attendeePW === existing.attendeePW && moderatorPW === existing.moderatorPW;
      if (!noneGiven && !same) return { ok: false, error: BBB_ERRORS.idNotUnique };
      return { ok: true, meeting: existing, duplicate: true, result: this.createResult(existing, BBB_ERRORS.duplicateWarning) };
    }

    const isBreakout = parseBoolean(params.get('isBreakout'), false);
    const parentMeetingID = params.get('parentMeetingID');
    if (isBreakout && !nonEmpty(parentMeetingID)) return { ok: false, error: BBB_ERRORS.parentMeetingIdMissing };

    let voiceBridge: string;
    if (nonEmpty(voiceBridgeParam)) {
      if (this.voiceBridges.has(voiceBridgeParam)) return { ok: false, error: BBB_ERRORS.nonUniqueVoiceBridge, list: true };
      voiceBridge = voiceBridgeParam;
    } else {
      // Up to 10 tries to avoid a bridge in use, as bbb-web does; then it takes the last one.
      voiceBridge = randomVoiceBridge(this.random);
      for (let i = 1; i < 10 && this.voiceBridges.has(voiceBridge); i++) voiceBridge = randomVoiceBridge(this.random);
    }

    const sha = createHash('sha1').update(meetingID).digest('hex');
    let createTime = this.now();
    // An ended meeting with this id may still be listed; never reuse its internal id.
    for (let i = 0; i < 1000 && this.byInternalId.has(`${sha}-${createTime}`); i++) createTime++;
    const logoutURL = params.get('logoutURL');
    const password = (given: string | undefined): string =>
      nonEmpty(given) ? given : this.opts.generatePasswords ? randomPassword(this.random) : '';
    const meeting: SimMeeting = {
      meetingID,
      internalMeetingID: `${sha}-${createTime}`,
      name,
      createTime,
      attendeePW: password(attendeePW),
      moderatorPW: password(moderatorPW),
      voiceBridge,
      dialNumber: params.get('dialNumber') || '613-555-1234',
      duration: Math.max(0, parseIntOr(params.get('duration'), 0)),
      record: parseBoolean(record, false),
      maxParticipants: parseIntOr(params.get('maxParticipants'), 0),
      meetingCameraCap: Math.max(0, parseIntOr(params.get('meetingCameraCap'), this.opts.defaultMeetingCameraCap)),
      userCameraCap: Math.max(0, parseIntOr(params.get('userCameraCap'), this.opts.defaultUserCameraCap)),
      lockSettingsDisableCam: parseBoolean(params.get('lockSettingsDisableCam'), false),
      webcamsOnlyForModerator: parseBoolean(params.get('webcamsOnlyForModerator'), false),
      metadata: metadataOf(params),
      logoutURL: nonEmpty(logoutURL) && logoutURL !== 'default' ? logoutURL : undefined,
      expireNoUserJoinedMs: parseIntOr(params.get('meetingExpireIfNoUserJoinedInMinutes'), 5) * MINUTE,
      expireLastUserLeftMs: parseIntOr(params.get('meetingExpireWhenLastUserLeftInMinutes'), 1) * MINUTE,
      isBreakout,
      parentMeetingID: isBreakout && parentMeetingID ? parentMeetingID : 'bbb-none',
      sequence: parseIntOr(params.get('sequence'), 0),
      freeJoin: parseBoolean(params.get('freeJoin'), false),
      users: new Map(),
      extIdCounts: new Map(),
      hasUserJoined: false,
      forciblyEnded: false,
      // akka-apps starts the meeting right away; the API shows it as startTime.
      startTime: createTime,
      endTime: 0,
      lastUserLeftAt: undefined,
      removeAt: undefined,
      everEntered: new Set(),
    };
    this.byInternalId.set(meeting.internalMeetingID, meeting);
    this.byMeetingId.set(meetingID, meeting);
    this.voiceBridges.add(voiceBridge);
    this.createdTotal++;
    return { ok: true, meeting, duplicate: false, result: this.createResult(meeting, { messageKey: '', message: '' }) };
  }

  private createResult(m: SimMeeting, msg: BbbMessage): CreateResult {
    return {
      meetingID: m.meetingID,
      internalMeetingID: m.internalMeetingID,
      parentMeetingID: m.parentMeetingID,
      attendeePW: m.attendeePW,
      moderatorPW: m.moderatorPW,
      createTime: m.createTime,
      voiceBridge: m.voiceBridge,
      dialNumber: m.dialNumber,
      createDate: javaDateString(m.createTime),
      hasUserJoined: m.hasUserJoined,
      duration: m.duration,
      hasBeenForciblyEnded: m.forciblyEnded,
      messageKey: msg.messageKey,
      message: msg.message,
    };
  }

  // ---------------------------------------------------------------- join / enter

  /**
   * The join API call: validation, role, createTime, maxParticipants, then a pending session.
   * The user counts only once it enters (`enter`), as in BBB. `clientUrl` is the HTML5 client
   * entry point the session token is appended to.
   */
  join(params: Params, clientUrl: string): JoinOutcome {
    const meetingID = params.get('meetingID');
    const fullName = params.get('fullName');
    const meeting = meetingID === undefined ? undefined : this.meeting(meetingID);
    const violations = meetingIdViolations(meetingID);
    if (!nonEmpty(fullName)) violations.push(BBB_ERRORS.missingParamFullName);
    // A missing meeting fails @MeetingEndedConstraint too, whose key wins (§3.2).
    if (!meeting || meeting.forciblyEnded) violations.push(BBB_ERRORS.meetingForciblyEnded);
    const createTime = params.get('createTime');
    if (nonEmpty(createTime) && !isIntegral(createTime)) violations.push(BBB_ERRORS.notIntegral);
    const violation = firstViolation(violations);
    if (violation || !meeting || !nonEmpty(fullName)) {
      return { ok: false, error: violation ?? BBB_ERRORS.meetingForciblyEnded, redirectable: true, meeting };
    }

    const role = this.resolveRole(meeting, params);
    if ('messageKey' in role) return { ok: false, error: role, redirectable: false, meeting };
    if (nonEmpty(createTime) && Number(createTime) !== meeting.createTime) {
      return { ok: false, error: BBB_ERRORS.mismatchCreateTimeParam, redirectable: true, meeting };
    }

    const internalUserID = `w_${randomString(12, LOWER_ALNUM, this.random)}`;
    const userID = params.get('userID');
    const externUserID = nonEmpty(userID) ? userID : internalUserID;
    if (this.reachedMaxParticipants(meeting, externUserID)) {
      return { ok: false, error: BBB_ERRORS.maxParticipantsReached, redirectable: true, meeting };
    }

    let sessionToken = randomString(16, LOWER_ALNUM, this.random);
    for (let i = 0; i < 100 && (this.pending.has(sessionToken) || this.entered.has(sessionToken)); i++) {
      sessionToken = randomString(16, LOWER_ALNUM, this.random);
    }
    let customdata: Record<string, string> | undefined;
    for (const [key, value] of params) {
      if (key.startsWith('userdata-') && key.length > 9) (customdata ??= {})[key.slice(9)] = value;
    }
    const session: PendingSession = {
      meeting,
      identity: {
        sessionToken,
        internalUserID,
        externUserID,
        authToken: randomString(12, LOWER_ALNUM, this.random),
        fullName,
        role: role.role,
        customdata,
      },
      createdAt: this.now(),
    };
    this.pending.set(sessionToken, session);
    if (this.pending.size > this.opts.maxPendingSessions) {
      const oldest = this.pending.keys().next();
      if (!oldest.done) this.pending.delete(oldest.value);
    }
    return {
      ok: true,
      meeting,
      result: {
        ...BBB_ERRORS.successfullyJoined,
        meetingID: meeting.internalMeetingID,
        userID: internalUserID,
        authToken: session.identity.authToken,
        sessionToken,
        guestStatus: 'ALLOW',
        url: `${clientUrl}?sessionToken=${sessionToken}`,
      },
    };
  }

  /** A valid `role` wins; otherwise the password decides (ApiController `join`, §3.2 step 1). */
  private resolveRole(meeting: SimMeeting, params: Params): { role: Role } | BbbMessage {
    const role = params.get('role')?.toUpperCase();
    if (role === 'MODERATOR' || role === 'VIEWER') return { role };
    const password = params.get('password');
    if (!nonEmpty(password)) return BBB_ERRORS.joinNoRoleNoPassword;
    if (meeting.moderatorPW === '' || meeting.attendeePW === '') return BBB_ERRORS.joinRoleNeeded;
    if (password === meeting.moderatorPW) return { role: 'MODERATOR' };
    if (password === meeting.attendeePW) return { role: 'VIEWER' };
    return BBB_ERRORS.joinInvalidPassword;
  }

  /**
   * bbb-web `hasReachedMaxParticipants` (§5.1): distinct external userIDs among users who
   * entered, every role; a userID already inside always passes.
   */
  private reachedMaxParticipants(meeting: SimMeeting, externUserID: string): boolean {
    const max = meeting.maxParticipants;
    if (max <= 0) return false;
    if (meeting.extIdCounts.has(externUserID)) return false;
    return meeting.extIdCounts.size >= max;
  }

  /**
   * The HTML5 client loading the join redirect. akka-apps re-checks the limit here and ejects
   * the user when the meeting filled up since the join (2.5+). Entering twice is a reload.
   */
  enter(sessionToken: string): EnterOutcome {
    const inside = this.entered.get(sessionToken);
    if (inside) return { ok: true, user: inside.user, meeting: inside.meeting, reentered: true };
    const session = this.pending.get(sessionToken);
    if (!session) return { ok: false, reason: 'unknownSession', error: INVALID_SESSION };
    const { meeting, identity } = session;
    if (meeting.forciblyEnded || this.byInternalId.get(meeting.internalMeetingID) !== meeting) {
      this.pending.delete(sessionToken);
      return { ok: false, reason: 'ended', error: BBB_ERRORS.meetingForciblyEnded };
    }
    if (this.reachedMaxParticipants(meeting, identity.externUserID)) {
      this.pending.delete(sessionToken);
      return { ok: false, reason: 'full', error: ENTER_FULL };
    }
    this.pending.delete(sessionToken);
    // maxUserConcurrentAccesses: akka-apps ends the oldest session of that userID.
    const limit = this.opts.maxUserConcurrentAccesses;
    if (limit > 0 && (meeting.extIdCounts.get(identity.externUserID) ?? 0) >= limit) {
      for (const u of meeting.users.values()) {
        if (u.externUserID === identity.externUserID) {
          this.leave(u.sessionToken);
          break;
        }
      }
    }
    const now = this.now();
    let hasPresenter = false;
    for (const u of meeting.users.values()) if (u.presenter) hasPresenter = true;
    const user: SimUser = {
      ...identity,
      enteredAt: now,
      presenter: identity.role === 'MODERATOR' && !hasPresenter,
      cameras: 0,
      audio: 'none',
    };
    meeting.users.set(sessionToken, user);
    meeting.extIdCounts.set(user.externUserID, (meeting.extIdCounts.get(user.externUserID) ?? 0) + 1);
    meeting.everEntered.add(user.externUserID);
    meeting.hasUserJoined = true;
    meeting.lastUserLeftAt = undefined;
    this.entered.set(sessionToken, { meeting, user });
    return { ok: true, user, meeting, reentered: false };
  }

  /** True when the token is a join that has not entered yet. */
  isPending(sessionToken: string): boolean {
    return this.pending.has(sessionToken);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  user(sessionToken: string): SimUser | undefined {
    return this.entered.get(sessionToken)?.user;
  }

  // ---------------------------------------------------------------- users

  /**
   * akka-apps `isCameraBroadcastAllowed` (§5.2): locked viewers, then the meeting cap and the
   * user cap, each `>=` and 0 = off. Moderators' cameras count toward both caps.
   */
  startCamera(sessionToken: string): CameraOutcome {
    const entry = this.entered.get(sessionToken);
    if (!entry) return { ok: false, reason: 'unknownSession' };
    const { meeting, user } = entry;
    if (meeting.lockSettingsDisableCam && user.role === 'VIEWER') return { ok: false, reason: 'locked' };
    if (meeting.meetingCameraCap > 0 && this.counters(meeting).videos >= meeting.meetingCameraCap) {
      return { ok: false, reason: 'meetingCameraCap' };
    }
    if (meeting.userCameraCap > 0 && user.cameras >= meeting.userCameraCap) return { ok: false, reason: 'userCameraCap' };
    user.cameras++;
    return { ok: true, cameras: user.cameras };
  }

  /** Stops every camera of the user. */
  stopCameras(sessionToken: string): CameraOutcome {
    const user = this.entered.get(sessionToken)?.user;
    if (!user) return { ok: false, reason: 'unknownSession' };
    user.cameras = 0;
    return { ok: true, cameras: 0 };
  }

  setAudio(sessionToken: string, mode: AudioMode): boolean {
    const user = this.entered.get(sessionToken)?.user;
    if (!user) return false;
    user.audio = mode;
    return true;
  }

  /** The user closes the client (or a join that never entered is dropped). */
  leave(sessionToken: string): boolean {
    if (this.pending.delete(sessionToken)) return true;
    const entry = this.entered.get(sessionToken);
    if (!entry) return false;
    const { meeting, user } = entry;
    this.entered.delete(sessionToken);
    meeting.users.delete(sessionToken);
    const n = (meeting.extIdCounts.get(user.externUserID) ?? 1) - 1;
    if (n > 0) meeting.extIdCounts.set(user.externUserID, n);
    else meeting.extIdCounts.delete(user.externUserID);
    if (user.presenter) {
      // akka hands the presenter role to another moderator when the presenter leaves.
      for (const u of meeting.users.values()) {
        if (u.role === 'MODERATOR') {
          u.presenter = true;
          break;
        }
      }
    }
    if (meeting.users.size === 0) meeting.lastUserLeftAt = this.now();
    return true;
  }

  // ---------------------------------------------------------------- end / expiry

  /** The end API call. The meeting stays listed, ended, for `endedRetentionMs`. */
  end(params: Params): { ok: true } | { ok: false; error: BbbMessage } {
    const meetingID = params.get('meetingID');
    const violation = firstViolation(meetingIdViolations(meetingID));
    if (violation || meetingID === undefined) return { ok: false, error: violation ?? BBB_ERRORS.missingParamMeetingID };
    const meeting = this.meeting(meetingID);
    if (!meeting) return { ok: false, error: BBB_ERRORS.notFound };
    const password = params.get('password');
    if (nonEmpty(password) && meeting.moderatorPW !== '' && password !== meeting.moderatorPW) {
      return { ok: false, error: BBB_ERRORS.endWrongPassword };
    }
    this.endMeeting(meeting);
    return { ok: true };
  }

  private endMeeting(meeting: SimMeeting): void {
    if (meeting.forciblyEnded) return;
    const now = this.now();
    meeting.forciblyEnded = true;
    meeting.endTime = now;
    for (const token of [...meeting.users.keys()]) this.leave(token);
    meeting.removeAt = now + this.opts.endedRetentionMs;
    if (this.opts.endedRetentionMs <= 0) this.destroy(meeting);
  }

  /** akka-apps destroys the meeting: gone from every list; a recording if it was recorded. */
  private destroy(meeting: SimMeeting): void {
    for (const token of [...meeting.users.keys()]) this.leave(token);
    if (meeting.endTime === 0) meeting.endTime = this.now();
    this.byInternalId.delete(meeting.internalMeetingID);
    if (this.byMeetingId.get(meeting.meetingID) === meeting) this.byMeetingId.delete(meeting.meetingID);
    this.voiceBridges.delete(meeting.voiceBridge);
    if (meeting.record && meeting.hasUserJoined) {
      const lengthMs = meeting.endTime - meeting.startTime;
      this.recordings.add({
        recordID: meeting.internalMeetingID,
        meetingID: meeting.meetingID,
        internalMeetingID: meeting.internalMeetingID,
        name: meeting.name,
        isBreakout: meeting.isBreakout,
        published: true,
        state: 'published',
        startTime: meeting.startTime,
        endTime: meeting.endTime,
        participants: meeting.everEntered.size,
        metadata: { ...meeting.metadata },
        formats: [
          {
            type: 'presentation',
            url: this.playbackUrl(meeting.internalMeetingID),
            processingTime: 0,
            length: Math.floor(lengthMs / MINUTE),
          },
        ],
      });
    }
  }

  /**
   * Periodic housekeeping, O(meetings): removes ended meetings past their retention, expires
   * meetings nobody joined (meetingExpireIfNoUserJoinedInMinutes) or everybody left
   * (meetingExpireWhenLastUserLeftInMinutes), ends meetings past their `duration`, and forgets
   * stale pending joins. Returns the number of meetings removed.
   */
  sweep(): number {
    const now = this.now();
    let removed = 0;
    for (const meeting of [...this.byInternalId.values()]) {
      if (meeting.removeAt !== undefined) {
        if (now >= meeting.removeAt) {
          this.destroy(meeting);
          removed++;
        }
        continue;
      }
      if (meeting.duration > 0 && now - meeting.startTime >= meeting.duration * MINUTE) {
        this.endMeeting(meeting);
        if (this.byInternalId.get(meeting.internalMeetingID) !== meeting) removed++;
        continue;
      }
      const idle =
        meeting.users.size === 0 &&
        (meeting.hasUserJoined
          ? meeting.expireLastUserLeftMs > 0 &&
            meeting.lastUserLeftAt !== undefined &&
            now - meeting.lastUserLeftAt >= meeting.expireLastUserLeftMs
          : meeting.expireNoUserJoinedMs > 0 && now - meeting.createTime >= meeting.expireNoUserJoinedMs);
      if (idle) {
        this.destroy(meeting);
        removed++;
      }
    }
    for (const [token, session] of this.pending) {
      if (now - session.createdAt < this.opts.pendingSessionTtlMs) break;
      this.pending.delete(token);
    }
    return removed;
  }

  // ---------------------------------------------------------------- queries

  /** Drops an ended meeting whose retention is over, so reads never need the sweep to be exact. */
  private purgeIfDue(meeting: SimMeeting): boolean {
    if (meeting.removeAt !== undefined && this.now() >= meeting.removeAt) {
      this.destroy(meeting);
      return true;
    }
    return false;
  }

  /** The meeting bbb-web would answer for this external id (ended-but-listed included). */
  meeting(meetingID: string): SimMeeting | undefined {
    const m = this.byMeetingId.get(meetingID);
    return m && !this.purgeIfDue(m) ? m : undefined;
  }

  private liveMeeting(meetingID: string): SimMeeting | undefined {
    const m = this.meeting(meetingID);
    return m && !m.forciblyEnded ? m : undefined;
  }

  meetings(): SimMeeting[] {
    const out: SimMeeting[] = [];
    for (const m of [...this.byInternalId.values()]) if (!this.purgeIfDue(m)) out.push(m);
    return out;
  }

  get meetingCount(): number {
    return this.byInternalId.size;
  }

  isRunning(meetingID: string): boolean {
    const m = this.meeting(meetingID);
    return m !== undefined && m.users.size > 0;
  }

  counters(m: SimMeeting): MeetingCounters {
    return countersOf(m);
  }

  info(m: SimMeeting): MeetingInfo {
    return meetingInfo(m);
  }

  /** What load.ts needs of every meeting. */
  loadInputs(): MeetingLoadInput[] {
    return this.meetings().map(loadInputOf);
  }
}
