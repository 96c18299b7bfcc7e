// The scale actions as BullMQ jobs, on one queue every scaler replica shares.
//
// - provision: ask the provider for a server (idempotent by key), then check on it every
//   `bootPollMs` until it runs and its BBB API answers, then register it enabled. A server that
//   fails to boot, vanishes, or is not ready within `bootTimeoutMs` is deleted, counted, and the
//   job fails without retry.
// - drain: cordon the server, check every `drainPollMs` until the poller has disabled it (a poll
//   after the cordon found it empty), then delete it at the provider and remove it from the pool.
//
// No job sleeps: a check that finds "not yet" moves the job back to the delayed set
// (moveToDelayed + DelayedError, which spends no attempt) and the next check may run on any
// replica. So a scaler killed mid-action loses at most one short step: BullMQ's stalled-job check
// hands the job to another replica once its lock expires, and every step is idempotent (the
// provider finds the server again by its key; registering, cordoning, deleting and removing are
// no-ops when already done).
//
// Idempotency: the job id is the action's key (`provision-<class>-<key>`, `drain-<server>`), so
// the same action enqueued twice, by one replica or several, is one job. BullMQ ids may not
// contain ':' (bar its own three-part form), hence '-'.
import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Job, JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { UnknownServerError } from '../src/state/server-registry.js';
import type { Store } from '../src/state/store.js';
import type { ScaleAction } from './plan.js';
import { bbbApiAnswers, ProviderError } from './providers/provider.js';
import type { CloudProvider, ProvisionedServer } from './providers/provider.js';

export const SCALER_QUEUE = 'amphi-scaler-actions';

export interface ProvisionJobData {
  type: 'provision';
  sizeClass: string;
  /** The provider's idempotency key. */
  key: string;
  /** Set by the first step: the provider's id and when the server was asked for (ms). */
  serverId?: string;
  askedAt?: number;
}

export interface DrainJobData {
  type: 'drain';
  server: string;
  reason?: string;
  /** Set once this job cordoned the server: a later 'enabled' state means it was uncordoned. */
  cordoned?: boolean;
}

export type ScalerJobData = ProvisionJobData | DrainJobData;

export type ProvisionOutcome = 'registered' | 'already-registered' | 'booting' | 'boot-failed' | 'retry' | 'failed';
export type DrainOutcome = 'removed' | 'gone' | 'not-empty' | 'cancelled' | 'retry' | 'failed';

/** One step's outcome, for metrics and the structured log. Never carries a secret. */
export type ScalerJobEvent =
  | { type: 'provision'; outcome: ProvisionOutcome; jobId: string; sizeClass: string; serverId?: string; bootMs?: number; error?: string }
  | { type: 'drain'; outcome: DrainOutcome; jobId: string; serverId: string; error?: string };

/** What a completed job returns (BullMQ keeps it as the job's return value). */
export type ScalerJobResult =
  | { type: 'provision'; outcome: 'registered' | 'already-registered'; serverId: string; bootMs?: number }
  | { type: 'drain'; outcome: 'removed' | 'gone' | 'cancelled'; serverId: string };

export interface ScalerJobsOptions {
  /** A client made with `maxRetriesPerRequest: null, commandTimeout: null`; not closed by close(). */
  connection: Redis;
  store: Store;
  provider: CloudProvider;
  /** Capacity of each size class the scaler provisions (ScalerConfig['classes']). */
  classes: Readonly<Record<string, { capacity: number }>>;
  /** BullMQ key prefix (default 'bull'); tests put it under their own prefix. */
  prefix?: string;
  /** Start a worker in this process (default true); false: only enqueue. */
  worker?: boolean;
  concurrency?: number;
  /** Worker lock, renewed while a step runs; another replica takes a job whose lock expired. */
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
  /** Attempts per job for errors (not for "not ready yet"), with exponential backoff from backoffMs. */
  attempts?: number;
  backoffMs?: number;
  /** From create to a registered server at most (default 15 min). */
  bootTimeoutMs?: number;
  /** Between two checks of a booting server (default 10 s) and of a draining one (default 30 s). */
  bootPollMs?: number;
  drainPollMs?: number;
  /** Whether a running server's BBB API answers (default: a signed getMeetings, bbbApiAnswers). */
  apiAnswers?: (server: ProvisionedServer) => Promise<boolean>;
  /** Every step's outcome (metrics, logs); also summed in counts(). */
  onEvent?: (event: ScalerJobEvent) => void;
  /** Queue and worker connection errors (BullMQ reconnects by itself). */
  onError?: (err: Error) => void;
  now?: () => number;
}

