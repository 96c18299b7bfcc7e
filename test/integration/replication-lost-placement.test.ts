// A create is acknowledged only if its placement is still in Redis when the WAIT runs: the WAIT
// runs on connections of their own, which after a failover already talk to the new primary,
// where the placement may be gone (state/replication.ts). A plain Redis stands in: the test
// deletes the meeting's key between the placement and replicated(), as a failover would lose it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/app.js';
import { BbbClient, BbbClientError } from '../../src/bbb/client.js';
import { loadSettings } from '../../src/config/settings.js';
import { SimCluster } from '../../src/simulator/index.js';
import { meetingRef } from '../../src/state/keys.js';
import { ReplicationError, waitForReplicas } from '../../src/state/replication.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const SECRET = 'replication-test-secret';

describe('replicated(): the create must still find its own placement', () => {
  let t: TestRedis;
  let cluster: SimCluster;
  let built: App;
  let store: Store;
  let client: BbbClient;
  /** Meetings whose key the "failover" deletes before the WAIT. */
  const lose = new Set<string>();

  beforeAll(async () => {
    t = testRedis('replication');
    cluster = await SimCluster.start({ servers: 1, controlPort: false });
    const namespace = t.prefix.slice(0, -1);
    // WAIT 0 answers at once on a Redis without replicas: only the key check can refuse.
    store = new Store(t.redis, { namespace, replication: { connection: [t.redis, t.redis], replicas: 0, timeoutMs: 100 } });
    for (const { index, server } of cluster.servers()) {
      await store.servers.add({ id: `sim${index}`, url: server.apiUrl, secret: server.secret, capacity: 500, health: 'online' });
    }
    const replicated = store.replicated.bind(store);
    store.replicated = async (meeting) => {
      if (meeting && lose.has(meeting.meetingID)) await t.redis.del(store.ctx.keys.meeting(meetingRef(meeting.tenant, meeting.meetingID)));
      return replicated(meeting);
    };
    const settings = loadSettings({ AMPHI_SECRET: SECRET, LOG_LEVEL: 'silent', AMPHI_SNAPSHOT_MS: '0', AMPHI_RATE_LIMIT_PER_IP: '0' });
    built = await buildApp({ store, redis: t.redis, settings, logger: false });
    await built.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = built.app.server.address() as { port: number };
    client = new BbbClient({ apiUrl: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: SECRET, timeoutMs: 5000 });
  }, 30_000);

  afterAll(async () => {
    await built?.app.close();
    await cluster?.close();
    await t?.cleanup();
  });

  it('answers SUCCESS when the placement is there', async () => {
    const created = await client.create({ meetingID: 'kept', name: 'kept' });
    expect(created.meetingID).toBe('kept');
    expect(await client.getMeetingInfo('kept')).toMatchObject({ meetingID: 'kept' });
  });

  it('refuses the create (serviceUnavailable) when the placement is gone by the WAIT', async () => {
    lose.add('lost');
    const err = await client.create({ meetingID: 'lost', name: 'lost' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BbbClientError);
    expect((err as BbbClientError).messageKey).toBe('serviceUnavailable');
  });

  it('waitForReplicas checks the key on the connection that runs the WAIT', async () => {
    const opts = { connection: t.redis, replicas: 0, timeoutMs: 100 };
    const key = `${t.prefix}written`;
    await t.redis.set(key, '1');
    await expect(waitForReplicas(opts, `${t.prefix}mark`, key)).resolves.toBeUndefined();
    await t.redis.del(key);
    await expect(waitForReplicas(opts, `${t.prefix}mark`, key)).rejects.toBeInstanceOf(ReplicationError);
    // Without a key to check, only the replicas count.
    await expect(waitForReplicas(opts, `${t.prefix}mark`)).resolves.toBeUndefined();
  });
});
