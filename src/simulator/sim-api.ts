// The BBB API of one simulated server: routing by call name, methods, checksum, content type,
// then the model and the renderers. No I/O: it maps a raw request to a SimResponse.
import { verifyChecksum } from '../bbb/checksum.js';
import type { ChecksumAlgorithm } from '../bbb/checksum.js';
import { BBB_ERRORS } from '../bbb/errors.js';
import { callNameOf, parseBbbRequest, parseForm, splitUrl } from '../bbb/request.js';
import {
  joinErrorRedirectUrl,
  renderApiVersion,
  renderCreate,
  renderDeleted,
  renderEnd,
  renderErrorList,
  renderFailed,
  renderInsertDocument,
  renderIsMeetingRunning,
  renderJoin,
  renderMeetingInfo,
  renderMeetings,
  renderPublished,
  renderRecordings,
  renderSendChatMessage,
  renderUpdated,
} from '../bbb/responses.js';
import type { BbbMessage } from '../bbb/types.js';
import { joinRedirects } from '../bbb/validate.js';
import { meetingIdViolations } from './meeting-model.js';
import type { MeetingModel, Params, SimMeeting } from './meeting-model.js';
import { firstViolation } from './precedence.js';
import { redirectResponse, xmlResponse } from './sim-response.js';
import type { SimResponse } from './sim-response.js';

export interface ApiContext {
  model: MeetingModel;
  /** Any of them may sign a request (rotation). */
  secrets: readonly string[];
  algorithms: readonly ChecksumAlgorithm[];
  /** `http://host:port`, no trailing slash. */
  baseUrl: string;
  /** The HTML5 client entry point join redirects to. */
  clientUrl: string;
  /** Shown by the index call; '' like a server with allowRevealOfBBBVersion=false. */
  bbbVersion: string;
}

export interface RawApiRequest {
  method: string;
  url: string;
  contentType?: string;
  body?: string;
}

/**
 * Methods each call accepts (bbb-api.md §2, 3.0). Anything else, and any unknown call, gets
 * `validationError` "Request not recognized": the answer bbb-web's ValidationService gives to a
 * request it cannot map. A real server may instead show a Grails 404/405 page for some of these;
 * an XML FAILED keeps every client on its normal error path, which is what tests want.
 */
const METHODS: Readonly<Record<string, readonly string[]>> = {
  create: ['GET', 'POST'],
  join: ['GET'],
  end: ['GET', 'POST'],
  isMeetingRunning: ['GET', 'POST'],
  getMeetingInfo: ['GET', 'POST'],
  getMeetings: ['GET', 'POST'],
  getRecordings: ['GET', 'POST'],
  publishRecordings: ['GET', 'POST'],
  deleteRecordings: ['GET', 'POST'],
  updateRecordings: ['GET', 'POST'],
  insertDocument: ['POST'],
  sendChatMessage: ['GET'],
};

/** RecordingController still uses the legacy checksum check and message (§1.4). */
const LEGACY_CHECKSUM = new Set(['getRecordings', 'publishRecordings', 'deleteRecordings', 'updateRecordings']);

const failed = (error: BbbMessage): SimResponse => xmlResponse(renderFailed(error));
const csv = (v: string | undefined): string[] =>
  v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** Undefined when the path is not under /bigbluebutton/api. */
