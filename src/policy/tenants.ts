// Per-tenant view of the policy: `tenantDefaults` with the tenant's own entry laid over it, the
// tenant's overridden copies of profiles, and its quotas. Pure.
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
  return {
    profile: t?.profile ?? d.profile,
    hintProfile: t?.hintProfile ?? d.hintProfile,
    allowedProfiles: t?.allowedProfiles ?? d.allowedProfiles ?? Object.keys(policy.profiles),
    quotas: { maxMeetings: quota(policy, tenant, 'maxMeetings'), maxParticipants: quota(policy, tenant, 'maxParticipants') },
  };
}

/** One quota of a tenant: its own entry's (null lifts the default), else tenantDefaults'. */
function quota(policy: Policy, tenant: string | undefined, name: keyof Quotas): number | undefined {
  const set = tenant === undefined ? undefined : own(policy.tenants, tenant)?.quotas?.[name];
  return (set === undefined ? policy.tenantDefaults.quotas[name] : set) ?? undefined;
}

/**
 * The tenant's participant quota, read at every join: without tenantPolicy's allocations, and
 * undefined (no tenant-wide count kept) for a tenant without one.
 */
export function participantQuota(policy: Policy, tenant: string): number | undefined {
  return quota(policy, tenant, 'maxParticipants');
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

export interface QuotaRefusal {
  quota: 'maxMeetings' | 'maxParticipants';
  limit: number;
  message: string;
}

/**
 * Why a create was refused. The check itself runs in the placing step, atomically with the
 * placement (state/commands/place-meeting.lua): a new meeting needs one more meeting to fit
 * within maxMeetings, and a seat left within maxParticipants (polled participants plus joins
 * admitted since). At join, admission (admission.ts) holds new seats to maxParticipants.
 */
export function quotaRefusal(t: TenantPolicy, quota: QuotaRefusal['quota']): QuotaRefusal {
  const limit = t.quotas[quota] ?? 0;
  const what = quota === 'maxMeetings' ? 'meetings' : 'participants';
  return { quota, limit, message: `the tenant's quota of ${limit} concurrent ${what} is reached` };
}
