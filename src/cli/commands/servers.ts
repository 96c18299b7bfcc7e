// `amphi servers …`: the pool's BBB servers, through the same verbs as the /admin API.
import { parseArgs } from 'node:util';
import { ServerCheckError } from '../../admin/errors.js';
import { addServer, listServers, panicServer, removeServer, setServerState } from '../../admin/operations.js';
import type { ServerRow } from '../../admin/operations.js';
import { DEFAULT_SIZE_CLASSES } from '../../placement/load-model.js';
import { CliExit, EXIT_FAILURE, intOption, listSubcommand, printJson, subcommandsCommand, usageError, withStore } from '../admin-support.js';
import type { Column, Subcommand } from '../admin-support.js';
import type { CliIO } from '../command.js';

const SIZES = Object.entries(DEFAULT_SIZE_CLASSES)
  .map(([name, units]) => `${name} (${units})`)
  .join(', ');

const USAGE = `Usage: amphi servers <subcommand> [options]

Manages the BBB servers of the running Amphi: reaches its Redis through REDIS_URL or
REDIS_SENTINELS (one is required) and the pool named by AMPHI_POOL (default "default").

Subcommands:
  add --url URL --secret S [options]   Add a server. Its API must answer a signed getMeetings
                                       first (then it starts online), unless --no-check.
      --url URL          API base, e.g. https://bbb1.example.org/bigbluebutton/api
      --secret S         The server's shared secret (bbb-conf --secret)
      --metrics-url URL  Its node_exporter, e.g. http://bbb1.example.org:9100/metrics: the
                         poller reads its CPU there, and placement and the scaler count it
      --capacity N       Capacity in load units, or
      --size NAME        a size class: ${SIZES}; default standard
      --tag T            A placement tag (repeatable)
      --id ID            Choose the id (default: bbb-<random>)
      --state STATE      enabled (default), cordoned or disabled
      --no-check         Add it without calling it; it stays offline until polled
      --json             Print the added server as JSON
  list [--json]                        Table of id, url, state, health, meetings, participants,
                                       load, capacity, size class and manager (the scaler's
                                       provider; - when added by hand) (--json: every field)
  enable ID                            Take new meetings
  cordon ID                            Keep running meetings, take no new ones (before removal)
  disable ID                           Out of service: no new meetings, joins no longer routed
  panic ID                             Disable it and forget its meetings, so the next create of
                                       each is placed on another server
  remove ID [--force]                  Remove a server without meetings (--force: drop them too)

Options:
  -h, --help   Show this help
`;

const TABLE: readonly Column<ServerRow>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'URL', value: (s) => s.url },
  { header: 'STATE', value: (s) => s.state },
  { header: 'HEALTH', value: (s) => s.health },
  { header: 'MEETINGS', value: (s) => s.meetings },
  { header: 'PARTICIPANTS', value: (s) => s.participants },
  { header: 'LOAD', value: (s) => s.load },
  { header: 'CAPACITY', value: (s) => s.capacity },
  { header: 'SIZE', value: (s) => s.sizeClass },
  { header: 'MANAGED', value: (s) => s.managedBy || '-' },
];

/** The single ID a state verb takes. */
function oneId(sub: string, args: string[], extra: Record<string, { type: 'boolean' }> = {}) {
  const { values, positionals } = parseArgs({ args, options: extra, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw usageError(`servers ${sub} takes exactly one server ID`);
  return { id: positionals[0]!, values: values as Record<string, boolean | undefined> };
}

async function add(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      secret: { type: 'string' },
      'metrics-url': { type: 'string' },
      capacity: { type: 'string' },
      size: { type: 'string' },
      tag: { type: 'string', multiple: true },
      id: { type: 'string' },
      state: { type: 'string' },
      'no-check': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (values.url === undefined || values.secret === undefined) throw usageError('servers add needs --url and --secret');
  const input = {
    url: values.url,
    secret: values.secret,
    ...(values['metrics-url'] !== undefined && { metricsUrl: values['metrics-url'] }),
    capacity: intOption('capacity', values.capacity, 1, 1_000_000),
    size: values.size,
    tags: values.tag ?? [],
    id: values.id,
    state: values.state,
    check: !values['no-check'],
  };
  return withStore('servers', io, async ({ store, settings }) => {
    const row = await addServer(store, input, {
      algorithm: settings.AMPHI_UPSTREAM_ALGORITHM,
      timeoutMs: settings.AMPHI_UPSTREAM_TIMEOUT_MS,
    }).catch((err: unknown) => {
      if (err instanceof ServerCheckError) {
        throw new CliExit(`${err.message}\n  To add it anyway: the same command with --no-check (it stays offline until the poller reaches it).`, EXIT_FAILURE);
      }
      throw err;
    });
    if (values.json) printJson(io, row);
    else {
      const how = input.check ? 'online: it answered a signed getMeetings' : 'offline until the poller reaches it (not checked)';
      io.stdout(`added server ${row.id}: ${row.url}, capacity ${row.capacity} (${row.sizeClass}), ${row.state}, ${how}\n`);
    }
    return 0;
  });
}

const STATE_OF = { enable: 'enabled', cordon: 'cordoned', disable: 'disabled' } as const;

/** `enable|cordon|disable ID` */
function setState(sub: keyof typeof STATE_OF): Subcommand {
  return async (args, io) => {
    const { id } = oneId(sub, args);
    return withStore('servers', io, async ({ store }) => {
      const row = await setServerState(store, id, STATE_OF[sub]);
      io.stdout(`server ${row.id} is now ${row.state} (${row.health}, ${row.meetings} meeting(s))\n`);
      return 0;
    });
  };
}

async function panic(args: string[], io: CliIO): Promise<number> {
  const { id } = oneId('panic', args);
  return withStore('servers', io, async ({ store }) => {
    const { server, forgottenMeetings } = await panicServer(store, id);
    io.stdout(`server ${server.id} is now disabled; ${forgottenMeetings} meeting(s) forgotten: their next create goes to another server\n`);
    return 0;
  });
}

async function remove(args: string[], io: CliIO): Promise<number> {
  const { id, values } = oneId('remove', args, { force: { type: 'boolean' } });
  return withStore('servers', io, async ({ store }) => {
    const removed = await removeServer(store, id, { force: values.force === true });
    const dropped = removed.forgottenMeetings > 0 ? ` (${removed.forgottenMeetings} meeting placement(s) dropped)` : '';
    io.stdout(`removed server ${removed.id}${dropped}\n`);
    return 0;
  });
}

export const serversCommand = subcommandsCommand('servers', 'List, add, enable, cordon, disable, panic or remove the BBB servers of the pool', USAGE, {
  add,
  list: listSubcommand('servers', listServers, TABLE, 'No servers. Add one with: amphi servers add --url URL --secret S\n'),
  enable: setState('enable'),
  cordon: setState('cordon'),
  disable: setState('disable'),
  panic,
  remove,
});
