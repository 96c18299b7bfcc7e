// `amphi redis`: a private redis-server for local work, e.g. to share one between several
// `amphi` processes by exporting its URL as REDIS_URL.
import { parseArgs } from 'node:util';
import { startPrivateRedis } from '../../redis/private-redis.js';
import type { Command } from '../command.js';
import { runUntilSignal } from '../signals.js';

export const redisCommand: Command = {
  name: 'redis',
  summary: 'Start a private redis-server on a free loopback port and print its URL',
  usage: `Usage: amphi redis [options]

Starts redis-server (from PATH) on a free port on 127.0.0.1, with no persistence, prints its
URL on stdout and runs until SIGINT/SIGTERM, then stops it and removes its data directory.
Other amphi processes share it when given that URL: export REDIS_URL=<printed URL>

Options:
  -h, --help   Show this help
`,
  async run(argv, io) {
    // No options yet beyond --help (handled by the dispatcher); parseArgs rejects anything else.
    parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    const server = await startPrivateRedis({ log: (line) => io.stderr(`${line}\n`) });
    io.stdout(`${server.url}\n`);
    io.stderr(`amphi: private redis-server running (data in ${server.dir}); Ctrl-C to stop\n`);
    return runUntilSignal(server.stop, {
      onSignal: (signal) => io.stderr(`amphi: ${signal} received, stopping redis-server\n`),
    });
  },
};
