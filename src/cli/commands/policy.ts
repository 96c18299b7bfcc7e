// `amphi policy check|explain [DIR]`: validates a policy directory before it is deployed (CI,
// a ConfigMap change) and shows what it means: the curve at every camera count and each
// profile's limits, expected load and the server sizes that hold one.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { curveMaxCameras, maxParticipantsAt } from '../../policy/curve.js';
import type { Curve } from '../../policy/curve.js';
import { loadModel, peakLoad, reservationFor, sizeClassesHolding } from '../../policy/load.js';
import { DEFAULT_POLICY_DIR, formatIssue, loadPolicyDir } from '../../policy/loader.js';
import type { Policy, Profile } from '../../policy/schema.js';
import { effectiveProfile, own, profileLimits, tenantPolicy } from '../../policy/tenants.js';
import { formatTable, subcommandsCommand, usageError } from '../admin-support.js';
import type { Column } from '../admin-support.js';
import type { CliIO } from '../command.js';

const USAGE = `Usage: amphi policy <check|explain> [DIR] [options]

Capacity policy files (YAML): the camera curve, meeting profiles, the server load model and
per-tenant defaults and quotas. DIR defaults to AMPHI_POLICY_DIR, else the shipped policies/.

Subcommands:
  check [DIR]      Validate every *.yaml of DIR as one policy. Exit 0 and a summary, or exit 1
                   with each error as file:line: field: message
  explain [DIR]    Print the curve (max participants at each camera count) and, per profile,
                   its BBB limits, expected load and the server size classes that hold one
      --tenant NAME   Show the profiles as this tenant gets them (its overrides, its allowed list)

Options:
  -h, --help   Show this help
`;

export const policyCommand = subcommandsCommand('policy', 'Check a capacity policy directory, or explain its curve and profiles', USAGE, { check, explain });

function directory(positionals: string[]): string {
  if (positionals.length > 1) throw usageError('give at most one policy DIR');
  return positionals[0] ?? (process.env.AMPHI_POLICY_DIR || DEFAULT_POLICY_DIR);
}

async function load(dir: string, io: CliIO): Promise<{ policy: Policy; files: string[] } | undefined> {
  const result = await loadPolicyDir(dir);
  if (result.ok) return result;
  for (const e of result.errors) io.stderr(`${formatIssue(e)}\n`);
  io.stderr(`${result.errors.length} error(s): the policy in ${dir} is not valid\n`);
  return undefined;
}

async function check(args: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  const dir = directory(positionals);
  const loaded = await load(dir, io);
  if (!loaded) return 1;
  const { policy, files } = loaded;
  const profiles = Object.keys(policy.profiles).length;
  const tenants = Object.keys(policy.tenants).length;
  io.stdout(`ok: ${profiles} profiles, ${tenants} tenants (${dir}: ${files.map((f) => basename(f)).join(', ')})\n`);
  return 0;
}

async function explain(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { tenant: { type: 'string' } } });
  const loaded = await load(directory(positionals), io);
  if (!loaded) return 1;
  const { policy } = loaded;
  const curve = policy.curve.points;
  const tenant = values.tenant;
  const allowed = tenantPolicy(policy, tenant).allowedProfiles;

  const last = curveMaxCameras(curve);
  io.stdout(`Camera curve: max participants by cameras on (0 counts as 1; more than ${last} cameras: refused)\n`);
  io.stdout(curveTable(curve));

  const model = loadModel(policy);
  const rows = (tenant === undefined ? Object.keys(policy.profiles) : allowed).map((name) => profileRow(policy, name, effectiveProfile(policy, tenant, name)!));
  io.stdout(`\nProfiles${tenant === undefined ? '' : ` for tenant ${tenant}${own(policy.tenants, tenant) ? '' : ' (no entry: tenantDefaults)'}`}\n`);
  io.stdout(formatTable(PROFILE_COLUMNS, rows));
  const w = model.weights;
  io.stdout(
    `\nLoad units: ${w.perMeeting}/meeting + ${w.perParticipant}/participant + ${w.perVoice}/voice + ${w.perStreamDelivered}/camera stream delivered (cameras x viewers).\n` +
      `Size classes: ${Object.entries(model.sizeClasses).map(([n, c]) => `${n} ${c}`).join(', ')}. PEAK is the heaviest point the curve allows within the profile's limits.\n`,
  );
  io.stdout(`${sizeEstimateLine(policy)}\n`);

  io.stdout('\nTenants\n');
  const tenants = [undefined, ...Object.keys(policy.tenants)].filter((t) => tenant === undefined || t === tenant || t === undefined);
  io.stdout(formatTable(TENANT_COLUMNS, tenants.map((t) => tenantRow(policy, t))));
  return 0;
}

/** How a create with no profile and no hint reserves (the sizeEstimate section). */
export function sizeEstimateLine(policy: Policy): string {
  const e = policy.sizeEstimate;
  if (!e.enabled) return 'A create with no profile and no hint reserves its profile\'s EXPECTED (sizeEstimate off).';
  return (
    `A create with no profile and no hint reserves the p${e.percentile} of the peaks of the tenant's newest ${e.window} such meetings, ` +
    `blended with its profile's EXPECTED as if worth ${e.priorWeight} meetings (a tenant's: GET /admin/tenants/NAME/size-estimate).`
  );
}

