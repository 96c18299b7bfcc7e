// amphi_policy_reloads_total: every process that watches the capacity policy counts what its
// reloads did, so a rejected edit (the previous policy silently kept) shows on a dashboard.
import { Counter, type Registry } from 'prom-client';
import type { PolicyStore } from '../policy/index.js';

export function countPolicyReloads(registry: Registry, policies: PolicyStore): void {
  const reloads = new Counter({
    name: 'amphi_policy_reloads_total',
    help: 'Capacity policy reloads after its files changed, by outcome (ok: applied; failed: rejected, the previous policy kept)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  reloads.inc({ outcome: 'ok' }, 0);
  reloads.inc({ outcome: 'failed' }, 0);
  policies.on('change', () => reloads.inc({ outcome: 'ok' }));
  policies.on('error', () => reloads.inc({ outcome: 'failed' }));
}
