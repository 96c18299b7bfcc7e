import { BbbClient } from '../../bbb/client.js';
import type { ChecksumAlgorithm } from '../../bbb/checksum.js';
import type { ServerView } from '../../placement/choose.js';
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
  private readonly snapshot: CachedRead<{ servers: Map<string, ServerRecord>; views: ServerView[]; calibration: number }>;
  private readonly clients: ServerClients<BbbClient>;

  constructor(store: Store, opts: PoolViewOptions) {
    this.snapshot = new CachedRead(async () => {
      const { servers, views, calibration } = await store.snapshot(opts.fadeMs);
      this.clients.retain(new Set(servers.map((s) => s.id)));
      return { servers: new Map(servers.map((s) => [s.id, s])), views, calibration };
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

  /** What new meetings' reservations are multiplied by (placement/cpu-load.ts rule 2); 1 when none learned. */
  async calibration(): Promise<number> {
    return (await this.snapshot.get()).calibration;
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
