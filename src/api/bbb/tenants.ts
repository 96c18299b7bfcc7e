import { DEFAULT_TENANT } from '../../state/namespace.js';
import { TENANT_NAME } from '../../state/tenant-registry.js';
import type { Store } from '../../state/store.js';
import type { TenantRecord } from '../../state/types.js';
import { CachedRead } from '../../util/cached-read.js';

const FORCED_READ_INTERVAL_MS = 1000;

export interface Tenant {
  name: string;
  secrets: readonly string[];
  settings: Record<string, unknown>;
}

interface TenantIndex {
  byName: Map<string, Tenant>;
  byHost: Map<string, Tenant>;
}

/**
 * Tenants as the gateway sees them, cached in memory (re-read every `refreshMs`) so a request
 * costs no Redis read to find its secrets. The default tenant's secrets are AMPHI_SECRET plus
 * any stored for a tenant named `default`.
 */
export class TenantDirectory {
  private readonly index: CachedRead<TenantIndex>;
  private lastForcedRead = 0;

  constructor(store: Store, defaultSecrets: readonly string[], refreshMs = 2000) {
    this.index = new CachedRead(async () => indexTenants(await store.tenants.list(), defaultSecrets), refreshMs);
  }

  /** The tenant named in a `/t/<name>/` path prefix; undefined when unknown. */
  async named(name: string): Promise<Tenant | undefined> {
    const known = (await this.index.get()).byName.get(name);
    if (known || !TENANT_NAME.test(name)) return known;
    // A tenant added since the last read: look once more rather than refuse its request, but
    // at most once a second, or strangers naming unknown tenants would reread them all each time.
    const now = Date.now();
    if (now - this.lastForcedRead < FORCED_READ_INTERVAL_MS) return undefined;
    this.lastForcedRead = now;
    return (await this.index.get(true)).byName.get(name);
  }

  /** The tenant that owns a host name, else the default tenant. */
  async forHost(host: string | undefined): Promise<Tenant> {
    const { byHost, byName } = await this.index.get();
    const bare = (host ?? '').toLowerCase().replace(/:\d+$/, '');
    return byHost.get(bare) ?? byName.get(DEFAULT_TENANT)!;
  }

  async names(): Promise<Set<string>> {
    return new Set((await this.index.get()).byName.keys());
  }
}

function indexTenants(records: TenantRecord[], defaultSecrets: readonly string[]): TenantIndex {
  const byName = new Map<string, Tenant>();
  const byHost = new Map<string, Tenant>();
  const stored = records.find((r) => r.name === DEFAULT_TENANT);
  byName.set(DEFAULT_TENANT, {
    name: DEFAULT_TENANT,
    secrets: [...defaultSecrets, ...(stored?.secrets ?? [])],
    settings: stored?.settings ?? {},
  });
  for (const r of records) {
    if (r.name === DEFAULT_TENANT) continue;
    const tenant = { name: r.name, secrets: r.secrets, settings: r.settings };
    byName.set(r.name, tenant);
    for (const host of r.hostnames) byHost.set(host.toLowerCase(), tenant);
  }
  return { byName, byHost };
}
