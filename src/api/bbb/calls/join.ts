import { signQuery } from '../../../bbb/checksum.js';
import { BBB_ERRORS } from '../../../bbb/errors.js';
import { percentEncode } from '../../../bbb/request.js';
import { admitJoin, type JoinDecision, maxParticipantsAt } from '../../../policy/index.js';
import type { JoinCount } from '../../../state/meeting-directory.js';
import { joinErrorRedirectUrl, renderFailed } from '../../../bbb/responses.js';
import type { BbbMessage } from '../../../bbb/types.js';
import { checkJoinParams, parseBoolean } from '../../../bbb/validate.js';
import { DEFAULT_TENANT, toUpstreamId } from '../../../state/namespace.js';
import { type Answer, type Call, type Gateway, xml } from '../context.js';
import { isReachable } from '../pool-view.js';
import { upstreamFailure } from './upstream.js';

/**
 * join: 302 to the meeting's server, with the client's query (order and encoding kept) signed
 * again with that server's secret. One Redis read; the server record comes from the cached
 * pool view. With redirect=false the server's XML answer is passed through.
 */
export async function join(gw: Gateway, call: Call): Promise<Answer> {
  const { params, rawQuery } = call.request;
  const meetingID = params.get('meetingID');
  const fullName = params.get('fullName');
  // An unnamed join is refused before it is counted against the meeting's capacity.
  const counted =
    meetingID === undefined || fullName === undefined || fullName.trim() === ''
      ? undefined
      : await gw.store.meetings.countJoin(call.tenant.name, meetingID, params.get('userID') || undefined);
  const server = counted === undefined ? undefined : await gw.pool.server(counted.server);
  const reachable = isReachable(server);
  const invalid = checkJoinParams(params, counted !== undefined && reachable);
  if (invalid || !reachable) {
    if (counted) await gw.store.meetings.uncountJoin(call.tenant.name, meetingID!, counted.member);
    return joinError(call, invalid ?? BBB_ERRORS.meetingForciblyEnded, 'refused');
  }
  const admission = admit(gw, counted!, params);
  if (!admission.admitted) {
    await gw.store.meetings.uncountJoin(call.tenant.name, meetingID!, counted!.member);
    // The outcome names the binding limit; requests and refused joins are counted by it.
    return joinError(call, BBB_ERRORS.maxParticipantsReached, admission.reason);
  }

  const upstreamID = toUpstreamId(call.tenant.name, meetingID!);
  const query = upstreamQuery(rawQuery, call.tenant.name === DEFAULT_TENANT ? undefined : upstreamID);
  if (parseBoolean(params.get('redirect'), true)) {
    return { redirect: `${server.url}/join?${signQuery('join', query, server.secret, gw.settings.AMPHI_UPSTREAM_ALGORITHM)}`, outcome: 'success' };
  }
  try {
    const answer = await gw.pool.client(server).callRaw('join', [], { rawQuery: query });
    return xml(answer.body, answer.status === 200 ? 'success' : 'upstreamError');
  } catch (err) {
    return upstreamFailure(gw, server, err);
  }
}

// Characters a browser (WHATWG URL parser) or undici would percent-encode when following the
// redirect: encoding them before signing keeps the signed bytes the bytes the server receives.
const URL_UNSAFE = /[^\x21-\x7e]|["'<>`]/gu;

/** The camera rule at the meeting's live camera count, and its own limits (policy/admission.ts). */
function admit(gw: Gateway, c: JoinCount, params: ReadonlyMap<string, string>): JoinDecision {
  const role = params.get('role')?.toUpperCase();
  const password = params.get('password');
  const moderator = role === 'MODERATOR' || (role === undefined && password !== undefined && password === c.moderatorPW && c.moderatorPW !== '');
  return admitJoin({
    maxByCurveAtCameras: maxParticipantsAt(gw.policies.current().curve.points, c.cameras),
    maxParticipants: c.maxParticipants > 0 ? c.maxParticipants : undefined,
    participants: c.participants,
    pendingJoins: c.pendingOthers,
    isInside: c.rejoin,
    role: moderator ? 'moderator' : 'viewer',
    moderatorMargin: c.moderatorMargin,
  });
}

/** The raw query without its checksum, with the meeting ID moved into the tenant namespace. */
export function upstreamQuery(rawQuery: string, upstreamID: string | undefined): string {
  return rawQuery
    .split('&')
    .filter((part) => part !== '' && !part.startsWith('checksum='))
    .map((part) => (upstreamID !== undefined && part.startsWith('meetingID=') ? `meetingID=${encodeURIComponent(upstreamID)}` : part))
    .join('&')
    .replace(URL_UNSAFE, percentEncode);
}

/** BBB answers join errors with a redirect to the logout URL, or XML when redirect=false. */
export function joinError(call: Call, error: BbbMessage, outcome: string): Answer {
  const { params } = call.request;
  if (!parseBoolean(params.get('redirect'), true)) return xml(renderFailed(error), outcome);
  const base = params.get('errorRedirectUrl') || params.get('logoutURL') || call.publicBase;
  return { redirect: joinErrorRedirectUrl(base, [error]), outcome };
}
