// The control API of one simulated server (JSON): drive users without a browser, inspect the
// state, read /metrics. Users added here go through the same model rules as real joins.
import type { BbbMessage, Role } from '../bbb/types.js';
import { splitUrl } from '../bbb/request.js';
import { parseFault } from './faults.js';
import type { Fault } from './faults.js';
import type { AudioMode, MeetingModel } from './meeting-model.js';
import { jsonResponse, metricsResponse, notAllowed, parseJsonBody, wantsUsers } from './sim-response.js';
import type { SimResponse } from './sim-response.js';

export interface AddUsersSpec {
  count: number;
  role: Role;
  /** Cameras each user tries to start (each may be refused by the caps). */
  cameras: number;
  audio: AudioMode;
  /** Users get userID `${prefix}${n}` with a per-server sequence; none → the internal id. */
  userIdPrefix?: string;
  fullName?: string;
}

export interface AdmittedUser {
  sessionToken: string;
  userID: string;
  internalUserID: string;
  role: Role;
  cameras: number;
  /** Why cameras asked for were not started, one entry per refusal. */
  cameraRefusals: string[];
}

export interface RefusedUser {
  index: number;
  userID?: string;
  /** join = refused by the API call; enter = ejected when the client loaded. */
  stage: 'join' | 'enter';
  messageKey: string;
  message: string;
}

export interface AddUsersResult {
  admitted: AdmittedUser[];
  refused: RefusedUser[];
}

export const MAX_USERS_PER_CALL = 10_000;
const AUDIO_MODES: readonly string[] = ['none', 'listen', 'mic'];

/** Validates a control body; a string is the reason it is invalid. */
export function parseAddUsersSpec(body: unknown): AddUsersSpec | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) return 'body must be a JSON object';
  const count = b.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_USERS_PER_CALL) {
    return `count must be an integer between 1 and ${MAX_USERS_PER_CALL}`;
  }
  const role = typeof b.role === 'string' ? b.role.toUpperCase() : b.role === undefined ? 'VIEWER' : undefined;
  if (role !== 'VIEWER' && role !== 'MODERATOR') return 'role must be VIEWER or MODERATOR';
  const cameras = b.cameras ?? 0;
  if (typeof cameras !== 'number' || !Number.isInteger(cameras) || cameras < 0 || cameras > 16) {
    return 'cameras must be an integer between 0 and 16';
  }
  const audio = b.audio ?? 'listen';
  if (typeof audio !== 'string' || !AUDIO_MODES.includes(audio)) return 'audio must be listen, mic or none';
  if (b.userIdPrefix !== undefined && typeof b.userIdPrefix !== 'string') return 'userIdPrefix must be a string';
  if (b.fullName !== undefined && typeof b.fullName !== 'string') return 'fullName must be a string';
  return {
    count,
    role,
    cameras,
    audio: audio as AudioMode,
    userIdPrefix: b.userIdPrefix as string | undefined,
    fullName: b.fullName as string | undefined,
  };
}

/** Joins (role param, no checksum: this is the server itself) then enters each user. */
export function addUsers(
  model: MeetingModel,
  meetingID: string,
  spec: AddUsersSpec,
  clientUrl: string,
  nextSeq: () => number,
): AddUsersResult {
  const result: AddUsersResult = { admitted: [], refused: [] };
  for (let index = 0; index < spec.count; index++) {
    const seq = nextSeq();
    const params = new Map([
      ['meetingID', meetingID],
      ['fullName', `${spec.fullName ?? 'Sim User'} ${seq}`],
      ['role', spec.role],
    ]);
    const userID = spec.userIdPrefix === undefined ? undefined : `${spec.userIdPrefix}${seq}`;
    if (userID !== undefined) params.set('userID', userID);
    const refuse = (stage: RefusedUser['stage'], e: BbbMessage): void => {
      result.refused.push({ index, ...(userID === undefined ? {} : { userID }), stage, ...e });
    };
    const joined = model.join(params, clientUrl);
    if (!joined.ok) {
      refuse('join', joined.error);
      continue;
    }
    const entered = model.enter(joined.result.sessionToken);
    if (!entered.ok) {
      refuse('enter', entered.error);
      continue;
    }
    const { user } = entered;
    const cameraRefusals: string[] = [];
    for (let c = 0; c < spec.cameras; c++) {
      const cam = model.startCamera(user.sessionToken);
      if (!cam.ok) cameraRefusals.push(cam.reason);
    }
    model.setAudio(user.sessionToken, spec.audio);
    result.admitted.push({
      sessionToken: user.sessionToken,
      userID: user.externUserID,
      internalUserID: user.internalUserID,
      role: user.role,
      cameras: user.cameras,
      cameraRefusals,
    });
  }
  return result;
}

