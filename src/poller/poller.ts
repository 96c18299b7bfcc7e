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
import { measureServer } from './measure.js';

/** What the poller needs of a server's API; BbbClient by default, a fake in tests. */
export interface MeetingsSource {
  getMeetings(): Promise<MeetingInfo[]>;
}

export interface PollerLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

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

/** Bounds a source that may not honour its own timeout (BbbClient does; injected ones may not). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PollTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** One line describing a round; the changes are what an operator looks for. */
export function roundSummary(s: RoundStats): string {
  const parts = [
    `poll round: ${s.servers} servers, ${s.polled} polled, ${s.failed} failed, ${s.skipped} leased elsewhere, ` +
      `${s.deferred} deferred in ${Math.round(s.durationMs)} ms`,
  ];
  if (s.errors > 0) parts.push(`${s.errors} store errors`);
  if (s.restored) parts.push('state restored after a Redis data loss');
  for (const to of ['offline', 'online', 'disabled'] as const) {
    const changed = s.changes.filter((c) => c.to === to);
    if (changed.length > 0) {
      parts.push(`${to}: ${changed.map((c) => (c.error ? `${c.server} (${c.error})` : c.server)).join(', ')}`);
    }
  }
  if (s.repinned > 0) parts.push(`${s.repinned} meetings re-pinned`);
  if (s.forgotten > 0) parts.push(`${s.forgotten} meetings forgotten`);
  return parts.join('; ');
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
      this.log.warn(`could not give back the poll leases: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        await this.pollOnce();
      } catch (err) {
        this.log.error(`poll round failed: ${err instanceof Error ? err.message : String(err)}`);
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
      restored,
      changes: [],
    };
    const tenantNames = new Set(tenants.map((t) => t.name));
    await mapLimit(servers, this.opts.concurrency, async (server, i) => {
      const result = await this.pollServer(server, tenantNames, stats);
      const known = memory[i]!;
      if (result.health !== undefined && result.health !== 'gone') known.health = result.health;
      if (result.state !== undefined && result.state !== 'gone') known.state = result.state;
      stats[result.outcome === 'error' ? 'errors' : result.outcome] += 1;
      this.notify(() => this.opts.onServer?.(result));
    });
    stats.durationMs = performance.now() - started;
    (isNoteworthy(stats) ? this.log.info : this.log.debug).call(this.log, roundSummary(stats));
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
            `meeting ${m.tenant}:${m.meetingID} on ${serverId} is over the camera curve: ` +
              `${m.info.participantCount} participants with ${m.info.videoCount} cameras; new joins are held to the curve`,
          );
        }
      } else {
        this.overCurve.delete(ref);
      }
    }
    return count;
  }

  /** Never throws: one server's trouble (or a failed write) must not end the round. */
  private async pollServer(server: ServerRecord, tenants: ReadonlySet<string>, stats: RoundStats): Promise<ServerPollResult> {
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
      try {
        infos = await withTimeout(this.clients.for(server).getMeetings(), opts.timeoutMs);
      } catch (err) {
        const error = failureText(err);
        const health = await store.polls.failure(server.id, error, opts.offlineAfter);
        if (server.health === 'online' && health === 'offline') stats.changes.push({ server: server.id, to: 'offline', error });
        return result('failed', { error, health });
      }

      const policy = this.opts.policy?.();
      const { totals, meetings } = measureServer(infos, tenants, policy?.load.weights ?? opts.weights);
      const overCurveCount = policy ? this.flagOverCurve(server.id, meetings, policy) : 0;
      const applied = await store.polls.success(server.id, { ...totals, overCurve: overCurveCount }, meetings, opts, askedAt);
      stats.repinned += applied.repinned;
      stats.forgotten += applied.forgotten;
      if (server.health !== 'online' && applied.health === 'online') stats.changes.push({ server: server.id, to: 'online' });
      if (server.state === 'cordoned' && applied.state === 'disabled') stats.changes.push({ server: server.id, to: 'disabled' });
      return result('polled', { health: applied.health, state: applied.state, meetings: meetings.length });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.log.error(`poll of ${server.id}: store write failed: ${error}`);
      return result('error', { error });
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
  }

  private async restoreIfLost(): Promise<boolean> {
    if (!(await this.store.dataLost())) return false;
    this.log.warn(
      `Redis lost the pool state: writing back ${this.lastServers.length} servers and ${this.lastTenants.length} tenants ` +
        'from the last round; this round re-pins the meetings they run',
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
