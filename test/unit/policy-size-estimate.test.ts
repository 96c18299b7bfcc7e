import { beforeAll, describe, expect, it } from 'vitest';
import { maxParticipantsAt } from '../../src/policy/curve.js';
import { reservationFor } from '../../src/policy/load.js';
import { DEFAULT_POLICY_DIR, loadPolicyDir } from '../../src/policy/loader.js';
import { resolveMeetingPolicy } from '../../src/policy/profiles.js';
import type { Policy } from '../../src/policy/schema.js';
import { estimateSize, percentileOf, tenantSizeEstimate } from '../../src/policy/size-estimate.js';
import type { SizeEstimateInput, SizeEstimateSettings, SizeSample } from '../../src/policy/size-estimate.js';
import { policySchema } from '../../src/policy/schema.js';
import { parseTenantSizeSample, TENANT_SIZE_SAMPLES, tenantSizeSample } from '../../src/state/keys.js';
import { PUBLISHED_CURVE } from '../helpers/published-curve.js';

const SETTINGS: SizeEstimateSettings = { enabled: true, percentile: 90, priorWeight: 10, window: 200 };
const AUTO_LIMITS = { maxParticipants: 350, maxCameras: 30 };
const PRIOR = { participants: 25, cameras: 2 };

const sample = (participants: number, cameras = 0, profile = 'auto'): SizeSample => ({ participants, cameras, profile });
const many = (n: number, participants: number, cameras = 0, profile = 'auto') => Array.from({ length: n }, () => sample(participants, cameras, profile));

function estimate(samples: readonly SizeSample[], over: Partial<Omit<SizeEstimateInput, 'samples'>> = {}) {
  return estimateSize({ prior: PRIOR, samples, profile: 'auto', settings: SETTINGS, limits: AUTO_LIMITS, curve: PUBLISHED_CURVE, ...over });
}

describe('percentileOf (nearest rank)', () => {
  it('is the smallest value at least p % of the values reach', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentileOf(values, 90)).toBe(9);
    expect(percentileOf(values, 91)).toBe(10);
    expect(percentileOf(values, 50)).toBe(5);
    expect(percentileOf(values, 100)).toBe(10);
    expect(percentileOf(values, 1)).toBe(1);
  });

  it('does not depend on the order of the values, and leaves them as they were', () => {
    const values = [40, 3, 25, 7, 31, 12, 18, 9, 22, 5];
    const copy = [...values];
    expect(percentileOf(values, 90)).toBe(31);
    expect(values).toEqual(copy);
  });

  it('of one value is that value; of none is an error', () => {
    expect(percentileOf([17], 90)).toBe(17);
    expect(percentileOf([17], 1)).toBe(17);
    expect(() => percentileOf([], 90)).toThrow(RangeError);
  });

  it('holds out-of-range percentiles to the extremes', () => {
    expect(percentileOf([1, 2, 3], 0)).toBe(1);
    expect(percentileOf([1, 2, 3], 250)).toBe(3);
  });

  it('p90 of 100 values is the 90th smallest: the 10 largest may be outliers', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOf(values, 90)).toBe(90);
    expect(percentileOf([...values.slice(0, 90), ...Array(10).fill(1000)], 90)).toBe(90);
  });
});

