// One reconcile step: read the pool, the actions in flight and the provider; record the measured
// demand; build the forecast; decide with plan() (pure, scaler/plan.ts); enqueue the actions as
// BullMQ jobs (scaler/jobs.ts); report what the provider holds that nothing accounts for.
//
// Several scaler replicas may run this step at the same time. Each action's job id is the same on
// every replica for the same decision: provisions are keyed by the reconcile tick
// (floor(now / reconcileInterval)), drains by the server. Two replicas deciding the same tick
// enqueue the same jobs, which BullMQ keeps as one.
//
// No logger here: the step returns one structured record per action and per held reason (and per
// orphan), and the role logs them.
import { isLargeMeeting } from '../src/placement/choose.js';
import type { ServerRecord } from '../src/state/types.js';
import type { Store } from '../src/state/store.js';
import { forecastWindowMs } from './config.js';
import type { ScalerConfig } from './config.js';
import { maxOfSources } from './forecast/demand.js';
import type { DemandSource } from './forecast/demand.js';
import { scheduleSource } from './forecast/schedule.js';
import { weeklyProfileSource } from './forecast/weekly-profile.js';
import type { DemandHistory } from './history.js';
import type { LargeArrival, LargeArrivalHistory } from './arrivals.js';
import type { ProvisionJobData, ScalerJobs } from './jobs.js';
import { plan } from './plan.js';
import type { Plan, ScaleAction } from './plan.js';
import type { CloudProvider, ProvisionedServer } from './providers/provider.js';
import { reactiveDemand } from './estimator.js';
import type { ScalerServer, ServerPhase } from './servers.js';

const WEEK_MS = 7 * 24 * 3_600_000;
const HOUR_MS = 3_600_000;
const IN_FLIGHT = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

/** A server the provider lists as ours that the pool does not hold and no provision job is creating. */
export interface Orphan {
  id: string;
  sizeClass: string;
  status: ProvisionedServer['status'];
  idempotencyKey?: string;
  reason: string;
}

/** One structured log line, for the role to write as is. Never carries a secret. */
export type ReconcileLogRecord =
  | { event: 'scaler.action'; tick: number; action: ScaleAction['type']; sizeClass?: string; count?: number; server?: string; jobIds: string[]; reason: string }
  | { event: 'scaler.action-failed'; tick: number; action: ScaleAction['type']; sizeClass?: string; server?: string; error: string; reason: string }
  | { event: 'scaler.held'; tick: number; reason: string }
  | { event: 'scaler.orphan'; tick: number; server: string; sizeClass: string; status: string; reason: string }
  | { event: 'scaler.provider-list-failed'; tick: number; error: string };

export interface ReconcileResult {
  tick: number;
  /** The step's instant in the scaler's clock (the wall clock unless the reconciler has another). */
  at: number;
  plan: Plan;
  /** The servers plan() saw. */
  servers: ScalerServer[];
  /** Job ids enqueued, by action (same order as plan.actions; [] for an uncordon or a failure). */
  jobIds: string[][];
  orphans: Orphan[];
  log: ReconcileLogRecord[];
}

