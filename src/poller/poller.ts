// The poller: every interval, asks each server of the pool for its meetings, measures them and
// writes the result (or the failure) into the store, where the gateway's placement reads it.
// Several replicas may run: a renewable per-server lease makes each server polled by one
// replica at a time. The store rebuilds itself: after Redis lost its data the poller writes
// back the servers and tenants it knew, and the next poll re-pins every running meeting.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BbbClient, BbbClientError } from '../bbb/client.js';
import type { ChecksumAlgorithm } from '../bbb/checksum.js';
import type { MeetingInfo } from '../bbb/types.js';
import type { Settings } from '../config/settings.js';
import type { LoadWeights } from '../placement/load-model.js';
import { overCurve, type Policy } from '../policy/index.js';
import type { Store } from '../state/store.js';
import type { PolledMeeting, ServerHealth, ServerRecord, ServerState, TenantRecord } from '../state/types.js';
import { ServerClients } from '../state/server-clients.js';
import { mapLimit } from '../util/map-limit.js';
import { Sleeper } from '../util/sleeper.js';
import { CPU_FRESH_INTERVALS, freshCpu } from '../placement/cpu-load.js';
import type { LoadObservation } from '../placement/learned-weights.js';
import { DEFAULT_LOAD_WEIGHTS } from '../placement/load-model.js';
import { measureServer, withCpu } from './measure.js';
import { decodeCpuSample, encodeCpuSample, readCpu, type CpuReading } from './node-cpu.js';
import type { PolledCpu } from '../state/types.js';
import type { Log } from '../log/logger.js';

/** What the poller needs of a server's API; BbbClient by default, a fake in tests. */
export interface MeetingsSource {
  getMeetings(): Promise<MeetingInfo[]>;
}

/** The poller's log: the role's pino logger, or a fake in tests. */
export type PollerLog = Log;

export interface PollerSettings {
  intervalMs: number;
  /** Bound on one getMeetings call. */
  timeoutMs: number;
  /** Servers polled at once. */
  concurrency: number;
  offlineAfter: number;
  onlineAfter: number;
  /** Meetings younger than this are never forgotten (their create may be in flight). */
  graceMs: number;
  fadeMs: number;
  /** Checksum algorithm of the calls to the servers. Default sha1 (every BBB accepts it). */
  algorithm?: ChecksumAlgorithm;
  /** A disabled server is polled at most this often. Default 6 intervals. */
  disabledIntervalMs?: number;
  weights?: LoadWeights;
}

export interface PollerOptions extends PollerSettings {
  /**
   * The capacity policy in force (read every round, so a reload applies): its load weights
   * replace `weights`, and meetings over its camera curve are counted and logged.
   */
  policy?: () => Policy;
  store: Store;
  /** Lease owner; default host:pid:random, unique per Poller. */
  owner?: string;
  /** Called once per server and (url, secret); the result is cached until those change. */
  clientFor?: (server: ServerRecord) => MeetingsSource;
  log?: PollerLog;
  /** After every round (metrics). Exceptions thrown here are ignored. */
  onRound?: (stats: RoundStats) => void;
  /** After every server of a round (metrics). Exceptions thrown here are ignored. */
  onServer?: (result: ServerPollResult) => void;
  /**
   * Reads a server's metrics URL (node_exporter); default: fetch with the poll timeout and a
   * cap of `maxMetricsBytes`. Tests inject their own.
   */
  fetchMetrics?: (url: string) => Promise<string>;
  /** Largest metrics answer read. Default 8 MiB (node_exporter on a large host: a few hundred KiB). */
  maxMetricsBytes?: number;
}

export interface ServerChange {
  server: string;
  /** offline/online: health; disabled: a cordoned server has drained. */
  to: 'offline' | 'online' | 'disabled';
  /** Why the last poll failed, for `offline`. */
  error?: string;
}

export interface ServerPollResult {
  server: string;
  /**
   * polled: answered and written; failed: no usable answer; skipped: leased by another
   * replica; deferred: disabled and polled recently; error: the store write failed.
   */
  outcome: 'polled' | 'failed' | 'skipped' | 'deferred' | 'error';
  durationMs: number;
  error?: string;
  health?: ServerHealth | 'gone';
  state?: ServerState | 'gone';
  meetings?: number;
  /** The CPU utilization (0..1) used for its measured load, when fresh. */
  cpu?: number;
  /** Why its metrics URL gave no CPU figure this poll. */
  cpuError?: string;
  /** What it says of the load model: its counts and CPU, when this poll read its CPU (online). */
  observation?: LoadObservation;
}

