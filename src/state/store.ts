import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Announcements } from './announcements.js';
import type { ServerView } from '../placement/choose.js';
import type { LoadStatistics } from '../placement/learned-weights.js';
import { reservedLoad, type ReservationTotals } from '../placement/reservations.js';
import { decodeServer } from './codec.js';
import type { StoreContext } from './context.js';
import { keysFor, meetingRef } from './keys.js';
import { MeetingDirectory } from './meeting-directory.js';
import { decodeLearnedLoad, PollWriter } from './poll-writer.js';
import { waitForReplicas, type ReplicationOptions } from './replication.js';
import { RoomStore } from './rooms.js';
import { runScript } from './scripts.js';
import { ServerRegistry } from './server-registry.js';
import { TenantRegistry } from './tenant-registry.js';
import type { ServerRecord, TenantRecord } from './types.js';

export interface StoreOptions {
  pool?: string;
  /** Key namespace; tests use their own so they never touch anything else. */
  namespace?: string;
  now?: () => number;
  /** AMPHI_REDIS_WAIT_REPLICAS > 0: what replicated() waits on; unset, it returns at once. */
  replication?: ReplicationOptions;
}

/** The Redis-backed state of one pool: servers, meetings, tenants, and poll outcomes. */
export class Store {
  readonly ctx: StoreContext;
  readonly servers: ServerRegistry;
  readonly meetings: MeetingDirectory;
  readonly tenants: TenantRegistry;
  readonly polls: PollWriter;
  /** Meetings announced by their creates, for the scaler's forecast. */
  readonly announcements: Announcements;
  /** Teachers' rooms and their join links (the /v1 API and the /j pages). */
  readonly rooms: RoomStore;
  private epoch: string | undefined;
  private readonly replication: ReplicationOptions | undefined;

  constructor(redis: Redis, opts: StoreOptions = {}) {
    this.replication = opts.replication;
    this.ctx = { redis, keys: keysFor(opts.pool ?? 'default', opts.namespace), now: opts.now ?? Date.now };
    this.servers = new ServerRegistry(this.ctx);
    this.meetings = new MeetingDirectory(this.ctx);
    this.tenants = new TenantRegistry(this.ctx);
    this.polls = new PollWriter(this.ctx);
    this.announcements = new Announcements(this.ctx);
    this.rooms = new RoomStore(this.ctx);
  }

  /**
   * Resolves once the configured replicas hold every write answered so far; throws a
   * ReplicationError otherwise, or when `meeting` (the one a create placed) is no longer in
   * Redis by then (a failover in between lost it).
   */
  async replicated(meeting?: { tenant: string; meetingID: string }): Promise<void> {
    if (!this.replication) return;
    const key = meeting && this.ctx.keys.meeting(meetingRef(meeting.tenant, meeting.meetingID));
    await waitForReplicas(this.replication, this.ctx.keys.replicationMark, key);
  }

  /**
   * Reports whether Redis lost our data since this process last looked: the epoch key is
   * written once and only disappears with a flush or a failover to an empty replica.
   */
  async dataLost(): Promise<boolean> {
    const { redis, keys } = this.ctx;
    const candidate = randomBytes(8).toString('hex');
    const set = await redis.set(keys.epoch, candidate, 'NX');
    const current = set === 'OK' ? candidate : ((await redis.get(keys.epoch)) ?? candidate);
    const lost = this.epoch !== undefined && current !== this.epoch;
    this.epoch = current;
    return lost;
  }

  /** Writes back servers and tenants a process still knows after Redis lost them. */
  async restore(servers: readonly ServerRecord[], tenants: readonly TenantRecord[]): Promise<void> {
    const known = new Set(await this.servers.ids());
    for (const s of servers) {
      if (known.has(s.id)) continue;
      // Who manages it and its class come back too: a scaler-created server must stay removable.
      const { id, url, secret, capacity, tags, state, health, sizeClass, managedBy, metricsUrl } = s;
      await this.servers.add({ id, url, secret, capacity, tags, state, health, sizeClass, managedBy, ...(metricsUrl ? { metricsUrl } : {}) });
    }
    for (const t of tenants) if (!(await this.tenants.get(t.name))) await this.tenants.put(t);
  }

  /**
   * Every server as placement sees it: measured load plus what young meetings still reserve,
   * from the reservation sums each server hash carries (placement/reservations.ts, the formula
   * place-meeting.lua applies too). One pipeline; the atomic placement step re-checks live.
   */
  async snapshot(fadeMs: number): Promise<{ servers: ServerRecord[]; views: ServerView[]; learnedLoad: LoadStatistics | undefined }> {
    const { redis, keys } = this.ctx;
    const ids = await this.servers.ids();
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.server(id));
    // The load model learned from the servers' CPU (placement/cpu-load.ts rule 2), same pass.
    pipeline.hgetall(keys.calibration);
    const results = (await pipeline.exec()) ?? [];
    const now = this.ctx.now();
    const servers: ServerRecord[] = [];
    const views: ServerView[] = [];
    ids.forEach((id, i) => {
      const h = (results[i]?.[1] ?? {}) as Record<string, string>;
      const s = decodeServer(id, h);
      if (!s) return;
      const reserved = h.resvReserved === undefined ? 0 : reservedLoad(decodeTotals(h), now, fadeMs);
      servers.push(s);
      views.push({ id, capacity: s.capacity, load: s.measuredLoad + reserved, state: s.state, health: s.health, tags: s.tags });
    });
    const learnedLoad = decodeLearnedLoad(results[ids.length]?.[1] as Record<string, string> | undefined);
    return { servers, views, learnedLoad };
  }

  /**
   * A lease its holder renews: true when `owner` holds it afterwards (taken, or extended because
   * it already held it). The poller keeps its servers across rounds without skipping its own.
   */
  async holdLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await runScript(this.ctx.redis, 'hold-lock', [this.ctx.keys.lock(name)], [owner, ttlMs])) === 1;
  }

  /** Gives back the named leases this owner still holds; returns how many it released. */
  async releaseLocks(names: readonly string[], owner: string): Promise<number> {
    if (names.length === 0) return 0;
    return Number(await runScript(this.ctx.redis, 'release-lock', names.map((n) => this.ctx.keys.lock(n)), [owner]));
  }
}

/** The reservation sums the Lua scripts keep in a server hash (see place-meeting.lua). */
function decodeTotals(h: Record<string, string>): ReservationTotals {
  return { reserved: Number(h.resvReserved), reservedAt: Number(h.resvReservedAt), measured: Number(h.resvMeasured), until: Number(h.resvUntil) };
}
