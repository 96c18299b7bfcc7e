import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_WEIGHTS, DEFAULT_SIZE_CLASSES } from '../../src/placement/load-model.js';
import { loadModel, peakLoad, reservationFor, sizeClassesHolding } from '../../src/policy/load.js';
import { DEFAULT_POLICY_DIR, formatIssue, loadPolicyDir } from '../../src/policy/loader.js';
import type { PolicyIssue } from '../../src/policy/loader.js';

const fixture = (name: string) => new URL(`../fixtures/policies/${name}/`, import.meta.url).pathname;

async function errorsOf(dir: string): Promise<PolicyIssue[]> {
  const result = await loadPolicyDir(dir);
  if (result.ok) throw new Error(`${dir} loaded, expected errors`);
  return result.errors;
}

/** file (relative to the fixture), line, path: the three things an operator needs. */
const where = (errors: PolicyIssue[], dir: string) => errors.map((e) => [e.file.slice(dir.length - 1).replace(/^\//, ''), e.line, e.path]);

describe('the shipped policy', () => {
  it('is valid and holds the published curve and the three profiles', async () => {
    const result = await loadPolicyDir(DEFAULT_POLICY_DIR);
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    expect(result.policy.curve.points.map((p) => [p.cameras, p.maxParticipants])).toEqual([
      [1, 350],
      [5, 250],
      [10, 150],
      [20, 100],
      [30, 50],
    ]);
    expect(Object.keys(result.policy.profiles)).toEqual(['auto', 'webinar', 'classroom']);
    expect(result.policy.tenantDefaults.profile).toBe('auto');
  });

  it('agrees with the built-in load model defaults', async () => {
    const result = await loadPolicyDir(DEFAULT_POLICY_DIR);
    if (!result.ok) throw new Error('invalid');
    const model = loadModel(result.policy);
    expect(model.weights).toEqual(DEFAULT_LOAD_WEIGHTS);
    expect(model.sizeClasses).toEqual(DEFAULT_SIZE_CLASSES);
  });

  it('its load figures match the sizing facts its comments quote', async () => {
    const result = await loadPolicyDir(DEFAULT_POLICY_DIR);
    if (!result.ok) throw new Error('invalid');
    const { policy } = result;
    const model = loadModel(policy);
    expect(6 * reservationFor(policy, { participants: 25, cameras: 5 })).toBe(435);
    expect(reservationFor(policy, { participants: 20, cameras: 20 })).toBe(130);
    // A full webinar fits only the large class; a full classroom fits a standard server.
    const webinarPeak = peakLoad(policy.curve.points, { maxParticipants: 350, maxCameras: 1 }, model.weights);
    expect(webinarPeak).toBe(617.25);
    expect(sizeClassesHolding(model, webinarPeak)).toEqual(['large']);
    expect(sizeClassesHolding(model, peakLoad(policy.curve.points, { maxParticipants: 50, maxCameras: 30 }, model.weights))).toEqual([
      'standard',
      'large',
    ]);
  });
});

describe('loadPolicyDir', () => {
  it('merges sections spread over files, entry by entry, with code defaults for what is left out', async () => {
    const result = await loadPolicyDir(fixture('split'));
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    expect(Object.keys(result.policy.tenants).sort()).toEqual(['lycees', 'ministere']);
    expect(result.policy.load.weights).toEqual({ ...DEFAULT_LOAD_WEIGHTS, perMeeting: 10 });
    expect(result.policy.load.sizeClasses).toEqual({ standard: 500, huge: 2000 });
    expect(result.files.map((f) => f.split('/').pop())).toEqual(['curve.yaml', 'load.yaml', 'profiles.yaml', 'tenant-ministere.yaml', 'tenants.yaml']);
  });

  it('names file, line and field for a bad value', async () => {
    const dir = fixture('bad-value');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([['policy.yaml', 9, 'profiles.webinar.bbb.maxParticipants']]);
    expect(errors[0]!.message).toMatch(/expected number/i);
    expect(formatIssue(errors[0]!)).toBe(`${dir}policy.yaml:9: profiles.webinar.bbb.maxParticipants: ${errors[0]!.message}`);
  });

  it('names an unknown key (a typo) at its own line', async () => {
    const dir = fixture('unknown-key');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([['policy.yaml', 8, 'profiles.classroom.bbb.maxParticipant']]);
    expect(errors[0]!.message).toBe('unknown key "maxParticipant"');
    expect(errors[0]!.column).toBe(7);
  });

  it('rejects a tenant naming an unknown profile', async () => {
    const dir = fixture('bad-reference');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([
      ['policy.yaml', 13, 'tenants.lycees.profile'],
      ['policy.yaml', 14, 'tenants.lycees.allowedProfiles[1]'],
    ]);
    expect(errors[0]!.message).toContain('unknown profile "lecture"');
  });

  it("rejects a tenant whose default profile is outside its allowed list", async () => {
    const dir = fixture('not-allowed');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([['policy.yaml', 16, 'tenants.ministere.profile']]);
  });

  it('rejects an invalid curve at the offending point', async () => {
    const dir = fixture('bad-curve');
    expect(where(await errorsOf(dir), dir)).toEqual([
      ['policy.yaml', 5, 'curve.points[2].cameras'],
      ['policy.yaml', 6, 'curve.points[3].maxParticipants'],
    ]);
  });

  it('rejects a profile above the curve', async () => {
    const dir = fixture('above-curve');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([
      ['policy.yaml', 8, 'profiles.huge.bbb.maxParticipants'],
      ['policy.yaml', 9, 'profiles.huge.bbb.meetingCameraCap'],
      ['policy.yaml', 10, 'profiles.huge.expected'],
    ]);
    expect(errors[2]!.message).toContain('above the curve (153 at 20 cameras)');
  });

  it('reports YAML syntax errors with their line', async () => {
    const dir = fixture('syntax');
    const errors = await errorsOf(dir);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: `${dir}policy.yaml`, path: '' });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('rejects a profile or a section defined in two files, naming both', async () => {
    const dir = fixture('duplicate');
    const errors = await errorsOf(dir);
    expect(where(errors, dir)).toEqual([
      ['b.yaml', 4, 'profiles.auto'],
      ['b.yaml', 6, 'curve'],
    ]);
    expect(errors[0]!.message).toBe(`already defined in ${dir}a.yaml`);
  });

  describe('in a scratch directory', () => {
    const scratch = async (files: Record<string, string>) => {
      const dir = await mkdtemp(join(tmpdir(), 'amphi-policy-'));
      for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
      return dir;
    };

    it('points a missing field at its parent, and a missing section at the file', async () => {
      const dir = await scratch({
        'p.yaml': 'curve:\n  points:\n    - { cameras: 1, maxParticipants: 10 }\nprofiles:\n  auto:\n    bbb: {}\n',
      });
      try {
        const errors = await errorsOf(dir);
        expect(errors.map((e) => [e.line, e.path, e.message])).toEqual([
          [1, 'tenantDefaults', 'required (object)'],
          [5, 'profiles.auto.expected', 'required (object)'],
        ]);
      } finally {
        await rm(dir, { recursive: true });
      }
    });

    it('says so when the directory has no policy file, or does not exist', async () => {
      const dir = await scratch({ 'README.md': 'not policy', '.hidden.yaml': 'curve: 1' });
      try {
        expect((await errorsOf(dir))[0]).toMatchObject({ file: dir, line: 0, message: 'no policy files (*.yaml) in this directory' });
        const missing = join(dir, 'nope');
        expect((await errorsOf(missing))[0]!.message).toMatch(/cannot read the policy directory/);
        expect(formatIssue((await errorsOf(missing))[0]!)).toMatch(new RegExp(`^${missing}: cannot read`));
      } finally {
        await rm(dir, { recursive: true });
      }
    });

    it('rejects a file that is not a mapping of sections', async () => {
      const dir = await scratch({ 'p.yaml': '- just\n- a list\n' });
      try {
        expect((await errorsOf(dir))[0]).toMatchObject({ line: 1, message: expect.stringContaining('mapping of sections') });
      } finally {
        await rm(dir, { recursive: true });
      }
    });
  });
});
