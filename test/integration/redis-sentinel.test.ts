// The gateway on Redis Sentinel, through a crash of the primary: a real primary, replica and
// three sentinels on 127.0.0.1 (test/helpers/sentinel-group.ts), the gateway as `amphi gateway`
// boots it (REDIS_SENTINELS, AMPHI_REDIS_WAIT_REPLICAS=1), simulated BBB servers, and creates
// and joins through the BBB API while the primary is SIGKILLed. The gateway must answer again
// once the replica is promoted, and no create it answered SUCCESS may be lost.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BbbClient, BbbClientError } from '../../src/bbb/client.js';
import { startGatewayRole, type RunningGateway } from '../../src/cli/roles.js';
import { bootRuntime, type Runtime } from '../../src/cli/runtime.js';
import { SimCluster } from '../../src/simulator/index.js';
import { capture } from '../helpers/cli-io.js';
import { startSentinelGroup, type SentinelGroup } from '../helpers/sentinel-group.js';

const SECRET = 'sentinel-test-secret';
const WORKERS = 4; // concurrent clients, each creating then joining, one meeting after another
const BEFORE_KILL = 40; // creates answered SUCCESS before the primary is killed
const AFTER_RECOVERY = 40; // creates answered SUCCESS after the kill
// Recovery takes about 18 s here (the sentinels' down-after, then a restarted primary's resync);
// the margin is for a machine busy with the rest of the suite.
const RECOVERY_DEADLINE_MS = 45_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Attempt {
  meetingID: string;
  startedAt: number;
  endedAt: number;
  /** undefined: SUCCESS; else the BBB messageKey of the FAILED answer, or the client error. */
  failure?: string;
}

describe('the gateway on Redis Sentinel', () => {
  let group: SentinelGroup | undefined;
  let cluster: SimCluster | undefined;
  let runtime: Runtime | undefined;
  let gateway: RunningGateway | undefined;
  const io = capture();
  // What ioredis prints itself (console.error) for a client without an 'error' listener.
  const printed: string[] = [];

  beforeAll(async () => {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    group = await startSentinelGroup();
    cluster = await SimCluster.start({ servers: 2, controlPort: false });
    runtime = await bootRuntime(
      {
        REDIS_SENTINELS: group.sentinels,
        AMPHI_POOL: `sentinel-${process.pid}`,
        AMPHI_SECRET: SECRET,
        AMPHI_REDIS_WAIT_REPLICAS: '1',
        AMPHI_REDIS_COMMAND_TIMEOUT_MS: '1000',
        AMPHI_RATE_LIMIT_PER_IP: '0',
        AMPHI_UPSTREAM_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'silent',
      },
      io,
      { privateRedis: 'opt-in' },
    );
    for (const { index, server } of cluster.servers()) {
      await runtime.store.servers.add({ id: `sim${index}`, url: server.apiUrl, secret: server.secret, capacity: 100_000, health: 'online' });
    }
    gateway = await startGatewayRole(runtime, io, { host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await runtime?.close();
    await cluster?.close();
    await group?.stop();
    vi.restoreAllMocks();
  }, 30_000);

  it('answers again after the primary dies, and loses no meeting whose create it acknowledged', async () => {
    const client = new BbbClient({ apiUrl: `${gateway!.address}/bigbluebutton/api`, secret: SECRET, timeoutMs: 5_000 });
    const creates: Attempt[] = [];
    const joins: Attempt[] = [];
    let next = 0;
    let stop = false;
    const timed = async (meetingID: string, call: () => Promise<unknown>, into: Attempt[]): Promise<boolean> => {
      const attempt: Attempt = { meetingID, startedAt: Date.now(), endedAt: 0 };
      try {
        await call();
      } catch (err) {
        attempt.failure = err instanceof BbbClientError ? (err.messageKey ?? `${err.kind}: ${err.message}`) : String(err);
      }
      attempt.endedAt = Date.now();
      into.push(attempt);
      return attempt.failure === undefined;
    };
    const ok = (list: Attempt[], since = 0) => list.filter((a) => a.failure === undefined && a.startedAt >= since);

    // Each client creates a meeting and joins it; when the create fails, it joins one created before.
    const worker = async (): Promise<void> => {
      while (!stop) {
        const meetingID = `failover-${next++}`;
        const created = await timed(meetingID, () => client.create({ meetingID, name: meetingID }), creates);
        const target = created ? meetingID : ok(creates)[0]?.meetingID;
        if (target) await timed(target, () => client.join({ meetingID: target, fullName: 'Pupil', role: 'VIEWER', userID: `u${next}` }), joins);
        await sleep(10);
      }
    };
    const waitFor = async (what: string, ms: number, done: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + ms;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };

    const workers = Array.from({ length: WORKERS }, worker);
    let killedAt = 0;
    let promotedAt = 0;
    try {
      await waitFor('traffic before the kill', 20_000, () => ok(creates).length >= BEFORE_KILL);
      killedAt = Date.now();
      group!.killPrimary();
      await waitFor('the sentinels to promote the replica', RECOVERY_DEADLINE_MS, async () => (await group!.masterPort()) === group!.replicaPort);
      promotedAt = Date.now();
      // A supervisor (systemd, Kubernetes) starts the dead primary again; the sentinels make
      // it a replica of the new primary, which can then acknowledge creates (WAIT 1) again.
      group!.restartPrimary();
      await waitFor('creates to succeed again', RECOVERY_DEADLINE_MS, () => ok(creates, killedAt).length >= AFTER_RECOVERY);
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const firstAfter = (list: Attempt[]) => Math.min(...ok(list, killedAt).map((a) => a.endedAt)) - killedAt;
    const failed = [...creates, ...joins].filter((a) => a.failure !== undefined);
    // Every failure is a BBB answer (FAILED serviceUnavailable), never a dropped connection or a 500.
    expect(new Set(failed.map((a) => a.failure))).toEqual(new Set(failed.length > 0 ? ['serviceUnavailable'] : []));

    // Every create answered SUCCESS, before, during or after the failover, is still known.
    const lost: string[] = [];
    for (const a of ok(creates)) {
      const info = await client.getMeetingInfo(a.meetingID).catch(() => undefined);
      if (info?.meetingID !== a.meetingID) lost.push(a.meetingID);
    }
    const measured = {
      promotedMs: promotedAt - killedAt,
      joinsRecoveredMs: firstAfter(joins),
      createsRecoveredMs: firstAfter(creates),
      createsAcknowledged: ok(creates).length,
      createsAcknowledgedBeforeKill: creates.filter((a) => a.failure === undefined && a.endedAt < killedAt).length,
      createsFailed: creates.length - ok(creates).length,
      joinsFailed: joins.length - ok(joins).length,
      slowestFailureMs: Math.max(0, ...failed.map((a) => a.endedAt - a.startedAt)),
      meetingsLost: lost.length,
    };
    console.log(`redis-sentinel failover: ${JSON.stringify(measured)}`);
    expect(lost).toEqual([]);
    // The clients' connection errors during the failover go to the log, rate-limited: ioredis
    // prints no "Unhandled error event" stack traces of its own.
    expect(printed.filter((line) => line.includes('ioredis'))).toEqual([]);
    expect(measured.joinsRecoveredMs).toBeLessThan(RECOVERY_DEADLINE_MS);
    expect(measured.createsRecoveredMs).toBeLessThan(2 * RECOVERY_DEADLINE_MS);
  }, 130_000);
});
