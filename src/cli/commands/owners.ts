// `amphi owners move SUB --to TENANT`: a teacher who changes academy keeps their rooms. An owner
// is a (tenant, sub) pair (the same sub in two tenants is two people); the owner and all their
// rooms move to the new tenant in one step (state/rooms.ts moveOwner), with their rooms'
// forecast; their links keep working; a meeting already running stays where it runs.
import { parseArgs } from 'node:util';
import { ConflictError, NotFoundError } from '../../admin/errors.js';
import { DEFAULT_TENANT } from '../../state/namespace.js';
import { TENANT_NAME } from '../../state/tenant-registry.js';
import { subcommandsCommand, usageError, withStore } from '../admin-support.js';
import type { CliIO } from '../command.js';

const USAGE = `Usage: amphi owners <subcommand> [options]

Room owners: the sub of /v1 tokens, within a tenant (the same sub in two tenants is two people,
each with their own rooms). Reaches the running Amphi's Redis through REDIS_URL or
REDIS_SENTINELS and the pool named by AMPHI_POOL.

Subcommands:
  move SUB --to TENANT [--from TENANT]
                          Move an owner and all their rooms to TENANT (a known tenant, or
                          default), at once. --from names the tenant they leave, needed when
                          several tenants have an owner with that sub. Refused when TENANT
                          already has one (no merge). Their links keep working; their /v1
                          tokens must name the new tenant from then on.
  show SUB                Print the tenants with an owner of that sub, and their rooms

Options:
  -h, --help   Show this help
`;

function oneSub(what: string, positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '') throw usageError(`owners ${what} takes exactly one owner SUB`);
  return positionals[0]!;
}

function tenantOption(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && !TENANT_NAME.test(value)) throw usageError(`--${name} must be a tenant name (${TENANT_NAME.source})`);
  return value;
}

async function move(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { to: { type: 'string' }, from: { type: 'string' } } });
  const sub = oneSub('move', positionals);
  const to = tenantOption('to', values.to);
  const asked = tenantOption('from', values.from);
  if (to === undefined) throw usageError('owners move needs --to TENANT');
  return withStore('owners', io, async ({ store }) => {
    if (to !== DEFAULT_TENANT && !(await store.tenants.get(to))) throw new NotFoundError(`no tenant named "${to}" (amphi tenants list)`);
    const tenants = await store.rooms.ownerTenants(sub);
    if (tenants.length === 0) throw new NotFoundError(`no owner "${sub}": they have no room`);
    if (asked !== undefined && !tenants.includes(asked)) throw new NotFoundError(`no owner "${sub}" in ${asked} (owners of that sub: ${tenants.join(', ')})`);
    // The one tenant left when --from is absent: from the sub's own tenant list, not a guess.
    const others = tenants.filter((t) => t !== to);
    const from = asked ?? (others.length === 1 ? others[0] : undefined);
    if (from === undefined && others.length === 0) {
      io.stdout(`owner ${sub} already belongs to ${to}\n`);
      return 0;
    }
    if (from === undefined) throw usageError(`several tenants have an owner "${sub}" (${tenants.join(', ')}): name the one to move with --from TENANT`);
    if (from === to) {
      io.stdout(`owner ${sub} already belongs to ${to}\n`);
      return 0;
    }
    const outcome = await store.rooms.moveOwner(sub, to, from);
    if ('refused' in outcome) {
      if (outcome.refused === 'taken') throw new ConflictError(`${to} already has an owner "${sub}", with rooms of their own: owners are not merged (move or delete those rooms first)`);
      if (outcome.refused === 'unreadable') throw new ConflictError(`room ${outcome.room} of ${sub} in ${from} cannot be read: nothing was moved`);
      throw usageError(`several tenants have an owner "${sub}" (${outcome.tenants.join(', ')}): name the one to move with --from TENANT`);
    }
    io.stdout(`moved owner ${sub} from ${from} to ${to} with ${outcome.moved} room(s)\n`);
    return 0;
  });
}

async function show(args: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  const sub = oneSub('show', positionals);
  return withStore('owners', io, async ({ store }) => {
    const tenants = await store.rooms.ownerTenants(sub);
    if (tenants.length === 0) throw new NotFoundError(`no owner "${sub}": they have no room`);
    for (const tenant of tenants) {
      const { total } = await store.rooms.listByOwner(tenant, sub, 0, 0);
      io.stdout(`owner ${sub} belongs to ${tenant}, with ${total} room(s)\n`);
    }
    return 0;
  });
}

export const ownersCommand = subcommandsCommand('owners', 'Move a room owner (and their rooms) to another tenant', USAGE, { move, show });
