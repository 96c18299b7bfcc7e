// What a meeting nobody sized will become, from what the tenant's meetings became. Pure.
//
// A create with no profile and no hint (Greenlight, Moodle) says nothing of its size, so its
// profile's `expected` is only a guess. The poller keeps, per tenant, the peak participants and
// peak cameras of its recent meetings that were sized that way (state: tenant-sizes list); this
// turns them into the size to reserve: a high percentile of those peaks (each dimension on its
// own), blended with the profile's `expected` as a prior worth `priorWeight` meetings:
//
//   expected = (n × observed + priorWeight × prior) / (n + priorWeight)     n = samples used
//
// Why a blend rather than "the prior until N samples, then the estimate": no step when a tenant
// crosses a threshold, a handful of odd first meetings moves the reservation only a little, and
// a tenant with a history is sized almost entirely by it (200 samples, weight 10: 95 %).
import { maxCamerasAt, maxParticipantsAt } from './curve.js';
import type { Curve } from './curve.js';
import { reservationFor } from './load.js';
import type { Policy } from './schema.js';
import { effectiveProfile, profileLimits, tenantPolicy } from './tenants.js';

export interface Size {
  participants: number;
  cameras: number;
}

/** One meeting that ended: its peaks, and the profile it ran under. */
export interface SizeSample extends Size {
  profile: string;
}

export interface SizeEstimateSettings {
  /** Off: every such meeting reserves its profile's `expected` (the samples are still shown). */
  enabled: boolean;
  /** Which percentile of the peaks to reserve for (nearest rank), in (0, 100]. */
  percentile: number;
  /** How many meetings the profile's `expected` counts as (0: the samples alone, from the first). */
  priorWeight: number;
  /** The newest this many samples of the profile are used. */
  window: number;
}

export interface SizeEstimate {
  /** What to reserve for: within the meeting's limits and on the curve. */
  expected: Size;
  /** The profile's `expected`, as given. */
  prior: Size;
  /** Samples used: the newest meetings of this profile with participants, at most `window`. */
  samples: number;
  /** The percentile of their peaks; undefined without samples. */
  observed?: Size;
  /** The share of `observed` in `expected`: samples / (samples + priorWeight), 0 when disabled. */
  weight: number;
}

export interface SizeEstimateInput {
  /** The profile's expected size (the prior). */
  prior: Size;
  /** The tenant's samples, newest first (other profiles' are skipped). */
  samples: readonly SizeSample[];
  /** The profile the new meeting gets. */
  profile: string;
  settings: SizeEstimateSettings;
  /** The new meeting's own limits: the estimate never exceeds them. */
  limits: { maxParticipants: number; maxCameras: number };
  curve: Curve;
}

/** The nearest-rank percentile of `values` (not empty): the smallest value at least p % of them reach. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const usable = (n: number) => Number.isFinite(n) && n >= 0;

/**
 * The size to reserve for a meeting of `profile` nobody sized. Each dimension is blended on its
 * own, rounded up (a reservation errs on the safe side), then held to the meeting's limits and
 * to the curve: independent percentiles may pair many participants with many cameras, which no
 * meeting may reach; the participants are kept (the audience is the hard fact, as for hints) and
 * the cameras lowered to what the curve allows with them.
 */
export function estimateSize(input: SizeEstimateInput): SizeEstimate {
  const { prior, settings, limits, curve } = input;
  const used = input.samples
    .filter((s) => s.profile === input.profile && usable(s.participants) && usable(s.cameras) && s.participants >= 1)
    .slice(0, Math.max(0, Math.floor(settings.window)));
  const n = used.length;
  const at = (values: number[]) => percentileOf(values, settings.percentile);
  const observed = n === 0 ? undefined : { participants: at(used.map((s) => s.participants)), cameras: at(used.map((s) => s.cameras)) };
  const weight = !settings.enabled || observed === undefined ? 0 : n / (n + Math.max(0, settings.priorWeight));
  // The tiny slack keeps float noise (29.000000000004) from rounding a whole number up.
  const blend = (o: number | undefined, p: number) => (o === undefined ? p : Math.ceil(weight * o + (1 - weight) * p - 1e-9));
  let participants = Math.min(limits.maxParticipants, Math.max(1, blend(observed?.participants, prior.participants)));
  let cameras = Math.min(limits.maxCameras, Math.max(0, blend(observed?.cameras, prior.cameras)));
  const atCameras = maxParticipantsAt(curve, cameras);
  if (atCameras === undefined || participants > atCameras) {
    cameras = Math.min(cameras, maxCamerasAt(curve, participants));
    // A meeting larger than the curve allows at all keeps the curve's largest.
    participants = Math.min(participants, maxParticipantsAt(curve, cameras) ?? participants);
  }
  return { expected: { participants, cameras }, prior: { ...prior }, samples: n, ...(observed ? { observed } : {}), weight };
}

export interface TenantSizeEstimate extends SizeEstimate {
  /** The tenant's default profile: what a create with no profile and no hint gets. */
  profile: string;
  /** Load units such a create reserves (when the caller lowers no limit). */
  reservation: number;
  settings: SizeEstimateSettings;
}

/** What a create of this tenant with no profile and no hint reserves now, for operators. */
export function tenantSizeEstimate(policy: Policy, tenant: string, samples: readonly SizeSample[]): TenantSizeEstimate {
  const name = tenantPolicy(policy, tenant).profile;
  // The schema guarantees the tenant's default profile exists.
  const profile = effectiveProfile(policy, tenant, name)!;
  const curve = policy.curve.points;
  const estimate = estimateSize({ prior: profile.expected, samples, profile: name, settings: policy.sizeEstimate, limits: profileLimits(curve, profile), curve });
  return { profile: name, ...estimate, reservation: Math.round(reservationFor(policy, estimate.expected) * 10) / 10, settings: { ...policy.sizeEstimate } };
}
