import { BBB_ERRORS } from './errors.js';
import { percentEncode } from './request.js';
import type { ApiVersion, Attendee, BbbMessage, CreateResult, JoinResult, MeetingInfo, Recording } from './types.js';
import { container, el, escapeXml, recordLines, response } from './xml.js';

// Every renderer reproduces one BBB template (bbb-api.md §3) in its element order.

export function renderFailed(error: BbbMessage): string {
  return response([el('returncode', 'FAILED'), el('messageKey', error.messageKey), el('message', error.message)]);
}

/** The `api-errors.ftlx` list form (e.g. nonUniqueVoiceBridge). */
export function renderErrorList(errors: readonly BbbMessage[]): string {
  const items = errors.flatMap((e) => container('error', [el('key', e.messageKey), el('message', e.message)]));
  return response([el('returncode', 'FAILED'), ...container('errors', items)]);
}

export function renderApiVersion(v: ApiVersion): string {
  const lines = [el('returncode', 'SUCCESS'), el('version', v.version), el('apiVersion', v.apiVersion)];
  lines.push(el('bbbVersion', v.bbbVersion));
  if (v.apiUrl !== undefined) lines.push(el('apiUrl', v.apiUrl));
  if (v.graphqlWebsocketUrl !== undefined) lines.push(el('graphqlWebsocketUrl', v.graphqlWebsocketUrl));
  if (v.graphqlApiUrl !== undefined) lines.push(el('graphqlApiUrl', v.graphqlApiUrl));
  return response(lines);
}

function passwordLines(p: { attendeePW?: string; moderatorPW?: string }): string[] {
  const lines: string[] = [];
  if (p.attendeePW) lines.push(el('attendeePW', p.attendeePW));
  if (p.moderatorPW) lines.push(el('moderatorPW', p.moderatorPW));
  return lines;
}

export function renderCreate(r: CreateResult): string {
  return response([
    el('returncode', 'SUCCESS'),
    el('meetingID', r.meetingID),
    el('internalMeetingID', r.internalMeetingID),
    el('parentMeetingID', r.parentMeetingID),
    ...passwordLines(r),
    el('createTime', r.createTime),
    el('voiceBridge', r.voiceBridge),
    el('dialNumber', r.dialNumber),
    el('createDate', r.createDate),
    el('hasUserJoined', r.hasUserJoined),
    el('duration', r.duration),
    el('hasBeenForciblyEnded', r.hasBeenForciblyEnded),
    el('messageKey', r.messageKey),
    el('message', r.message),
  ]);
}

export function renderJoin(r: JoinResult): string {
  return response([
    el('returncode', 'SUCCESS'),
    el('messageKey', r.messageKey),
    el('message', r.message),
    el('meeting_id', r.meetingID),
    el('user_id', r.userID),
    el('auth_token', r.authToken),
    el('session_token', r.sessionToken),
    el('guestStatus', r.guestStatus),
    el('url', r.url),
  ]);
}

