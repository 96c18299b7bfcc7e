// The capacity policy: what the gateway and the CLI use.
export { admitJoin, overCurve } from './admission.js';
export type { JoinDecision, JoinRequest, RefusalReason } from './admission.js';
export { curveMaxCameras, curveMaxParticipants, maxCamerasAt, maxParticipantsAt } from './curve.js';
export type { Curve, CurvePoint } from './curve.js';
export { loadModel, peakLoad, reservationFor, sizeClassesHolding } from './load.js';
export type { LoadModel } from './load.js';
export { DEFAULT_POLICY_DIR, formatIssue, loadPolicyDir, PolicyLoadError } from './loader.js';
export { isGatewayMetadata, limitsFromMetadata, limitsMetadata } from './meeting-metadata.js';
export type { LoadResult, PolicyIssue } from './loader.js';
export { PolicyStore } from './policy-store.js';
export { EXPECTED_CAMERAS_PARAM, EXPECTED_PARTICIPANTS_PARAM, PROFILE_PARAM, resolveMeetingPolicy } from './profiles.js';
export type { Capped, MeetingPolicy, PolicyRefusal } from './profiles.js';
export type { Policy, Profile } from './schema.js';
export { effectiveProfile, participantQuota, profileLimits, quotaRefusal, tenantPolicy } from './tenants.js';
export type { QuotaRefusal, TenantPolicy } from './tenants.js';
export { openWatchedPolicy } from './watched.js';
export type { PolicyLog } from './watched.js';
