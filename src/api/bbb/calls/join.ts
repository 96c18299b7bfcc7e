import { signQuery, stripChecksum } from '../../../bbb/checksum.js';
import { BBB_ERRORS } from '../../../bbb/errors.js';
import { encodeQuery } from '../../../bbb/client.js';
import { admitJoin, type JoinDecision, maxParticipantsAt, participantQuota } from '../../../policy/index.js';
import type { JoinCount, Joiner } from '../../../state/meeting-directory.js';
import { joinErrorRedirectUrl, renderFailed } from '../../../bbb/responses.js';
import type { BbbMessage } from '../../../bbb/types.js';
import { checkJoinParams, joinRedirects } from '../../../bbb/validate.js';
import { meetingRef } from '../../../state/keys.js';
import { toUpstreamId } from '../../../state/namespace.js';
import { type Answer, type Call, type Gateway, xml } from '../context.js';
import { isReachable } from '../pool-view.js';
import { limitedFor, tooManyRequests } from '../rate-limit.js';
import { forwardParams, upstreamFailure } from './upstream.js';

/**
 * join: 302 to the meeting's server, with the client's parameters as parsed (meeting ID in its
 * namespace) signed again with that server's secret. One Redis call; the server record comes
 * from the cached pool view. With redirect=false the server's XML answer is passed through.
 */
export async function join(gw: Gateway, call: Call): Promise<Answer> {
  const { params } = call.request;
  const meetingID = params.get('meetingID');
  const fullName = params.get('fullName');
  // An unnamed join is refused before it is counted against the meeting's capacity; its
  // address is counted on its own. A named one is counted with its address in one Redis call.
  const unnamed = meetingID === undefined || fullName === undefined || fullName.trim() === '';
  const address = gw.limiter.addressLimit(call.clientIp);
  const counted = unnamed
    ? undefined
    : await gw.store.meetings.countJoin(call.tenant.name, meetingID, joinerOf(call), participantQuota(gw.policies.current(), call.tenant.name), address);
  // As for any request over its address's limit: the error redirect goes to our own base.
  if (counted && 'limitedForMs' in counted) return joinError(call, tooManyRequests(limitedFor(counted.limitedForMs)), 'rateLimited', false);
  const limited = unnamed ? await gw.limiter.address(call.clientIp) : undefined;
  if (limited) return joinError(call, tooManyRequests(limited), 'rateLimited', false);
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

  // A new user is about to enter: a cached live answer would miss them (a rejoin changes
  // nothing, so replaying one join URL cannot keep the cache empty).
  if (!counted!.rejoin) gw.liveReads.forget(meetingRef(call.tenant.name, meetingID!));
  // Built from the parsed parameters, never the raw text: what was checked is what is sent.
  const query = encodeQuery(forwardParams(params, toUpstreamId(call.tenant.name, meetingID!)));
  if (joinRedirects(params)) {
    return { redirect: `${server.url}/join?${signQuery('join', query, server.secret, gw.settings.AMPHI_UPSTREAM_ALGORITHM)}`, outcome: 'success' };
  }
  try {
    const answer = await gw.pool.client(server).callRaw('join', [], { rawQuery: query });
    // Anything but a 200 is no BBB answer to pass on (a proxy's 431, a 502 page).
    if (answer.status !== 200) return upstreamFailure(gw, server, new Error(`HTTP ${answer.status}`));
    return xml(answer.body);
  } catch (err) {
    return upstreamFailure(gw, server, err);
  }
}

/**
 * The joining user for admission: its userID, else what the tenant signed (the query without
 * its checksum: the same whatever the checksum's position or letter case), so every spelling
 * of one signed URL is one seat.
 */
function joinerOf(call: Call): Joiner {
  const { params, rawQuery } = call.request;
  const userID = params.get('userID');
  return userID ? { userID } : { signedUrl: `${call.tenant.name}\n${stripChecksum(rawQuery, params.get('checksum') ?? '')}` };
}

/**
 * The camera rule at the meeting's live camera count, its own limits, and the tenant's
 * participant quota (policy/admission.ts).
 */
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
    tenantQuota: c.tenantQuota && {
      maxParticipants: c.tenantQuota.maxParticipants,
      participants: c.tenantQuota.participants,
      pendingJoins: c.tenantQuota.pendingOthers,
    },
  });
}

/**
 * Where a join error may send the browser: the caller's errorRedirectUrl or logoutURL when the
 * request was signed (as BBB does) and the URL is a plain http(s) one, else our own base. An
 * unsigned request never chooses the target: that would make the gateway an open redirect.
 */
function errorRedirectBase(call: Call, signed: boolean): string {
  const { params } = call.request;
  const asked = signed ? params.get('errorRedirectUrl') || params.get('logoutURL') : undefined;
  return (asked && plainHttpUrl(asked)) || call.publicBase;
}

/** The URL in ASCII (WHATWG serialization) without its fragment, when it is http(s). */
function plainHttpUrl(text: string): string | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  return url.href;
}

/**
 * BBB answers join errors with a redirect to the error or logout URL, or XML when
 * redirect=false. `signed`: the checksum was verified (the caller chose the URLs).
 */
export function joinError(call: Call, error: BbbMessage, outcome: string, signed = true): Answer {
  const { params } = call.request;
  if (!joinRedirects(params)) return xml(renderFailed(error), outcome);
  return { redirect: joinErrorRedirectUrl(errorRedirectBase(call, signed), [error]), outcome };
}
