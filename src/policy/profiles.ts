// Which limits a new meeting gets, and which BBB create parameters enforce them. Pure.
//
// The profile comes from meta_amphi-profile, else from a size hint (meta_amphi-expected-
// participants / -cameras, read on the curve over the tenant's hintProfile), else from the
// tenant's default. The caller's own limit parameters may lower the profile's, never raise
// them; whatever was lowered is listed in `capped` so the gateway can say so.
import type { LoadWeights } from '../placement/load-model.js';
import { maxCamerasAt, maxParticipantsAt } from './curve.js';
import { camerasHeldBy } from './load.js';
import type { Curve } from './curve.js';
import { LIMIT_PARAMS, RESTRICTION_PARAMS } from './schema.js';
import type { Policy, Profile } from './schema.js';
import { effectiveProfile, profileLimits, tenantPolicy } from './tenants.js';

export const PROFILE_PARAM = 'meta_amphi-profile';
export const EXPECTED_PARTICIPANTS_PARAM = 'meta_amphi-expected-participants';
export const EXPECTED_CAMERAS_PARAM = 'meta_amphi-expected-cameras';

export interface Capped {
  param: string;
  /** The caller's value as sent. */
  asked: string;
  applied: string;
}

export interface MeetingPolicy {
  ok: true;
  profile: string;
  /** How the profile was chosen. */
  source: 'param' | 'hint' | 'tenant';
  /** Set (or override) these on the upstream create, in this order. */
  bbbParams: [string, string][];
  limits: {
    /** What the meeting may hold; join admission also holds it to the curve at its live cameras. */
    maxParticipants: number;
    maxCameras: number;
    /** Seats only moderators may take. */
    moderatorMargin: number;
  };
  /** Size to reserve load for at placement. */
  expected: { participants: number; cameras: number };
  capped: Capped[];
}

export interface PolicyRefusal {
  ok: false;
  error: 'unknownProfile' | 'profileNotAllowed' | 'invalidHint';
  message: string;
}

export function resolveMeetingPolicy(
  policy: Policy,
  tenantName: string,
  createParams: ReadonlyMap<string, string>,
  /** The load weights in force: learned from the servers' CPU, else the policy's. */
  weights: LoadWeights = policy.load.weights,
): MeetingPolicy | PolicyRefusal {
  const tenant = tenantPolicy(policy, tenantName);
  const hints = readHints(createParams);
  if ('error' in hints) return hints;

  const asked = metaParam(createParams, PROFILE_PARAM)?.trim().toLowerCase();
  let name = tenant.profile;
  let source: MeetingPolicy['source'] = 'tenant';
  if (asked) {
    if (!Object.hasOwn(policy.profiles, asked)) {
      return refuse('unknownProfile', `no capacity profile named "${asked}" (known: ${Object.keys(policy.profiles).join(', ')})`);
    }
    if (!tenant.allowedProfiles.includes(asked)) {
      return refuse('profileNotAllowed', `profile "${asked}" is not allowed for this tenant (allowed: ${tenant.allowedProfiles.join(', ')})`);
    }
    name = asked;
    source = 'param';
  } else if (hints.participants !== undefined || hints.cameras !== undefined) {
    name = tenant.hintProfile;
    source = 'hint';
  }
  // The schema guarantees every profile a tenant may name exists.
  const profile = effectiveProfile(policy, tenantName, name)!;
  const curve = policy.curve.points;
  const capped: Capped[] = [];

  let { maxParticipants: maxP, maxCameras: maxC } = profileLimits(curve, profile);
  let expected = { ...profile.expected };
  if (source === 'hint') {
    ({ maxP, maxC, expected } = sizeFromHints(curve, hints, maxP, maxC, profile, capped));
  } else {
    // With an explicit profile the hint only says how much load to reserve.
    expected = { participants: hints.participants ?? expected.participants, cameras: hints.cameras ?? expected.cameras };
  }

  // A meeting whose size is known (a hint, or a profile's own maxParticipants) gets no more
  // cameras than the largest server holds with all its seats taken: past that, no placement can
  // hold it. A meeting sized live by the curve is left to the curve.
  if (source === 'hint' || profile.bbb.maxParticipants !== undefined) {
    maxC = Math.min(maxC, camerasHeldBy(Math.max(...Object.values(policy.load.sizeClasses)), maxP, weights));
  }

  const bbbParams: [string, string][] = [];
  const limits: Record<(typeof LIMIT_PARAMS)[number], number | undefined> = {
    maxParticipants: maxP,
    meetingCameraCap: maxC,
    userCameraCap: profile.bbb.userCameraCap,
  };
  for (const param of LIMIT_PARAMS) {
    const limit = limits[param];
    if (limit === undefined) continue; // the profile leaves it to the caller
    const applied = lowerOnly(createParams, param, limit, capped);
    limits[param] = applied;
    bbbParams.push([param, String(applied)]);
  }
  for (const param of RESTRICTION_PARAMS) {
    const set = profile.bbb[param];
    if (set === undefined) continue;
    const raw = createParams.get(param);
    if (set) {
      if (raw !== undefined && raw.toLowerCase() !== 'true') capped.push({ param, asked: raw, applied: 'true' });
      bbbParams.push([param, 'true']);
    } else if (raw === undefined) {
      bbbParams.push([param, 'false']); // a default: the caller may always restrict more
    }
  }
  const defaults: [string, string | number | boolean][] = [
    ...(profile.bbb.meetingLayout === undefined ? [] : [['meetingLayout', profile.bbb.meetingLayout] as [string, string]]),
    ...Object.entries(profile.defaults),
  ];
  for (const [param, value] of defaults) if (!createParams.has(param)) bbbParams.push([param, String(value)]);

  maxP = limits.maxParticipants!;
  maxC = limits.meetingCameraCap!;
  return {
    ok: true,
    profile: name,
    source,
    bbbParams,
    limits: {
      maxParticipants: maxP,
      maxCameras: maxC,
      // A caller who lowers maxParticipants must not find all the seats reserved.
      moderatorMargin: Math.min(profile.moderatorMargin, Math.floor(maxP / 2)),
    },
    expected: { participants: Math.min(expected.participants, maxP), cameras: Math.min(expected.cameras, maxC) },
    capped,
  };
}