/** Every camera count from 1 to the last point, equal neighbours merged, ten to a row. */
export function curveTable(curve: Curve): string {
  const cells: { cameras: string; max: string }[] = [];
  let start = Math.min(1, curveMaxCameras(curve));
  for (let c = start; c <= curveMaxCameras(curve); c++) {
    const max = maxParticipantsAt(curve, c);
    if (max !== maxParticipantsAt(curve, c + 1)) {
      cells.push({ cameras: start === c ? `${c}` : `${start}-${c}`, max: String(max) });
      start = c + 1;
    }
  }
  // One width for every row, so the rows read as one table.
  const width = Math.max(...cells.map((cell) => Math.max(cell.cameras.length, cell.max.length)));
  let out = '';
  for (let i = 0; i < cells.length; i += 10) {
    const row = cells.slice(i, i + 10);
    out += `  cameras       ${row.map((cell) => cell.cameras.padStart(width)).join('  ')}\n`;
    out += `  participants  ${row.map((cell) => cell.max.padStart(width)).join('  ')}\n`;
  }
  return out;
}

interface ProfileRow {
  name: string;
  maxParticipants: number;
  cameraCap: number;
  userCameraCap: number | string;
  margin: number;
  other: string;
  expected: string;
  expectedLoad: number;
  peakLoad: number;
  holds: string;
}

function profileRow(policy: Policy, name: string, p: Profile): ProfileRow {
  const curve = policy.curve.points;
  const limits = profileLimits(curve, p);
  const model = loadModel(policy);
  const peak = peakLoad(curve, limits, model.weights);
  const holds = sizeClassesHolding(model, peak);
  const { maxParticipants: _p, meetingCameraCap: _c, userCameraCap: _u, ...rest } = p.bbb;
  const other = [...Object.entries(rest), ...Object.entries(p.defaults).map(([k, v]) => [`${k}`, `${String(v)} (default)`] as const)];
  return {
    name,
    maxParticipants: limits.maxParticipants,
    cameraCap: limits.maxCameras,
    userCameraCap: p.bbb.userCameraCap ?? '- (BBB: 3)',
    margin: p.moderatorMargin,
    other: other.length === 0 ? '-' : other.map(([k, v]) => `${k}=${String(v)}`).join(' '),
    expected: `${p.expected.participants} / ${p.expected.cameras} cam`,
    expectedLoad: round(reservationFor(policy, p.expected)),
    peakLoad: round(peak),
    holds: holds.length > 0 ? holds.join(', ') : `none (peak above ${Math.max(...Object.values(model.sizeClasses))})`,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

const PROFILE_COLUMNS: readonly Column<ProfileRow>[] = [
  { header: 'PROFILE', value: (r) => r.name },
  { header: 'MAX PARTICIPANTS', value: (r) => r.maxParticipants },
  { header: 'CAMERA CAP', value: (r) => r.cameraCap },
  { header: 'USER CAMERA CAP', value: (r) => r.userCameraCap },
  { header: 'MOD MARGIN', value: (r) => r.margin },
  { header: 'OTHER BBB PARAMS', value: (r) => r.other },
  { header: 'EXPECTED', value: (r) => r.expected },
  { header: 'EXPECTED LOAD', value: (r) => r.expectedLoad },
  { header: 'PEAK LOAD', value: (r) => r.peakLoad },
  { header: 'HELD BY', value: (r) => r.holds },
];

interface TenantRow {
  name: string;
  profile: string;
  hint: string;
  allowed: string;
  maxMeetings: string;
  maxParticipants: string;
  overrides: string;
}

function tenantRow(policy: Policy, name: string | undefined): TenantRow {
  const t = tenantPolicy(policy, name);
  const overrides = name === undefined ? [] : Object.keys(own(policy.tenants, name)?.profiles ?? {});
  return {
    name: name ?? '(defaults)',
    profile: t.profile,
    hint: t.hintProfile,
    allowed: t.allowedProfiles.join(','),
    maxMeetings: String(t.quotas.maxMeetings ?? '-'),
    maxParticipants: String(t.quotas.maxParticipants ?? '-'),
    overrides: overrides.join(',') || '-',
  };
}

const TENANT_COLUMNS: readonly Column<TenantRow>[] = [
  { header: 'TENANT', value: (r) => r.name },
  { header: 'PROFILE', value: (r) => r.profile },
  { header: 'HINT PROFILE', value: (r) => r.hint },
  { header: 'ALLOWED', value: (r) => r.allowed },
  { header: 'MAX MEETINGS', value: (r) => r.maxMeetings },
  { header: 'MAX PARTICIPANTS', value: (r) => r.maxParticipants },
  { header: 'OVERRIDDEN PROFILES', value: (r) => r.overrides },
];
