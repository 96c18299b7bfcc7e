import type { ServerRecord } from './types.js';

/**
 * One client per server, kept while the server's URL and secret stay the same and rebuilt when
 * either changes (a secret rotated, a server moved); shared by the gateway and the poller.
 */
export class ServerClients<T> {
  private readonly clients = new Map<string, { key: string; client: T }>();

  constructor(private readonly make: (server: ServerRecord) => T) {}

  for(server: ServerRecord): T {
    const key = `${server.url}\n${server.secret}`;
    const cached = this.clients.get(server.id);
    if (cached?.key === key) return cached.client;
    const client = this.make(server);
    this.clients.set(server.id, { key, client });
    return client;
  }

  /** Drops the clients of servers no longer in the pool. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.clients.keys()) if (!ids.has(id)) this.clients.delete(id);
  }
}
