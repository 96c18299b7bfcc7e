// `amphi gateway`: the BBB-compatible HTTP API. Stateless; run as many replicas as needed.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
import { isGatewayWorker, runGatewayPrimary } from '../gateway-cluster.js';
import { startGatewayRole } from '../roles.js';
import { runRoles, withStartupErrors } from '../runtime.js';

/** `--workers`: a count, or `auto` for one per available core. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--workers must be a whole number from 1 to 256, or auto (got "${value}")`);
  return n;
}

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Serve the BBB-compatible API (/bigbluebutton/api), /metrics, /health and /ready',
  usage: `Usage: amphi gateway [--workers N|auto]

Serves the BBB API on HOST:PORT for every tenant (by host name, or under /t/<tenant>/), with
placement on the pool kept in Redis. Stateless: every replica must share one Redis, so it
needs REDIS_URL or REDIS_SENTINELS and exits with code 2 without them (AMPHI_PRIVATE_REDIS=1
starts a private redis-server instead, for development). See docs/redis.md.
With AMPHI_JWT_SECRET set it also serves the /admin API, the /v1 rooms API (OpenAPI at
/docs, /docs/json) and the /j/<token> join-link pages; tokens come from \`amphi token\`.

Options:
  -w, --workers N|auto  gateway processes sharing the port (default 1; auto: one per core).
                        /metrics aggregates them.
  -h, --help            Show this help

Configuration comes from the environment (or the YAML file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      const { values } = parseArgs({ args: argv, options: { workers: { type: 'string', short: 'w' } }, strict: true, allowPositionals: false });
      const workers = parseWorkers(values.workers);
      if (workers > 1 && !isGatewayWorker()) return runGatewayPrimary(workers, io, 'opt-in');
      return runRoles(io, async (runtime) => [await startGatewayRole(runtime, io)], { privateRedis: 'opt-in' });
    }),
};
