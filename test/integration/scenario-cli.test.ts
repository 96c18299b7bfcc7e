// `amphi scenario` as a real process, as a short smoke run: a small morning (300 users at the
// peak) at 200× (the five hours in 90 s). It checks the plumbing end to end — the gateway and the
// poller started as processes, the scaler growing the pool from its minimum through the simulated
// provider, the traffic through the gateway, the chart and the JSON line — not the acceptance
// figures, which only the full-size run measures.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
const built = existsSync(join(root, 'dist', 'src', 'scenario', 'run.js'));

describe('amphi scenario', () => {
  it.skipIf(!built)('plays a small morning through the real processes and ends with the JSON line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-scenario-'));
    try {
      const chart = join(dir, 'morning.svg');
      const env = { ...process.env };
      delete env.REDIS_URL;
      const child = spawn(process.execPath, [main, 'scenario', '--json', '--peak-users', '300', '--speed', '200', '--provision-delay', '360', '--chart', chart, '--log', join(dir, 'log')], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      clearTimeout(killer);
      expect(code, `${stderr}\n${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : ''}`).toBe(0);

      const lines = stdout.trim().split('\n');
      const result = JSON.parse(lines[lines.length - 1]!) as Record<string, number | string>;
      expect(Object.keys(result).sort()).toEqual(
        ['chart', 'clairvoyantServerHours', 'joinsRefusedByPolicy', 'joinsRefusedForCapacity', 'maxServerUtilization', 'meetingsInterruptedByScaleIn', 'p95ReadyUtilizationAtPeak', 'peakUsers', 'serverHours'].sort(),
      );
      // Users were inside meetings on the simulated servers, as the servers report them.
      expect(result.peakUsers).toBeGreaterThan(200);
      expect(result.serverHours).toBeGreaterThan(0);
      expect(result.clairvoyantServerHours).toBeGreaterThan(0);
      expect(result.chart).toBe(chart);
      expect(readFileSync(chart, 'utf8')).toMatch(/^<svg xmlns/);
      // The scaler asked the provider for servers beyond the minimum pool of 4.
      const asked = /^servers asked of the provider \(failed to boot\)\s+(\d+)/m.exec(stdout);
      expect(Number(asked?.[1])).toBeGreaterThan(0);
      expect(stdout).toMatch(/^joins entered \/ attempted\s+[1-9]\d* \/ \d+/m);
      // --speed sets the clock's top speed.
      expect(stdout).toMatch(/^speed of the clock: slowest \/ fastest\s+[\d.]+× \/ 200\.0× \(\d+ s planned\)/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it.skipIf(!built)('refuses a bad option with exit code 2 and names it', async () => {
    const child = spawn(process.execPath, [main, 'scenario', '--peak-users', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--peak-users must be an integer between 100 and 60000');
  }, 30_000);
});