export interface ReconcilerOptions {
  store: Store;
  jobs: ScalerJobs;
  provider: CloudProvider;
  history: DemandHistory;
  /** The large meetings' arrivals, recorded from the servers' reservations and learned like the demand. */
  arrivals: LargeArrivalHistory;
  config: ScalerConfig;
  /** The gateway's placement fill ceiling (AMPHI_PLACEMENT_MAX_FILL): what room a server has for a meeting. */
  placementFill: number;
  /** What makes a meeting large for the gateway's placement (AMPHI_PLACEMENT_LARGE_SHARE): those are recorded. */
  largeShare: number;
  /** How long a new meeting's reservation fades (the gateway's setting), for the reserved load. */
  fadeMs: number;
  /**
   * Extra forecast sources. `amphi scaler` adds the announced meetings here
   * (scaler/forecast/announced-store.ts: a copy of the announcements the gateway records from
   * creates carrying meta_amphi-start, src/state/announcements.ts, refreshed from Redis right
   * before each step by the role, src/cli/commands/scaler.ts).
   */
  sources?: readonly DemandSource[];
  /**
   * The time the scaler decides in, from a wall instant: identity by default. Every instant the
   * step reads (now, when servers were added, changed state and were polled, when boots were
   * asked, the last scale-out and scale-in) goes through it, and the settings' durations are in
   * its time. The morning scenario runs the pool in accelerated time at a varying speed and maps
   * each instant onto its simulated morning, so the cooldowns, lifetimes and provisioning time
   * mean simulated minutes and the forecast reads 8:00 when the scenario's clock says 8:00.
   * Must be increasing.
   */
  clock?: (wall: number) => number;
  /** Wall ms between steps (the ticks of the job ids); default the settings' reconcileInterval. */
  tickMs?: number;
}

export class Reconciler {
  constructor(private readonly opts: ReconcilerOptions) {}

  /** Wall ms between steps. */
  get tickMs(): number {
    return this.opts.tickMs ?? this.opts.config.reconcileInterval;
  }

  tickOf(now: number): number {
    return Math.floor(now / this.tickMs);
  }

  /** A wall instant in the time the scaler decides in (the `clock` option; identity without one). */
  timeOf(wall: number): number {
    return this.opts.clock ? this.opts.clock(wall) : wall;
  }

