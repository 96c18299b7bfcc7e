// The HTML5 client's side of a join: loading `/html5client/join?sessionToken=…` is when a user
// enters the meeting and starts to count (and when akka-apps may eject it). The answer is a
// small JSON document shaped like bbb-web's `enter` response, so scripts can read the outcome;
// a refusal also has a non-2xx status so that `curl -f` or `fetch().ok` notice it.
import { BBB_ERRORS } from '../bbb/errors.js';
import { parseForm, splitUrl } from '../bbb/request.js';
import type { MeetingModel } from './meeting-model.js';
import { jsonResponse } from './sim-response.js';
import type { SimResponse } from './sim-response.js';

export const CLIENT_JOIN_PATH = '/html5client/join';

const REFUSAL_STATUS = { unknownSession: 401, ended: 410, full: 403 } as const;

/** Undefined when the path is not the client's. */
export function handleClientRequest(model: MeetingModel, method: string, url: string): SimResponse | undefined {
  const { path, rawQuery } = splitUrl(url);
  if (path !== CLIENT_JOIN_PATH && path !== `${CLIENT_JOIN_PATH}/`) return undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    return jsonResponse(405, { response: { returncode: 'FAILED', messageKey: 'methodNotAllowed', message: 'GET only' } });
  }
  const token = parseForm(rawQuery).get('sessionToken');
  if (!token) {
    return jsonResponse(400, {
      response: { returncode: 'FAILED', messageKey: 'missingToken', message: 'You must provide a session token' },
    });
  }
  const r = model.enter(token);
  if (!r.ok) {
    return jsonResponse(REFUSAL_STATUS[r.reason], {
      response: { returncode: 'FAILED', messageKey: r.error.messageKey, message: r.error.message, ejected: r.reason === 'full' },
    });
  }
  const { user, meeting } = r;
  return jsonResponse(200, {
    response: {
      returncode: 'SUCCESS',
      fullname: user.fullName,
      confname: meeting.name,
      meetingID: meeting.internalMeetingID,
      externMeetingID: meeting.meetingID,
      externUserID: user.externUserID,
      internalUserID: user.internalUserID,
      authToken: user.authToken,
      role: user.role,
      sessionToken: user.sessionToken,
      voicebridge: meeting.voiceBridge,
      reentered: r.reentered,
      message: BBB_ERRORS.successfullyJoined.message,
    },
  });
}
