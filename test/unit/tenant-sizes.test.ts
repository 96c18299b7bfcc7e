import { beforeAll, describe, expect, it } from 'vitest';
import { TenantSizes } from '../../src/api/bbb/tenant-sizes.js';
import { DEFAULT_POLICY_DIR, loadPolicyDir } from '../../src/policy/loader.js';
import { resolveMeetingPolicy, type MeetingPolicy } from '../../src/policy/profiles.js';
import type { Policy } from '../../src/policy/schema.js';
import { estimateSize } from '../../src/policy/size-estimate.js';
import type { Store } from '../../src/state/store.js';
import type { TenantSizeSample } from '../../src/state/types.js';

let policy: Policy;
beforeAll(async () => {
  const r = await loadPolicyDir(DEFAULT_POLICY_DIR);
  if (!r.ok) throw new Error('the shipped policy does not load');
  policy = r.policy;
});

const sample = (participants: number, cameras: number): TenantSizeSample => ({ participants, cameras, profile: 'auto', endedAt: 1 });

function decided(params: Record<string, string> = {}, p = policy): MeetingPolicy {
  const r = resolveMeetingPolicy(p, 'default', new Map(Object.entries({ meetingID: 'm', ...params })));
  if (!r.ok) throw new Error(r.message);
  return r;
}

/** A store whose tenant-sizes reads are counted. */
function fakeStore(lists: Record<string, TenantSizeSample[]>) {
  const reads: string[] = [];
  const store = {
    meetings: {
      sizeSamples: async (tenant: string) => {
        reads.push(tenant);
        return [...(lists[tenant] ?? [])];
      },
    },
  } as unknown as Store;
  return { store, reads };
}

describe('TenantSizes (the gateway side)', () => {
  it('reads each tenant once per max age, concurrent creates sharing the read', async () => {
    const { store, reads } = fakeStore({ default: [sample(30, 4)], acme: [] });
    const sizes = new TenantSizes(store, 60_000);
    const [a, b] = await Promise.all([sizes.samples('default'), sizes.samples('default')]);
    expect(a).toBe(b);
    await sizes.samples('default');
    await sizes.samples('acme');
    expect(reads).toEqual(['default', 'acme']);
    const stale = new TenantSizes(store, 0);
    await stale.samples('default');
    await stale.samples('default');
    expect(reads).toHaveLength(4);
  });

  it('answers what estimateSize does, per profile and limits, for the same read', async () => {
    const { store } = fakeStore({ default: [...Array(30).fill(sample(40, 5)), ...Array(10).fill(sample(8, 0))] });
    const sizes = new TenantSizes(store);
    const samples = await sizes.samples('default');
    for (const params of [{}, { maxParticipants: '12' }, { maxParticipants: '200' }, {}] as Record<string, string>[]) {
      const d = decided(params);
      const want = estimateSize({ prior: d.expected, samples, profile: d.profile, settings: policy.sizeEstimate, limits: d.limits, curve: policy.curve.points }).expected;
      expect(sizes.expected(samples, policy, d), JSON.stringify(params)).toEqual(want);
    }
    expect(sizes.expected(samples, policy, decided())).toEqual({ participants: 37, cameras: 5 }); // p90 40/5, weight 0.8
    expect(sizes.expected(samples, policy, decided({ maxParticipants: '12' }))).toEqual({ participants: 12, cameras: 5 });
  });

  it('follows a policy reload at once', async () => {
    const { store } = fakeStore({ default: Array(10).fill(sample(60, 2)) });
    const sizes = new TenantSizes(store);
    const samples = await sizes.samples('default');
    expect(sizes.expected(samples, policy, decided())).toEqual({ participants: 43, cameras: 2 }); // (600 + 250) / 20
    const history = { ...policy, sizeEstimate: { ...policy.sizeEstimate, priorWeight: 0 } };
    expect(sizes.expected(samples, history, decided({}, history))).toEqual({ participants: 60, cameras: 2 });
    const off = { ...policy, sizeEstimate: { ...policy.sizeEstimate, enabled: false } };
    expect(sizes.expected(samples, off, decided({}, off))).toEqual({ participants: 25, cameras: 2 });
  });

  it('never hands out its memo for a caller to change', async () => {
    const { store } = fakeStore({ default: [sample(30, 3)] });
    const sizes = new TenantSizes(store);
    const samples = await sizes.samples('default');
    const first = sizes.expected(samples, policy, decided());
    first.participants = 999;
    expect(sizes.expected(samples, policy, decided()).participants).not.toBe(999);
  });
});
