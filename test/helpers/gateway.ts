// An Amphi gateway on a simulated pool, for end-to-end tests: real Redis (own key namespace),
// real HTTP on 127.0.0.1, simulated BBB servers.
import type { AddressInfo } from 'node:net';
import { buildApp, type App } from '../../src/api/app.js';
import { BbbClient } from '../../src/bbb/client.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import type { PolicyStore } from '../../src/policy/index.js';
import { SimCluster } from '../../src/simulator/index.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from './redis.js';

export const GATEWAY_SECRET = 'gateway-secret-for-tests';

export interface TestPool {
  cluster: SimCluster;
  redis: TestRedis;
  store: Store;
  settings: Settings;
  /** Registers every simulated server, online, with the given capacity. */
  serverIds: string[];
  startGateway(opts?: { policies?: PolicyStore }): Promise<TestGateway>;
  /** A Store of its own for a Poller on this pool. */
  pollerStore(): Store;
  close(): Promise<void>;
}

export interface TestGateway extends App {
  url: string;
  /** A BBB client of the default tenant against this gateway. */
  client: BbbClient;
  clientFor(tenantPath: string, secret: string): BbbClient;
}

export async function startTestPool(
  opts: { servers?: number; capacity?: number; env?: Record<string, string>; label?: string } = {},
): Promise<TestPool> {
  const cluster = await SimCluster.start({ servers: opts.servers ?? 3, controlPort: false });
  const redis = testRedis(opts.label ?? 'gw');
  const namespace = redis.prefix.slice(0, -1);
  const store = new Store(redis.redis, { namespace });
  const settings = loadSettings({
    AMPHI_SECRET: GATEWAY_SECRET,
    LOG_LEVEL: 'silent',
    AMPHI_SNAPSHOT_MS: '0',
    AMPHI_UPSTREAM_TIMEOUT_MS: '1000',
    ...opts.env,
  });
  const serverIds: string[] = [];
  for (const { index, server } of cluster.servers()) {
    const id = `sim${String(index).padStart(3, '0')}`;
    await store.servers.add({ id, url: server.apiUrl, secret: server.secret, capacity: opts.capacity ?? 500, health: 'online' });
    serverIds.push(id);
  }
  const gateways: App[] = [];
  return {
    cluster,
    redis,
    store,
    settings,
    serverIds,
    async startGateway(gatewayOpts = {}) {
      const built = await buildApp({
        store: new Store(redis.redis, { namespace }),
        redis: redis.redis,
        settings,
        logger: false,
        policies: gatewayOpts.policies,
      });
      gateways.push(built);
      await built.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(built.app.server.address() as AddressInfo).port}`;
      const clientFor = (prefix: string, secret: string) =>
        new BbbClient({ apiUrl: `${url}${prefix}/bigbluebutton/api`, secret, timeoutMs: 5000 });
      return { ...built, url, client: clientFor('', GATEWAY_SECRET), clientFor };
    },
    pollerStore() {
      return new Store(redis.redis, { namespace });
    },
    async close() {
      for (const g of gateways) await g.app.close();
      await cluster.close();
      await redis.cleanup();
    },
  };
}
