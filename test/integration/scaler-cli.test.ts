// `amphi scaler` in-process through the real dispatcher, against the test Redis: its help, a
// --dry-run that prints a plan and enqueues nothing, and settings refused with the field named.
// Each test gets a pool of its own (AMPHI_POOL), so the keys are `amphi:{<pool>}:…`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseScalerFile } from '../../scaler/file.js';
import { SCALER_QUEUE } from '../../scaler/jobs.js';
import { main } from '../../src/cli/dispatch.js';
import { createRedis } from '../../src/redis/connect.js';
import { capture } from '../helpers/cli-io.js';
import { deleteByPrefix, testRedis, type TestRedis } from '../helpers/redis.js';

const STATIC_SERVER = { id: 'bbb-1', apiUrl: 'https://bbb-1.example.org/bigbluebutton/api', secret: 'static-secret-1234', sizeClass: 'standard' };

/** Settings as YAML (JSON is YAML): one class, a whole-day schedule minimum, a static provider. */
function settings(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    classes: { standard: { min: 0, max: 10 } },
    schedule: { timezone: 'UTC', rules: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', to: '24:00', load: 1500 }] },
    provider: { type: 'static', servers: [STATIC_SERVER] },
    ...extra,
  });
}

describe('amphi scaler (real Redis)', () => {
  let t: TestRedis;
  let pool: string;
  let dir: string;
  let io: ReturnType<typeof capture>;

  beforeEach(() => {
    t = testRedis('scaler-cli');
    pool = `scaler-${randomBytes(4).toString('hex')}`;
    dir = mkdtempSync(join(tmpdir(), 'amphi-scaler-'));
    vi.stubEnv('AMPHI_CONFIG', '');
    vi.stubEnv('AMPHI_SCALER_CONFIG', '');
    vi.stubEnv('AMPHI_SCALER_WEBHOOK_SECRET', '');
    vi.stubEnv('REDIS_URL', t.url);
    vi.stubEnv('AMPHI_POOL', pool);
    io = capture();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
    await deleteByPrefix(t.redis, `amphi:{${pool}}:`);
    await t.cleanup();
  });

  function file(text: string): string {
    const path = join(dir, 'scaler.yaml');
    writeFileSync(path, text);
    return path;
  }

  it('prints its usage for --help', async () => {
    expect(await main(['scaler', '--help'], io)).toBe(0);
    expect(io.out).toMatch(/^Usage: amphi scaler \[--config FILE\] \[--dry-run\]/);
    expect(io.out).toContain('AMPHI_SCALER_CONFIG');
    expect(io.out).toContain('--dry-run');
  });

  it('asks a static provider for no server: what the plan wanted is held, said why', async () => {
    expect(await main(['scaler', '--config', file(settings()), '--dry-run'], io)).toBe(0);
    expect(io.out).toContain('provider static');
    expect(io.out).not.toMatch(/^ {2}provision /m);
    expect(io.out).toMatch(/[1-9]\d* × standard wanted \(.+\): the static provider cannot add servers/);
  });

  it('--dry-run prints a provision plan for a schedule minimum and enqueues nothing', async () => {
    expect(await main(['scaler', '--config', file(settings({ provider: { type: 'simulated' } })), '--dry-run'], io)).toBe(0);
    // The one line on stderr says which Redis it read (redacted); nothing else, no error.
    expect(io.err.replace(/^amphi: Redis redis:\/\/127\.0\.0\.1:\d+\n/m, '')).not.toMatch(/amphi: /);
    expect(io.out).toContain('nothing was enqueued');
    expect(io.out).toContain('provider simulated');
    expect(io.out).toMatch(/^desired servers per class:\n {2}standard: [1-9]\d*$/m);
    expect(io.out).toMatch(/^ {2}provision [1-9]\d* × standard: .+/m);
    expect(io.out).toMatch(/^held: /m);

    const connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
    const queue = new Queue(SCALER_QUEUE, { connection, prefix: `amphi:{${pool}}:bull` });
    try {
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await queue.close();
      await connection.quit();
    }
    // No demand recorded, no scale time written: only the queue's metadata (BullMQ writes it on opening).
    expect(await t.redis.keys(`amphi:{${pool}}:*`)).toEqual([`amphi:{${pool}}:bull:${SCALER_QUEUE}:meta`]);
  });

  it('refuses a bad settings file, naming the field, with exit code 2', async () => {
    expect(await main(['scaler', '--config', file(settings({ classes: { standard: { min: 0, max: 'ten' } } })), '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('classes.standard.max: Expected number, received string');
    expect(io.out).toBe('');

    io.reset();
    const noUrl = settings({ provider: { type: 'static', servers: [{ secret: 's', sizeClass: 'standard' }] } });
    expect(await main(['scaler', '--config', file(noUrl), '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('provider.servers.0.apiUrl: required');

    io.reset();
    expect(await main(['scaler', '--config', file(settings({ provider: { type: 'cloudy' } })), '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('provider.type: one of simulated, static, webhook, scaleway');
  });

  it('needs a settings file and the secrets of the provider it names', async () => {
    expect(await main(['scaler', '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('--config FILE or AMPHI_SCALER_CONFIG');

    io.reset();
    vi.stubEnv('AMPHI_SCALER_CONFIG', file(settings({ provider: { type: 'webhook', url: 'https://cloud.example.org/amphi' } })));
    expect(await main(['scaler', '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('needs its shared secret in AMPHI_SCALER_WEBHOOK_SECRET');

    io.reset();
    const scaleway = { type: 'scaleway', zone: 'fr-par-1', project: 'p', image: 'bbb', commercialTypes: {} };
    expect(await main(['scaler', '--config', file(settings({ provider: scaleway })), '--dry-run'], io)).toBe(2);
    expect(io.err).toContain('provider.commercialTypes.standard: required');
  });

  it('reads the sample file, provider section included', async () => {
    const { readFileSync } = await import('node:fs');
    const r = parseScalerFile(readFileSync(new URL('../../scaler/scaler.example.yaml', import.meta.url), 'utf8'));
    expect(r.ok && r.provider).toMatchObject({ type: 'simulated', bootDelayMs: 360_000 });
  });
});
