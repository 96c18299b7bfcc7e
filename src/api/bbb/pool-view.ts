import { BbbClient } from '../../bbb/client.js';
import type { ChecksumAlgorithm } from '../../bbb/checksum.js';
import type { ServerView } from '../../placement/choose.js';
import type { Store } from '../../state/store.js';
import type { ServerRecord } from '../../state/types.js';

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
  private servers = new Map<string, ServerRecord>();
  private views: ServerView[] = [];
  private readAt = -Infinity;
  private pending: Promise<void> | undefined;
  private readonly clients = new Map<string, { key: string; client: BbbClient }>();

  constructor(
    private readonly store: Store,
    private readonly opts: PoolViewOptions,
  ) {}

  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.readAt < this.opts.maxAgeMs) return;
    this.pending ??= this.read().finally(() => (this.pending = undefined));
    await this.pending;
  }

  private async read(): Promise<void> {
    const { servers, views } = await this.store.snapshot(this.opts.fadeMs);
    this.servers = new Map(servers.map((s) => [s.id, s]));
    this.views = views;
    this.readAt = Date.now();
  }

  async server(id: string): Promise<ServerRecord | undefined> {
    await this.refresh();
    let server = this.servers.get(id);
    // A server added since the last read: look once more rather than fail a request.
    if (!server) {
      await this.refresh(true);
      server = this.servers.get(id);
    }
    return server;
  }

  async placementViews(): Promise<ServerView[]> {
    await this.refresh();
    return this.views;
  }

  async onlineServers(): Promise<ServerRecord[]> {
    await this.refresh();
    return [...this.servers.values()].filter((s) => s.health === 'online' && s.state !== 'disabled');
  }

  /** One client per server, rebuilt when its URL or secret changes. */
  client(server: ServerRecord): BbbClient {
    const key = `${server.url}\n${server.secret}`;
    const cached = this.clients.get(server.id);
    if (cached?.key === key) return cached.client;
    const client = new BbbClient({
      apiUrl: server.url,
      secret: server.secret,
      algorithm: this.opts.algorithm,
      timeoutMs: this.opts.timeoutMs,
    });
    this.clients.set(server.id, { key, client });
    return client;
  }
}

/** Whether a meeting on this server can still be reached (and so still exists for clients). */
export function isReachable(server: ServerRecord | undefined): server is ServerRecord {
  return server !== undefined && server.health === 'online' && server.state !== 'disabled';
}
