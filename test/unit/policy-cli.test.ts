import { describe, expect, it } from 'vitest';
import { curveTable, policyCommand, sizeEstimateLine } from '../../src/cli/commands/policy.js';
import type { Policy } from '../../src/policy/schema.js';
import { main } from '../../src/cli/dispatch.js';
import { capture } from '../helpers/cli-io.js';

const fixture = (name: string) => new URL(`../fixtures/policies/${name}/`, import.meta.url).pathname;

describe('amphi policy check', () => {
  it('validates the shipped policies by default, through the registry', async () => {
    const io = capture();
    expect(await main(['policy', 'check'], io)).toBe(0);
    expect(io.out).toMatch(/^ok: 3 profiles, 0 tenants \(.*policies\/?: default\.yaml\)\n$/);
    expect(io.err).toBe('');
  });

  it('counts profiles and tenants of a directory spread over files', async () => {
    const io = capture();
    expect(await policyCommand.run(['check', fixture('split')], io)).toBe(0);
    expect(io.out).toContain('ok: 3 profiles, 2 tenants');
    expect(io.out).toContain('curve.yaml, load.yaml, profiles.yaml, tenant-ministere.yaml, tenants.yaml');
  });

  it('exits 1 with each error as file:line: path: message', async () => {
    const dir = fixture('bad-reference');
    const io = capture();
    expect(await policyCommand.run(['check', dir], io)).toBe(1);
    const lines = io.err.trimEnd().split('\n');
    expect(lines).toEqual([
      `${dir}policy.yaml:13: tenants.lycees.profile: unknown profile "lecture" (profiles: auto)`,
      `${dir}policy.yaml:14: tenants.lycees.allowedProfiles[1]: unknown profile "lecture" (profiles: auto)`,
      `2 error(s): the policy in ${dir} is not valid`,
    ]);
    expect(io.out).toBe('');
  });

  it('treats a missing subcommand or extra directories as usage errors', async () => {
    const io = capture();
    expect(await main(['policy'], io)).toBe(2);
    expect(io.err).toBe('amphi policy: policy needs a subcommand: check or explain\n');
    const extra = capture();
    expect(await policyCommand.run(['check', 'a', 'b'], extra)).toBe(2);
    expect(extra.err).toMatch(/at most one policy DIR/);
    const unknown = capture();
    expect(await main(['policy', 'check', '--frobnicate'], unknown)).toBe(2);
    expect(unknown.err).toMatch(/--frobnicate/);
  });
});

describe('amphi policy explain', () => {
  it('prints the curve at every camera count and a row per profile', async () => {
    const io = capture();
    expect(await policyCommand.run(['explain'], io)).toBe(0);
    expect(io.out).toContain('more than 30 cameras: refused');
    expect(io.out).toMatch(/cameras +1 +2 +3 +4 +5 +6 +7 +8 +9 +10\n +participants +350 +325 +300 +275 +250 +230 +210 +190 +170 +150\n/);
    expect(io.out).toMatch(/cameras +21 .* 30\n +participants +95 .* 50\n/);
    const row = (name: string) => io.out.split('\n').find((l) => l.startsWith(`${name} `))!.split(/ {2,}/);
    expect(row('auto')).toEqual(['auto', '350', '30', '1', '0', '-', '25 / 2 cam', '54.5', '693.5', 'large']);
    expect(row('webinar')).toEqual([
      'webinar',
      '350',
      '1',
      '1',
      '5',
      'lockSettingsDisableCam=true meetingLayout=PRESENTATION_FOCUS',
      '150 / 1 cam',
      '267.3',
      '617.3',
      'large',
    ]);
    expect(row('classroom')).toEqual(['classroom', '50', '30', '1', '2', 'meetingLayout=SMART_LAYOUT', '30 / 5 cam', '86.3', '447.5', 'standard, large']);
    expect(io.out).toMatch(/^\(defaults\) +auto +auto +auto,webinar,classroom +- +- +-$/m);
    expect(io.out).toContain(
      "A create with no profile and no hint reserves the p90 of the peaks of the tenant's newest 200 such meetings, blended with its profile's EXPECTED as if worth 10 meetings",
    );
  });

  it('says when meetings nobody sized reserve their profile alone', () => {
    const off = { sizeEstimate: { enabled: false, percentile: 90, priorWeight: 10, window: 200 } } as Policy;
    expect(sizeEstimateLine(off)).toBe("A create with no profile and no hint reserves its profile's EXPECTED (sizeEstimate off).");
  });

  it("shows a tenant's profiles with its overrides and its allowed list only", async () => {
    const io = capture();
    expect(await policyCommand.run(['explain', fixture('split'), '--tenant', 'lycees'], io)).toBe(0);
    expect(io.out).toContain('Profiles for tenant lycees\n');
    expect(io.out).toMatch(/^classroom +40 +30 /m);
    expect(io.out).not.toMatch(/^webinar /m);
    expect(io.out).toMatch(/^lycees +classroom +auto +classroom,auto +1000 +5000 +classroom$/m);
  });

  it('lists profile defaults apart from enforced parameters', async () => {
    const io = capture();
    expect(await policyCommand.run(['explain', fixture('split')], io)).toBe(0);
    expect(io.out).toContain('muteOnStart=true (default) guestPolicy=ASK_MODERATOR (default)');
    expect(io.out).toMatch(/huge 2000/);
  });

  it('prints the errors instead of tables for an invalid policy', async () => {
    const io = capture();
    expect(await policyCommand.run(['explain', fixture('unknown-key')], io)).toBe(1);
    expect(io.err).toContain('policy.yaml:8: profiles.classroom.bbb.maxParticipant: unknown key "maxParticipant"');
    expect(io.out).toBe('');
  });

  it('merges equal neighbours of a flat curve into ranges', () => {
    const table = curveTable([
      { cameras: 2, maxParticipants: 100 },
      { cameras: 4, maxParticipants: 100 },
      { cameras: 6, maxParticipants: 80 },
    ]);
    expect(table).toBe(['  cameras       1-4    5    6', '  participants  100   90   80', ''].join('\n'));
  });
});
