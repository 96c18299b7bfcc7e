// The scale actions as BullMQ jobs on a real Redis (the test's own key prefix): one job per
// action key, retries with backoff, several replicas on one queue, a replica killed mid-action
// whose job another one finishes, a boot failure deleted and counted, a drain that waits for the
// poller to find the server empty before it deletes it.
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ScalerJobs } from '../../scaler/jobs.js';
import type { ScalerJobsOptions } from '../../scaler/jobs.js';
import { ProviderError, scalerTags } from '../../scaler/providers/provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from '../../scaler/providers/provider.js';
import { SimulatedProvider } from '../../scaler/providers/simulated.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { testRedis } from '../helpers/redis.js';
import type { TestRedis } from '../helpers/redis.js';

const CLASSES = { standard: { capacity: 500 }, large: { capacity: 1000 } };

/** A cloud in memory: counts creates and deletes, can fail, hang, or boot after a few checks. */
class FakeProvider implements CloudProvider {
  readonly name = 'fake';
  creates = 0;
  deletes: string[] = [];
  /** Creates that throw a retryable error before one succeeds. */
  failCreates = 0;
  /** Checks (get) a server answers 'booting' before 'running'. */
  bootChecks = 0;
  /** Status once booted. */
  bootsTo: ProviderServerStatus = 'running';
  /** While set, create() waits on it (a replica stuck mid-action). */
  hang: Promise<void> | undefined;
  createCalls = 0;
  private readonly servers = new Map<string, ProvisionedServer & { checks: number }>();

  async create(req: CreateRequest): Promise<ProvisionedServer> {
    this.createCalls++;
    if (this.hang) await this.hang;
    if (this.failCreates > 0) {
      this.failCreates--;
      throw new ProviderError(this.name, 'create answered HTTP 503', { retryable: true, status: 503 });
    }
    const found = [...this.servers.values()].find((s) => s.idempotencyKey === req.idempotencyKey);
    if (found) return { ...found };
    this.creates++;
    const id = `fake-${this.creates}`;
    const s = { id, sizeClass: req.sizeClass, status: 'booting' as const, idempotencyKey: req.idempotencyKey, tags: scalerTags(req), checks: 0 };
    this.servers.set(id, s);
    return { ...s };
  }

  async delete(id: string): Promise<void> {
    this.deletes.push(id);
    this.servers.delete(id);
  }

  async list(): Promise<ProvisionedServer[]> {
    return [...this.servers.values()].map((s) => ({ ...s }));
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const s = this.servers.get(id);
    if (!s) return undefined;
    if (s.status === 'booting' && ++s.checks > this.bootChecks) {
      s.status = this.bootsTo;
      if (s.status === 'running') Object.assign(s, { apiUrl: `http://127.0.0.1:9/${id}/bigbluebutton/api`, secret: `secret-${id}` });
    }
    return { ...s };
  }

  async status(id: string): Promise<ProviderServerStatus> {
    return (await this.get(id))?.status ?? 'gone';
  }