export interface RoundStats {
  /** Servers in the pool at the start of the round. */
  servers: number;
  /** Answered and written. */
  polled: number;
  /** Polled without a usable answer (timeout, refused, HTTP error, malformed XML, FAILED). */
  failed: number;
  /** Leased by another replica. */
  skipped: number;
  /** Disabled servers not due this round. */
  deferred: number;
  /** Store writes that failed (Redis trouble); the server is polled again next round. */
  errors: number;
  durationMs: number;
  /** Meetings the store did not know and now pins to the server that runs them. */
  repinned: number;
  /** Meetings no longer on their server (older than the grace) that were dropped. */
  forgotten: number;
  /** Meetings above the camera curve on the servers this round polled. */
  overCurve: number;
  /** Redis had lost its data and the poller wrote back what it knew. */
  restored: boolean;
  changes: ServerChange[];
}

const NO_LOG: PollerLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** The poller's settings from the process settings. */
export function pollerSettings(s: Settings): PollerSettings {
  return {
    intervalMs: s.AMPHI_POLL_INTERVAL_MS,
    timeoutMs: s.AMPHI_POLL_TIMEOUT_MS,
    concurrency: s.AMPHI_POLL_CONCURRENCY,
    offlineAfter: s.AMPHI_OFFLINE_AFTER,
    onlineAfter: s.AMPHI_ONLINE_AFTER,
    graceMs: s.AMPHI_CREATE_GRACE_MS,
    fadeMs: s.AMPHI_RESERVATION_FADE_MS,
    algorithm: s.AMPHI_UPSTREAM_ALGORITHM,
  };
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return undefined;
}

/** A short reason for the server record and the logs: `timeout`, `refused`, `http 500`, … */
export function failureText(err: unknown): string {
  if (err instanceof BbbClientError) {
    switch (err.kind) {
      case 'timeout':
        return 'timeout';
      case 'refused':
        return 'refused';
      case 'http':
        return `http ${err.status ?? '?'}`;
      case 'malformed':
        return 'malformed XML';
      case 'failed':
        // e.g. checksumError: the secret registered for the server is wrong.
        return `FAILED ${err.messageKey || 'unknown'}`;
      case 'network': {
        const code = errorCode(err.cause);
        return code ? `network ${code}` : 'network error';
      }
    }
  }
  if (err instanceof PollTimeout) return 'timeout';
  return err instanceof Error ? err.message : String(err);
}

class PollTimeout extends Error {}

/** A warning about a server's metrics URL is repeated at most this often (debug otherwise). */
const CPU_WARN_EVERY_MS = 10 * 60_000;
/** A CPU rate is taken over at most this many poll intervals (an older sample is a new baseline). */
const CPU_WINDOW_INTERVALS = 10;

/**
 * GETs a metrics URL: bounded by `timeoutMs` (answer and body) and `maxBytes`, no redirects
 * (the operator named the exporter itself), 200 only.
 */
