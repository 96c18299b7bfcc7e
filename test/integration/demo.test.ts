// The demo's pieces together, in-process: simulated servers, the gateway, the poller and the
// school-morning traffic through the gateway, on the test Redis. Then the `amphi demo` command
// itself, briefly, in-process and (when dist is built) as a real process.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoCommand } from '../../src/cli/commands/demo.js';
import { loadSettings } from '../../src/config/settings.js';
import { Demo, classesPerHourFor, poolPlan } from '../../src/demo/demo.js';
import { poolTotals, renderFrame } from '../../src/demo/view.js';
import { Store } from '../../src/state/store.js';
import { sumOf } from '../../src/traffic/driver.js';
import { deleteByPrefix, testRedis } from '../helpers/redis.js';
import type { TestRedis } from '../helpers/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Polls `check` every 50 ms until it holds or `ms` passed; returns whether it held. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('pool plan', () => {
  it('is mostly standard servers with one or two large ones', () => {
    expect(poolPlan(8).map((p) => p.size)).toEqual([...Array(6).fill('standard'), 'large', 'large']);
    expect(poolPlan(3).filter((p) => p.size === 'large')).toHaveLength(1);
    expect(poolPlan(1)).toEqual([{ id: 'bbb-01', size: 'standard', cores: 8, capacity: 500 }]);
    expect(poolPlan(8)[7]).toMatchObject({ id: 'bbb-08', cores: 16, capacity: 1000 });
    expect(new Set(poolPlan(120).map((p) => p.id)).size).toBe(120);
    expect(classesPerHourFor(5000)).toBeGreaterThan(classesPerHourFor(1000));
  });
});

describe('demo in-process', () => {
  let r: TestRedis;
  let demo: Demo | undefined;

  beforeAll(() => {
    r = testRedis('demo');
  });
  afterAll(async () => {
    await demo?.stop();
    await r.cleanup();
  });

  it('places classes through the gateway on the simulated servers, and the poller and view see them', async () => {
    const store = new Store(r.redis, { namespace: r.prefix.slice(0, -1) });
    const settings = loadSettings({
      AMPHI_SECRET: 'demo-test-secret',
      LOG_LEVEL: 'silent',
      AMPHI_POLL_INTERVAL_MS: '200',
      AMPHI_POLL_TIMEOUT_MS: '1000',
      AMPHI_RESERVATION_FADE_MS: '2000',
      AMPHI_SNAPSHOT_MS: '0',
    });
    // 7:58 at 600×: the 8:00 wave arrives within a second of real time.
    demo = await Demo.start({
      store,
      redis: r.redis,
      settings,
      servers: 3,
      seed: 7,
      speed: 600,
      durationMs: 6000,
      port: 0,
      classesPerHour: 30,
      startMinuteOfDay: 7 * 60 + 58,
      concurrency: 16,
    });
    expect(demo.schedule.meetings.length).toBeGreaterThan(3);
    const registered = await store.servers.list();
    expect(registered.map((s) => s.id).sort()).toEqual(['bbb-01', 'bbb-02', 'bbb-03']);

    const played = demo.play();
    const d = demo;
    const entered = () => d.driver.counters.entered;
    expect(await eventually(() => entered() >= 40 && d.driver.counters.created >= 3), JSON.stringify(d.driver.counters)).toBe(true);
    await d.driver.stop();
    await played;
    const c = d.driver.counters;

    // What the traffic believes matches what the servers hold.
    const sims = d.servers.map((s) => s.sim.totals());
    const onServers = sims.reduce((a, t) => a + t.participants, 0);
    expect(c.errors).toEqual({});
    expect(onServers).toBe(d.driver.inside);
    expect(sims.reduce((a, t) => a + t.meetingsCreatedTotal, 0)).toBe(c.created);
    expect(c.created + sumOf(c.createFailed)).toBe(c.creates);
    expect(c.joins).toBeGreaterThanOrEqual(c.joined);
    expect(c.joined).toBeGreaterThanOrEqual(c.entered);
    expect(c.entered - c.left).toBeGreaterThanOrEqual(d.driver.inside);
    // Placement found room for every class: none was put on a server without it. (Which
    // servers take them depends on the random sample and the mixed sizes: not asserted.)
    const placed = await store.meetings.list();
    expect(placed.length).toBeGreaterThan(0);
    expect(placed.filter((m) => m.overcommitted)).toEqual([]);
    // Each created meeting is one of the schedule's, under its own ID, on exactly one server.
    const ids = d.servers.flatMap((s) => s.sim.state(false).meetings.map((m) => m.meetingID));
    expect(new Set(ids).size).toBe(ids.length);
    const planned = new Set(d.schedule.meetings.map((m) => m.meeting));
    for (const id of ids) expect(planned.has(id)).toBe(true);

    // The poller brings the same numbers into the store, where the view reads them.
    expect(
      await eventually(async () => {
        const records = await store.servers.list();
        return records.reduce((a, s) => a + s.participants, 0) === onServers;
      }),
    ).toBe(true);
    const snapshot = await d.collector.collect();
    const totals = poolTotals(snapshot.servers);
    expect(totals).toMatchObject({ servers: 3, online: 3, capacity: 2000, participants: onServers });
    expect(totals.used).toBeGreaterThan(0);
    expect(snapshot.servers.every((s) => s.cpu !== undefined)).toBe(true);
    const frame = renderFrame(snapshot, { color: false }).join('\n');
    for (const id of ['bbb-01', 'bbb-02', 'bbb-03']) expect(frame).toContain(id);
    expect(frame).toContain(`entered ${c.entered}`);

    const summary = d.collector.summary();
    expect(summary.servers.reduce((a, s) => a + s.meetingsPlaced, 0)).toBe(c.created);
    expect(Math.max(...summary.servers.map((s) => s.peakUtilization))).toBeGreaterThan(0);
    // The gateway answered every create, join and end the traffic sent it.
    expect(summary.gatewayRequests).toBe(c.gatewayRequests);

    await d.stop();
    // Everything is closed: the gateway no longer answers.
    await expect(fetch(`${d.gatewayUrl}/health`)).rejects.toThrow();
  });
});

