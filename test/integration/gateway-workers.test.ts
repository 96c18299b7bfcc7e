import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { inject } from 'vitest';
import { deleteByPrefix, testRedis } from '../helpers/redis.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const SECRET = 'workers-test-secret';

/** `amphi gateway --workers 2` as an operator runs it: the built binary, two processes, one port. */
describe.skipIf(!existsSync(CLI))('amphi gateway --workers', () => {
  let child: ChildProcess | undefined;
  const pool = `workers-${process.pid}`;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    const r = testRedis('workers');
    await deleteByPrefix(r.redis, `amphi:{${pool}}:`);
    await r.cleanup();
  });

  it('serves from several workers on one port and aggregates their metrics', async () => {
    child = spawn(process.execPath, [CLI, 'gateway', '--workers', '2'], {
      env: { ...process.env, REDIS_URL: inject('redisUrl'), AMPHI_POOL: pool, AMPHI_SECRET: SECRET, PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Each worker announces where it listens; with PORT=0 the workers share one port.
    const addresses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('workers did not start')), 20_000);
      createInterface({ input: child!.stderr! }).on('line', (line) => {
        const m = /listening on (http:\/\/\S+)\/bigbluebutton\/api/.exec(line);
        if (m) addresses.push(m[1]!);
        if (addresses.length === 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(new Set(addresses).size).toBe(1);
    const base = addresses[0]!;
    const url = `${base}/bigbluebutton/api/getMeetings?checksum=${computeChecksum('getMeetings', '', SECRET)}`;
    for (let i = 0; i < 20; i++) expect(await (await request(url)).body.text()).toContain('<messageKey>noMeetings</messageKey>');
    // Whichever worker answers /metrics, the counters are the sum over both workers.
    for (let i = 0; i < 3; i++) {
      const metrics = await (await request(`${base}/metrics`)).body.text();
      expect(metrics).toMatch(/amphi_requests_total\{call="getMeetings",outcome="success"\} 20\b/);
    }
  });
});