export async function fetchMetricsText(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
    });
  } catch (err) {
    throw new Error(fetchFailure(err));
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`http ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`answer larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new Error(`answer larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('answer larger')) throw err;
    throw new Error(fetchFailure(err));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function fetchFailure(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return 'refused';
  return code ? `network ${code}` : err instanceof Error ? err.message : String(err);
}

/** Bounds a source that may not honour its own timeout (BbbClient does; injected ones may not). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PollTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A round's log fields: its counts, and the changes an operator looks for (only when there are some). */
export function roundSummary(s: RoundStats): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    servers: s.servers,
    polled: s.polled,
    failed: s.failed,
    leasedElsewhere: s.skipped,
    deferred: s.deferred,
    durationMs: Math.round(s.durationMs),
  };
  if (s.errors > 0) fields.storeErrors = s.errors;
  if (s.restored) fields.restored = true;
  for (const to of ['offline', 'online', 'disabled'] as const) {
    const changed = s.changes.filter((c) => c.to === to);
    if (changed.length > 0) fields[to] = changed.map((c) => (c.error ? { server: c.server, error: c.error } : { server: c.server }));
  }
  if (s.repinned > 0) fields.repinned = s.repinned;
  if (s.forgotten > 0) fields.forgotten = s.forgotten;
  return fields;
}

/** Whether a round deserves an info line rather than a debug one. */
export function isNoteworthy(s: RoundStats): boolean {
  return s.changes.length > 0 || s.repinned > 0 || s.forgotten > 0 || s.errors > 0 || s.restored;
}

export class Poller {
  readonly owner: string;
  private readonly store: Store;
  private readonly opts: PollerOptions;
  private readonly log: PollerLog;
  /** Called once per server and (url, secret): opts.clientFor, else a BBB client. */
  private readonly clients = new ServerClients<MeetingsSource>(
    (server) =>
      this.opts.clientFor?.(server) ??
      new BbbClient({ apiUrl: server.url, secret: server.secret, algorithm: this.opts.algorithm, timeoutMs: this.opts.timeoutMs }),
  );
  /** When this replica last tried each server (failures leave no trace in the shared record). */
  private readonly attempted = new Map<string, number>();
  /** Meetings last seen over the camera curve (logged once when they cross it). */
  private readonly overCurve = new Set<string>();
  /** When a warning about each server's metrics URL was last logged. */
  private readonly cpuWarned = new Map<string, number>();
  private lastServers: ServerRecord[] = [];
  private lastTenants: TenantRecord[] = [];
  private current: Promise<RoundStats> | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private readonly sleeper = new Sleeper();

  constructor(opts: PollerOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.log = opts.log ?? NO_LOG;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  /** One round over the pool. A call while a round is running returns that round. */
  pollOnce(): Promise<RoundStats> {
    this.current ??= this.round().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** Runs a round every interval (from round start to round start) until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the schedule, waits for the round in progress, and hands its servers to other replicas. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = undefined;
    await this.current;
    const leases = [...this.attempted.keys()].map((id) => `poll:${id}`);
    await this.store.releaseLocks(leases, this.owner).catch((err: unknown) => {
      this.log.warn({ err }, 'could not give back the poll leases');
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        await this.pollOnce();
      } catch (err) {
        this.log.error({ err }, 'poll round failed');
      }
      const wait = this.opts.intervalMs - (performance.now() - started);
      if (this.running && wait > 0) await this.sleeper.sleep(wait);
    }
  }

  private async round(): Promise<RoundStats> {
    const started = performance.now();
    const restored = await this.restoreIfLost();
    const [servers, tenants] = await Promise.all([this.store.servers.list(), this.store.tenants.list()]);
    // Copies that each poll updates: a restore brings servers back as this round left them,
    // not offline for onlineAfter rounds. An empty answer keeps the memory: Redis may have been
    // flushed just after the data-loss check, and the next round must still restore.
    const memory = servers.map((s) => ({ ...s }));
    if (memory.length > 0) this.lastServers = memory;
    if (tenants.length > 0) this.lastTenants = tenants;
    this.forgetRemoved(servers);

    const stats: RoundStats = {
      servers: servers.length,
      polled: 0,
      failed: 0,
      skipped: 0,
      deferred: 0,
      errors: 0,
      durationMs: 0,
      repinned: 0,
      forgotten: 0,
      overCurve: 0,
      restored,
      changes: [],
    };
    const tenantNames = new Set(tenants.map((t) => t.name));
    const weights = await this.loadWeights();
    // What this replica's polls say of the load model; other replicas fold in their own.
    const observations: LoadObservation[] = [];
    await mapLimit(servers, this.opts.concurrency, async (server, i) => {
      const result = await this.pollServer(server, tenantNames, stats, weights);
      if (result.observation) observations.push(result.observation);
      const known = memory[i]!;
      if (result.health !== undefined && result.health !== 'gone') known.health = result.health;
      if (result.state !== undefined && result.state !== 'gone') known.state = result.state;
      stats[result.outcome === 'error' ? 'errors' : result.outcome] += 1;
      this.notify(() => this.opts.onServer?.(result));
    });
    await this.learnLoad(observations);
    stats.durationMs = performance.now() - started;
    this.log[isNoteworthy(stats) ? 'info' : 'debug'](roundSummary(stats), 'poll round');
    this.notify(() => this.opts.onRound?.(stats));
    return stats;
  }

  /**
   * Meetings whose live counts are above the camera curve (cameras turned on after the joins):
   * new joins are already held to the curve; here they are counted for metrics and logged
   * once when they cross it.
   */
  private flagOverCurve(serverId: string, meetings: readonly PolledMeeting[], policy: Policy): number {
    let count = 0;
    for (const m of meetings) {
      const ref = `${serverId}|${m.tenant}:${m.meetingID}`;
      if (overCurve(m.info.participantCount, m.info.videoCount, policy.curve.points)) {
        count++;
        if (!this.overCurve.has(ref)) {
          this.overCurve.add(ref);
          this.log.warn(
            { server: serverId, tenant: m.tenant, meetingID: m.meetingID, participants: m.info.participantCount, cameras: m.info.videoCount },
            'meeting over the camera curve; new joins are held to the curve',
          );
        }
      } else {
        this.overCurve.delete(ref);
      }
    }
    return count;
  }

  /** Never throws: one server's trouble (or a failed write) must not end the round. */
  private async pollServer(server: ServerRecord, tenants: ReadonlySet<string>, stats: RoundStats, weights: LoadWeights): Promise<ServerPollResult> {
    const started = performance.now();
    const result = (outcome: ServerPollResult['outcome'], extra: Partial<ServerPollResult> = {}): ServerPollResult => ({
      server: server.id,
      outcome,
      durationMs: performance.now() - started,
      ...extra,
    });
    const { store, opts } = this;
    try {
      if (server.state === 'disabled' && !this.isDue(server)) return result('deferred');
      // The lease outlives the call itself, so no other replica polls the server meanwhile.
      if (!(await store.holdLock(`poll:${server.id}`, this.owner, opts.intervalMs + opts.timeoutMs))) return result('skipped');
      this.attempted.set(server.id, store.ctx.now());

      let infos: MeetingInfo[];
      // What the answer says is as of this time: a live read written after it is newer.
      const askedAt = store.ctx.now();
      // The CPU is read beside getMeetings; it never fails the poll (see readServerCpu).
      const cpuRead = this.readServerCpu(server);
      try {
        infos = await withTimeout(this.clients.for(server).getMeetings(), opts.timeoutMs);
      } catch (err) {
        const error = failureText(err);
        const health = await store.polls.failure(server.id, error, opts.offlineAfter);
        if (server.health === 'online' && health === 'offline') stats.changes.push({ server: server.id, to: 'offline', error });
        return result('failed', { error, health });
      }

      const policy = this.opts.policy?.();
      const reading = await cpuRead;
      const { cpu, fields: cpuFields, error: cpuError } = this.cpuOf(server, reading);
      const { totals, meetings, modelLoad } = withCpu(measureServer(infos, tenants, weights), server.capacity, cpu, server.modelLoad);
      const overCurveCount = policy ? this.flagOverCurve(server.id, meetings, policy) : 0;
      const applied = await store.polls.success(server.id, { ...totals, overCurve: overCurveCount, modelLoad, ...cpuFields }, meetings, opts, askedAt);
      stats.repinned += applied.repinned;
      stats.overCurve += overCurveCount;
      stats.forgotten += applied.forgotten;
      if (server.health !== 'online' && applied.health === 'online') stats.changes.push({ server: server.id, to: 'online' });
      if (server.state === 'cordoned' && applied.state === 'disabled') stats.changes.push({ server: server.id, to: 'disabled' });
      return result('polled', {
        health: applied.health,
        state: applied.state,
        meetings: meetings.length,
        ...(cpu === undefined ? {} : { cpu }),
        ...(cpuError === undefined ? {} : { cpuError }),
        ...(reading?.kind === 'utilization' && applied.health === 'online' ? { observation: { ...totals, server: server.id, capacity: server.capacity, cpu: reading.cpu } } : {}),
      });
    } catch (err) {
      this.log.error({ server: server.id, err }, 'poll: store write failed');
      return result('error', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** How long a CPU reading counts (placement/cpu-load.ts): a few poll intervals. */
  private get cpuFreshMs(): number {
    return CPU_FRESH_INTERVALS * this.opts.intervalMs + this.opts.timeoutMs;
  }

  /**
   * Scrapes the server's metrics URL and reads its CPU against the previous sample (kept in
   * the server's record in Redis, so whichever replica polls next continues the rate). Never
   * rejects: a failed scrape is a reading of kind 'malformed' with the reason.
   */
  private async readServerCpu(server: ServerRecord): Promise<CpuReading | undefined> {
    if (!server.metricsUrl) return undefined;
    const { opts } = this;
    try {
      const fetchText = opts.fetchMetrics ?? ((url: string) => fetchMetricsText(url, opts.timeoutMs, opts.maxMetricsBytes ?? 8 * 1024 * 1024));
      const text = await withTimeout(fetchText(server.metricsUrl), opts.timeoutMs);
      return readCpu(text, this.store.ctx.now(), decodeCpuSample(server.cpuSample), CPU_WINDOW_INTERVALS * opts.intervalMs);
    } catch (err) {
      return { kind: 'malformed', reason: failureText(err) };
    }
  }

  /**
   * The CPU figure this poll uses (this scrape's, else the record's while fresh) and the fields
   * to write: a new reading and sample, or the clearing of a reading gone stale.
   */
  private cpuOf(server: ServerRecord, reading: CpuReading | undefined): { cpu: number | undefined; fields: PolledCpu; error?: string } {
    const now = this.store.ctx.now();
    if (reading?.kind === 'utilization') {
      this.cpuRecovered(server);
      return { cpu: reading.cpu, fields: { cpu: reading.cpu, cpuAt: now, cpuSample: encodeCpuSample(reading.sample) } };
    }
    const fields: PolledCpu = {};
    let error: string | undefined;
    if (reading?.kind === 'baseline') {
      fields.cpuSample = encodeCpuSample(reading.sample);
      this.cpuRecovered(server);
      this.log.debug({ server: server.id, reason: reading.reason }, 'CPU: no figure until the next poll');
    } else if (reading?.kind === 'malformed') {
      error = reading.reason;
      this.cpuTrouble(server, reading.reason);
    }
    const cpu = freshCpu(server.cpu, server.cpuAt, now, this.cpuFreshMs);
    if (cpu === undefined && server.cpu !== undefined) fields.cpu = '';
    return { cpu, fields, ...(error === undefined ? {} : { error }) };
  }

  /** A failed scrape: a warning when it starts, then at most every CPU_WARN_EVERY_MS; debug otherwise. */
  private cpuTrouble(server: ServerRecord, reason: string): void {
    const now = this.store.ctx.now();
    const last = this.cpuWarned.get(server.id);
    const msg = 'CPU unknown: the metrics URL gave no usable node_cpu_seconds_total; the load model alone measures the server';
    const at = last === undefined || now - last >= CPU_WARN_EVERY_MS ? 'warn' : 'debug';
    if (at === 'warn') this.cpuWarned.set(server.id, now);
    this.log[at]({ server: server.id, reason }, msg);
  }

  private cpuRecovered(server: ServerRecord): void {
    if (this.cpuWarned.delete(server.id)) this.log.info({ server: server.id }, 'CPU readable again from the metrics URL');
  }

  /**
   * The weights this round measures with: learned from the servers' CPU (placement/cpu-load.ts
   * rule 2), else the policy's. Read once a round; a failed read falls back to the policy's.
   */
  private async loadWeights(): Promise<LoadWeights> {
    const prior = this.opts.policy?.().load.weights ?? this.opts.weights ?? DEFAULT_LOAD_WEIGHTS;
    try {
      return (await this.store.polls.learnedWeights(prior)) ?? prior;
    } catch (err) {
      this.log.warn({ err }, 'could not read the learned load model');
      return prior;
    }
  }

  /** Folds this round's observations into the learned load model. Never throws. */
  private async learnLoad(observations: readonly LoadObservation[]): Promise<void> {
    if (observations.length === 0) return;
    try {
      await this.store.polls.learnLoad(observations);
    } catch (err) {
      this.log.warn({ err }, 'could not update the learned load model');
    }
  }

  /** Disabled servers are polled now and then only: operators still see their health. */
  private isDue(server: ServerRecord): boolean {
    const every = this.opts.disabledIntervalMs ?? 6 * this.opts.intervalMs;
    const last = Math.max(server.polledAt, this.attempted.get(server.id) ?? 0);
    return this.store.ctx.now() - last >= every;
  }

  private forgetRemoved(servers: readonly ServerRecord[]): void {
    const ids = new Set(servers.map((s) => s.id));
    this.clients.retain(ids);
    for (const id of this.attempted.keys()) if (!ids.has(id)) this.attempted.delete(id);
    for (const id of this.cpuWarned.keys()) if (!ids.has(id)) this.cpuWarned.delete(id);
  }

  private async restoreIfLost(): Promise<boolean> {
    if (!(await this.store.dataLost())) return false;
    this.log.warn(
      { servers: this.lastServers.length, tenants: this.lastTenants.length },
      'Redis lost the pool state: writing back the servers and tenants of the last round; this round re-pins the meetings they run',
    );
    await this.store.restore(this.lastServers, this.lastTenants);
    return true;
  }

  private notify(hook: () => void): void {
    try {
      hook();
    } catch {
      // A metrics hook must never break polling.
    }
  }
}
