import { estimateSize, type MeetingPolicy, type Policy, type Size } from '../../policy/index.js';
import type { Store } from '../../state/store.js';
import type { TenantSizeSample } from '../../state/types.js';
import { CachedRead } from '../../util/cached-read.js';

/** How long a gateway reuses a tenant's meeting sizes: one ended meeting moves the estimate little. */
export const TENANT_SIZES_CACHE_MS = 30_000;

/**
 * What a create with no profile and no hint reserves for (policy/size-estimate.ts): the peaks
 * of the tenant's recent such meetings are read from Redis at most every `maxAgeMs` per tenant
 * (creates arriving during a read share it), and the estimate is worked out once per read,
 * policy and limits, not at every create. Tenants are few (they are registered): one entry each.
 */
export class TenantSizes {
  private readonly reads = new Map<string, CachedRead<TenantSizeSample[]>>();
  /** Estimates by the samples read they come from (a new read drops them with it). */
  private readonly estimates = new WeakMap<readonly TenantSizeSample[], { policy: Policy; byLimits: Map<string, Size> }>();

  constructor(
    private readonly store: Store,
    private readonly maxAgeMs = TENANT_SIZES_CACHE_MS,
  ) {}

  samples(tenant: string): Promise<TenantSizeSample[]> {
    let read = this.reads.get(tenant);
    if (read === undefined) {
      read = new CachedRead(() => this.store.meetings.sizeSamples(tenant), this.maxAgeMs);
      this.reads.set(tenant, read);
    }
    return read.get();
  }

  /** The size a meeting nobody sized reserves for, from the tenant's samples (read by `samples`). */
  expected(samples: readonly TenantSizeSample[], policy: Policy, decided: MeetingPolicy): Size {
    let memo = this.estimates.get(samples);
    if (memo === undefined || memo.policy !== policy) {
      memo = { policy, byLimits: new Map() };
      this.estimates.set(samples, memo);
    }
    const { expected: prior, limits, profile } = decided;
    const key = `${profile}|${prior.participants}|${prior.cameras}|${limits.maxParticipants}|${limits.maxCameras}`;
    let size = memo.byLimits.get(key);
    if (size === undefined) {
      size = estimateSize({ prior, samples, profile, settings: policy.sizeEstimate, limits, curve: policy.curve.points }).expected;
      // Callers' own limits vary little (maxParticipants); bounded all the same.
      if (memo.byLimits.size < 64) memo.byLimits.set(key, size);
    }
    return { ...size };
  }
}
