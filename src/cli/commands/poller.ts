// `amphi poller`: polls every server of the pool and writes measured load and health into
// Redis. Several replicas may run; each server is polled by one of them at a time.
import { parseArgs } from 'node:util';
import { settingsHelp, type Settings } from '../../config/settings.js';
import type { PollerLog } from '../../poller/poller.js';
import type { Command } from '../command.js';
import { jsonLines } from '../json-lines.js';
import { startPollerRole } from '../roles.js';
import { runRoles, withStartupErrors } from '../runtime.js';

/** The poller's log: JSON lines in pino's shape, filtered by LOG_LEVEL. */
export function jsonLineLog(level: Settings['LOG_LEVEL'], write: (line: string) => void): PollerLog {
  const line = jsonLines('amphi-poller', level, write);
  return { debug: (msg) => line('debug', msg), info: (msg) => line('info', msg), warn: (msg) => line('warn', msg), error: (msg) => line('error', msg) };
}

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

Logs JSON lines on stdout: one per round at debug level, at info when a server changed health
or meetings were re-pinned or forgotten. Configuration comes from the environment (or the YAML
file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
      return runRoles(io, async (runtime) => [await startPollerRole(runtime, io, jsonLineLog(runtime.settings.LOG_LEVEL, io.stdout))], {
        onSignal: (signal) => io.stderr(`amphi poller: ${signal} received, finishing the current round\n`),
      });
    }),
};