describe('estimateSize', () => {
  it('with no samples is the prior, weight 0', () => {
    const e = estimate([]);
    expect(e).toEqual({ expected: PRIOR, prior: PRIOR, samples: 0, weight: 0 });
    expect(e.observed).toBeUndefined();
  });

  it('with no samples but priorWeight 0 is still the prior (no 0/0)', () => {
    expect(estimate([], { settings: { ...SETTINGS, priorWeight: 0 } }).expected).toEqual(PRIOR);
  });

  it('blends with weight n/(n+k): n = k weighs the history and the prior equally', () => {
    const e = estimate(many(10, 45, 6));
    expect(e.samples).toBe(10);
    expect(e.observed).toEqual({ participants: 45, cameras: 6 });
    expect(e.weight).toBe(0.5);
    expect(e.expected).toEqual({ participants: 35, cameras: 4 }); // (45+25)/2, (6+2)/2
  });

  it('rounds the blend up (a reservation errs on the safe side) but not float noise', () => {
    // 1 sample of 30 against a prior of 25 worth 10: 25 + 5/11 = 25.45 -> 26.
    expect(estimate([sample(30, 2)]).expected).toEqual({ participants: 26, cameras: 2 });
    // Exactly whole blends stay whole: 3 samples of 35 with k = 2: (3*35 + 2*25)/5 = 31.
    expect(estimate(many(3, 35, 2), { settings: { ...SETTINGS, priorWeight: 2 } }).expected.participants).toBe(31);
    // 0.1-steps that float arithmetic does not hit exactly: 7 samples of 29, k = 3, prior 29.
    expect(estimate(many(7, 29, 1), { prior: { participants: 29, cameras: 1 }, settings: { ...SETTINGS, priorWeight: 3 } }).expected).toEqual({
      participants: 29,
      cameras: 1,
    });
  });

  it('k tunes how fast the history takes over', () => {
    const samples = many(20, 125, 1);
    const at = (priorWeight: number) => estimate(samples, { settings: { ...SETTINGS, priorWeight } });
    expect(at(0).expected.participants).toBe(125);
    expect(at(0).weight).toBe(1);
    expect(at(20).expected.participants).toBe(75); // (125 + 25) / 2
    expect(at(180).expected.participants).toBe(35); // 20/200 of the way
    expect(at(1e9).expected.participants).toBe(26); // almost only the prior, rounded up
  });

  it('converges to the percentile of what the tenant really reaches as meetings end', () => {
    // A tenant whose meetings peak between 20 and 39 participants (p90: 37), 3 cameras each.
    const peaks = Array.from({ length: 200 }, (_, i) => sample(20 + (i % 20), 3));
    let last = Infinity;
    const gaps: number[] = [];
    for (const n of [1, 5, 10, 20, 50, 100, 200]) {
      const e = estimate(peaks.slice(0, n));
      const gap = Math.abs((e.observed?.participants ?? 0) * e.weight + 25 * (1 - e.weight) - 37);
      gaps.push(gap);
      expect(e.samples).toBe(n);
      expect(e.weight).toBeCloseTo(n / (n + 10), 12);
      if (n >= 20) {
        expect(e.observed?.participants).toBe(37);
        expect(gap).toBeLessThan(last);
      }
      last = gap;
    }
    const full = estimate(peaks);
    expect(full.expected.participants).toBe(37); // 200 samples: 37 * 0.952 + 25 * 0.048 = 36.4 -> 37
    expect(full.expected.cameras).toBe(3);
    expect(gaps.at(-1)).toBeLessThan(1);
  });

  it('follows a tenant smaller than the prior down as well', () => {
    const e = estimate(many(190, 8, 1));
    expect(e.observed).toEqual({ participants: 8, cameras: 1 });
    expect(e.expected).toEqual({ participants: 9, cameras: 2 }); // 8.85 -> 9, 1.05 -> 2
  });

  it('takes the percentile of each dimension on its own, ignoring the 10 % largest', () => {
    const samples = [...many(90, 30, 4), ...many(10, 300, 25)];
    const e = estimate(samples, { settings: { ...SETTINGS, priorWeight: 0 } });
    expect(e.observed).toEqual({ participants: 30, cameras: 4 });
    expect(e.expected).toEqual({ participants: 30, cameras: 4 });
    const p95 = estimate(samples, { settings: { ...SETTINGS, priorWeight: 0, percentile: 95 } });
    expect(p95.observed).toEqual({ participants: 300, cameras: 25 });
  });

  it('uses the newest `window` samples only (the list is newest first)', () => {
    const samples = [...many(50, 60, 5), ...many(150, 10, 1)];
    const newest = estimate(samples, { settings: { ...SETTINGS, window: 50, priorWeight: 0 } });
    expect(newest.samples).toBe(50);
    expect(newest.observed).toEqual({ participants: 60, cameras: 5 });
    const all = estimate(samples, { settings: { ...SETTINGS, window: 200, priorWeight: 0 } });
    expect(all.samples).toBe(200);
    expect(all.observed).toEqual({ participants: 60, cameras: 5 }); // p90 of 150×10 + 50×60
    const old = estimate(samples.slice(50), { settings: { ...SETTINGS, window: 200, priorWeight: 0 } });
    expect(old.observed).toEqual({ participants: 10, cameras: 1 });
  });

  it("counts only the samples of the new meeting's profile", () => {
    const samples = [...many(30, 300, 1, 'webinar'), ...many(10, 40, 3, 'auto')];
    const e = estimate(samples);
    expect(e.samples).toBe(10);
    expect(e.observed).toEqual({ participants: 40, cameras: 3 });
    expect(estimate(samples, { profile: 'classroom' }).samples).toBe(0);
  });

  it('skips samples of nobody and malformed ones', () => {
    const e = estimate([sample(0, 0), sample(Number.NaN, 1), sample(30, -1), sample(-4, 1), sample(12, 1)], { settings: { ...SETTINGS, priorWeight: 0 } });
    expect(e.samples).toBe(1);
    expect(e.expected).toEqual({ participants: 12, cameras: 1 });
  });

  it('when disabled reserves the prior but still shows what the history says', () => {
    const e = estimate(many(100, 80, 3), { settings: { ...SETTINGS, enabled: false } });
    expect(e.expected).toEqual(PRIOR);
    expect(e.weight).toBe(0);
    expect(e.samples).toBe(100);
    expect(e.observed).toEqual({ participants: 80, cameras: 3 });
  });

  describe('caps', () => {
    it("never exceeds the meeting's own limits (a caller's lower maxParticipants included)", () => {
      const samples = many(200, 120, 8);
      const e = estimate(samples, { settings: { ...SETTINGS, priorWeight: 0 }, limits: { maxParticipants: 40, maxCameras: 5 } });
      expect(e.expected).toEqual({ participants: 40, cameras: 5 });
      expect(e.observed).toEqual({ participants: 120, cameras: 8 }); // shown as measured
    });

    it('never goes below one participant nor below no camera', () => {
      const e = estimate(many(200, 1, 0), { prior: { participants: 1, cameras: 0 } });
      expect(e.expected).toEqual({ participants: 1, cameras: 0 });
    });

    it('stays on the curve: many participants keep their count, the cameras are lowered', () => {
      // Big webinars and camera-heavy classes: p90 of each alone is 300 people and 20 cameras,
      // which no meeting may reach (100 at 20 cameras).
      const samples = [...many(85, 20, 20), ...many(15, 300, 1)];
      const e = estimate(samples, { settings: { ...SETTINGS, priorWeight: 0 } });
      expect(e.observed).toEqual({ participants: 300, cameras: 20 });
      expect(e.expected.participants).toBe(300);
      expect(e.expected.cameras).toBe(3); // 3 cameras: 300 participants on the curve
      expect(e.expected.participants).toBeLessThanOrEqual(maxParticipantsAt(PUBLISHED_CURVE, e.expected.cameras)!);
    });

    it('every estimate lies within the limits and on the curve', () => {
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let run = 0; run < 300; run++) {
        const n = Math.floor(random() * 60);
        const samples = Array.from({ length: n }, () => sample(1 + Math.floor(random() * 350), Math.floor(random() * 31)));
        const limits = { maxParticipants: 1 + Math.floor(random() * 350), maxCameras: 1 + Math.floor(random() * 30) };
        const settings = { enabled: true, percentile: 1 + random() * 99, priorWeight: random() * 30, window: 1 + Math.floor(random() * 80) };
        const prior = { participants: Math.min(limits.maxParticipants, 25), cameras: Math.min(limits.maxCameras, 2) };
        const { expected } = estimateSize({ prior, samples, profile: 'auto', settings, limits, curve: PUBLISHED_CURVE });
        expect(Number.isInteger(expected.participants) && Number.isInteger(expected.cameras)).toBe(true);
        expect(expected.participants).toBeGreaterThanOrEqual(1);
        expect(expected.participants).toBeLessThanOrEqual(limits.maxParticipants);
        expect(expected.cameras).toBeGreaterThanOrEqual(0);
        expect(expected.cameras).toBeLessThanOrEqual(limits.maxCameras);
        expect(expected.participants).toBeLessThanOrEqual(maxParticipantsAt(PUBLISHED_CURVE, expected.cameras)!);
      }
    });
  });
});

