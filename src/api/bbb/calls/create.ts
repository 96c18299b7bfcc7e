import { BbbClientError } from '../../../bbb/client.js';
import { BBB_ERRORS } from '../../../bbb/errors.js';
import { renderCreate, renderFailed } from '../../../bbb/responses.js';
import type { CreateResult, MeetingInfo } from '../../../bbb/types.js';
import { checkCreateParams, metadataOf, parseBoolean } from '../../../bbb/validate.js';
import { parseServerTags } from '../../../placement/choose.js';
import { type AnnouncedTimes, readAnnouncement } from '../../../policy/announcement.js';
import { isGatewayMetadata, limitCamerasToRoom, limitsMetadata, type MeetingPolicy, quotaRefusal, resolveMeetingPolicy, tenantPolicy } from '../../../policy/index.js';
import { meetingRef } from '../../../state/keys.js';
import { fitsUpstream, toUpstreamId } from '../../../state/namespace.js';
import type { ServerRecord } from '../../../state/types.js';
import { recordAnnouncement } from '../announce.js';
import { type Answer, type Call, type Gateway, xml } from '../context.js';
import { isReachable } from '../pool-view.js';
import { forwardParams, upstreamFailure } from './upstream.js';

export const NO_SERVER = { messageKey: 'noAvailableServers', message: 'No available servers.' };

/** The SUCCESS messageKey of a fresh create whose asked limits the policy lowered. */
export const POLICY_APPLIED_KEY = 'amphiPolicyApplied';

/** How many servers a create tries when the chosen one cannot be reached. */
const MAX_ATTEMPTS = 3;

/**
 * create: a running meeting goes back to its server (duplicateWarning comes from there); a new
 * one, or one whose server is gone, is placed atomically, then created upstream. A create the
 * server refuses, or that cannot reach it, releases the placement. Serves the BBB API (outside
 * the rooms' IDs, room-ids.ts) and the rooms' own meetings (rooms/room-meetings.ts).
 */
export async function create(gw: Gateway, call: Call): Promise<Answer> {
  const { params } = call.request;
  const invalid = checkCreateParams(params);
  if (invalid) return xml(renderFailed(invalid), 'invalid');
  const tenant = call.tenant.name;
  const meetingID = params.get('meetingID')!;
  // The namespace makes the ID longer on the server, which holds it to 256 characters too.
  if (!fitsUpstream(tenant, meetingID)) return xml(renderFailed(BBB_ERRORS.meetingIdSize), 'invalid');
  const upstreamID = toUpstreamId(tenant, meetingID);
  const policy = gw.policies.current();
  const weights = await gw.pool.loadWeights(policy.load.weights);
  const decided = resolveMeetingPolicy(policy, tenant, params, weights);
  if (!decided.ok) return xml(renderFailed({ messageKey: decided.error, message: decided.message }), 'policyRefused');
  const announcing = readAnnouncement(params, gw.store.ctx.now());
  if (!announcing.ok) return xml(renderFailed({ messageKey: announcing.error, message: announcing.message }), 'policyRefused');

  // A meeting nobody sized reserves what the tenant's such meetings became; read meanwhile.
  const estimated = decided.source === 'tenant' && policy.sizeEstimate.enabled;
  const [existing, samples] = await Promise.all([gw.store.meetings.get(tenant, meetingID), estimated ? gw.tenantSizes.samples(tenant) : undefined]);
  // The profile's or hint's size, or for a meeting nobody sized, what the tenant's became.
  const expected = samples === undefined ? decided.expected : gw.tenantSizes.expected(samples, policy, decided);
  const accepted = async (answer: Answer): Promise<Answer> => {
    // With AMPHI_REDIS_WAIT_REPLICAS, a meeting is on the replicas before its create is
    // answered, so a failover after the answer cannot lose it; if they do not confirm, the
    // create fails (serviceUnavailable) and a retry finds the placement (duplicateWarning). A
    // placement a failover lost before the WAIT fails the create too (state/replication.ts).
    if (answer.outcome === 'success' || answer.outcome === 'duplicate') await gw.store.replicated({ tenant, meetingID });
    return announcing.announced === undefined ? answer : announce(gw, call, announcing.announced, expected, answer);
  };
  if (existing) {
    const server = await gw.pool.server(existing.server);
    if (isReachable(server)) return accepted(await createOn(gw, call, server, upstreamID, decided, false));
    // Its server went offline or was disabled: the meeting is gone, place it again.
    await gw.store.meetings.forget(tenant, meetingID, existing.server);
  }

  const tenantRules = tenantPolicy(policy, tenant);
  const exclude = new Set<string>();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const started = performance.now();
    const placed = await gw.placer.place({
      tenant,
      meetingID,
      upstreamID,
      expected,
      weights: policy.load.weights,
      tags: parseServerTags(params.get('meta_server-tag')),
      extra: { profile: decided.profile },
      // Checked and counted in the placing step: concurrent creates never exceed them.
      quotas: tenantRules.quotas,
      exclude,
    });
    gw.metrics.placementSeconds.observe({ outcome: placed.outcome }, (performance.now() - started) / 1000);
    if (placed.outcome === 'quota') {
      return xml(renderFailed({ messageKey: 'quotaExceeded', message: quotaRefusal(tenantRules, placed.quota).message }), 'quotaExceeded');
    }
    if (placed.outcome === 'none') return xml(renderFailed(NO_SERVER), 'noServer');
    const server = await gw.pool.server(placed.server);
    if (!server) return xml(renderFailed(NO_SERVER), 'noServer');
    const fresh = placed.outcome !== 'existing';
    // No server had room: the meeting gets the cameras the room left on its server holds.
    const held = placed.outcome === 'overcommitted' ? limitCamerasToRoom(decided, placed.headroom, expected.participants, weights) : decided;
    const answer = await createOn(gw, call, server, upstreamID, held, fresh);
    if (answer.outcome !== 'unreachable' || !fresh) return accepted(answer);
    exclude.add(server.id);
  }
  return xml(renderFailed(NO_SERVER), 'noServer');
}

