// `amphi token`: prints an admin bearer token for the /admin API, signed with AMPHI_JWT_SECRET.
import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN_TTL_SECONDS, mintAdminToken, parseDuration } from '../../admin/token.js';
import { ConfigError, loadSettings, type Settings } from '../../config/settings.js';
import { report, usageError } from '../admin-support.js';
import type { Command } from '../command.js';

export const tokenCommand: Command = {
  name: 'token',
  summary: 'Print an admin bearer token for the /admin API (signed with AMPHI_JWT_SECRET)',
  usage: `Usage: amphi token [options]

Prints a JWT (HS256, signed with AMPHI_JWT_SECRET, scope amphi:admin) for the /admin API:
  curl -H "Authorization: Bearer $(amphi token)" http://127.0.0.1:8090/admin/servers
Needs the same AMPHI_JWT_SECRET, AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE as the gateway;
needs no Redis.

Options:
  -e, --expires D    Lifetime: seconds, or 15m, 12h, 30d (default ${DEFAULT_TOKEN_TTL_SECONDS / 60}m, at most 366d)
  -s, --subject S    Who the token is for, recorded as its subject (default operator)
  -h, --help         Show this help
`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { expires: { type: 'string', short: 'e' }, subject: { type: 'string', short: 's' } },
    });
    try {
      let settings: Settings;
      try {
        settings = loadSettings(process.env);
      } catch (err) {
        if (err instanceof ConfigError) throw usageError(err.message);
        throw err;
      }
      const secret = settings.AMPHI_JWT_SECRET;
      if (!secret) throw usageError('AMPHI_JWT_SECRET is not set: set it (16 characters or more) to the value the gateway uses; without it the /admin API is off');
      const expiresIn = values.expires === undefined ? DEFAULT_TOKEN_TTL_SECONDS : parseDuration(values.expires);
      const token = mintAdminToken(secret, {
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