/** The join error redirect: `<base>?errors=[{"message":…,"key":…}]`, escaped as java.net.URI does. */
export function joinErrorRedirectUrl(base: string, errors: readonly BbbMessage[]): string {
  const json = JSON.stringify(errors.map((e) => ({ message: e.message, key: e.messageKey })));
  const escaped = json.replace(/[^A-Za-z0-9\-._~[\]:,/@!$'()*+;=]/g, percentEncode);
  return `${base}${base.includes('?') ? '&' : '?'}errors=${escaped}`;
}

export function renderEnd(): string {
  const { messageKey, message } = BBB_ERRORS.sentEndMeetingRequest;
  return response([el('returncode', 'SUCCESS'), el('messageKey', messageKey), el('message', message)]);
}

export function renderIsMeetingRunning(running: boolean): string {
  return response([el('returncode', 'SUCCESS'), el('running', running)]);
}

function attendeeLines(a: Attendee): string[] {
  const lines = [
    el('userID', a.userID),
    el('fullName', a.fullName),
    el('role', a.role),
    el('isPresenter', a.isPresenter),
    el('isListeningOnly', a.isListeningOnly),
    el('hasJoinedVoice', a.hasJoinedVoice),
    el('hasVideo', a.hasVideo),
    el('clientType', a.clientType),
  ];
  if (a.customdata) lines.push(...container('customdata', recordLines(a.customdata)));
  return container('attendee', lines);
}

/** The fields getMeetingInfo and each getMeetings entry share, in template order. */
function meetingLines(m: MeetingInfo, withConditionalPasswords: boolean): string[] {
  const passwords = withConditionalPasswords
    ? passwordLines(m)
    : [el('attendeePW', m.attendeePW ?? ''), el('moderatorPW', m.moderatorPW ?? '')];
  const lines = [
    el('meetingName', m.meetingName),
    el('meetingID', m.meetingID),
    el('internalMeetingID', m.internalMeetingID),
    el('createTime', m.createTime),
    el('createDate', m.createDate),
    el('voiceBridge', m.voiceBridge),
    el('dialNumber', m.dialNumber),
    ...passwords,
    el('running', m.running),
    el('duration', m.duration),
    el('hasUserJoined', m.hasUserJoined),
    el('recording', m.recording),
    el('hasBeenForciblyEnded', m.hasBeenForciblyEnded),
    el('startTime', m.startTime),
    el('endTime', m.endTime),
    el('participantCount', m.participantCount),
    el('listenerCount', m.listenerCount),
    el('voiceParticipantCount', m.voiceParticipantCount),
    el('videoCount', m.videoCount),
    el('maxUsers', m.maxUsers),
    el('moderatorCount', m.moderatorCount),
    ...container('attendees', m.attendees.flatMap(attendeeLines)),
    ...container('metadata', recordLines(m.metadata)),
    el('isBreakout', m.isBreakout),
  ];
  if (m.isBreakout) {
    lines.push(el('parentMeetingID', m.parentMeetingID ?? ''), el('sequence', m.sequence ?? 0));
    lines.push(el('freeJoin', m.freeJoin ?? false));
  }
  if (m.breakoutRooms && m.breakoutRooms.length > 0) {
    lines.push(...container('breakoutRooms', m.breakoutRooms.map((id) => el('breakout', id))));
  }
  return lines;
}

export function renderMeetingInfo(m: MeetingInfo): string {
  return response([el('returncode', 'SUCCESS'), ...meetingLines(m, true)]);
}

export function renderMeetings(meetings: readonly MeetingInfo[]): string {
  if (meetings.length === 0) {
    const { messageKey, message } = BBB_ERRORS.noMeetings;
    return response([el('returncode', 'SUCCESS'), '<meetings/>', el('messageKey', messageKey), el('message', message)]);
  }
  const items = meetings.flatMap((m) => container('meeting', meetingLines(m, false)));
  return response([el('returncode', 'SUCCESS'), ...container('meetings', items)]);
}

function recordingXml(r: Recording): string {
  const formats = r.formats
    .map((f) => {
      const preview = f.preview?.length
        ? `<preview><images>${f.preview
            .map((img) => {
              const attrs = (['alt', 'height', 'width'] as const)
                .filter((k) => img[k] !== undefined)
                .map((k) => ` ${k}="${escapeXml(img[k]!)}"`)
                .join('');
              return `<image${attrs}>${escapeXml(img.url)}</image>`;
            })
            .join('')}</images></preview>`
        : '';
      return (
        `<format>${el('type', f.type)}${el('url', f.url)}${el('processingTime', f.processingTime)}` +
        `${el('length', f.length)}${preview}</format>`
      );
    })
    .join('');
  return (
    `<recording>${el('recordID', r.recordID)}${el('meetingID', r.meetingID)}` +
    `${el('internalMeetingID', r.internalMeetingID)}${el('name', r.name)}${el('isBreakout', r.isBreakout)}` +
    `${el('published', r.published)}${el('state', r.state)}${el('startTime', r.startTime)}` +
    `${el('endTime', r.endTime)}${el('participants', r.participants)}` +
    `<metadata>${recordLines(r.metadata).join('')}</metadata><playback>${formats}</playback></recording>`
  );
}

/** getRecordings is Scala XML in BBB, so it keeps that source's indentation byte for byte. */
export function renderRecordings(recordings: readonly Recording[]): string {
  const open = '<response>\n          <returncode>SUCCESS</returncode>\n          ';
  const close = '\n        </response>';
  if (recordings.length === 0) {
    const { messageKey, message } = BBB_ERRORS.noRecordings;
    return `${open}<recordings></recordings>\n          ${el('messageKey', messageKey)}\n          ${el('message', message)}${close}`;
  }
  return `${open}<recordings>${recordings.map(recordingXml).join('')}</recordings>${close}`;
}

/** publishRecordings echoes the `publish` parameter's text as given. */
export function renderPublished(publish: string): string {
  return `<response><returncode>SUCCESS</returncode>${el('published', publish)}</response>`;
}

export function renderDeleted(): string {
  return '<response><returncode>SUCCESS</returncode><deleted>true</deleted></response>';
}

export function renderUpdated(): string {
  return '<response><returncode>SUCCESS</returncode><updated>true</updated></response>';
}

/** insertDocument's template has no messageKey, on success and on failure alike. */
export function renderInsertDocument(success: boolean, message: string): string {
  return response([el('returncode', success ? 'SUCCESS' : 'FAILED'), el('message', message)]);
}

export function renderSendChatMessage(): string {
  return response([el('returncode', 'SUCCESS'), el('messageKey', ''), el('message', '')]);
}
