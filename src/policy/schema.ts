// The capacity policy as zod schemas: the shape of policies/*.yaml (merged), and the checks
// that span sections (a tenant naming an unknown profile, a profile above the curve). Every
// issue carries the path of the field at fault, which the loader maps back to a file and line.
import { z } from 'zod';
import { DEFAULT_LOAD_WEIGHTS, DEFAULT_SIZE_CLASSES } from '../placement/load-model.js';
import { TENANT_SIZE_SAMPLES } from '../state/keys.js';
import { TENANT_NAME } from '../state/tenant-registry.js';
import { curveMaxCameras, curveMaxParticipants, curveProblems, maxParticipantsAt } from './curve.js';
import { effectiveProfile, profileLimits, tenantPolicy } from './tenants.js';

const count = (min: number) => z.number().int().min(min);
const PROFILE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const profileName = z.string().regex(PROFILE_NAME, `profile names match ${PROFILE_NAME.source}`);

const curveSchema = z
  .object({
    points: z.array(z.object({ cameras: count(0), maxParticipants: count(1) }).strict()).min(1, 'the curve needs at least one point'),
  })
  .strict()
  .superRefine((curve, ctx) => {
    for (const p of curveProblems(curve.points)) ctx.addIssue({ code: 'custom', path: ['points', p.index, p.field], message: p.message });
  });

/** BBB layouts (2.4+, and 3.0's additions). */
const LAYOUTS = [
  'CUSTOM_LAYOUT',
  'SMART_LAYOUT',
  'PRESENTATION_FOCUS',
  'VIDEO_FOCUS',
  'CAMERAS_ONLY',
  'PRESENTATION_ONLY',
  'PARTICIPANTS_AND_CHAT_ONLY',
] as const;

/** Limits: a caller may ask for less, never for more (BBB reads 0 as "no limit"). */
export const LIMIT_PARAMS = ['maxParticipants', 'meetingCameraCap', 'userCameraCap'] as const;
/** Restrictions: when the profile sets one, the caller cannot turn it off. */
export const RESTRICTION_PARAMS = ['lockSettingsDisableCam', 'lockSettingsDisableMic', 'webcamsOnlyForModerator'] as const;

const bbbSchema = z
  .object({
    maxParticipants: count(1).optional(),
    meetingCameraCap: count(1).optional(),
    userCameraCap: count(1).optional(),
    lockSettingsDisableCam: z.boolean().optional(),
    lockSettingsDisableMic: z.boolean().optional(),
    webcamsOnlyForModerator: z.boolean().optional(),
    meetingLayout: z.enum(LAYOUTS).optional(),
  })
  .strict();

const ENFORCED = new Set<string>(Object.keys(bbbSchema.shape));
/** Other create parameters the profile fills in when the caller leaves them out. */
const defaultsSchema = z.record(
  z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, 'not a BBB parameter name')
    .refine((k) => !ENFORCED.has(k), { message: 'set this parameter under bbb:, where the policy enforces it' }),
  z.union([z.string(), z.number(), z.boolean()]),
);

const expectedSchema = z.object({ participants: count(1), cameras: count(0) }).strict();

const profileSchema = z
  .object({
    description: z.string().optional(),
    /** BBB create parameters the profile sets; maxParticipants/meetingCameraCap default to the curve's extremes. */
    bbb: bbbSchema.default({}),
    defaults: defaultsSchema.default({}),
    /** Size a meeting is expected to reach, for the load it reserves at placement. */
    expected: expectedSchema,
    /** Seats kept for moderators: viewers are refused that many seats before the limit. */
    moderatorMargin: count(0).default(0),
  })
  .strict();

const profileOverrideSchema = z
  .object({
    bbb: bbbSchema.optional(),
    defaults: defaultsSchema.optional(),
    expected: expectedSchema.partial().strict().optional(),
    moderatorMargin: count(0).optional(),
  })
  .strict();

// null lifts a limit the tenant defaults set.
const quotasSchema = z
  .object({
    maxMeetings: count(1).nullable().optional(),
    maxParticipants: count(1).nullable().optional(),
  })
  .strict();

const tenantDefaultsSchema = z
  .object({
    profile: profileName,
    hintProfile: profileName,
    /** Omitted: every profile. */
    allowedProfiles: z.array(profileName).min(1).optional(),
    quotas: quotasSchema.default({}),
  })
  .strict();

const tenantSchema = z
  .object({
    profile: profileName.optional(),
    hintProfile: profileName.optional(),
    allowedProfiles: z.array(profileName).min(1).optional(),
    quotas: quotasSchema.optional(),
    profiles: z.record(profileName, profileOverrideSchema).optional(),
  })
  .strict();

// Code defaults (placement/load-model.ts) fill whatever the file leaves out, so both agree.
const weightsSchema = z
  .object({
    perMeeting: z.number().min(0).default(DEFAULT_LOAD_WEIGHTS.perMeeting),
    perParticipant: z.number().min(0).default(DEFAULT_LOAD_WEIGHTS.perParticipant),
    perVoice: z.number().min(0).default(DEFAULT_LOAD_WEIGHTS.perVoice),
    perStreamDelivered: z.number().min(0).default(DEFAULT_LOAD_WEIGHTS.perStreamDelivered),
  })
  .strict();

const loadSchema = z
  .object({
    weights: weightsSchema.default({}),
    sizeClasses: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'size class names are lowercase words'), z.number().positive())
      .refine((r) => Object.keys(r).length > 0, 'name at least one size class')
      .default({ ...DEFAULT_SIZE_CLASSES }),
  })
  .strict();

