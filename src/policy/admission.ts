// Join admission against the curve at the meeting's live camera count, the meeting's own limits
// and the tenant's participant quota. Pure: the gateway supplies the counts (polled
// participants + joins admitted since that poll, counted atomically in Redis) and turns a
// refusal into BBB's maxParticipantsReached.

export interface JoinRequest {
  /** maxParticipantsAt(curve, live cameras); undefined when the cameras are beyond the curve. */
  maxByCurveAtCameras: number | undefined;
  /** The meeting's own limit (MeetingPolicy.limits.maxParticipants); omitted: the curve alone. */
  maxParticipants?: number;
  /** Participants the last poll saw. */
  participants: number;
  /** Joins admitted since that poll, not counting this one. */
  pendingJoins: number;
  /** The user (same external userID) is already in the meeting: a reconnect, a second tab. */
  isInside: boolean;
  role: 'moderator' | 'viewer';
  /** Seats at the top that only moderators may take. */
  moderatorMargin: number;
  /** The tenant's participant quota over all its meetings (policy quotas); omitted: none. */
  tenantQuota?: {
    maxParticipants: number;
    /** The tenant's participants the last polls saw. */
    participants: number;
    /** The tenant's joins admitted since those polls, not counting this one. */
    pendingJoins: number;
  };
}

export type RefusalReason =
  /** More cameras are on than the curve allows at all: no new participant. */
  | 'camerasBeyondCurve'
  /** The curve, at the live camera count, is the binding limit. */
  | 'curve'
  /** The meeting's own maxParticipants is the binding limit. */
  | 'maxParticipants'
  /** Seats are left, but only for moderators. */
  | 'moderatorMargin'
  /** The tenant's participant quota is reached. */
  | 'tenantQuota';

export type JoinDecision = { admitted: true } | { admitted: false; reason: RefusalReason; limit: number };

export function admitJoin(r: JoinRequest): JoinDecision {
  // BBB itself always lets a user who is already inside back in; so do we.
  if (r.isInside) return { admitted: true };
  if (r.maxByCurveAtCameras === undefined) return { admitted: false, reason: 'camerasBeyondCurve', limit: 0 };
  const byMeeting = r.maxParticipants ?? Infinity;
  const limit = Math.min(r.maxByCurveAtCameras, byMeeting);
  const after = r.participants + r.pendingJoins + 1;
  if (after > limit) return { admitted: false, reason: byMeeting < r.maxByCurveAtCameras ? 'maxParticipants' : 'curve', limit };
  if (r.role !== 'moderator' && after > limit - r.moderatorMargin) return { admitted: false, reason: 'moderatorMargin', limit: limit - r.moderatorMargin };
  const t = r.tenantQuota;
  if (t && t.participants + t.pendingJoins + 1 > t.maxParticipants) return { admitted: false, reason: 'tenantQuota', limit: t.maxParticipants };
  return { admitted: true };
}

export { overCurve } from './curve.js';