  /**
   * `dryRun`: decides the same way but changes nothing: no job enqueued, no demand recorded, no
   * last-scale time written (`amphi scaler --dry-run`); jobIds are all [].
   */
  async step(now: number, opts: { dryRun?: boolean } = {}): Promise<ReconcileResult> {
    const dryRun = opts.dryRun === true;
    const { store, jobs, provider, history, config } = this.opts;
    const tick = this.tickOf(now);
    const clock = (wall: number) => this.timeOf(wall);
    const at = clock(now);
    const log: ReconcileLogRecord[] = [];

    const [{ servers: records, views }, jobList, listed] = await Promise.all([
      store.snapshot(this.opts.fadeMs),
      jobs.queue.getJobs([...IN_FLIGHT]),
      provider.list().then(
        (l) => l,
        (err: unknown) => {
          log.push({ event: 'scaler.provider-list-failed', tick, error: err instanceof Error ? err.message : String(err) });
          return undefined;
        },
      ),
    ]);
    const inPool = new Set(records.map((r) => r.id));
    const provisions: ProvisionJobData[] = [];
    const draining = new Set<string>();
    for (const job of jobList) {
      if (!job) continue;
      if (job.data.type === 'provision') provisions.push(job.data);
      else draining.add(job.data.server);
    }
    const jobTimestamp = new Map(jobList.filter((j) => j?.data.type === 'provision').map((j) => [(j!.data as ProvisionJobData).key, j!.timestamp]));

    // The pool as plan() sees it.
    const reserved = new Map(views.map((v) => [v.id, v.load]));
    const servers: ScalerServer[] = records.map((r) => this.toScalerServer(r, Math.max(0, (reserved.get(r.id) ?? r.measuredLoad) - r.measuredLoad), draining.has(r.id), clock));
    // Booting: provision jobs in flight whose server is not registered yet.
    for (const p of provisions) {
      if (p.serverId !== undefined && inPool.has(p.serverId)) continue;
      const capacity = config.classes[p.sizeClass]?.capacity ?? 0;
      const startedAt = clock(p.askedAt ?? jobTimestamp.get(p.key) ?? now);
      servers.push({
        id: p.serverId ?? `job:${p.key}`,
        sizeClass: p.sizeClass,
        phase: 'booting',
        managed: true,
        startedAt,
        phaseSince: startedAt,
        polledAt: 0,
        meetings: 0,
        participants: 0,
        recordingsProcessing: 0,
        capacity,
        measuredLoad: 0,
        reservedLoad: 0,
      });
    }

    // Orphans: listed by the provider as ours, not in the pool, not being created by a job.
    const orphans: Orphan[] = [];
    if (listed) {
      const jobServers = new Set(provisions.flatMap((p) => (p.serverId === undefined ? [] : [p.serverId])));
      const jobKeys = new Set(provisions.map((p) => p.key));
      for (const s of listed) {
        if (s.status === 'gone' || inPool.has(s.id) || jobServers.has(s.id)) continue;
        if (s.idempotencyKey !== undefined && jobKeys.has(s.idempotencyKey)) continue;
        const orphan: Orphan = {
          id: s.id,
          sizeClass: s.sizeClass,
          status: s.status,
          ...(s.idempotencyKey !== undefined && { idempotencyKey: s.idempotencyKey }),
          reason: `the ${provider.name} provider lists it as managed by the scaler (status ${s.status}), but the pool does not hold it and no provision job is in flight for it: not deleted automatically`,
        };
        orphans.push(orphan);
        log.push({ event: 'scaler.orphan', tick, server: s.id, sizeClass: s.sizeClass, status: s.status, reason: orphan.reason });
      }
    }

    // Demand measured now, into the history the weekly profile learns from. Not split by class:
    // measured load is not pinned to a class the way a forecast floor is.
    if (!dryRun) {
      await history.record(at, { total: reactiveDemand(servers), byClass: {} });
      await this.opts.arrivals.record(await this.largeArrivals(records, clock));
    }
    const forecast = await this.forecast(at);

    // Written as wall instants (below), read in the scaler's time; 0: never.
    const last = (await store.ctx.redis.hmget(store.ctx.keys.scalerLastScale, 'out', 'in')).map((v) => Number(v ?? 0) || 0);
    const decided = withinProvider(
      plan(
        { servers, forecast, lastScaleOutAt: last[0]! > 0 ? clock(last[0]!) : 0, lastScaleInAt: last[1]! > 0 ? clock(last[1]!) : 0, placementFill: this.opts.placementFill },
        config,
        at,
      ),
      provider,
    );

    const jobIds: string[][] = [];
    let scaledOut = false;
    let scaledIn = false;
    for (const action of decided.actions) {
      const where = action.type === 'provision' ? { sizeClass: action.sizeClass } : { server: action.server };
      try {
        const ids = dryRun ? [] : await jobs.enqueue(action, { key: `t${tick}` });
        jobIds.push(ids);
        if (action.type === 'provision' || action.type === 'uncordon') scaledOut = true;
        if (action.type === 'cordon') scaledIn = true;
        log.push({ event: 'scaler.action', tick, action: action.type, ...where, ...(action.type === 'provision' && { count: action.count }), jobIds: ids, reason: action.reason });
      } catch (err) {
        jobIds.push([]);
        log.push({ event: 'scaler.action-failed', tick, action: action.type, ...where, error: err instanceof Error ? err.message : String(err), reason: action.reason });
      }
    }
    for (const reason of decided.held) log.push({ event: 'scaler.held', tick, reason });
    if (!dryRun && (scaledOut || scaledIn)) {
      // Replicas deciding the same tick write nearly the same instant; the later one wins.
      const fields: Record<string, number> = {};
      if (scaledOut) fields.out = now;
      if (scaledIn) fields.in = now;
      await store.ctx.redis.hset(store.ctx.keys.scalerLastScale, fields);
    }
    return { tick, at, plan: decided, servers, jobIds, orphans, log };
  }

