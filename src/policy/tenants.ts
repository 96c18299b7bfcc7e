// Per-tenant view of the policy: `tenantDefaults` with the tenant's own entry laid over it, the
// tenant's overridden copies of profiles, and the quota checks. Pure.
import { curveMaxCameras, curveMaxParticipants } from './curve.js';
import type { Curve } from './curve.js';
import type { Policy, Profile, Quotas } from './schema.js';

export interface TenantPolicy {
  /** Profile of a create that names none and gives no size hint. */
  profile: string;
  /** Profile a size hint (meta_amphi-expected-*) is read on. */
  hintProfile: string;
  allowedProfiles: string[];
  /** undefined: no limit. */
  quotas: { maxMeetings: number | undefined; maxParticipants: number | undefined };
}

/** Own keys only: names come from requests, and "constructor" must not find Object's. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Tenants without an entry get `tenantDefaults` as they are. */
export function tenantPolicy(policy: Policy, tenant: string | undefined): TenantPolicy {
  const d = policy.tenantDefaults;
  const t = tenant === undefined ? undefined : own(policy.tenants, tenant);
  const quotas: Quotas = { ...d.quotas, ...defined(t?.quotas ?? {}) };
  return {
    profile: t?.profile ?? d.profile,
    hintProfile: t?.hintProfile ?? d.hintProfile,
    allowedProfiles: t?.allowedProfiles ?? d.allowedProfiles ?? Object.keys(policy.profiles),
    quotas: { maxMeetings: quotas.maxMeetings ?? undefined, maxParticipants: quotas.maxParticipants ?? undefined },
  };
}

/** A profile as a tenant gets it: its override (if any) laid over the shared one. */
export function effectiveProfile(policy: Policy, tenant: string | undefined, name: string): Profile | undefined {
  const base = own(policy.profiles, name);
  if (!base) return undefined;
  const entry = tenant === undefined ? undefined : own(policy.tenants, tenant);
  const o = entry?.profiles === undefined ? undefined : own(entry.profiles, name);
  if (!o) return base;
  return {
    ...base,
    bbb: { ...base.bbb, ...defined(o.bbb ?? {}) },
    defaults: { ...base.defaults, ...(o.defaults ?? {}) },
    expected: { ...base.expected, ...defined(o.expected ?? {}) },
    moderatorMargin: o.moderatorMargin ?? base.moderatorMargin,
  };
}

/** A profile's own limits; the ones it leaves out are the curve's extremes. */
export function profileLimits(curve: Curve, profile: Profile): { maxParticipants: number; maxCameras: number } {
  return {
    maxParticipants: profile.bbb.maxParticipants ?? curveMaxParticipants(curve),
    maxCameras: profile.bbb.meetingCameraCap ?? curveMaxCameras(curve),
  };
}

/** Keys whose value is undefined would erase the base value when spread. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface TenantUsage {
  /** Meetings running or being created. */
  meetings: number;
  /** Participants in all the tenant's meetings, joins admitted since the last poll included. */
  participants: number;
}

export type QuotaDecision = { ok: true } | { ok: false; quota: 'maxMeetings' | 'maxParticipants'; limit: number; message: string };

/** A new meeting: one more meeting must fit, and the tenant must have a seat left for it. */
export function checkCreateQuota(t: TenantPolicy, usage: TenantUsage): QuotaDecision {
  const { maxMeetings, maxParticipants } = t.quotas;
  if (maxMeetings !== undefined && usage.meetings + 1 > maxMeetings) {
    return { ok: false, quota: 'maxMeetings', limit: maxMeetings, message: `the tenant's quota of ${maxMeetings} concurrent meetings is reached` };
  }
  if (maxParticipants !== undefined && usage.participants >= maxParticipants) {
    return { ok: false, quota: 'maxParticipants', limit: maxParticipants, message: `the tenant's quota of ${maxParticipants} concurrent participants is reached` };
  }
  return { ok: true };
}

/** A new participant (not one already inside: the caller skips the check for a rejoin). */
export function checkJoinQuota(t: TenantPolicy, usage: TenantUsage): QuotaDecision {
  const { maxParticipants } = t.quotas;
  if (maxParticipants !== undefined && usage.participants + 1 > maxParticipants) {
    return { ok: false, quota: 'maxParticipants', limit: maxParticipants, message: `the tenant's quota of ${maxParticipants} concurrent participants is reached` };
  }
  return { ok: true };
}