/**
 * The meeting's policy held to the cameras `room` load units hold with `participants` inside
 * (at least 1): what a create gets when no server had room for it (an overcommitted placement),
 * so that the server it lands on is not overloaded by cameras it cannot carry. The cameras held
 * back are listed in `capped`, so the create's answer says so.
 */
export function limitCamerasToRoom(decided: MeetingPolicy, room: number, participants: number, weights: LoadWeights): MeetingPolicy {
  const cameras = Math.min(decided.limits.maxCameras, camerasHeldBy(Math.max(0, room), participants, weights));
  if (cameras >= decided.limits.maxCameras) return decided;
  return {
    ...decided,
    bbbParams: decided.bbbParams.map(([param, value]): [string, string] => [param, param === 'meetingCameraCap' ? String(cameras) : value]),
    limits: { ...decided.limits, maxCameras: cameras },
    expected: { ...decided.expected, cameras: Math.min(decided.expected.cameras, cameras) },
    capped: [...decided.capped, { param: 'meetingCameraCap', asked: String(decided.limits.maxCameras), applied: `${cameras} (no server had room for more)` }],
  };
}

interface Hints {
  participants?: number;
  cameras?: number;
  /** The values as sent, for `capped`. */
  raw: { participants?: string; cameras?: string };
}

function readHints(params: ReadonlyMap<string, string>): Hints | PolicyRefusal {
  const hints: Hints = { raw: {} };
  for (const [key, param, min] of [
    ['participants', EXPECTED_PARTICIPANTS_PARAM, 1],
    ['cameras', EXPECTED_CAMERAS_PARAM, 0],
  ] as const) {
    const raw = metaParam(params, param);
    if (raw === undefined || raw.trim() === '') continue;
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min) return refuse('invalidHint', `${param} must be a whole number, at least ${min} (got "${raw}")`);
    hints[key] = n;
    hints.raw[key] = raw;
  }
  return hints;
}

/**
 * Reads a hint on the curve, within the hint profile's own limits. A dimension the hint gives
 * is taken as given; the other gets the most the curve allows with it. Given both above the
 * curve, participants win (the audience is the hard fact; cameras are optional).
 */
function sizeFromHints(curve: Curve, hints: Hints, topP: number, topC: number, profile: Profile, capped: Capped[]) {
  let participants = hints.participants;
  let cameras = hints.cameras;
  if (participants !== undefined && participants > topP) participants = topP;
  if (cameras !== undefined && cameras > topC) cameras = topC;
  if (participants !== undefined && cameras !== undefined && participants > (maxParticipantsAt(curve, cameras) ?? 0)) {
    cameras = Math.min(topC, maxCamerasAt(curve, participants));
  }
  if (participants !== hints.participants) capped.push({ param: EXPECTED_PARTICIPANTS_PARAM, asked: hints.raw.participants!, applied: String(participants) });
  if (cameras !== hints.cameras) capped.push({ param: EXPECTED_CAMERAS_PARAM, asked: hints.raw.cameras!, applied: String(cameras) });

  const maxP = participants ?? Math.min(topP, maxParticipantsAt(curve, cameras!) ?? topP);
  // meetingCameraCap=0 means "no cap" to BBB: a meeting sized for no camera still gets 1.
  const maxC = Math.max(1, cameras ?? Math.min(topC, maxCamerasAt(curve, maxP)));
  const expected = {
    participants: participants ?? Math.min(maxP, Math.max(profile.expected.participants, cameras!)),
    cameras: cameras ?? Math.min(maxC, profile.expected.cameras),
  };
  return { maxP, maxC, expected };
}

/** The caller's value when it is a real limit at or below the policy's; else the policy's. */
function lowerOnly(params: ReadonlyMap<string, string>, param: string, limit: number, capped: Capped[]): number {
  const raw = params.get(param);
  if (raw === undefined) return limit;
  // BBB parses with Integer.parseInt and reads 0 or less as "no limit".
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (Number.isSafeInteger(n) && n > 0 && n <= limit) return n;
  capped.push({ param, asked: raw, applied: String(limit) });
  return limit;
}

/** meta_ parameters are case-insensitive to BBB (it stores them lower-cased). */
function metaParam(params: ReadonlyMap<string, string>, name: string): string | undefined {
  const exact = params.get(name);
  if (exact !== undefined) return exact;
  for (const [key, value] of params) if (key.toLowerCase() === name) return value;
  return undefined;
}

function refuse(error: PolicyRefusal['error'], message: string): PolicyRefusal {
  return { ok: false, error, message };
}
