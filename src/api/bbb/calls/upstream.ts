import { BbbClientError } from '../../../bbb/client.js';
import { renderFailed } from '../../../bbb/responses.js';
import type { ServerRecord } from '../../../state/types.js';
import { type Answer, type Gateway, xml } from '../context.js';

/** The client's parameters for the server: checksum dropped, meeting ID in its namespace. */
export function forwardParams(params: ReadonlyMap<string, string>, upstreamID?: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of params) {
    if (key === 'checksum') continue;
    out.push([key, key === 'meetingID' && upstreamID !== undefined ? upstreamID : value]);
  }
  return out;
}

export const UPSTREAM_UNAVAILABLE = {
  messageKey: 'serverUnavailable',
  message: 'The server running this meeting did not answer. Please try again.',
};

/** A BBB FAILED answer passes through as is; transport faults become a BBB-style FAILED. */
export function upstreamFailure(gw: Gateway, server: ServerRecord, err: unknown): Answer {
  if (err instanceof BbbClientError && err.kind === 'failed' && err.messageKey !== undefined) {
    return xml(renderFailed({ messageKey: err.messageKey, message: err.bbbMessage ?? '' }), 'upstreamFailed');
  }
  gw.log.warn({ server: server.id, err: (err as Error).message }, 'upstream call failed');
  return xml(renderFailed(UPSTREAM_UNAVAILABLE), 'upstreamError');
}