const JOB_ID_PART = /^[A-Za-z0-9._-]{1,80}$/;

/** A job that must not be retried, with the outcome it counts as. */
class FinalFailure extends UnrecoverableError {
  constructor(
    message: string,
    readonly outcome: 'boot-failed' | 'failed',
    readonly serverId?: string,
  ) {
    super(message);
  }
}

export function provisionJobId(sizeClass: string, key: string): string {
  return `provision-${sizeClass}-${key}`;
}

export function drainJobId(server: string): string {
  return `drain-${server.replaceAll(':', '_')}`;
}

export class ScalerJobs {
  readonly queue: Queue<ScalerJobData, ScalerJobResult>;
  readonly worker: Worker<ScalerJobData, ScalerJobResult> | undefined;
  private readonly opts: ScalerJobsOptions;
  private readonly now: () => number;
  private readonly jobOptions: JobsOptions;
  private readonly tally = { provision: {} as Record<string, number>, drain: {} as Record<string, number> };

  constructor(opts: ScalerJobsOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    const prefix = opts.prefix ?? 'bull';
    this.jobOptions = {
      attempts: opts.attempts ?? 5,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 5_000 },
      // Kept a day, so a re-enqueued finished action stays one job; failed ones are replaced by enqueue.
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 86_400, count: 10_000 },
    };
    this.queue = new Queue(SCALER_QUEUE, { connection: opts.connection, prefix });
    const onError = (err: Error) => opts.onError?.(err);
    this.queue.on('error', onError);
    if (opts.worker !== false) {
      this.worker = new Worker<ScalerJobData, ScalerJobResult>(SCALER_QUEUE, (job, token) => this.process(job, token), {
        connection: opts.connection,
        prefix,
        concurrency: opts.concurrency ?? 4,
        lockDuration: opts.lockDuration ?? 30_000,
        stalledInterval: opts.stalledInterval ?? 30_000,
        maxStalledCount: opts.maxStalledCount ?? 2,
      });
      this.worker.on('error', onError);
    }
  }

  /**
   * Enqueues one plan action. A provision of `count` servers is `count` jobs keyed
   * `<key>-0`, `<key>-1`…: the same `key` (e.g. the reconcile tick's id) gives the same jobs.
   * cordon and delete are one drain job; uncordon cancels it. Answers the job ids.
   */
  async enqueue(action: ScaleAction, opts: { key?: string } = {}): Promise<string[]> {
    switch (action.type) {
      case 'provision': {
        if (opts.key === undefined) throw new Error('a provision needs an idempotency key');
        const ids: string[] = [];
        for (let i = 0; i < action.count; i++) ids.push(await this.provision(action.sizeClass, action.count === 1 ? opts.key : `${opts.key}-${i}`));
        return ids;
      }
      case 'cordon':
      case 'delete':
        return [await this.drain(action.server, action.reason)];
      case 'uncordon':
        await this.uncordon(action.server);
        return [];
    }
  }

  /** One server of `sizeClass`, asked for with idempotency key `<sizeClass>-<key>`. */
  async provision(sizeClass: string, key: string): Promise<string> {
    if (!JOB_ID_PART.test(sizeClass) || !JOB_ID_PART.test(key)) throw new Error('size class and key must be 1 to 80 letters, digits or . _ -');
    if (!Object.hasOwn(this.opts.classes, sizeClass)) throw new Error(`unknown size class "${sizeClass}"`);
    const id = provisionJobId(sizeClass, key);
    await this.add(id, { type: 'provision', sizeClass, key: `${sizeClass}-${key}` });
    return id;
  }

  async drain(server: string, reason?: string): Promise<string> {
    const id = drainJobId(server);
    await this.add(id, { type: 'drain', server, ...(reason !== undefined && { reason }) });
    return id;
  }

  /**
   * Back into service: drops the drain job if no worker holds it, and enables the server. A drain
   * step running meanwhile finds it enabled after its cordon and ends as 'cancelled'.
   */
  async uncordon(server: string): Promise<void> {
    const job = await this.queue.getJob(drainJobId(server));
    if (job && !(await job.isActive())) await job.remove().catch(() => {});
    const record = await this.opts.store.servers.get(server);
    if (record && record.state !== 'enabled') await this.opts.store.servers.setState(server, 'enabled');
  }

  /** Steps by outcome since this instance started (this replica's share). */
  counts(): { provision: Record<string, number>; drain: Record<string, number> } {
    return { provision: { ...this.tally.provision }, drain: { ...this.tally.drain } };
  }

  /** Actions not finished yet, by type (all replicas). */
  async inFlight(): Promise<{ provision: number; drain: number }> {
    const jobs = await this.queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
    const n = { provision: 0, drain: 0 };
    for (const j of jobs) if (j) n[j.data.type]++;
    return n;
  }

  /** `force`: do not wait for the steps running (what a kill leaves: other replicas take them over). */
  async close(force = false): Promise<void> {
    await this.worker?.close(force);
    await this.queue.close();
  }

  private async add(id: string, data: ScalerJobData): Promise<void> {
    // A failed job would keep its id taken for a day: a new request for the action replaces it.
    const existing = await this.queue.getJob(id);
    if (existing && (await existing.isFailed())) await existing.remove().catch(() => {});
    await this.queue.add(data.type, data, { ...this.jobOptions, jobId: id });
  }

  private emit(event: ScalerJobEvent): void {
    const t = this.tally[event.type];
    t[event.outcome] = (t[event.outcome] ?? 0) + 1;
    this.opts.onEvent?.(event);
  }

  private async process(job: Job<ScalerJobData, ScalerJobResult>, token?: string): Promise<ScalerJobResult> {
    const data = job.data;
    try {
      return data.type === 'provision' ? await this.provisionStep(job as Job<ProvisionJobData>, token) : await this.drainStep(job as Job<DrainJobData>, token);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const hopeless = err instanceof ProviderError && !err.retryable;
      const final = hopeless || err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = err instanceof FinalFailure ? err.outcome : final ? 'failed' : 'retry';
      if (data.type === 'provision') {
        const serverId = err instanceof FinalFailure ? err.serverId : data.serverId;
        this.emit({ type: 'provision', outcome, jobId: job.id!, sizeClass: data.sizeClass, ...(serverId !== undefined && { serverId }), error: message });
      } else {
        this.emit({ type: 'drain', outcome: outcome === 'boot-failed' ? 'failed' : outcome, jobId: job.id!, serverId: data.server, error: message });
      }
      // A provider error it says is not worth retrying (bad request, unknown class) ends the job.
      if (hopeless) throw new UnrecoverableError(message);
      throw err;
    }
  }

  /** Checks again at `ms` from now, on whichever replica: no attempt spent. */
  private async later(job: Job, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  private async provisionStep(job: Job<ProvisionJobData>, token?: string): Promise<ScalerJobResult> {
    const { provider, store, classes } = this.opts;
    const { sizeClass, key } = job.data;
    const capacity = classes[sizeClass]?.capacity;
    if (capacity === undefined) throw new FinalFailure(`unknown size class "${sizeClass}"`, 'failed');
    const created = await provider.create({ sizeClass, idempotencyKey: key });
    let askedAt = job.data.askedAt;
    if (askedAt === undefined || job.data.serverId !== created.id) {
      askedAt = this.now();
      await job.updateData({ ...job.data, serverId: created.id, askedAt });
    }
    const id = created.id;
    const base = { type: 'provision' as const, jobId: job.id!, sizeClass, serverId: id };
    if (await store.servers.get(id)) {
      this.emit({ ...base, outcome: 'already-registered' });
      return { type: 'provision', outcome: 'already-registered', serverId: id };
    }
    const server = await provider.get(id);
    const status = server?.status ?? 'gone';
    const elapsed = this.now() - askedAt;
    if (status === 'running' && server && (await (this.opts.apiAnswers ?? bbbApiAnswers)(server))) {
      if (!server.apiUrl || !server.secret) throw new Error(`server ${id} answers but its URL or secret is unknown`);
      // Registered once: two steps racing here (a stalled one resumed) write the same fields.
      // Online at once: its BBB API just answered a signed call, and it is empty; waiting for the
      // poller's next round would leave a booted server idle while the demand it was asked for arrives.
      if (!(await store.servers.get(id))) {
        await store.servers.add({
          id,
          url: server.apiUrl,
          secret: server.secret,
          capacity,
          sizeClass,
          managedBy: provider.name,
          state: 'enabled',
          health: 'online',
          ...(server.metricsUrl !== undefined && { metricsUrl: server.metricsUrl }),
        });
      }
      this.emit({ ...base, outcome: 'registered', bootMs: elapsed });
      return { type: 'provision', outcome: 'registered', serverId: id, bootMs: elapsed };
    }
    const bootTimeout = this.opts.bootTimeoutMs ?? 15 * 60_000;
    if (status === 'failed' || status === 'gone' || elapsed > bootTimeout) {
      await provider.delete(id);
      const why = status === 'running' ? `its BBB API did not answer within ${bootTimeout} ms` : status === 'booting' ? `still booting after ${bootTimeout} ms` : status;
      throw new FinalFailure(`server ${id} (${sizeClass}) failed to boot: ${why}; deleted`, 'boot-failed', id);
    }
    this.emit({ ...base, outcome: 'booting' });
    return this.later(job, token, this.opts.bootPollMs ?? 10_000);
  }

  private async drainStep(job: Job<DrainJobData>, token?: string): Promise<ScalerJobResult> {
    const { provider, store } = this.opts;
    const id = job.data.server;
    const base = { type: 'drain' as const, jobId: job.id!, serverId: id };
    let record = await store.servers.get(id);
    // Not in the pool: removed by an earlier step of this job (which deleted it at the provider
    // first) or by an operator. Never delete at the provider a server the pool does not hold.
    if (!record) {
      this.emit({ ...base, outcome: 'gone' });
      return { type: 'drain', outcome: 'gone', serverId: id };
    }
    if (record.managedBy !== provider.name) {
      throw new FinalFailure(`server ${id} is not managed by the ${provider.name} provider (managedBy "${record.managedBy}"): never drained by the scaler`, 'failed');
    }
    if (record.state === 'enabled' && job.data.cordoned) {
      this.emit({ ...base, outcome: 'cancelled' });
      return { type: 'drain', outcome: 'cancelled', serverId: id };
    }
    if (record.state === 'enabled') {
      record = await store.servers.setState(id, 'cordoned');
      await job.updateData({ ...job.data, cordoned: true });
    }
    // Disabled by an operator rather than by a poll that found it empty: meetings may still run.
    const occupied = async () => record.participants > 0 || (await store.ctx.redis.scard(store.ctx.keys.serverMeetings(id))) > 0;
    if (record.state === 'cordoned' || (await occupied())) {
      this.emit({ ...base, outcome: 'not-empty' });
      return this.later(job, token, this.opts.drainPollMs ?? 30_000);
    }
    // Disabled by the poller (empty). A step killed between these two finds it disabled again.
    await provider.delete(id);
    try {
      await store.servers.remove(id);
    } catch (err) {
      if (!(err instanceof UnknownServerError)) throw err;
    }
    this.emit({ ...base, outcome: 'removed' });
    return { type: 'drain', outcome: 'removed', serverId: id };
  }
}
