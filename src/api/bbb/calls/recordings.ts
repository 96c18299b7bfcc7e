import { BBB_ERRORS } from '../../../bbb/errors.js';
import { renderDeleted, renderFailed, renderPublished, renderRecordings, renderUpdated } from '../../../bbb/responses.js';
import type { Recording } from '../../../bbb/types.js';
import { fromUpstreamId, toUpstreamId } from '../../../state/namespace.js';
import type { ServerRecord } from '../../../state/types.js';
import { mapLimit } from '../../../util/map-limit.js';
import { type Answer, type Call, type Gateway, xml } from '../context.js';

// Recordings stay on the server where the meeting ran, so every call fans out to the
// reachable servers and merges. One server failing only hides its own recordings. Each
// tenant sees only recordings of meetings in its namespace.

const FAN_OUT = 32;

interface Found {
  server: ServerRecord;
  recordings: Recording[];
}

async function fanOut(gw: Gateway, params: [string, string][]): Promise<Found[]> {
  const servers = await gw.pool.onlineServers();
  const found = await mapLimit(servers, FAN_OUT, async (server): Promise<Found> => {
    try {
      return { server, recordings: await gw.pool.client(server).getRecordings(params) };
    } catch (err) {
      gw.log.warn({ server: server.id, err: (err as Error).message }, 'getRecordings failed on one server');
      return { server, recordings: [] };
    }
  });
  return found.filter((f) => f.recordings.length > 0);
}

/**
 * The tenant's own recordings among one server's, meeting IDs back in the tenant's namespace.
 * A breakout room's recording carries an ID BBB made up (no tenant prefix): it belongs to the
 * owner of its parent's recording on the same server, or to no one when that is not listed.
 */
export function ownRecordings(tenant: string, tenantNames: ReadonlySet<string>, recordings: readonly Recording[]): Recording[] {
  const ownerOfInternal = new Map<string, string>();
  for (const r of recordings) {
    const owner = r.isBreakout ? undefined : fromUpstreamId(r.meetingID, tenantNames);
    if (owner) ownerOfInternal.set(r.internalMeetingID || r.recordID, owner.tenant);
  }
  const own: Recording[] = [];
  for (const r of recordings) {
    if (r.isBreakout) {
      if (r.parentId !== undefined && ownerOfInternal.get(r.parentId) === tenant) own.push(r);
      continue;
    }
    const owner = fromUpstreamId(r.meetingID, tenantNames);
    if (owner?.tenant === tenant) own.push({ ...r, meetingID: owner.meetingID });
  }
  return own;
}

/** The query for the servers: meeting IDs moved into the namespace; paging is applied after merging. */
function upstreamFilter(call: Call): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of call.request.params) {
    if (key === 'checksum' || key === 'offset' || key === 'limit') continue;
    const translated = key === 'meetingID' ? value.split(',').map((id) => toUpstreamId(call.tenant.name, id.trim())).join(',') : value;
    out.push([key, translated]);
  }
  return out;
}

export async function getRecordings(gw: Gateway, call: Call): Promise<Answer> {
  const [found, names] = await Promise.all([fanOut(gw, upstreamFilter(call)), gw.tenants.names()]);
  const seen = new Set<string>();
  const merged: Recording[] = [];
  for (const { recordings } of found) {
    for (const own of ownRecordings(call.tenant.name, names, recordings)) {
      if (!seen.has(own.recordID)) {
        seen.add(own.recordID);
        merged.push(own);
      }
    }
  }
  const offset = Math.max(0, Number(call.request.params.get('offset') ?? 0) || 0);
  const limitParam = Number(call.request.params.get('limit'));
  const limit = limitParam >= 1 && limitParam <= 100 ? limitParam : undefined;
  const page = merged.slice(offset, limit === undefined ? undefined : offset + limit);
  return xml(renderRecordings(page), page.length > 0 ? 'success' : 'noRecordings');
}

/** Which servers hold which of the tenant's recordings among the given IDs. */
async function owners(gw: Gateway, call: Call, recordIDs: string): Promise<Map<ServerRecord, string[]>> {
  const [found, names] = await Promise.all([
    fanOut(gw, [
      ['recordID', recordIDs],
      ['state', 'any'],
    ]),
    gw.tenants.names(),
  ]);
  const byServer = new Map<ServerRecord, string[]>();
  for (const { server, recordings } of found) {
    const ids = ownRecordings(call.tenant.name, names, recordings).map((r) => r.recordID);
    if (ids.length > 0) byServer.set(server, ids);
  }
  return byServer;
}

type Mutation = 'publishRecordings' | 'deleteRecordings' | 'updateRecordings';

async function mutate(gw: Gateway, call: Call, mutation: Mutation): Promise<Answer> {
  const { params } = call.request;
  const recordID = params.get('recordID');
  if (!recordID) return xml(renderFailed(BBB_ERRORS.missingParamRecordID), 'invalid');
  const publish = params.get('publish');
  if (mutation === 'publishRecordings' && !publish) return xml(renderFailed(BBB_ERRORS.missingParamPublish), 'invalid');
  const holders = await owners(gw, call, recordID);
  if (holders.size === 0) return xml(renderFailed(BBB_ERRORS.recordingsNotFound), 'notFound');
  const extra = [...params].filter(([k]) => k !== 'checksum' && k !== 'recordID');
  const results = await mapLimit([...holders], FAN_OUT, async ([server, ids]) => {
    try {
      await gw.pool.client(server).call(mutation, [['recordID', ids.join(',')], ...extra]);
      return true;
    } catch (err) {
      gw.log.warn({ server: server.id, err: (err as Error).message }, `${mutation} failed on one server`);
      return false;
    }
  });
  if (!results.some(Boolean)) return xml(renderFailed(BBB_ERRORS.recordingsNotFound), 'upstreamError');
  if (mutation === 'publishRecordings') return xml(renderPublished(publish!));
  return xml(mutation === 'deleteRecordings' ? renderDeleted() : renderUpdated());
}

export const publishRecordings = (gw: Gateway, call: Call) => mutate(gw, call, 'publishRecordings');
export const deleteRecordings = (gw: Gateway, call: Call) => mutate(gw, call, 'deleteRecordings');
export const updateRecordings = (gw: Gateway, call: Call) => mutate(gw, call, 'updateRecordings');
