// docs/metrics.md against what the roles really export (test/helpers/exported-metrics.ts: the
// gateway and poller of `amphi all`, and a standalone `amphi poller`, after real traffic), both
// ways; and every label set bounded: no label names or carries a meeting, a user or a URL.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { exportedMetrics, parseExposition, type ExportedMetrics } from '../helpers/exported-metrics.js';

interface DocumentedFamily {
  type: string;
  labels: string[];
  linuxOnly: boolean;
}

/** The rows of docs/metrics.md's tables that name a family: | `name` | type | labels | meaning | */
function documentedFamilies(): Map<string, DocumentedFamily> {
  const out = new Map<string, DocumentedFamily>();
  for (const line of readFileSync('docs/metrics.md', 'utf8').split('\n')) {
    const m = /^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \| ([^|]*) \| (.*) \|$/.exec(line);
    if (!m) continue;
    if (out.has(m[1]!)) throw new Error(`docs/metrics.md documents ${m[1]} twice`);
    const labels = [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!);
    out.set(m[1]!, { type: m[2]!, labels, linuxOnly: m[4]!.includes('(Linux)') });
  }
  return out;
}

/** Label names that would carry a meeting, a user, an address or a secret: unbounded. */
const UNBOUNDED_LABEL = /meeting|user|url|uri|secret|address|^ip$|^id$|_id$|ID$|token|session/i;

describe('docs/metrics.md and the label sets', () => {
  let exported: ExportedMetrics;
  const documented = documentedFamilies();
  beforeAll(async () => {
    exported = await exportedMetrics();
  }, 60_000);
  afterAll(async () => {
    await exported?.close();
  });

  it('documents every exported family, and exports every documented one', () => {
    const names = [...exported.families.keys()];
    expect(names.length).toBeGreaterThan(60);
    expect(names.filter((n) => !documented.has(n)).map((n) => `${n} is exported but not in docs/metrics.md`)).toEqual([]);
    const missing = [...documented].filter(([n, d]) => !exported.families.has(n) && !(d.linuxOnly && process.platform !== 'linux'));
    expect(missing.map(([n]) => `${n} is in docs/metrics.md but no role exports it`)).toEqual([]);
  });

  it('documents each family with its type and its labels', () => {
    const wrong = [...exported.families.values()].flatMap((f) => {
      const d = documented.get(f.name);
      if (!d) return [];
      const problems: string[] = [];
      if (d.type !== f.type) problems.push(`${f.name}: documented as ${d.type}, exported as ${f.type}`);
      if ([...d.labels].sort().join(',') !== [...f.labels].sort().join(',')) problems.push(`${f.name}: documented labels [${d.labels}], exported [${[...f.labels]}]`);
      return problems;
    });
    expect(wrong).toEqual([]);
  });

  it('names units and counters after the Prometheus conventions', () => {
    for (const f of exported.families.values()) {
      expect(f.name).toMatch(/^(amphi|bbb)_[a-z0-9_]+$/);
      expect(f.name).not.toMatch(/_(milliseconds|ms|minutes|kilobytes|megabytes)(_total)?$/);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      // prom-client names a few of its Node gauges `…_total` (amphi_nodejs_active_handles_total): not ours to rename.
      else if (!f.name.startsWith('amphi_nodejs_')) expect(f.name).not.toMatch(/_total$/);
      if (f.type === 'histogram') expect(f.name).toMatch(/_seconds$/);
    }
  });

  it('keeps label sets bounded: no label names a meeting, user or URL, and none carries one', () => {
    for (const f of exported.families.values()) for (const l of f.labels) expect(l, f.name).not.toMatch(UNBOUNDED_LABEL);
    // The traffic's meeting IDs (tenant-local and upstream), user IDs and the servers' URLs.
    const forbidden = [...exported.meetingIDs, 'user-ada', 'user-bob', ...exported.urls];
    expect(exported.labelValues.length).toBeGreaterThan(100);
    const leaks = exported.labelValues.filter((v) => forbidden.some((f) => v.includes(f)) || /:\/\/|~/.test(v));
    expect(leaks).toEqual([]);
  });

  it('amphi all serves the poller families on the gateway /metrics; amphi poller serves them and /health on its own port', async () => {
    const all = parseExposition(exported.allText).types;
    const poller = parseExposition(exported.pollerText).types;
    const pollerFamilies = [...poller.keys()].filter((n) => n.startsWith('amphi_poller_'));
    expect(pollerFamilies.length).toBeGreaterThan(5);
    for (const name of [...poller.keys()]) expect(all.has(name), name).toBe(true);
    for (const name of ['amphi_redis_up', 'amphi_policy_reloads_total', 'amphi_process_cpu_seconds_total']) expect(poller.has(name), name).toBe(true);
    expect(exported.allText).toMatch(/^amphi_poller_failures_total\{reason="checksum"\} [1-9]/m);
    expect(exported.allText).toMatch(/^amphi_redis_up 1$/m);
    const health = await request(`${exported.pollerAddress}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
  });
});

describe('/metrics without Redis', () => {
  it('still answers, with amphi_redis_up 0 and the Redis-backed families empty', async () => {
    // Nothing listens on port 1: every command fails fast.
    const redis = createRedis('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => {});
    const settings = loadSettings({ AMPHI_SECRET: 'no-redis-secret', LOG_LEVEL: 'silent' });
    const { app } = await buildApp({ store: new Store(redis), redis, settings, logger: false });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const res = await request(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/metrics`);
      const text = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(text).toMatch(/^amphi_redis_up 0$/m);
      expect(text).not.toMatch(/^amphi_server_load\{/m);
      expect(text).not.toMatch(/^amphi_tenant_meetings\{/m);
      expect(text).not.toMatch(/^amphi_scaler_desired_servers\{/m);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
