import type { Registry } from 'prom-client';
import { DEFAULT_TENANT } from '../state/namespace.js';
import type { Store } from '../state/store.js';
import { scrapeGauges } from './scrape-gauges.js';

// Per-tenant usage, read from Redis when Prometheus scrapes: what the tenant quotas count, so a
// tenant nearing its quota shows before its creates and joins are refused. The `tenant` label
// is bounded by the tenants the operator registered (plus `default`).

export function registerTenantCollector(registry: Registry, store: Store): void {
  const gauge = scrapeGauges(registry, collect);
  const meetings = gauge('amphi_tenant_meetings', "The tenant's meetings: placed, running, or ended but not yet forgotten", ['tenant']);
  const participants = gauge('amphi_tenant_participants', "The tenant's participants as the polls saw them, plus joins admitted since (with a participant quota)", ['tenant']);

  async function collect(): Promise<void> {
    const stored = (await store.tenants.list()).map((t) => t.name).filter((name) => name !== DEFAULT_TENANT);
    const names = [DEFAULT_TENANT, ...stored];
    const usage = await Promise.all(names.map((name) => store.meetings.usage(name)));
    meetings.reset();
    participants.reset();
    names.forEach((tenant, i) => {
      meetings.set({ tenant }, usage[i]!.meetings);
      participants.set({ tenant }, usage[i]!.participants);
    });
  }
}
