// Every metric family Amphi exports, as the roles really export them: `amphi all` (gateway and
// poller on one registry) and a standalone `amphi poller` serving its own /metrics, both started
// by src/cli/roles.ts on a simulated pool with some traffic through the gateway's BBB API and a
// scaler status in Redis, then scraped over HTTP. The docs, dashboard and alert tests check
// themselves against this.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { request } from 'undici';
import { BbbClient } from '../../src/bbb/client.js';
import { startGatewayRole, startPollerRole, type RoleRuntime, type RunningGateway, type RunningPoller } from '../../src/cli/roles.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { statusFields, recordJobEvent } from '../../scaler/status.js';
import { SimCluster } from '../../src/simulator/index.js';
import { Store } from '../../src/state/store.js';
import { capture } from './cli-io.js';
import { deleteByPrefix, testRedis, type TestRedis } from './redis.js';

export interface Family {
  name: string;
  type: string;
  /** Label names declared or seen on a sample (`le` of histograms excluded). */
  labels: Set<string>;
}

export interface ExportedMetrics {
  families: Map<string, Family>;
  /** Every label value of every sample scraped. */
  labelValues: string[];
  /** What the traffic used that must never become a label value. */
  meetingIDs: string[];
  urls: string[];
  /** The gateway's /metrics under `amphi all`, and the standalone poller's. */
  allText: string;
  pollerText: string;
  /** http://host:port of the standalone poller's metrics listener. */
  pollerAddress: string;
  close(): Promise<void>;
}

const SECRET = 'metrics-families-secret';
const ACME_SECRET = 'metrics-families-acme-secret';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function scrape(url: string): Promise<string> {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
  return res.body.text();
}

/** Families (TYPE lines) and samples of an exposition, sample names mapped to their family. */
export function parseExposition(text: string): { types: Map<string, string>; samples: { family: string; labels: Record<string, string> }[] } {
  const types = new Map<string, string>();
  const samples: { family: string; labels: Record<string, string> }[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const name = m[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ family, labels });
  }
  return { types, samples };
}

