import { formatIssue } from './loader.js';
import { PolicyStore } from './policy-store.js';

export interface PolicyLog {
  info(msg: string): void;
  error(msg: string): void;
}

/**
 * Loads the policy directory (throwing PolicyLoadError listing every problem, so a bad policy
 * stops start-up) and watches it: a valid change applies at once, a bad one is logged and
 * ignored while the previous policy stays in force.
 */
export async function openWatchedPolicy(dir: string, log: PolicyLog): Promise<PolicyStore> {
  const policies = new PolicyStore();
  await policies.load(dir);
  policies.on('change', () => log.info(`capacity policy reloaded from ${dir}`));
  policies.on('error', (err) =>
    log.error(`capacity policy change in ${dir} rejected, previous policy kept:\n  ${err.errors.map(formatIssue).join('\n  ')}`),
  );
  policies.watch();
  return policies;
}