/** Records what an accepted create (fresh or duplicate) announced, for the scaler's forecast (announce.ts). */
async function announce(gw: Gateway, call: Call, times: AnnouncedTimes, expected: { participants: number; cameras: number }, answer: Answer): Promise<Answer> {
  if (answer.outcome !== 'success' && answer.outcome !== 'duplicate') return answer;
  const meetingID = call.request.params.get('meetingID')!;
  await recordAnnouncement(gw, { tenant: call.tenant.name, meetingID, ...times, participants: expected.participants, cameras: expected.cameras }, 'create');
  return answer;
}

/**
 * BBB creates breakout rooms itself; a client asking for one names a parent meeting by its
 * internal ID, and the poller files breakouts under their parent's tenant, so these would let
 * a tenant plant a meeting in another tenant's name.
 */
const BREAKOUT_ONLY: ReadonlySet<string> = new Set(['isBreakout', 'parentMeetingID', 'sequence']);

/**
 * The caller's parameters with the policy's enforced ones set over them, and the meeting's
 * limits recorded in its metadata (the caller's own values for those names dropped).
 */
function upstreamParams(params: ReadonlyMap<string, string>, upstreamID: string, decided: MeetingPolicy): [string, string][] {
  const enforced = new Map([...decided.bbbParams, ...limitsMetadata(decided)]);
  const out = forwardParams(params, upstreamID).filter(([key]) => !enforced.has(key) && !isGatewayMetadata(key) && !BREAKOUT_ONLY.has(key));
  return [...out, ...enforced];
}

/**
 * How a fresh create tells the caller what the policy lowered: a SUCCESS messageKey BBB clients
 * ignore (as they ignore duplicateWarning), with the changes spelled out in the message.
 */
function policyNote(decided: MeetingPolicy): { messageKey: string; message: string } | undefined {
  if (decided.capped.length === 0) return undefined;
  const changes = decided.capped.map((c) => `${c.param} ${c.asked} -> ${c.applied}`).join(', ');
  return { messageKey: POLICY_APPLIED_KEY, message: `Capacity policy "${decided.profile}" applied: ${changes}.` };
}

async function createOn(gw: Gateway, call: Call, server: ServerRecord, upstreamID: string, decided: MeetingPolicy, fresh: boolean): Promise<Answer> {
  const tenant = call.tenant.name;
  const meetingID = call.request.params.get('meetingID')!;
  const body = call.request.xmlBody;
  const upstream = upstreamParams(call.request.params, upstreamID, decided);
  try {
    const result = await gw.pool.client(server).create(upstream, body ? { method: 'POST', body, contentType: 'application/xml' } : undefined);
    const duplicate = result.messageKey === BBB_ERRORS.duplicateWarning.messageKey;
    const local: CreateResult = { ...result, meetingID, ...(duplicate ? {} : policyNote(decided)) };
    // A duplicate keeps the limits it was created with and what polls measured of it; a fresh
    // create is described as the server holds it (the enforced limits, the gateway's metadata).
    const limits = { profile: decided.profile, maxParticipants: decided.limits.maxParticipants, moderatorMargin: decided.limits.moderatorMargin };
    await gw.store.meetings.markRunning(
      tenant,
      meetingID,
      duplicate ? undefined : { info: infoFromCreate(local, new Map(upstream)), limits, profileSource: decided.source },
    );
    gw.meetingLists.invalidate(tenant);
    gw.liveReads.forget(meetingRef(tenant, meetingID));
    return {
      xml: renderCreate(local),
      outcome: duplicate ? 'duplicate' : 'success',
      headers: { 'x-amphi-profile': decided.profile },
    };
  } catch (err) {
    if (fresh) await gw.store.meetings.forget(tenant, meetingID, server.id);
    if (err instanceof BbbClientError && (err.kind === 'refused' || err.kind === 'network')) {
      gw.log.warn({ server: server.id, err: err.message }, 'create: server unreachable, placing elsewhere');
      return xml(renderFailed(NO_SERVER), 'unreachable');
    }
    return upstreamFailure(gw, server, err);
  }
}

/** What getMeetingInfo answers for a meeting no poll has described yet. */
function infoFromCreate(r: CreateResult, params: ReadonlyMap<string, string>): MeetingInfo {
  return {
    meetingName: params.get('name') ?? '',
    meetingID: r.meetingID,
    internalMeetingID: r.internalMeetingID,
    createTime: r.createTime,
    createDate: r.createDate,
    voiceBridge: r.voiceBridge,
    dialNumber: r.dialNumber,
    attendeePW: r.attendeePW,
    moderatorPW: r.moderatorPW,
    running: false,
    duration: r.duration,
    hasUserJoined: r.hasUserJoined,
    recording: parseBoolean(params.get('record')),
    hasBeenForciblyEnded: r.hasBeenForciblyEnded,
    startTime: r.createTime,
    endTime: 0,
    participantCount: 0,
    listenerCount: 0,
    voiceParticipantCount: 0,
    videoCount: 0,
    maxUsers: Number(params.get('maxParticipants') ?? 0) || 0,
    moderatorCount: 0,
    attendees: [],
    metadata: metadataOf(params),
    isBreakout: false,
  };
}