export function handleApiRequest(ctx: ApiContext, raw: RawApiRequest): SimResponse | undefined {
  const { path, rawQuery } = splitUrl(raw.url);
  const callName = callNameOf(path);
  if (callName === undefined) return undefined;
  const method = raw.method === 'HEAD' ? 'GET' : raw.method;
  if (callName === '') return method === 'GET' ? index(ctx) : failed(BBB_ERRORS.requestNotRecognized);
  const methods = METHODS[callName];
  if (!methods || !methods.includes(method)) return failed(BBB_ERRORS.requestNotRecognized);

  const parsed = parseBbbRequest({ method, url: raw.url, contentType: raw.contentType, body: raw.body });
  // An unsupported body is not parsed; the checksum is still checked first, over the query.
  const params = parsed.ok ? parsed.request.params : parseForm(rawQuery);
  const legacy = LEGACY_CHECKSUM.has(callName);
  const verdict = verifyChecksum({
    callName,
    rawQuery,
    checksum: params.get('checksum'),
    secrets: ctx.secrets,
    allowed: ctx.algorithms,
    // The legacy check uses the raw query only, with no POST fallback.
    bodyParams: parsed.ok && !legacy ? parsed.request.bodyParams : undefined,
  });
  if (!verdict.ok) {
    const error = legacy
      ? BBB_ERRORS.checksumErrorRecordings
      : verdict.reason === 'missing'
        ? BBB_ERRORS.checksumMissing
        : BBB_ERRORS.checksumError;
    return callName === 'join' ? joinError(ctx, params, error) : failed(error);
  }
  if (!parsed.ok) return failed(BBB_ERRORS.unsupportedContentType);

  const { request } = parsed;
  switch (callName) {
    case 'create':
      return create(ctx, request.params);
    case 'join':
      return join(ctx, request.params);
    case 'end': {
      const r = ctx.model.end(request.params);
      return r.ok ? xmlResponse(renderEnd()) : failed(r.error);
    }
    case 'isMeetingRunning': {
      const violation = meetingIdViolation(request.params);
      if (violation) return failed(violation);
      return xmlResponse(renderIsMeetingRunning(ctx.model.isRunning(request.params.get('meetingID') ?? '')));
    }
    case 'getMeetingInfo': {
      const found = existingMeeting(ctx, request.params);
      if ('messageKey' in found) return failed(found);
      return xmlResponse(renderMeetingInfo(ctx.model.info(found)));
    }
    case 'getMeetings':
      return xmlResponse(renderMeetings(ctx.model.meetings().map((m) => ctx.model.info(m))));
    case 'getRecordings':
      return getRecordings(ctx, request.params);
    case 'publishRecordings':
    case 'deleteRecordings':
    case 'updateRecordings':
      return changeRecordings(ctx, callName, request.params);
    case 'insertDocument': {
      const found = existingMeeting(ctx, request.params);
      if ('messageKey' in found) return failed(found);
      // bbb-web renders nothing for a missing body.
      if (request.xmlBody === undefined) return xmlResponse('');
      return xmlResponse(renderInsertDocument(true, 'Presentation is being uploaded'));
    }
    case 'sendChatMessage':
      return sendChatMessage(ctx, request.params);
    default:
      return failed(BBB_ERRORS.requestNotRecognized);
  }
}

function index(ctx: ApiContext): SimResponse {
  const ws = ctx.baseUrl.replace(/^http/, 'ws');
  return xmlResponse(
    renderApiVersion({
      version: '2.0',
      apiVersion: '2.0',
      bbbVersion: ctx.bbbVersion,
      apiUrl: `${ctx.baseUrl}/bigbluebutton/api`,
      graphqlWebsocketUrl: `${ws}/graphql`,
      graphqlApiUrl: `${ctx.baseUrl}/api/rest`,
    }),
  );
}

function create(ctx: ApiContext, params: Params): SimResponse {
  const r = ctx.model.create(params);
  if (r.ok) return xmlResponse(renderCreate(r.result));
  return xmlResponse(r.list ? renderErrorList([r.error]) : renderFailed(r.error));
}

function join(ctx: ApiContext, params: Params): SimResponse {
  const r = ctx.model.join(params, ctx.clientUrl);
  if (r.ok) return joinRedirects(params) ? redirectResponse(r.result.url) : xmlResponse(renderJoin(r.result));
  if (!r.redirectable) return failed(r.error);
  return joinError(ctx, params, r.error, r.meeting?.logoutURL);
}

/**
 * Join errors redirect to `<base>?errors=[…]` (2.7+: XML when redirect=false). The base is the
 * join's errorRedirectUrl, else a logoutURL (join param, then the meeting's), else the server.
 */
