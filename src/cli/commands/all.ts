// `amphi all`: gateway and poller in one process, for small installations.
import { parseArgs } from 'node:util';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
import { startGatewayRole, startPollerRole } from '../roles.js';
import { runRoles, withStartupErrors } from '../runtime.js';
import { jsonLineLog } from './poller.js';

export const allCommand: Command = {
  name: 'all',
  summary: 'Run the gateway and the poller in one process (small installations)',
  usage: `Usage: amphi all

The gateway (BBB API on HOST:PORT, /metrics, /health, /ready, /admin) and the poller in one
process, sharing one Redis connection. Configuration comes from the environment (or the YAML
file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
      return runRoles(io, async (runtime) => [
        await startGatewayRole(runtime, io),
        await startPollerRole(runtime, io, jsonLineLog(runtime.settings.LOG_LEVEL, io.stdout)),
      ]);
    }),
};
