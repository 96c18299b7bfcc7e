// `amphi token`: prints a bearer token signed with AMPHI_JWT_SECRET: an admin token for the
// /admin API, or with --role, a /v1 token for a tenant's teacher, service or admin.
import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_TTL_SECONDS, mintAdminToken, parseDuration } from '../../admin/token.js';
import { ConfigError, loadSettings, type Settings } from '../../config/settings.js';
import { PRINCIPAL_ROLES } from '../../rooms/types.js';
import { mintV1Token } from '../../rooms/v1-token.js';
import { report, usageError } from '../admin-support.js';
import type { Command } from '../command.js';

export const tokenCommand: Command = {
  name: 'token',
  summary: 'Print a bearer token for the /admin API, or with --role for the /v1 rooms API (signed with AMPHI_JWT_SECRET)',
  usage: `Usage: amphi token [options]
       amphi token --role R --tenant T --sub S [--ttl D]

Without --role, prints a JWT (HS256, signed with AMPHI_JWT_SECRET, scope amphi:admin) for the
/admin API:
  curl -H "Authorization: Bearer $(amphi token)" http://127.0.0.1:8090/admin/servers
With --role, prints a /v1 token (audience AMPHI_V1_AUDIENCE) for the rooms API, for one
person or service (--sub) of one tenant (--tenant, or default):
  curl -H "Authorization: Bearer $(amphi token --role teacher --tenant acme --sub alice)" \\
       -H 'content-type: application/json' -d '{"title":"Maths"}' 'http://127.0.0.1:8090/v1/rooms?quick=1'
Needs the same AMPHI_JWT_SECRET, AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE (or
AMPHI_V1_AUDIENCE) as the gateway; needs no Redis.

Options:
  -e, --expires D    Lifetime: seconds, or 15m, 12h, 30d (default ${DEFAULT_TOKEN_TTL_SECONDS / 60}m, at most 366d)
      --ttl D        The same as --expires
  -s, --subject S    Admin token: who it is for, recorded as its subject (default operator)
      --role R       /v1 token: ${PRINCIPAL_ROLES.join(', ')} (teacher: their own rooms; service, admin:
                     every room of the tenant, and rooms for other owners)
      --tenant T     /v1 token: the tenant it speaks for (default: default)
      --sub S        /v1 token: the person's or service's stable identity (rooms belong to it)
  -h, --help         Show this help
`,
  async run(argv, io) {
    try {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          expires: { type: 'string', short: 'e' },
          ttl: { type: 'string' },
          subject: { type: 'string', short: 's' },
          role: { type: 'string' },
          tenant: { type: 'string' },
          sub: { type: 'string' },
        },
      });
      if (values.expires !== undefined && values.ttl !== undefined) throw usageError('give --expires or --ttl, not both');
      const v1 = values.role !== undefined;
      if (!v1 && (values.tenant !== undefined || values.sub !== undefined)) throw usageError('--tenant and --sub make a /v1 token: give --role too');
      if (v1 && values.subject !== undefined) throw usageError('a /v1 token names its holder with --sub, not --subject');
      if (v1 && values.sub === undefined) throw usageError('a /v1 token needs --sub (the person or service it is for)');
      let settings: Settings;
      try {
        settings = loadSettings(process.env);
      } catch (err) {
        if (err instanceof ConfigError) throw usageError(err.message);
        throw err;
      }
      const secret = settings.AMPHI_JWT_SECRET;
      if (!secret) throw usageError('AMPHI_JWT_SECRET is not set: set it (16 characters or more) to the value the gateway uses; without it the /admin and /v1 APIs are off');
      const lifetime = values.expires ?? values.ttl;
      const expiresIn = lifetime === undefined ? DEFAULT_TOKEN_TTL_SECONDS : parseDuration(lifetime);
      const token = v1
        ? mintV1Token(secret, { role: values.role!, tenant: values.tenant ?? 'default', sub: values.sub!, expiresIn, issuer: settings.AMPHI_JWT_ISSUER, audience: settings.AMPHI_V1_AUDIENCE })
        : mintAdminToken(secret, {
            expiresIn,
            issuer: settings.AMPHI_JWT_ISSUER,
            audience: settings.AMPHI_JWT_AUDIENCE,
            ...(values.subject !== undefined && { subject: values.subject }),
          });
      io.stdout(`${token}\n`);
      return 0;
    } catch (err) {
      return report('token', io, err);
    }
  },
};
