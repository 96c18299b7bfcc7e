// The long-running roles, started the same way by `amphi gateway`, `amphi poller`,
// `amphi all` and `amphi demo`.
import { buildApp, type App } from '../api/app.js';
import { createGatewayMetrics } from '../metrics/gateway-metrics.js';
import { Poller, pollerSettings, type PollerLog } from '../poller/poller.js';
import { DEFAULT_POLICY_DIR, openWatchedPolicy } from '../policy/index.js';
import { Store } from '../state/store.js';
import type { CliIO } from './command.js';
import { isGatewayWorker, workerMetrics } from './gateway-cluster.js';
import type { Runtime } from './runtime.js';

export interface RunningGateway extends App {
  address: string;
  stop(): Promise<void>;
}

export async function startGatewayRole(runtime: Runtime, io: CliIO, listen?: { host: string; port: number }): Promise<RunningGateway> {
  const metrics = createGatewayMetrics();
  const clusterMetrics = isGatewayWorker() ? workerMetrics(metrics.registry) : undefined;
  const built = await buildApp({ store: runtime.store, redis: runtime.redis, settings: runtime.settings, metrics, clusterMetrics });
  const address = await built.app.listen(listen ?? { host: runtime.settings.HOST, port: runtime.settings.PORT });
  io.stderr(`amphi gateway listening on ${address}/bigbluebutton/api\n`);
  if (!runtime.settings.AMPHI_SECRET) io.stderr('amphi: AMPHI_SECRET is unset: only tenants stored in Redis can sign requests\n');
  return { ...built, address, stop: () => built.app.close() };
}

export interface RunningPoller {
  poller: Poller;
  stop(): Promise<void>;
}

export async function startPollerRole(runtime: Runtime, io: CliIO, log: PollerLog, overrides: { intervalMs?: number } = {}): Promise<RunningPoller> {
  // A Store of its own: data-loss detection is kept per Store, and it is the poller's to act on.
  const store = new Store(runtime.redis, { pool: runtime.settings.AMPHI_POOL });
  const policies = await openWatchedPolicy(runtime.settings.AMPHI_POLICY_DIR ?? DEFAULT_POLICY_DIR, log);
  const poller = new Poller({ ...pollerSettings(runtime.settings), ...overrides, store, log, policy: () => policies.current() });
  poller.start();
  const s = runtime.settings;
  io.stderr(
    `amphi poller ${poller.owner}: polling pool '${s.AMPHI_POOL}' every ${overrides.intervalMs ?? s.AMPHI_POLL_INTERVAL_MS} ms ` +
      `(timeout ${s.AMPHI_POLL_TIMEOUT_MS} ms, ${s.AMPHI_POLL_CONCURRENCY} at once)\n`,
  );
  return {
    poller,
    stop: async () => {
      policies.close();
      await poller.stop();
    },
  };
}
