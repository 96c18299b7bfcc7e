import { BBB_ERRORS } from '../../../bbb/errors.js';
import { renderEnd, renderFailed, renderIsMeetingRunning, renderMeetingInfo } from '../../../bbb/responses.js';
import type { MeetingInfo } from '../../../bbb/types.js';
import { checkMeetingId } from '../../../bbb/validate.js';
import { toUpstreamId } from '../../../state/namespace.js';
import type { MeetingRecord, ServerRecord } from '../../../state/types.js';
import { type Answer, type Call, type Gateway, xml } from '../context.js';
import { isReachable } from '../pool-view.js';
import { forwardParams, upstreamFailure } from './upstream.js';

// getMeetingInfo and isMeetingRunning ask the meeting's server (live-reads.ts: shared, cached
// briefly, bounded by a short timeout) and fall back to the polled state when it does not
// answer in time; getMeetings answers from the polled state alone. A meeting whose server is
// unreachable is gone for clients (its next create places it again): not found / not running.

async function reachableMeeting(gw: Gateway, call: Call): Promise<{ meeting: MeetingRecord; server: ServerRecord } | undefined> {
  const meetingID = call.request.params.get('meetingID')!;
  const meeting = await gw.store.meetings.get(call.tenant.name, meetingID);
  if (!meeting) return undefined;
  const server = await gw.pool.server(meeting.server);
  return isReachable(server) ? { meeting, server } : undefined;
}

/** The meeting as its server describes it now, else as the last poll (or create) did. */
async function currentInfo(gw: Gateway, call: Call): Promise<MeetingInfo | undefined> {
  const found = await reachableMeeting(gw, call);
  if (!found) return undefined;
  const live = await gw.liveReads.read(gw, found.meeting, found.server);
  if (live === 'gone') return undefined;
  return live ?? found.meeting.info;
}

export async function getMeetingInfo(gw: Gateway, call: Call): Promise<Answer> {
  const invalid = checkMeetingId(call.request.params.get('meetingID'));
  if (invalid) return xml(renderFailed(invalid), 'invalid');
  const info = await currentInfo(gw, call);
  if (!info) return xml(renderFailed(BBB_ERRORS.notFound), 'notFound');
  return xml(renderMeetingInfo(info));
}

export async function isMeetingRunning(gw: Gateway, call: Call): Promise<Answer> {
  const invalid = checkMeetingId(call.request.params.get('meetingID'));
  if (invalid) return xml(renderFailed(invalid), 'invalid');
  return xml(renderIsMeetingRunning((await currentInfo(gw, call))?.running ?? false));
}

export async function getMeetings(gw: Gateway, call: Call): Promise<Answer> {
  return xml(await gw.meetingLists.get(call.tenant.name));
}

/** How BBB describes a meeting between end and its removal: no users, forcibly ended. */
function endedInfo(info: MeetingInfo | undefined, now: number): MeetingInfo | undefined {
  if (!info) return undefined;
  return {
    ...info,
    running: false,
    hasBeenForciblyEnded: true,
    endTime: now,
    participantCount: 0,
    listenerCount: 0,
    voiceParticipantCount: 0,
    videoCount: 0,
    moderatorCount: 0,
    attendees: [],
  };
}

/** end: sent to the meeting's server; the poller forgets the meeting once the server drops it. */
export async function end(gw: Gateway, call: Call): Promise<Answer> {
  const { params } = call.request;
  const invalid = checkMeetingId(params.get('meetingID'));
  if (invalid) return xml(renderFailed(invalid), 'invalid');
  const found = await reachableMeeting(gw, call);
  if (!found) return xml(renderFailed(BBB_ERRORS.notFound), 'notFound');
  try {
    await gw.pool.client(found.server).call('end', forwardParams(params, toUpstreamId(call.tenant.name, found.meeting.meetingID)));
    await gw.store.meetings.markEnded(call.tenant.name, found.meeting.meetingID, found.server.id, endedInfo(found.meeting.info, Date.now()));
    gw.liveReads.forget(found.meeting.ref);
    gw.meetingLists.invalidate(call.tenant.name);
    return xml(renderEnd());
  } catch (err) {
    return upstreamFailure(gw, found.server, err);
  }
}

/** insertDocument and sendChatMessage: passed to the meeting's server, answer untouched. */
export async function forwardToMeeting(gw: Gateway, call: Call): Promise<Answer> {
  const { params, callName, xmlBody } = call.request;
  const invalid = checkMeetingId(params.get('meetingID'));
  if (invalid) return xml(renderFailed(invalid), 'invalid');
  const found = await reachableMeeting(gw, call);
  if (!found) return xml(renderFailed(BBB_ERRORS.notFound), 'notFound');
  try {
    const answer = await gw.pool
      .client(found.server)
      .callRaw(
        callName,
        forwardParams(params, toUpstreamId(call.tenant.name, found.meeting.meetingID)),
        xmlBody !== undefined ? { method: 'POST', body: xmlBody, contentType: 'application/xml' } : {},
      );
    if (answer.status !== 200) return upstreamFailure(gw, found.server, new Error(`HTTP ${answer.status}`));
    return xml(answer.body);
  } catch (err) {
    return upstreamFailure(gw, found.server, err);
  }
}