describe('amphi demo command', () => {
  const redisUrl = inject('redisUrl');

  async function demoKeys(r: TestRedis): Promise<string[]> {
    const [, keys] = await r.redis.scan('0', 'MATCH', 'amphi:{demo-*', 'COUNT', 10_000);
    return keys;
  }

  it('runs in-process for a few seconds and prints a summary', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const saved = process.env.REDIS_URL;
    // The test Redis, as a user's REDIS_URL: the demo must use a pool of its own and remove it.
    process.env.REDIS_URL = redisUrl;
    const r = testRedis('demo-cmd');
    try {
      const code = await demoCommand.run(
        ['--duration', '4', '--servers', '2', '--port', '0', '--speed', '600', '--start', '07:58', '--seed', '3'],
        { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) },
      );
      const stdout = out.join('');
      const stderr = err.join('');
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/BBB API URL\s+http:\/\/127\.0\.0\.1:\d+\/bigbluebutton\/api/);
      expect(stderr).toMatch(/secret\s+[0-9a-f]{32}/);
      // Not a terminal: summary lines instead of a redrawn frame, never an escape sequence.
      expect(stdout).toMatch(/^\[07:58 ×600 0:00\] servers 2\/2 online/m);
      expect(stdout).not.toContain('\x1b[');
      expect(stdout).toContain('Amphi demo summary');
      expect(stdout).toMatch(/^bbb-01\s+standard\s+500\s+\d+%/m);
      const entered = /joins: \d+ attempted, \d+ accepted by a server, (\d+) entered/.exec(stdout);
      expect(Number(entered?.[1])).toBeGreaterThan(0);
      expect(stdout).toContain('errors: none');
      expect(await demoKeys(r)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
      await deleteByPrefix(r.redis, 'amphi:{demo-');
      await r.cleanup();
    }
  });

  const built = existsSync(join(root, 'dist', 'src', 'cli', 'commands', 'demo.js'));
  it.skipIf(!built)('runs as `node dist/src/cli/main.js demo --duration 5`, exits 0 and prints a summary', async () => {
    const child = spawn(
      process.execPath,
      [join(root, 'dist', 'src', 'cli', 'main.js'), 'demo', '--duration', '5', '--servers', '2', '--port', '0', '--speed', '300', '--start', '07:58'],
      { env: { ...process.env, REDIS_URL: redisUrl, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(killer);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Amphi demo summary');
    expect(stdout).toMatch(/^total\s+1000\s+\d+$/m);
    expect(stderr).toContain('ran for 5 s; stopped');
    const r = testRedis('demo-cli');
    try {
      expect(await demoKeys(r)).toEqual([]);
    } finally {
      await r.cleanup();
    }
  }, 60_000);
});