export interface ControlContext {
  model: MeetingModel;
  clientUrl: () => string;
  nextUserSeq: () => number;
  state: (withUsers: boolean) => unknown;
  metrics: () => string;
  setFault: (fault: Fault) => Promise<unknown>;
}

const notFound = (what: string): SimResponse => jsonResponse(404, { error: `${what} not found` });
const badRequest = (error: string): SimResponse => jsonResponse(400, { error });

/** Undefined when the path is not a control path (`/sim/…`, `/metrics`). */
export async function handleControlRequest(
  ctx: ControlContext,
  method: string,
  url: string,
  body: string,
): Promise<SimResponse | undefined> {
  const { path, rawQuery } = splitUrl(url);
  if (path === '/metrics') return metricsResponse(method, () => ctx.metrics());
  if (!path.startsWith('/sim/')) return undefined;
  const parts = path.slice(1).split('/').map(safeDecode);
  if (parts.some((p) => p === undefined)) return badRequest('bad percent-encoding in the path');
  const [, a, b, c] = parts as string[];

  if (a === 'state' && parts.length === 2) {
    if (method !== 'GET') return notAllowed();
    return jsonResponse(200, ctx.state(wantsUsers(rawQuery)));
  }
  if (method !== 'POST') return method === 'GET' ? notFound('route') : notAllowed();
  const json = parseJsonBody(body);
  if (json === undefined) return badRequest('body is not valid JSON');

  if (a === 'fault' && parts.length === 2) {
    const fault = parseFault(json);
    if (typeof fault === 'string') return badRequest(fault);
    await ctx.setFault(fault);
    return jsonResponse(200, { fault });
  }
  if (a === 'meetings' && b !== undefined && c === 'users' && parts.length === 4) {
    if (!ctx.model.meeting(b)) return notFound('meeting');
    const spec = parseAddUsersSpec(json);
    if (typeof spec === 'string') return badRequest(spec);
    return jsonResponse(200, addUsers(ctx.model, b, spec, ctx.clientUrl(), ctx.nextUserSeq));
  }
  if (a === 'sessions' && b !== undefined && c !== undefined && parts.length === 4) {
    return sessionAction(ctx.model, b, c, json);
  }
  return notFound('route');
}

function sessionAction(model: MeetingModel, token: string, action: string, json: unknown): SimResponse {
  const body = (json ?? {}) as Record<string, unknown>;
  if (action === 'leave') return model.leave(token) ? jsonResponse(200, { left: true }) : notFound('session');
  if (!model.user(token)) return notFound('session');
  if (action === 'camera') {
    if (typeof body.on !== 'boolean') return badRequest('on must be a boolean');
    const r = body.on ? model.startCamera(token) : model.stopCameras(token);
    return r.ok ? jsonResponse(200, { cameras: r.cameras }) : jsonResponse(409, { refused: r.reason });
  }
  if (action === 'audio') {
    if (typeof body.mode !== 'string' || !AUDIO_MODES.includes(body.mode)) return badRequest('mode must be listen, mic or none');
    model.setAudio(token, body.mode as AudioMode);
    return jsonResponse(200, { audio: body.mode });
  }
  return notFound('route');
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
