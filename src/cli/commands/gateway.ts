// `amphi gateway`: the BBB-compatible HTTP API. Stateless; run as many replicas as needed.
import { parseArgs } from 'node:util';
import { buildApp } from '../../api/app.js';
import { settingsHelp } from '../../config/settings.js';
import type { Command } from '../command.js';
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
      const { app } = await buildApp({ store: runtime.store, redis: runtime.redis, settings: runtime.settings });
      const address = await app.listen({ host: runtime.settings.HOST, port: runtime.settings.PORT });
      io.stderr(`amphi gateway listening on ${address}/bigbluebutton/api\n`);
      if (!runtime.settings.AMPHI_SECRET) io.stderr('amphi: AMPHI_SECRET is unset: only tenants stored in Redis can sign requests\n');
      return runUntilSignal(async () => {
        await app.close();
        await runtime.close();
      });
    }),
};