/**
 * How a meeting nobody sized (no profile, no hint) reserves: the tenant's recent meetings of
 * that kind, by their peaks, blended with the profile's `expected` (policy/size-estimate.ts).
 */
const sizeEstimateSchema = z
  .object({
    enabled: z.boolean().default(true),
    percentile: z.number().gt(0).max(100).default(90),
    priorWeight: z.number().min(0).default(10),
    window: count(1).max(TENANT_SIZE_SAMPLES).default(200),
  })
  .strict();

const baseSchema = z
  .object({
    curve: curveSchema,
    profiles: z.record(profileName, profileSchema).refine((r) => Object.keys(r).length > 0, 'define at least one profile'),
    load: loadSchema.default({}),
    sizeEstimate: sizeEstimateSchema.default({}),
    tenantDefaults: tenantDefaultsSchema,
    tenants: z.record(z.string().regex(TENANT_NAME, `tenant names match ${TENANT_NAME.source}`), tenantSchema).default({}),
  })
  .strict();

export type CurveSection = z.output<typeof curveSchema>;
export type Profile = z.output<typeof profileSchema>;
export type ProfileOverride = z.output<typeof profileOverrideSchema>;
export type BbbSettings = z.output<typeof bbbSchema>;
export type Quotas = z.output<typeof quotasSchema>;
export type TenantDefaults = z.output<typeof tenantDefaultsSchema>;
export type TenantEntry = z.output<typeof tenantSchema>;
export type SizeEstimateSection = z.output<typeof sizeEstimateSchema>;
export type Policy = z.output<typeof baseSchema>;

type Path = (string | number)[];

export const policySchema = baseSchema.superRefine((policy, ctx) => {
  let failed = false;
  const issue = (path: Path, message: string) => {
    failed = true;
    ctx.addIssue({ code: 'custom', path, message });
  };
  const known = (name: string) => Object.hasOwn(policy.profiles, name);
  const names = Object.keys(policy.profiles).join(', ');

  const checkRefs = (path: Path, t: { profile?: string; hintProfile?: string; allowedProfiles?: string[] }) => {
    for (const key of ['profile', 'hintProfile'] as const) {
      const name = t[key];
      if (name !== undefined && !known(name)) issue([...path, key], `unknown profile "${name}" (profiles: ${names})`);
    }
    t.allowedProfiles?.forEach((name, i) => {
      if (!known(name)) issue([...path, 'allowedProfiles', i], `unknown profile "${name}" (profiles: ${names})`);
    });
  };
  checkRefs(['tenantDefaults'], policy.tenantDefaults);
  for (const [tenant, entry] of Object.entries(policy.tenants)) {
    checkRefs(['tenants', tenant], entry);
    for (const name of Object.keys(entry.profiles ?? {})) {
      if (!known(name)) issue(['tenants', tenant, 'profiles', name], `overrides unknown profile "${name}" (profiles: ${names})`);
    }
  }
  if (failed) return; // the checks below assume the references hold

  // A tenant's default and hint profiles must be among those it may use.
  const checkAllowed = (path: Path, tenant: string | undefined) => {
    const t = tenantPolicy(policy, tenant);
    for (const key of ['profile', 'hintProfile'] as const) {
      if (!t.allowedProfiles.includes(t[key])) issue([...path, key], `"${t[key]}" is not in allowedProfiles (${t.allowedProfiles.join(', ')})`);
    }
  };
  checkAllowed(['tenantDefaults'], undefined);
  for (const tenant of Object.keys(policy.tenants)) checkAllowed(['tenants', tenant], tenant);

  // Profiles, and each tenant's overridden copy, must stay within the curve.
  for (const name of Object.keys(policy.profiles)) checkProfile(policy, issue, ['profiles', name], effectiveProfile(policy, undefined, name)!);
  for (const [tenant, entry] of Object.entries(policy.tenants)) {
    for (const name of Object.keys(entry.profiles ?? {})) {
      checkProfile(policy, issue, ['tenants', tenant, 'profiles', name], effectiveProfile(policy, tenant, name)!);
    }
  }
});

function checkProfile(policy: Policy, issue: (path: Path, message: string) => void, path: Path, p: Profile): void {
  const curve = policy.curve.points;
  const topP = curveMaxParticipants(curve);
  const topC = curveMaxCameras(curve);
  const { maxParticipants: maxP, maxCameras: maxC } = profileLimits(curve, p);
  if (maxP > topP) issue([...path, 'bbb', 'maxParticipants'], `${maxP} is above the curve's largest meeting (${topP})`);
  if (maxC > topC) issue([...path, 'bbb', 'meetingCameraCap'], `${maxC} is beyond the curve's last point (${topC} cameras)`);
  const { participants, cameras } = p.expected;
  if (participants > maxP) issue([...path, 'expected', 'participants'], `${participants} is above the profile's maxParticipants (${maxP})`);
  if (cameras > maxC) issue([...path, 'expected', 'cameras'], `${cameras} is above the profile's meetingCameraCap (${maxC})`);
  const atCameras = maxParticipantsAt(curve, cameras);
  if (atCameras !== undefined && cameras <= maxC && participants > atCameras) {
    issue([...path, 'expected'], `${participants} participants with ${cameras} cameras is above the curve (${atCameras} at ${cameras} cameras)`);
  }
  if (p.moderatorMargin >= maxP) issue([...path, 'moderatorMargin'], `must be below maxParticipants (${maxP})`);
}