function joinError(ctx: ApiContext, params: Params, error: BbbMessage, meetingLogoutUrl?: string): SimResponse {
  if (!joinRedirects(params)) return failed(error);
  const meetingID = params.get('meetingID');
  const logout = meetingLogoutUrl ?? (meetingID === undefined ? undefined : ctx.model.meeting(meetingID)?.logoutURL);
  const base = params.get('errorRedirectUrl') || params.get('logoutURL') || logout || `${ctx.baseUrl}/`;
  return redirectResponse(joinErrorRedirectUrl(base, [error]));
}

const meetingIdViolation = (params: Params): BbbMessage | undefined =>
  firstViolation(meetingIdViolations(params.get('meetingID')));

/** `@MeetingIDConstraint @MeetingExistsConstraint`: the meeting, or the error to answer. */
function existingMeeting(ctx: ApiContext, params: Params): SimMeeting | BbbMessage {
  const id = params.get('meetingID') ?? '';
  const meeting = ctx.model.meeting(id);
  const violations: BbbMessage[] = [];
  const idViolation = meetingIdViolation(params);
  if (idViolation) violations.push(idViolation);
  if (!meeting) violations.push(BBB_ERRORS.notFound);
  return firstViolation(violations) ?? meeting ?? BBB_ERRORS.notFound;
}

function getRecordings(ctx: ApiContext, params: Params): SimResponse {
  const meta: Record<string, string> = {};
  for (const [key, value] of params) if (key.startsWith('meta_')) meta[key.slice(5).toLowerCase()] = value;
  const offset = Number.parseInt(params.get('offset') ?? '', 10);
  const limit = Number.parseInt(params.get('limit') ?? '', 10);
  const recordings = ctx.model.recordings.find({
    meetingIDs: csv(params.get('meetingID')),
    recordIDs: csv(params.get('recordID')),
    states: csv(params.get('state')),
    meta,
    offset: Number.isFinite(offset) && offset > 0 ? offset : 0,
    limit: Number.isFinite(limit) ? Math.min(100, Math.max(1, limit)) : undefined,
  });
  return xmlResponse(renderRecordings(recordings));
}

function changeRecordings(
  ctx: ApiContext,
  callName: 'publishRecordings' | 'deleteRecordings' | 'updateRecordings',
  params: Params,
): SimResponse {
  const ids = csv(params.get('recordID'));
  if (ids.length === 0) return failed(BBB_ERRORS.missingParamRecordID);
  const store = ctx.model.recordings;
  if (callName === 'publishRecordings') {
    const publish = params.get('publish');
    if (publish === undefined || publish === '') return failed(BBB_ERRORS.missingParamPublish);
    return store.publish(ids, publish.toLowerCase() === 'true')
      ? xmlResponse(renderPublished(publish))
      : failed(BBB_ERRORS.recordingsNotFound);
  }
  if (callName === 'deleteRecordings') {
    return store.delete(ids) ? xmlResponse(renderDeleted()) : failed(BBB_ERRORS.recordingsNotFound);
  }
  const meta: Record<string, string> = {};
  for (const [key, value] of params) if (key.startsWith('meta_')) meta[key.slice(5).toLowerCase()] = value;
  return store.update(ids, meta) ? xmlResponse(renderUpdated()) : failed(BBB_ERRORS.recordingsNotFound);
}

function sendChatMessage(ctx: ApiContext, params: Params): SimResponse {
  const found = existingMeeting(ctx, params);
  const violations: BbbMessage[] = 'messageKey' in found ? [found] : [];
  const message = params.get('message');
  if (message === undefined) violations.push(BBB_ERRORS.chatMessageMissing);
  else if (message.length < 1 || message.length > 500) violations.push(BBB_ERRORS.chatMessageSize);
  const violation = firstViolation(violations);
  return violation ? failed(violation) : xmlResponse(renderSendChatMessage());
}
