// The `static` provider: no scaling. The pool is what the operator configured; the scaler may
// still drain and report, but it can neither add nor remove a server, and says so.
import { ProviderError } from './provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from './provider.js';

export interface StaticServer {
  /** Default: the API URL. */
  id?: string;
  apiUrl: string;
  secret: string;
  sizeClass: string;
  tags?: Record<string, string>;
}

export const STATIC_POOL_FIXED = 'static provider: the pool is fixed';

export class StaticProvider implements CloudProvider {
  readonly name = 'static';
  readonly fixedPool = true;
  private readonly servers: ReadonlyMap<string, ProvisionedServer>;

  constructor(servers: readonly StaticServer[]) {
    const byId = new Map<string, ProvisionedServer>();
    for (const s of servers) {
      const id = s.id ?? s.apiUrl;
      if (byId.has(id)) throw new Error(`static provider: server "${id}" is listed twice`);
      byId.set(id, { id, sizeClass: s.sizeClass, status: 'running', apiUrl: s.apiUrl, secret: s.secret, tags: { ...s.tags } });
    }
    this.servers = byId;
  }

  async create(_req: CreateRequest): Promise<ProvisionedServer> {
    throw fixed('create');
  }

  async delete(_id: string): Promise<void> {
    throw fixed('delete');
  }

  async list(): Promise<ProvisionedServer[]> {
    return [...this.servers.values()].map(copy);
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const s = this.servers.get(id);
    return s && copy(s);
  }

  async status(id: string): Promise<ProviderServerStatus> {
    return this.servers.has(id) ? 'running' : 'gone';
  }
}

/** `static provider: the pool is fixed (create refused)`; never worth a retry. */
function fixed(call: string): ProviderError {
  return new ProviderError('static', `the pool is fixed (${call} refused)`, { retryable: false });
}

const copy = (s: ProvisionedServer): ProvisionedServer => ({ ...s, tags: { ...s.tags } });
