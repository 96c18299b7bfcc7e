import { DEFAULT_TENANT } from '../../state/namespace.js';
import type { Store } from '../../state/store.js';
import type { TenantRecord } from '../../state/types.js';

export interface Tenant {
  name: string;
  secrets: readonly string[];
  settings: Record<string, unknown>;
}

/**
 * Tenants as the gateway sees them, cached in memory (re-read every `refreshMs`) so a request
 * costs no Redis read to find its secrets. The default tenant's secrets are AMPHI_SECRET plus
 * any stored for a tenant named `default`.
 */
export class TenantDirectory {
  private byName = new Map<string, Tenant>();
  private byHost = new Map<string, Tenant>();
  private readAt = -Infinity;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly defaultSecrets: readonly string[],
    private readonly refreshMs = 2000,
  ) {}

  private async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.readAt < this.refreshMs) return;
    this.pending ??= this.store.tenants
      .list()
      .then((records) => this.index(records))
      .finally(() => (this.pending = undefined));
    await this.pending;
  }

  private index(records: TenantRecord[]): void {
    const byName = new Map<string, Tenant>();
    const byHost = new Map<string, Tenant>();
    const stored = records.find((r) => r.name === DEFAULT_TENANT);
    byName.set(DEFAULT_TENANT, {
      name: DEFAULT_TENANT,
      secrets: [...this.defaultSecrets, ...(stored?.secrets ?? [])],
      settings: stored?.settings ?? {},
    });
    for (const r of records) {
      if (r.name === DEFAULT_TENANT) continue;
      const tenant = { name: r.name, secrets: r.secrets, settings: r.settings };
      byName.set(r.name, tenant);
      for (const host of r.hostnames) byHost.set(host.toLowerCase(), tenant);
    }
    this.byName = byName;
    this.byHost = byHost;
    this.readAt = Date.now();
  }

  /** The tenant named in a `/t/<name>/` path prefix; undefined when unknown. */
  async named(name: string): Promise<Tenant | undefined> {
    await this.refresh();
    if (!this.byName.has(name)) await this.refresh(true);
    return this.byName.get(name);
  }

  /** The tenant that owns a host name, else the default tenant. */
  async forHost(host: string | undefined): Promise<Tenant> {
    await this.refresh();
    const bare = (host ?? '').toLowerCase().replace(/:\d+$/, '');
    return this.byHost.get(bare) ?? this.byName.get(DEFAULT_TENANT)!;
  }

  async names(): Promise<Set<string>> {
    await this.refresh();
    return new Set(this.byName.keys());
  }
}
