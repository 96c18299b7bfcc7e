// `amphi gateway`: the BBB-compatible HTTP API. Stateless; run as many replicas as needed.
import { parseArgs } from 'node:util';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
import { startGatewayRole } from '../roles.js';
import { bootRuntime, withStartupErrors } from '../runtime.js';
import { runUntilSignal } from '../signals.js';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Serve the BBB-compatible API (/bigbluebutton/api), /metrics, /health and /ready',
  usage: `Usage: amphi gateway

Serves the BBB API on HOST:PORT for every tenant (by host name, or under /t/<tenant>/), with
placement on the pool kept in Redis. Configuration comes from the environment (or the YAML
file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
      const runtime = await bootRuntime(process.env, io);
      const gateway = await startGatewayRole(runtime, io);
      return runUntilSignal(async () => {
        await gateway.stop();
        await runtime.close();
      });
    }),
};
