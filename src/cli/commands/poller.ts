// `amphi poller`: polls every server of the pool and writes measured load and health into
// Redis. Several replicas may run; each server is polled by one of them at a time.
import { parseArgs } from 'node:util';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
import { startPollerRole } from '../roles.js';
import { runRoles, withStartupErrors } from '../runtime.js';

export const pollerCommand: Command = {
  name: 'poller',
  summary: "Poll every BBB server's meetings and health into Redis (several replicas are safe)",
  usage: `Usage: amphi poller

Every AMPHI_POLL_INTERVAL_MS, calls getMeetings on each server of the pool (at most
AMPHI_POLL_CONCURRENCY at once, each bounded by AMPHI_POLL_TIMEOUT_MS), writes the measured
participants, cameras and load, marks a server offline after AMPHI_OFFLINE_AFTER failed polls
in a row and online again after AMPHI_ONLINE_AFTER good ones, and disables a cordoned server
once it has no meetings left. If Redis loses its data, the next round writes back the servers
and tenants this process knew and re-pins every running meeting.

Needs the Redis the gateways use: REDIS_URL or REDIS_SENTINELS; without them it exits with
code 2 (AMPHI_PRIVATE_REDIS=1 starts a private redis-server instead, for development).

Serves Prometheus metrics on http://HOST:AMPHI_METRICS_PORT/metrics (and /health; port 0: off;
see docs/metrics.md). Logs JSON lines (pino, LOG_LEVEL) on stdout: one per round at debug level,
at info when a server changed health or meetings were re-pinned or forgotten. Configuration comes from the environment (or the YAML
file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
      return runRoles(io, async (runtime) => [await startPollerRole(runtime, io)], {
        onSignal: (signal) => io.stderr(`amphi poller: ${signal} received, finishing the current round\n`),
        privateRedis: 'opt-in',
      });
    }),
};
