// `amphi tenants …`: tenants (ministries, academies, LMS instances), through the same verbs as
// the /admin API. Secrets are only ever printed masked.
import { parseArgs } from 'node:util';
import { addTenant, addTenantSecret, listTenants, removeTenant, removeTenantSecret } from '../../admin/operations.js';
import type { TenantRow } from '../../admin/operations.js';
import { listSubcommand, printJson, subcommandsCommand, usageError, withStore } from '../admin-support.js';
import type { Column } from '../admin-support.js';
import type { CliIO } from '../command.js';

const USAGE = `Usage: amphi tenants <subcommand> [options]

Manages the tenants of the running Amphi: reaches its Redis through REDIS_URL or
REDIS_SENTINELS (one is required) and the pool named by AMPHI_POOL (default "default"). A
tenant's clients call /t/<name>/bigbluebutton/api/* or one of its host names, signing with one
of its secrets.

Subcommands:
  add NAME --secret S [options]      Add a tenant (NAME: lowercase letters, digits, -)
      --secret S         A shared secret, at least 16 characters (repeatable: rotation)
      --host H           A host name that selects this tenant (repeatable)
      --settings JSON    Quotas and policy defaults, a JSON object
      --json             Print the tenant as JSON (secrets masked)
  list [--json]                      Names, host names and masked secrets
  remove NAME                        Remove a tenant that has no meeting left
  secret add NAME --secret S         Add a secret (rotation: add, move the clients, remove)
  secret remove NAME --secret S      Remove a secret (never the last one)

Options:
  -h, --help   Show this help
`;

const TABLE: readonly Column<TenantRow>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'HOSTS', value: (t) => t.hostnames.join(',') || '-' },
  { header: 'SECRETS', value: (t) => t.secrets.join(',') },
  { header: 'SETTINGS', value: (t) => (Object.keys(t.settings).length === 0 ? '-' : JSON.stringify(t.settings)) },
];

function oneName(what: string, positionals: string[]): string {
  if (positionals.length !== 1) throw usageError(`tenants ${what} takes exactly one tenant NAME`);
  return positionals[0]!;
}

function parseSettings(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw usageError('--settings must be a JSON object, e.g. {"maxMeetings":200}');
  }
}

async function add(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      secret: { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      settings: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const input = {
    name: oneName('add', positionals),
    secrets: values.secret ?? [],
    hostnames: values.host ?? [],
    ...(values.settings !== undefined && { settings: parseSettings(values.settings) }),
  };
  if (input.secrets.length === 0) throw usageError('tenants add needs at least one --secret');
  return withStore('tenants', io, async ({ store }) => {
    const row = await addTenant(store, input);
    if (values.json) printJson(io, row);
    else {
      const hosts = row.hostnames.length > 0 ? `, host names ${row.hostnames.join(', ')}` : '';
      io.stdout(`added tenant ${row.name}: ${row.secrets.length} secret(s)${hosts}; its API is /t/${row.name}/bigbluebutton/api\n`);
    }
    return 0;
  });
}

async function secret(args: string[], io: CliIO): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'add' && action !== 'remove') throw usageError('tenants secret needs add or remove: tenants secret add|remove NAME --secret S');
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { secret: { type: 'string' } },
  });
  const name = oneName(`secret ${action}`, positionals);
  if (values.secret === undefined) throw usageError(`tenants secret ${action} needs --secret S`);
  const value = values.secret;
  return withStore('tenants', io, async ({ store }) => {
    const row = action === 'add' ? await addTenantSecret(store, name, value) : await removeTenantSecret(store, name, value);
    io.stdout(`tenant ${row.name} now has ${row.secrets.length} secret(s): ${row.secrets.join(', ')}\n`);
    return 0;
  });
}

async function remove(args: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  const name = oneName('remove', positionals);
  return withStore('tenants', io, async ({ store }) => {
    await removeTenant(store, name);
    io.stdout(`removed tenant ${name}\n`);
    return 0;
  });
}

export const tenantsCommand = subcommandsCommand('tenants', 'List, add or remove tenants and rotate their secrets', USAGE, {
  add,
  list: listSubcommand('tenants', listTenants, TABLE, 'No tenants. Add one with: amphi tenants add NAME --secret S\n'),
  remove,
  secret,
});
