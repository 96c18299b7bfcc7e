// The long-running roles, started the same way by `amphi gateway`, `amphi poller`,
// `amphi all` and `amphi demo`.
import { buildApp, type App } from '../api/app.js';
import type { Gateway } from '../api/bbb/context.js';
import type { Settings } from '../config/settings.js';
import { createGatewayMetrics } from '../metrics/gateway-metrics.js';
import { serveMetrics, type MetricsServer, type MetricsServerLog } from '../metrics/metrics-server.js';
import { createPollerMetrics } from '../metrics/poller-metrics.js';
import { countPolicyReloads } from '../metrics/policy-reloads.js';
import { registerRedisUp } from '../metrics/redis-up.js';
import { roleLog } from '../log/logger.js';
import { Poller, pollerSettings } from '../poller/poller.js';
import { DEFAULT_POLICY_DIR, openWatchedPolicy } from '../policy/index.js';
import { Store } from '../state/store.js';
import type { Registry } from 'prom-client';
import type { CliIO } from './command.js';
import { isGatewayWorker, workerMetrics } from './gateway-cluster.js';
import { StartupError, type Runtime } from './runtime.js';

/** What a role uses of the process runtime. */
export type RoleRuntime = Pick<Runtime, 'settings' | 'redis' | 'store' | 'log'>;

export interface RunningGateway extends App {
  address: string;
  stop(): Promise<void>;
}

export async function startGatewayRole(runtime: RoleRuntime, io: CliIO, listen?: { host: string; port: number }): Promise<RunningGateway> {
  const metrics = createGatewayMetrics();
  const clusterMetrics = isGatewayWorker() ? workerMetrics(metrics.registry) : undefined;
  const built = await buildApp({ store: runtime.store, redis: runtime.redis, settings: runtime.settings, metrics, clusterMetrics, logger: roleLog(runtime.log, 'gateway') });
  const address = await built.app.listen(listen ?? { host: runtime.settings.HOST, port: runtime.settings.PORT });
  io.stderr(`amphi gateway listening on ${address}/bigbluebutton/api\n`);
  if (!runtime.settings.AMPHI_SECRET) io.stderr('amphi: AMPHI_SECRET is unset: only tenants stored in Redis can sign requests\n');
  return { ...built, address, stop: () => built.app.close() };
}

/** /metrics and /health of a role without the gateway's server, on HOST:AMPHI_METRICS_PORT (0: none). */
export async function serveRoleMetrics(registry: Registry, s: Settings, log: MetricsServerLog): Promise<MetricsServer | undefined> {
  if (s.AMPHI_METRICS_PORT === 0) return undefined;
  try {
    return await serveMetrics(registry, { host: s.HOST, port: s.AMPHI_METRICS_PORT }, log);
  } catch (err) {
    throw new StartupError(`AMPHI_METRICS_PORT: cannot listen on ${s.HOST}:${s.AMPHI_METRICS_PORT}: ${(err as Error).message}`);
  }
}

export interface RunningPoller {
  poller: Poller;
  /** Where its metrics are: its own registry, or under `amphi all` the gateway's. */
  registry: Registry;
  /** Where /metrics and /health are served, when this role serves them (AMPHI_METRICS_PORT). */
  metricsAddress?: string;
  stop(): Promise<void>;
}

export interface PollerRoleOptions {
  intervalMs?: number;
  /**
   * `amphi all`: the gateway of the same process, whose /metrics then serves the poller's
   * families too and whose policy the poller reads (one watch, reloads counted once).
   */
  gateway?: Gateway;
}

export async function startPollerRole(runtime: RoleRuntime, io: CliIO, opts: PollerRoleOptions = {}): Promise<RunningPoller> {
  const s = runtime.settings;
  const log = roleLog(runtime.log, 'poller');
  const intervalMs = opts.intervalMs ?? s.AMPHI_POLL_INTERVAL_MS;
  // A Store of its own: data-loss detection is kept per Store, and it is the poller's to act on.
  const store = new Store(runtime.redis, { pool: s.AMPHI_POOL });
  const own = opts.gateway === undefined;
  const policies = opts.gateway?.policies ?? (await openWatchedPolicy(s.AMPHI_POLICY_DIR ?? DEFAULT_POLICY_DIR, log));
  // The gateway's registry has the process metrics, Redis reachability and policy reloads already.
  const metrics = createPollerMetrics({ registry: opts.gateway?.metrics.registry, processMetrics: own, intervalMs });
  if (own) {
    registerRedisUp(metrics.registry, runtime.redis);
    countPolicyReloads(metrics.registry, policies);
  }
  let served: MetricsServer | undefined;
  try {
    if (own) served = await serveRoleMetrics(metrics.registry, s, log);
  } catch (err) {
    policies.close();
    throw err;
  }
  const poller = new Poller({ ...pollerSettings(s), intervalMs, store, log, policy: () => policies.current(), onRound: metrics.onRound, onServer: metrics.onServer });
  poller.start();
  io.stderr(
    `amphi poller ${poller.owner}: polling pool '${s.AMPHI_POOL}' every ${intervalMs} ms ` +
      `(timeout ${s.AMPHI_POLL_TIMEOUT_MS} ms, ${s.AMPHI_POLL_CONCURRENCY} at once)` +
      `${served ? `; metrics on ${served.address}/metrics` : ''}\n`,
  );
  return {
    poller,
    registry: metrics.registry,
    ...(served && { metricsAddress: served.address }),
    stop: async () => {
      if (own) policies.close();
      await poller.stop();
      await served?.close();
    },
  };
}
