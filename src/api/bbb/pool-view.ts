import { BbbClient } from '../../bbb/client.js';
import type { ChecksumAlgorithm } from '../../bbb/checksum.js';
import type { ServerView } from '../../placement/choose.js';
import { learnedWeights, type LoadStatistics } from '../../placement/learned-weights.js';
import type { LoadWeights } from '../../placement/load-model.js';
import type { Store } from '../../state/store.js';
import { ServerClients } from '../../state/server-clients.js';
import type { ServerRecord } from '../../state/types.js';
import { CachedRead } from '../../util/cached-read.js';

export interface PoolViewOptions {
  /** How long a snapshot is reused before the next read of Redis. */
  maxAgeMs: number;
  fadeMs: number;
  algorithm: ChecksumAlgorithm;
  timeoutMs: number;
}

/**
 * A gateway's cached view of the pool: server records (for join redirects and upstream calls)
 * and placement views. Reused for `maxAgeMs`, so a burst of joins costs no extra Redis reads;
 * placement re-checks its choice live in Redis, so staleness never over-commits a server.
 */
export class PoolView {
  private readonly snapshot: CachedRead<{ servers: Map<string, ServerRecord>; views: ServerView[]; learnedLoad: LoadStatistics | undefined }>;
  /** The last weights solved, for the statistics and prior they were solved from. */
  private solved: { stats: LoadStatistics | undefined; prior: LoadWeights; weights: LoadWeights } | undefined;
  private readonly clients: ServerClients<BbbClient>;

  constructor(
    private readonly store: Store,
    opts: PoolViewOptions,
  ) {
    this.snapshot = new CachedRead(async () => {
      const { servers, views, learnedLoad } = await store.snapshot(opts.fadeMs);
      this.clients.retain(new Set(servers.map((s) => s.id)));
      return { servers: new Map(servers.map((s) => [s.id, s])), views, learnedLoad };
    }, opts.maxAgeMs);
    this.clients = new ServerClients(
      (server) => new BbbClient({ apiUrl: server.url, secret: server.secret, algorithm: opts.algorithm, timeoutMs: opts.timeoutMs }),
    );
  }

  /** Reads the pool again now (a server may have come online since the last read). */
  async refresh(): Promise<void> {
    await this.snapshot.get(true);
  }

  async server(id: string): Promise<ServerRecord | undefined> {
    // A server added since the last read: look once more rather than fail a request.
    return (await this.snapshot.get()).servers.get(id) ?? (await this.snapshot.get(true)).servers.get(id);
  }

  async placementViews(): Promise<ServerView[]> {
    return (await this.snapshot.get()).views;
  }

  /**
   * The load weights new meetings are reserved with: learned from the servers' CPU
   * (placement/cpu-load.ts rule 2), or `prior` (the policy's) until enough is learned. Solved
   * once per snapshot and policy, not per create.
   */
  async loadWeights(prior: LoadWeights): Promise<LoadWeights> {
    const stats = (await this.snapshot.get()).learnedLoad;
    const last = this.solved;
    if (last !== undefined && last.stats === stats && last.prior === prior) return last.weights;
    const weights = learnedWeights(stats, prior, this.store.ctx.now()) ?? prior;
    this.solved = { stats, prior, weights };
    return weights;
  }

  async onlineServers(): Promise<ServerRecord[]> {
    return [...(await this.snapshot.get()).servers.values()].filter((s) => s.health === 'online' && s.state !== 'disabled');
  }

  client(server: ServerRecord): BbbClient {
    return this.clients.for(server);
  }
}

/** Whether a meeting on this server can still be reached (and so still exists for clients). */
export function isReachable(server: ServerRecord | undefined): server is ServerRecord {
  return server !== undefined && server.health === 'online' && server.state !== 'disabled';
}
