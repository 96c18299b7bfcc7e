import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_DIR, loadPolicyDir } from '../../src/policy/loader.js';
import { limitCamerasToRoom, resolveMeetingPolicy } from '../../src/policy/profiles.js';
import type { MeetingPolicy, PolicyRefusal } from '../../src/policy/profiles.js';
import type { Policy } from '../../src/policy/schema.js';
import { participantQuota, quotaRefusal, tenantPolicy } from '../../src/policy/tenants.js';

const SPLIT = new URL('../fixtures/policies/split/', import.meta.url).pathname;

async function load(dir: string): Promise<Policy> {
  const result = await loadPolicyDir(dir);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.file}:${e.line}: ${e.path}: ${e.message}`).join('\n'));
  return result.policy;
}

let shipped: Policy;
let split: Policy;
beforeAll(async () => {
  shipped = await load(DEFAULT_POLICY_DIR);
  split = await load(SPLIT);
});

function resolve(policy: Policy, params: Record<string, string>, tenant = 'default'): MeetingPolicy {
  const r = resolveMeetingPolicy(policy, tenant, new Map(Object.entries(params)));
  if (!r.ok) throw new Error(`refused: ${r.message}`);
  return r;
}

function refusal(policy: Policy, params: Record<string, string>, tenant = 'default'): PolicyRefusal {
  const r = resolveMeetingPolicy(policy, tenant, new Map(Object.entries(params)));
  if (r.ok) throw new Error(`expected a refusal, got profile ${r.profile}`);
  return r;
}

const params = (r: MeetingPolicy) => Object.fromEntries(r.bbbParams);

describe('no meeting heavier than the largest server', () => {
  // What the servers' CPU taught (learned-weights.ts): a camera stream delivered costs 1 unit, four times the policy's 0.25.
  const learned = (p: Policy) => ({ ...p.load.weights, perStreamDelivered: 1 });
  const withWeights = (policy: Policy, p: Record<string, string>, weights: Policy['load']['weights']) => {
    const r = resolveMeetingPolicy(policy, 'default', new Map(Object.entries(p)), weights);
    if (!r.ok) throw new Error(r.message);
    return r;
  };

  it('caps the cameras of a sized meeting at what the largest server holds with every seat taken', () => {
    const hint = { meetingID: 'm', name: 'Class', 'meta_amphi-expected-participants': '34', 'meta_amphi-expected-cameras': '29' };
    // The policy's weights: 34 pupils with 29 cameras fit a large server easily; nothing changes.
    expect(params(resolve(shipped, hint)).meetingCameraCap).toBe('29');
    // Priced as the CPU says: 5 + 34 × 1.5 + 33 per camera ≤ 1000 → 28 cameras.
    const r = withWeights(shipped, hint, learned(shipped));
    expect(params(r).meetingCameraCap).toBe('28');
    expect(r.limits.maxCameras).toBe(28);
    expect(r.expected.cameras).toBe(28);
    // The classroom profile (50 seats): (1000 − 80) / 49 → 18 cameras, not the curve's 30.
    expect(params(withWeights(shipped, { meetingID: 'c', name: 'C', 'meta_amphi-profile': 'classroom' }, learned(shipped))).meetingCameraCap).toBe('18');
  });

  it('leaves a meeting sized live by the curve to the curve, and never goes below one camera', () => {
    // auto: 350 seats by the curve's one-camera end, 30 cameras at its other end; the join-time curve holds the combination.
    expect(params(withWeights(shipped, { meetingID: 'a', name: 'Greenlight room' }, learned(shipped))).meetingCameraCap).toBe(params(resolve(shipped, { meetingID: 'a', name: 'Greenlight room' })).meetingCameraCap);
    // A webinar of 350 priced so high that not even one camera fits still gets its presenter's.
    expect(params(withWeights(shipped, { meetingID: 'w', name: 'W', 'meta_amphi-profile': 'webinar' }, { ...shipped.load.weights, perStreamDelivered: 10 })).meetingCameraCap).toBe('1');
  });
});

describe('a meeting placed where no server had room', () => {
  const hint = { meetingID: 'm', name: 'Class', 'meta_amphi-expected-participants': '34', 'meta_amphi-expected-cameras': '29' };

  it('gets the cameras the room left on its server holds with its audience, and says so', () => {
    const decided = resolve(shipped, hint);
    const w = shipped.load.weights;
    // Room for the 34 participants and 10 cameras exactly (the expected-load formula of load-model.ts).
    const base = w.perMeeting + 34 * (w.perParticipant + w.perVoice);
    const perCamera = 33 * w.perStreamDelivered;
    const held = limitCamerasToRoom(decided, base + 10.5 * perCamera, 34, w);
    expect(params(held).meetingCameraCap).toBe('10');
    expect(held.limits.maxCameras).toBe(10);
    expect(held.expected.cameras).toBe(10);
    expect(held.capped.at(-1)).toEqual({ param: 'meetingCameraCap', asked: '29', applied: '10 (no server had room for more)' });
    // The rest of the policy is untouched.
    expect(held.limits.maxParticipants).toBe(decided.limits.maxParticipants);
    expect(held.bbbParams.map(([k]) => k)).toEqual(decided.bbbParams.map(([k]) => k));
  });

  it('never goes below one camera, even on a server already past its ceiling', () => {
    expect(params(limitCamerasToRoom(resolve(shipped, hint), -500, 34, shipped.load.weights)).meetingCameraCap).toBe('1');
  });

  it('changes nothing when the room holds every camera the policy gives', () => {
    const decided = resolve(shipped, hint);
    expect(limitCamerasToRoom(decided, 1e6, 34, shipped.load.weights)).toBe(decided);
  });
});

describe('shipped profiles', () => {
  it('auto is the default of a create with no profile and no hint: the curve extremes, held live', () => {
    const r = resolve(shipped, { meetingID: 'm', name: 'Greenlight room' });
    expect(r.profile).toBe('auto');
    expect(r.source).toBe('tenant');
    expect(params(r)).toEqual({ maxParticipants: '350', meetingCameraCap: '30', userCameraCap: '1' });
    expect(r.limits).toEqual({ maxParticipants: 350, maxCameras: 30, moderatorMargin: 0 });
    expect(r.expected).toEqual({ participants: 25, cameras: 2 });
    expect(r.capped).toEqual([]);
  });

  it('webinar: one presenter camera, up to 350, viewers cannot share cameras', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'webinar' });
    expect(r.profile).toBe('webinar');
    expect(r.source).toBe('param');
    expect(r.bbbParams).toEqual([
      ['maxParticipants', '350'],
      ['meetingCameraCap', '1'],
      ['userCameraCap', '1'],
      ['lockSettingsDisableCam', 'true'],
      ['meetingLayout', 'PRESENTATION_FOCUS'],
    ]);
    expect(r.limits).toEqual({ maxParticipants: 350, maxCameras: 1, moderatorMargin: 5 });
    expect(r.expected).toEqual({ participants: 150, cameras: 1 });
  });

  it('classroom: up to 30 cameras, up to 50 participants', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'classroom' });
    expect(params(r)).toMatchObject({ maxParticipants: '50', meetingCameraCap: '30', userCameraCap: '1', meetingLayout: 'SMART_LAYOUT' });
    expect(r.limits).toEqual({ maxParticipants: 50, maxCameras: 30, moderatorMargin: 2 });
    expect(r.expected).toEqual({ participants: 30, cameras: 5 });
  });

  it('reads the profile parameter case-insensitively, as BBB does meta_ names', () => {
    expect(resolve(shipped, { 'meta_Amphi-Profile': ' Webinar ' }).profile).toBe('webinar');
  });
});

describe('size hints read on the curve', () => {
  it('expected-cameras=10 gives maxParticipants=150 and meetingCameraCap=10', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-cameras': '10' });
    expect(r.source).toBe('hint');
    expect(r.profile).toBe('auto');
    expect(params(r)).toMatchObject({ maxParticipants: '150', meetingCameraCap: '10' });
    expect(r.limits).toMatchObject({ maxParticipants: 150, maxCameras: 10 });
    expect(r.expected).toEqual({ participants: 25, cameras: 10 });
  });

  it('expected-participants=100 gives maxParticipants=100 and the most cameras the curve allows (20)', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-participants': '100' });
    expect(params(r)).toMatchObject({ maxParticipants: '100', meetingCameraCap: '20' });
    expect(r.expected).toEqual({ participants: 100, cameras: 2 });
  });

  it('both hints under the curve are taken as given', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-participants': '30', 'meta_amphi-expected-cameras': '5' });
    expect(r.limits).toMatchObject({ maxParticipants: 30, maxCameras: 5 });
    expect(r.expected).toEqual({ participants: 30, cameras: 5 });
    expect(r.capped).toEqual([]);
  });

  it('both hints above the curve: participants win, cameras are lowered and reported', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-participants': '200', 'meta_amphi-expected-cameras': '20' });
    expect(r.limits).toMatchObject({ maxParticipants: 200, maxCameras: 7 }); // 7 cameras: 210 ≥ 200; 8: 190
    expect(r.capped).toEqual([{ param: 'meta_amphi-expected-cameras', asked: '20', applied: '7' }]);
  });

  it('hints beyond the curve are held to its extremes and reported', () => {
    const big = resolve(shipped, { 'meta_amphi-expected-participants': '1000' });
    expect(big.limits).toMatchObject({ maxParticipants: 350, maxCameras: 1 });
    expect(big.capped).toEqual([{ param: 'meta_amphi-expected-participants', asked: '1000', applied: '350' }]);
    const cams = resolve(shipped, { 'meta_amphi-expected-cameras': '45' });
    expect(cams.limits).toMatchObject({ maxParticipants: 50, maxCameras: 30 });
    expect(cams.capped).toEqual([{ param: 'meta_amphi-expected-cameras', asked: '45', applied: '30' }]);
  });

  it('expected-cameras=0 sizes for no camera but never sends meetingCameraCap=0 (BBB: no cap)', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-cameras': '0' });
    expect(params(r)).toMatchObject({ maxParticipants: '350', meetingCameraCap: '1' });
    expect(r.expected.cameras).toBe(0);
  });

  it('an explicit profile beats hints, which then only size the reservation', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'classroom', 'meta_amphi-expected-participants': '20', 'meta_amphi-expected-cameras': '10' });
    expect(r.profile).toBe('classroom');
    expect(r.source).toBe('param');
    expect(r.limits).toMatchObject({ maxParticipants: 50, maxCameras: 30 });
    expect(r.expected).toEqual({ participants: 20, cameras: 10 });
    // A hint above the profile's limits reserves no more than the profile allows.
    const big = resolve(shipped, { 'meta_amphi-profile': 'webinar', 'meta_amphi-expected-cameras': '10' });
    expect(big.expected).toEqual({ participants: 150, cameras: 1 });
  });

  it.each([['abc'], ['-3'], ['2.5']])('refuses an unreadable hint %j', (value) => {
    const r = refusal(shipped, { 'meta_amphi-expected-participants': value });
    expect(r.error).toBe('invalidHint');
    expect(r.message).toContain('meta_amphi-expected-participants');
    expect(refusal(shipped, { 'meta_amphi-expected-participants': '0' }).error).toBe('invalidHint');
  });
});

describe("the caller's own limits", () => {
  it('a maxParticipants above the limit is lowered and reported; below, it is kept', () => {
    const above = resolve(shipped, { 'meta_amphi-profile': 'classroom', maxParticipants: '80' });
    expect(params(above).maxParticipants).toBe('50');
    expect(above.capped).toEqual([{ param: 'maxParticipants', asked: '80', applied: '50' }]);
    expect(above.limits.maxParticipants).toBe(50);

    const below = resolve(shipped, { 'meta_amphi-profile': 'classroom', maxParticipants: '20' });
    expect(params(below).maxParticipants).toBe('20');
    expect(below.capped).toEqual([]);
    expect(below.limits.maxParticipants).toBe(20);
    expect(below.expected.participants).toBe(20); // reserve no more than the meeting may hold
  });

  it('0 ("no limit" to BBB), negative or unreadable values count as above the policy', () => {
    for (const asked of ['0', '-1', 'lots']) {
      const r = resolve(shipped, { maxParticipants: asked, meetingCameraCap: asked });
      expect(params(r)).toMatchObject({ maxParticipants: '350', meetingCameraCap: '30' });
      expect(r.capped).toEqual([
        { param: 'maxParticipants', asked, applied: '350' },
        { param: 'meetingCameraCap', asked, applied: '30' },
      ]);
    }
  });

  it('camera caps are held the same way; a lower one is kept', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'classroom', meetingCameraCap: '40', userCameraCap: '3' });
    expect(params(r)).toMatchObject({ meetingCameraCap: '30', userCameraCap: '1' });
    expect(r.capped.map((c) => c.param)).toEqual(['meetingCameraCap', 'userCameraCap']);
    const lower = resolve(shipped, { 'meta_amphi-profile': 'classroom', meetingCameraCap: '12' });
    expect(lower.limits.maxCameras).toBe(12);
    expect(lower.capped).toEqual([]);
  });

  it('a restriction the profile sets cannot be turned off; layout is only a default', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'webinar', lockSettingsDisableCam: 'false', meetingLayout: 'VIDEO_FOCUS' });
    expect(params(r).lockSettingsDisableCam).toBe('true');
    expect(r.capped).toEqual([{ param: 'lockSettingsDisableCam', asked: 'false', applied: 'true' }]);
    expect(r.bbbParams.some(([k]) => k === 'meetingLayout')).toBe(false); // the caller's stays
    expect(resolve(shipped, { 'meta_amphi-profile': 'webinar', lockSettingsDisableCam: 'TRUE' }).capped).toEqual([]);
  });

  it('the moderator margin never takes more than half the seats a caller keeps', () => {
    const r = resolve(shipped, { 'meta_amphi-profile': 'webinar', maxParticipants: '6' });
    expect(r.limits).toEqual({ maxParticipants: 6, maxCameras: 1, moderatorMargin: 3 });
  });

  it('hint limits are lowered further by the caller, never raised', () => {
    const r = resolve(shipped, { 'meta_amphi-expected-cameras': '10', maxParticipants: '200' });
    expect(r.limits.maxParticipants).toBe(150);
    expect(r.capped).toEqual([{ param: 'maxParticipants', asked: '200', applied: '150' }]);
  });
});

describe('profile choice and tenants', () => {
  it('refuses an unknown profile, naming the known ones', () => {
    const r = refusal(shipped, { 'meta_amphi-profile': 'lecture' });
    expect(r.error).toBe('unknownProfile');
    expect(r.message).toContain('auto, webinar, classroom');
    // Object's own properties are not profiles.
    expect(refusal(shipped, { 'meta_amphi-profile': 'constructor' }).error).toBe('unknownProfile');
  });

  it("uses the tenant's default profile, with the tenant's overrides", () => {
    const r = resolve(split, {}, 'lycees');
    expect(r.profile).toBe('classroom');
    expect(r.source).toBe('tenant');
    expect(r.limits).toEqual({ maxParticipants: 40, maxCameras: 30, moderatorMargin: 2 });
    expect(r.expected).toEqual({ participants: 28, cameras: 5 });
    // The shared profile is untouched for other tenants.
    expect(resolve(split, { 'meta_amphi-profile': 'classroom' }, 'other').limits.maxParticipants).toBe(50);
  });

  it('refuses a profile the tenant may not use', () => {
    const r = refusal(split, { 'meta_amphi-profile': 'webinar' }, 'lycees');
    expect(r.error).toBe('profileNotAllowed');
    expect(r.message).toContain('classroom, auto');
    expect(resolve(split, { 'meta_amphi-profile': 'webinar' }, 'ministere').profile).toBe('webinar');
  });

  it('a hint beats the tenant default and is read on the hint profile', () => {
    const r = resolve(split, { 'meta_amphi-expected-participants': '100' }, 'lycees');
    expect(r.profile).toBe('auto');
    expect(r.limits).toMatchObject({ maxParticipants: 100, maxCameras: 20 });
  });

  it('profile defaults fill only what the caller leaves out', () => {
    const r = resolve(split, { 'meta_amphi-profile': 'webinar', guestPolicy: 'ALWAYS_ACCEPT' });
    expect(params(r).muteOnStart).toBe('true');
    expect(params(r).guestPolicy).toBeUndefined();
  });

  it('a restriction set to false is a default the caller may tighten', () => {
    expect(params(resolve(split, { 'meta_amphi-profile': 'classroom' })).webcamsOnlyForModerator).toBe('false');
    const tighter = resolve(split, { 'meta_amphi-profile': 'classroom', webcamsOnlyForModerator: 'true' });
    expect(tighter.bbbParams.some(([k]) => k === 'webcamsOnlyForModerator')).toBe(false);
    expect(tighter.capped).toEqual([]);
  });

  it('a tenant without an entry gets tenantDefaults', () => {
    expect(tenantPolicy(split, 'unknown-tenant')).toEqual({
      profile: 'auto',
      hintProfile: 'auto',
      allowedProfiles: ['auto', 'webinar', 'classroom'],
      quotas: { maxMeetings: 1000, maxParticipants: undefined },
    });
  });

  it('tenant quotas merge key by key over the defaults, and null lifts one', () => {
    expect(tenantPolicy(split, 'lycees').quotas).toEqual({ maxMeetings: 1000, maxParticipants: 5000 });
    expect(tenantPolicy(split, 'ministere').quotas).toEqual({ maxMeetings: undefined, maxParticipants: undefined });
  });
});

describe('tenant quotas', () => {
  it('words a refusal with the quota in force', () => {
    const lycees = tenantPolicy(split, 'lycees');
    expect(quotaRefusal(lycees, 'maxMeetings')).toEqual({
      quota: 'maxMeetings',
      limit: 1000,
      message: "the tenant's quota of 1000 concurrent meetings is reached",
    });
    expect(quotaRefusal(lycees, 'maxParticipants')).toMatchObject({ limit: 5000, message: "the tenant's quota of 5000 concurrent participants is reached" });
  });

  it('reads the participant quota at join as tenantPolicy does: own entry, null lifting the default', () => {
    for (const tenant of ['lycees', 'ministere', 'unknown-tenant', 'constructor']) {
      expect(participantQuota(split, tenant)).toBe(tenantPolicy(split, tenant).quotas.maxParticipants);
    }
    expect(participantQuota(split, 'lycees')).toBe(5000);
    expect(participantQuota(split, 'ministere')).toBeUndefined();
  });
});