describe('the sizeEstimate policy section', () => {
  let shipped: Policy;
  beforeAll(async () => {
    const r = await loadPolicyDir(DEFAULT_POLICY_DIR);
    if (!r.ok) throw new Error('the shipped policy does not load');
    shipped = r.policy;
  });

  it('ships p90 over the newest 200 meetings, the prior worth 10', () => {
    expect(shipped.sizeEstimate).toEqual({ enabled: true, percentile: 90, priorWeight: 10, window: 200 });
  });

  it('has defaults when left out, and refuses nonsense', () => {
    const base = { ...shipped } as Record<string, unknown>;
    delete base.sizeEstimate;
    const parsed = policySchema.safeParse(base);
    expect(parsed.success && parsed.data.sizeEstimate).toEqual({ enabled: true, percentile: 90, priorWeight: 10, window: 200 });
    for (const bad of [{ percentile: 0 }, { percentile: 101 }, { priorWeight: -1 }, { window: 0 }, { window: TENANT_SIZE_SAMPLES + 1 }, { window: 2.5 }, { other: 1 }]) {
      expect(policySchema.safeParse({ ...shipped, sizeEstimate: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(policySchema.safeParse({ ...shipped, sizeEstimate: { window: TENANT_SIZE_SAMPLES, percentile: 100, priorWeight: 0 } }).success).toBe(true);
  });

  it("tenantSizeEstimate: the tenant's default profile, its estimate and the load it reserves", () => {
    const none = tenantSizeEstimate(shipped, 'default', []);
    expect(none).toMatchObject({ profile: 'auto', expected: PRIOR, samples: 0, weight: 0 });
    expect(none.reservation).toBe(Math.round(reservationFor(shipped, PRIOR) * 10) / 10);
    const learnt = tenantSizeEstimate(shipped, 'default', many(190, 30, 4));
    expect(learnt.expected).toEqual({ participants: 30, cameras: 4 }); // 29.75, 3.9 rounded up
    expect(learnt.reservation).toBeGreaterThan(none.reservation);
    expect(learnt.settings).toEqual(shipped.sizeEstimate);
  });

  it('a create with no profile and no hint is the only kind the estimate applies to (source tenant)', () => {
    const of = (params: Record<string, string>) => {
      const r = resolveMeetingPolicy(shipped, 'default', new Map(Object.entries(params)));
      if (!r.ok) throw new Error(r.message);
      return r.source;
    };
    expect(of({ meetingID: 'm' })).toBe('tenant');
    expect(of({ meetingID: 'm', 'meta_amphi-profile': 'auto' })).toBe('param');
    expect(of({ meetingID: 'm', 'meta_amphi-expected-participants': '30' })).toBe('hint');
  });
});

describe('tenant-sizes entries', () => {
  it('round-trip, and malformed ones read as nothing', () => {
    const s = { participants: 31, cameras: 4, profile: 'auto', endedAt: 1_700_000_000_123 };
    expect(tenantSizeSample(s)).toBe('31|4|auto|1700000000123');
    expect(parseTenantSizeSample(tenantSizeSample(s))).toEqual(s);
    expect(parseTenantSizeSample('31|4|auto')).toEqual({ ...s, endedAt: 0 });
    for (const bad of ['', 'x|1|auto|1', '1|x|auto|1', '1|2||1', '-1|2|auto|1', '1.5|2|auto|1']) expect(parseTenantSizeSample(bad), bad).toBeUndefined();
  });
});