  /** Adds a running server as if created earlier (for drains). */
  adopt(id: string): void {
    this.servers.set(id, { id, sizeClass: 'standard', status: 'running', tags: {}, checks: 0 });
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('scaler jobs (BullMQ, real Redis)', () => {
  let t: TestRedis;
  let store: Store;
  const connections: Redis[] = [];
  const replicas: ScalerJobs[] = [];

  function replica(provider: CloudProvider, over: Partial<ScalerJobsOptions> = {}): ScalerJobs {
    const connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
    connections.push(connection);
    const jobs = new ScalerJobs({
      connection,
      store,
      provider,
      classes: CLASSES,
      prefix: `${t.prefix}bull`,
      backoffMs: 20,
      bootPollMs: 30,
      drainPollMs: 30,
      apiAnswers: async (s) => s.apiUrl !== undefined,
      ...over,
    });
    replicas.push(jobs);
    return jobs;
  }

  function setup(label: string): void {
    t = testRedis(label);
    store = new Store(t.redis, { namespace: t.prefix.slice(0, -1) });
  }

  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.close(true).catch(() => {});
    for (const c of connections.splice(0)) c.disconnect();
    await t.cleanup();
  });

  it('registers a provisioned server once, however often the action is enqueued', async () => {
    setup('jobs-idem');
    const provider = new FakeProvider();
    provider.bootChecks = 3;
    const jobs = replica(provider);
    const ids = await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'tick1' });
    await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'tick1' });
    expect(ids).toEqual(['provision-standard-tick1']);
    await until('registration', async () => (await store.servers.ids()).length === 1);
    await until('completion', () => jobs.counts().provision.registered === 1);
    // Again once it is done: still the same job, no second create.
    await jobs.provision('standard', 'tick1');
    await new Promise((r) => setTimeout(r, 200));
    expect(provider.creates).toBe(1);
    const [server] = await store.servers.list();
    // Online at once: its API answered the job's signed call.
    expect(server).toMatchObject({ id: 'fake-1', capacity: 500, sizeClass: 'standard', managedBy: 'fake', state: 'enabled', health: 'online', url: 'http://127.0.0.1:9/fake-1/bigbluebutton/api' });
    const counts = jobs.counts().provision;
    expect(counts.registered).toBe(1);
    expect(counts.booting).toBeGreaterThanOrEqual(3);
    expect(await jobs.inFlight()).toEqual({ provision: 0, drain: 0 });
  });

  it('retries a failing provider with backoff and registers one server', async () => {
    setup('jobs-retry');
    const provider = new FakeProvider();
    provider.failCreates = 2;
    const jobs = replica(provider);
    await jobs.enqueue({ type: 'provision', sizeClass: 'large', count: 1, reason: 'test' }, { key: 'r' });
    await until('registration', () => jobs.counts().provision.registered === 1);
    expect(provider.createCalls).toBe(3);
    expect(provider.creates).toBe(1);
    expect(jobs.counts().provision.retry).toBe(2);
    expect((await store.servers.list()).map((s) => [s.id, s.capacity])).toEqual([['fake-1', 1000]]);
  });

  it('two replicas on one queue carry out each action once', async () => {
    setup('jobs-replicas');
    const provider = new FakeProvider();
    provider.bootChecks = 2;
    const a = replica(provider);
    const b = replica(provider);
    const action = { type: 'provision' as const, sizeClass: 'standard', count: 6, reason: 'test' };
    // Both replicas planned the same step and enqueue it.
    await Promise.all([a.enqueue(action, { key: 'tick7' }), b.enqueue(action, { key: 'tick7' })]);
    await until('six registrations', async () => (await store.servers.ids()).length === 6);
    await until('six completions', () => (a.counts().provision.registered ?? 0) + (b.counts().provision.registered ?? 0) === 6);
    expect(provider.creates).toBe(6);
    const registered = (a.counts().provision.registered ?? 0) + (b.counts().provision.registered ?? 0) + (a.counts().provision['already-registered'] ?? 0) + (b.counts().provision['already-registered'] ?? 0);
    expect(registered).toBe(6);
  });

  it('a replica killed mid-action: another one takes the job over and finishes it', async () => {
    setup('jobs-kill');
    const provider = new FakeProvider();
    provider.hang = new Promise(() => {}); // the first replica's create never returns
    const quick = { lockDuration: 600, stalledInterval: 300 };
    const a = replica(provider, quick);
    await a.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'k' });
    await until('the first replica to start', () => provider.createCalls === 1);
    await a.close(true); // killed: its lock is no longer renewed
    provider.hang = undefined;
    const b = replica(provider, quick);
    await until('the second replica to register it', () => b.counts().provision.registered === 1, 10_000);
    expect(provider.creates).toBe(1);
    expect(await store.servers.ids()).toEqual(['fake-1']);
  });

  it('a server that fails to boot is deleted, counted, and not retried', async () => {
    setup('jobs-bootfail');
    const provider = new FakeProvider();
    provider.bootChecks = 1;
    provider.bootsTo = 'failed';
    const jobs = replica(provider);
    const [id] = await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'f' });
    await until('the boot failure', () => jobs.counts().provision['boot-failed'] === 1);
    await until('the job to fail', async () => (await jobs.queue.getJob(id!))?.failedReason !== undefined);
    const job = (await jobs.queue.getJob(id!))!;
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/fake-1 \(standard\) failed to boot: failed; deleted/);
    expect(provider.deletes).toEqual(['fake-1']);
    expect(provider.creates).toBe(1);
    expect(await store.servers.ids()).toEqual([]);
  });

  it('a booting server past the boot timeout is deleted', async () => {
    setup('jobs-boottimeout');
    const provider = new FakeProvider();
    provider.bootChecks = 1_000_000;
    const jobs = replica(provider, { bootTimeoutMs: 200 });
    await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'slow' });
    await until('the boot failure', () => jobs.counts().provision['boot-failed'] === 1);
    expect(provider.deletes).toEqual(['fake-1']);
  });

  it('drains: cordons, waits until the poller disabled it, then deletes and removes it', async () => {
    setup('jobs-drain');
    const provider = new FakeProvider();
    provider.adopt('fake-9');
    await store.servers.add({ id: 'fake-9', url: 'http://127.0.0.1:9/bigbluebutton/api', secret: 's', capacity: 500, sizeClass: 'standard', managedBy: 'fake' });
    const jobs = replica(provider);
    const [id] = await jobs.enqueue({ type: 'cordon', server: 'fake-9', reason: 'test' });
    await jobs.enqueue({ type: 'delete', server: 'fake-9', reason: 'test' });
    expect(id).toBe('drain-fake-9');
    await until('the cordon', async () => (await store.servers.get('fake-9'))?.state === 'cordoned');
    await until('a few checks', () => (jobs.counts().drain['not-empty'] ?? 0) >= 3);
    expect(provider.deletes).toEqual([]);
    expect(await store.servers.ids()).toEqual(['fake-9']);
    // The poller found it empty after the cordon.
    await store.servers.setState('fake-9', 'disabled');
    await until('the removal', () => jobs.counts().drain.removed === 1);
    expect(provider.deletes).toEqual(['fake-9']);
    expect(await store.servers.ids()).toEqual([]);
    expect(jobs.counts().drain.retry).toBeUndefined();
  });

  it('an uncordon cancels a drain; a server added by hand is never drained', async () => {
    setup('jobs-cancel');
    const provider = new FakeProvider();
    provider.adopt('fake-1');
    await store.servers.add({ id: 'fake-1', url: 'http://127.0.0.1:9/a/bigbluebutton/api', secret: 's', capacity: 500, sizeClass: 'standard', managedBy: 'fake' });
    await store.servers.add({ id: 'manual', url: 'http://127.0.0.1:9/b/bigbluebutton/api', secret: 's', capacity: 500 });
    const jobs = replica(provider, { drainPollMs: 100 });
    await jobs.enqueue({ type: 'cordon', server: 'fake-1', reason: 'test' });
    await until('the cordon', async () => (await store.servers.get('fake-1'))?.state === 'cordoned');
    await jobs.enqueue({ type: 'uncordon', server: 'fake-1', reason: 'test' });
    expect((await store.servers.get('fake-1'))?.state).toBe('enabled');
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.servers.get('fake-1'))?.state).toBe('enabled');
    expect(await jobs.inFlight()).toEqual({ provision: 0, drain: 0 });

    await jobs.enqueue({ type: 'cordon', server: 'manual', reason: 'test' });
    await until('the refusal', () => jobs.counts().drain.failed === 1);
    expect((await store.servers.get('manual'))?.state).toBe('enabled');
    expect(provider.deletes).toEqual([]);
  });

  it('adopts a step done before a kill: a registered server is not registered again, a removed one not deleted', async () => {
    setup('jobs-adopt');
    const provider = new FakeProvider();
    // A replica created and registered it, then died before the job completed.
    const made = await provider.create({ sizeClass: 'standard', idempotencyKey: 'standard-done' });
    await store.servers.add({ id: made.id, url: 'http://127.0.0.1:9/x/bigbluebutton/api', secret: 's', capacity: 500, sizeClass: 'standard', managedBy: 'fake', state: 'cordoned' });
    const jobs = replica(provider);
    await jobs.provision('standard', 'done');
    await until('the adoption', () => jobs.counts().provision['already-registered'] === 1);
    expect(provider.creates).toBe(1);
    expect((await store.servers.get(made.id))?.state).toBe('cordoned');

    await jobs.drain('fake-404');
    await until('the drain of a server no longer in the pool', () => jobs.counts().drain.gone === 1);
    expect(provider.deletes).toEqual([]);
  });

  it('a provider error not worth retrying fails the job at once', async () => {
    setup('jobs-hopeless');
    const provider = new FakeProvider();
    provider.create = async () => {
      throw new ProviderError('fake', 'create answered HTTP 400', { retryable: false, status: 400 });
    };
    const jobs = replica(provider);
    const [id] = await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'bad' });
    await until('the failure', () => jobs.counts().provision.failed === 1);
    await until('the job to fail', async () => (await jobs.queue.getJob(id!))?.failedReason !== undefined);
    expect((await jobs.queue.getJob(id!))!.attemptsMade).toBe(1);
    expect(jobs.counts().provision.retry).toBeUndefined();
    // Asked again later: the failed job is replaced, not left blocking the id.
    provider.create = FakeProvider.prototype.create.bind(provider);
    await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 1, reason: 'test' }, { key: 'bad' });
    await until('the registration', () => jobs.counts().provision.registered === 1);
  });

  it('provisions through the simulated provider: registered once its BBB API answers', async () => {
    setup('jobs-sim');
    const provider = new SimulatedProvider({ bootDelayMs: 150 });
    try {
      const connection = createRedis(t.url, { maxRetriesPerRequest: null, commandTimeout: null });
      connections.push(connection);
      const jobs = new ScalerJobs({ connection, store, provider, classes: CLASSES, prefix: `${t.prefix}bull`, bootPollMs: 50 });
      replicas.push(jobs);
      await jobs.enqueue({ type: 'provision', sizeClass: 'standard', count: 2, reason: 'test' }, { key: 's' });
      await until('two registrations', () => jobs.counts().provision.registered === 2);
      const servers = await store.servers.list();
      expect(servers.map((s) => [s.managedBy, s.state, s.capacity])).toEqual([
        ['simulated', 'enabled', 500],
        ['simulated', 'enabled', 500],
      ]);
      expect((await provider.list()).map((s) => s.idempotencyKey).sort()).toEqual(['standard-s-0', 'standard-s-1']);
    } finally {
      for (const r of replicas.splice(0)) await r.close();
      await provider.close();
    }
  });
});