export async function exportedMetrics(): Promise<ExportedMetrics> {
  const redis: TestRedis = testRedis('metrics-families');
  // The roles keep their keys under the pool's name (default namespace): one of its own.
  const pool = `metrics${randomBytes(4).toString('hex')}`;
  const store = new Store(redis.redis, { pool });
  const cluster = await SimCluster.start({ servers: 2, controlPort: false });
  const running: Array<{ stop(): Promise<void> }> = [];
  const close = async (): Promise<void> => {
    for (const role of running.reverse()) await role.stop();
    await cluster.close();
    await deleteByPrefix(redis.redis, store.ctx.keys.prefix);
    await redis.cleanup();
  };
  try {
    const urls: string[] = [];
    for (const { index, server } of cluster.servers()) {
      await store.servers.add({ id: `sim${index}`, url: server.apiUrl, secret: server.secret, capacity: 500, health: 'online' });
      urls.push(server.apiUrl);
    }
    // A server whose secret is wrong: its polls fail (checksumError, a bounded reason); cordoned,
    // so that no meeting is placed on it.
    await store.servers.add({ id: 'wrong-secret', url: urls[0]!, secret: 'not-its-secret', capacity: 1000, health: 'online', state: 'cordoned' });
    await store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });

    const env = { AMPHI_SECRET: SECRET, LOG_LEVEL: 'silent', AMPHI_POOL: pool, AMPHI_SNAPSHOT_MS: '0', AMPHI_POLL_INTERVAL_MS: '200', AMPHI_POLL_TIMEOUT_MS: '1000' };
    const settings = loadSettings(env);
    const runtime: RoleRuntime = { settings, redis: redis.redis, store, log: createLogger('silent') };
    const io = capture();
    const gateway: RunningGateway = await startGatewayRole(runtime, io, { host: '127.0.0.1', port: 0 });
    running.push(gateway);
    running.push(await startPollerRole(runtime, io, { gateway: gateway.gateway }));
    const standalone: RunningPoller = await startPollerRole({ ...runtime, settings: loadSettings({ ...env, AMPHI_METRICS_PORT: String(await freePort()) }) }, io);
    running.push(standalone);

    // Traffic: creates and joins of two tenants, one join refused.
    const meetingIDs = ['metrics-room', 'metrics-acme-room', 'acme~metrics-acme-room'];
    const client = new BbbClient({ apiUrl: `${gateway.address}/bigbluebutton/api`, secret: SECRET, timeoutMs: 5000 });
    const acme = new BbbClient({ apiUrl: `${gateway.address}/t/acme/bigbluebutton/api`, secret: ACME_SECRET, timeoutMs: 5000 });
    await client.create([['meetingID', meetingIDs[0]!], ['name', 'Metrics room']]);
    await acme.create([['meetingID', meetingIDs[1]!], ['name', 'Acme room']]);
    await client.join([['meetingID', meetingIDs[0]!], ['fullName', 'Ada'], ['role', 'MODERATOR'], ['userID', 'user-ada']]);
    await acme.join([['meetingID', meetingIDs[1]!], ['fullName', 'Bob'], ['role', 'VIEWER'], ['userID', 'user-bob']]);
    await client.join([['meetingID', 'no-such-meeting'], ['fullName', 'Eve'], ['role', 'VIEWER']]).catch(() => undefined);
    await client.getMeetings();

    // A scaler step and job outcomes, as the scaler role records them for the gateway to export.
    const keys = store.ctx.keys;
    const phases = { ready: 1, booting: 1, draining: 0, deleting: 0, unavailable: 0 };
    await redis.redis.hset(
      keys.scalerStatus,
      statusFields({
        at: Date.now(),
        tick: 1,
        desired: { standard: 2 },
        servers: { standard: phases },
        demand: { measured: 100, forecast: 300, requiredCapacity: 430 },
        forecastCheck: { madeAt: Date.now() - 600_000, end: Date.now(), forecast: 300, measured: 250 },
      }),
    );
    await redis.redis.hincrby(keys.scalerCounts, 'decision:provision', 1);
    await recordJobEvent(redis.redis, keys, { type: 'provision', outcome: 'registered', jobId: 'j1', sizeClass: 'standard', bootMs: 90_000 });
    await recordJobEvent(redis.redis, keys, { type: 'provision', outcome: 'boot-failed', jobId: 'j2', sizeClass: 'standard', error: 'gone' });

    // A few rounds of both pollers.
    const deadline = Date.now() + 10_000;
    while (!/^amphi_poller_round_duration_seconds_count [2-9]/m.test(await scrape(`${standalone.metricsAddress}/metrics`))) {
      if (Date.now() > deadline) throw new Error('the standalone poller never completed two rounds');
      await sleep(100);
    }

    const allText = await scrape(`${gateway.address}/metrics`);
    const pollerText = await scrape(`${standalone.metricsAddress}/metrics`);
    const families = new Map<string, Family>();
    const labelValues: string[] = [];
    for (const [text, registry] of [
      [allText, gateway.gateway.metrics.registry],
      [pollerText, standalone.registry],
    ] as const) {
      const { types, samples } = parseExposition(text);
      for (const [name, type] of types) if (!families.has(name)) families.set(name, { name, type, labels: new Set() });
      for (const s of samples) {
        for (const [key, value] of Object.entries(s.labels)) {
          if (key !== 'le' && key !== 'quantile') families.get(s.family)!.labels.add(key);
          labelValues.push(value);
        }
      }
      // Families without a sample yet still declare their labels (prom-client's own metrics).
      for (const metric of registry.getMetricsAsArray() as unknown as { name: string; labelNames?: string[] }[]) {
        for (const label of metric.labelNames ?? []) families.get(metric.name)?.labels.add(label);
      }
    }
    return { families, labelValues, meetingIDs, urls, allText, pollerText, pollerAddress: standalone.metricsAddress!, close };
  } catch (err) {
    await close();
    throw err;
  }
}
