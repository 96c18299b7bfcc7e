import { signQuery } from '../../../bbb/checksum.js';
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
  const serverId = meetingID === undefined ? undefined : await gw.store.meetings.serverOf(call.tenant.name, meetingID);
  const server = serverId === undefined ? undefined : await gw.pool.server(serverId);
  const reachable = isReachable(server);
  const invalid = checkJoinParams(params, reachable);
  if (invalid || !reachable) return joinError(call, invalid!, 'refused');

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
const encodeUnsafe = (c: string): string =>
  [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** The raw query without its checksum, with the meeting ID moved into the tenant namespace. */
export function upstreamQuery(rawQuery: string, upstreamID: string | undefined): string {
  return rawQuery
    .split('&')
    .filter((part) => part !== '' && !part.startsWith('checksum='))
    .map((part) => (upstreamID !== undefined && part.startsWith('meetingID=') ? `meetingID=${encodeURIComponent(upstreamID)}` : part))
    .join('&')
    .replace(URL_UNSAFE, encodeUnsafe);
}

/** BBB answers join errors with a redirect to the logout URL, or XML when redirect=false. */
export function joinError(call: Call, error: BbbMessage, outcome: string): Answer {
  const { params } = call.request;
  if (!parseBoolean(params.get('redirect'), true)) return xml(renderFailed(error), outcome);
  const base = params.get('errorRedirectUrl') || params.get('logoutURL') || call.publicBase;
  return { redirect: joinErrorRedirectUrl(base, [error]), outcome };
}
