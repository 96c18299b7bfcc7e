// `amphi all`: gateway and poller in one process, for small installations.
import { parseArgs } from 'node:util';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
import { startGatewayRole, startPollerRole } from '../roles.js';
import { runRoles, withStartupErrors } from '../runtime.js';

export const allCommand: Command = {
  name: 'all',
  summary: 'Run the gateway and the poller in one process (small installations)',
  usage: `Usage: amphi all

The gateway (BBB API on HOST:PORT, /metrics, /health, /ready, /admin, /v1, /j) and the
poller in one process, sharing one Redis connection, one capacity policy watch and the
gateway's /metrics (AMPHI_METRICS_PORT is not used): REDIS_URL or REDIS_SENTINELS, else a private
redis-server started for this process. Configuration comes from the environment (or the YAML
file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
      return runRoles(io, async (runtime) => {
        const gateway = await startGatewayRole(runtime, io);
        return [gateway, await startPollerRole(runtime, io, { gateway: gateway.gateway })];
      }, { privateRedis: 'fallback' });
    }),
};