  /** Schedule minima, the weekly profile over the history, and the caller's extra sources. */
  private async forecast(now: number): Promise<DemandSource> {
    const { config, history, arrivals } = this.opts;
    const { weeks, percentile } = config.weeklyProfile;
    // Only the same time in each past week: the window ahead, widened by a daylight-saving hour
    // either way (the profile matches wall-clock times) and the bucket that began before it.
    const margin = HOUR_MS + history.bucketMs;
    const span = forecastWindowMs(config);
    const windows = Array.from({ length: weeks }, (_, i) => [now - (i + 1) * WEEK_MS - margin, now - (i + 1) * WEEK_MS + span + margin] as const);
    const [weekly, arrived] = await Promise.all([
      Promise.all(windows.map(([from, to]) => history.read(from, to))),
      Promise.all(windows.map(([from, to]) => arrivals.read(from, to))),
    ]);
    const settings = { weeks, percentile, timezone: config.schedule.timezone, holidays: config.schedule.holidays, soonMs: config.provisioningTime };
    return maxOfSources([scheduleSource(config.schedule), weeklyProfileSource(weekly.flat(), settings, arrived.flat()), ...(this.opts.sources ?? [])]);
  }

  /** The meetings placed less than a fade ago that are large (placement/choose.ts isLargeMeeting). */
  private async largeArrivals(records: readonly ServerRecord[], clock: (wall: number) => number): Promise<(LargeArrival & { ref: string })[]> {
    const largest = Math.max(0, ...records.map((r) => r.capacity));
    const byServer = await this.opts.store.servers.reservations(records.map((r) => r.id));
    return records.flatMap((r) =>
      (byServer.get(r.id) ?? []).filter((m) => isLargeMeeting(m.reserved, largest, this.opts.largeShare)).map((m) => ({ ref: m.ref, at: clock(m.createdAt), load: m.reserved })),
    );
  }

  private toScalerServer(r: ServerRecord, reservedLoad: number, drainJob: boolean, clock: (wall: number) => number): ScalerServer {
    const managed = r.managedBy !== '' && r.managedBy === this.opts.provider.name;
    return {
      id: r.id,
      sizeClass: r.sizeClass,
      phase: phaseOf(r, managed, drainJob),
      managed,
      startedAt: clock(r.addedAt),
      phaseSince: clock(r.stateSince),
      polledAt: r.polledAt > 0 ? clock(r.polledAt) : 0,
      meetings: r.meetings,
      participants: r.participants,
      // The poller does not report recordings being processed yet: 0 until it does.
      recordingsProcessing: 0,
      capacity: r.capacity,
      measuredLoad: r.measuredLoad,
      reservedLoad,
    };
  }
}

/**
 * - managed, enabled, offline, with no failed poll yet → booting: registered by its provision
 *   job, waiting for the poller to find it answering (counted as capacity on its way, or the
 *   next step would ask for it again);
 * - enabled and online → ready; enabled with a drain job queued (not cordoned yet) → draining;
 * - cordoned, managed by our provider → draining (the scaler's drain job cordons; a delete is
 *   planned once a poll after the cordon finds it empty);
 * - disabled, managed, with its drain job in flight → deleting (the poller found it empty, the
 *   job deletes it);
 * - anything else (offline, or cordoned or disabled by an operator, or a server not ours that is
 *   not enabled) → unavailable: the scaler never touches it.
 */
function phaseOf(r: ServerRecord, managed: boolean, drainJob: boolean): ServerPhase {
  if (managed && drainJob && r.state === 'disabled') return 'deleting';
  if (managed && (r.state === 'cordoned' || (drainJob && r.state === 'enabled'))) return 'draining';
  if (r.state === 'enabled' && r.health === 'online') return 'ready';
  if (managed && r.state === 'enabled' && r.failures === 0) return 'booting';
  return 'unavailable';
}

/** A provider that cannot add servers (static) is asked for none: what the plan wanted is held, said why. */
function withinProvider(decided: Plan, provider: CloudProvider): Plan {
  if (!provider.fixedPool) return decided;
  const wanted = decided.actions.filter((a) => a.type === 'provision');
  if (wanted.length === 0) return decided;
  return {
    ...decided,
    actions: decided.actions.filter((a) => a.type !== 'provision'),
    held: [...decided.held, ...wanted.map((a) => `${a.count} × ${a.sizeClass} wanted (${a.reason}): the ${provider.name} provider cannot add servers`)],
  };
}
