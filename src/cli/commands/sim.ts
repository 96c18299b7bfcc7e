// `amphi sim`: N simulated BBB servers in this process, for demos, tests and benchmarks.
import { parseArgs } from 'node:util';
import { SimCluster } from '../../simulator/sim-cluster.js';
import type { Command } from '../command.js';
import { numberOption } from '../number-option.js';
import { runUntilSignal } from '../signals.js';

const MAX_SERVERS = 5000;

export const simCommand: Command = {
  name: 'sim',
  summary: 'Start N simulated BBB servers (and a control API) in one process',
  usage: `Usage: amphi sim [options]

Starts simulated BigBlueButton servers: the BBB API with checksums and BBB's XML, users who
join and enter, camera caps and maxParticipants enforced like BBB, a CPU-like load figure and
fault injection. Prints each server's API URL and secret, and the control URL, then runs until
SIGINT/SIGTERM.

Options:
  -n, --servers N       Number of servers (default 3, at most ${MAX_SERVERS})
  -p, --port BASE       Server i listens on BASE+i (default: free ports)
      --host HOST       Listen address (default 127.0.0.1)
      --secret S        One secret for every server (default: a random secret each)
      --control-port P  Port of the cluster control API (default: a free port)
      --cores N         Cores each simulated server has, for its load figure (default 8)
      --json            First stdout line: JSON array of {"url","secret"}; the rest goes to stderr
  -h, --help            Show this help

Control API (JSON): GET /sim/servers, POST /sim/servers, DELETE /sim/servers/:i,
POST /sim/servers/:i/fault {"mode":"none|down|slow|error500|malformed|hang","latencyMs":…},
GET /metrics. Each server also serves /sim/state, /sim/meetings/:id/users, /sim/sessions/…
and /metrics on its own port.
`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        servers: { type: 'string', short: 'n' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        secret: { type: 'string' },
        'control-port': { type: 'string' },
        cores: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    const servers = numberOption('servers', values.servers, 1, MAX_SERVERS) ?? 3;
    const basePort = numberOption('port', values.port, 1, 65535 - servers + 1);
    const controlPort = numberOption('control-port', values['control-port'], 0, 65535);
    const cores = numberOption('cores', values.cores, 1, 1024);
    if (values.secret !== undefined && values.secret === '') throw new Error('--secret must not be empty');

    const cluster = await SimCluster.start({
      servers,
      basePort,
      host: values.host,
      secret: values.secret,
      controlPort: controlPort ?? 0,
      server: cores === undefined ? {} : { cores },
    });
    const endpoints = cluster.endpoints();
    const info = values.json ? io.stderr : io.stdout;
    if (values.json) io.stdout(`${JSON.stringify(endpoints)}\n`);
    else {
      for (const [i, e] of endpoints.entries()) info(`server ${i}  ${e.url}  secret=${e.secret}\n`);
    }
    info(`control  ${cluster.controlUrl ?? '(none)'}  (GET /sim/servers, POST /sim/servers/:i/fault)\n`);
    io.stderr(`amphi sim: ${servers} simulated BBB server(s) running; Ctrl-C to stop\n`);
    return runUntilSignal(() => cluster.close(), {
      onSignal: (signal) => io.stderr(`amphi sim: ${signal} received, stopping\n`),
    });
  },
};
