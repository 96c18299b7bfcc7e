// /v1 authentication: an HS256 bearer token (rooms/v1-token.ts) verified by @fastify/jwt under a
// namespace of its own (the admin API has another), with the /v1 audience. Runs before the body
// is read and for unknown /v1 paths too: an anonymous caller learns nothing, not even which
// routes exist. The caller's tenant must be one the gateway knows.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../rooms/types.js';
import { principalOf } from '../../rooms/v1-token.js';
import type { TenantDirectory } from '../bbb/tenants.js';
import { registerBearer } from '../http/bearer.js';
import { problem, sendProblem } from '../http/problem.js';

export interface V1AuthOptions {
  jwtSecret: string;
  issuer: string;
  audience: string;
  tenants: TenantDirectory;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The verified caller of a /v1 request (the auth hook ran before any handler). */
export function principal(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new Error('no /v1 principal: the auth hook did not run');
  return p;
}

export async function v1Auth(app: FastifyInstance, opts: V1AuthOptions): Promise<void> {
  const claimsOf = await registerBearer(app, { secret: opts.jwtSecret, namespace: 'amphiV1', issuer: opts.issuer, audience: opts.audience, alsoRequired: ['sub'] });

  app.addHook('onRequest', async (request, reply) => {
    let found: Principal | string;
    try {
      found = principalOf(await claimsOf(request));
    } catch (err) {
      found = (err as Error).message;
    }
    if (typeof found === 'string') {
      // RFC 6750: a request without credentials gets the bare challenge, a bad token its error.
      const sent = request.headers.authorization !== undefined;
      reply.header('www-authenticate', sent ? 'Bearer realm="amphi-v1", error="invalid_token"' : 'Bearer realm="amphi-v1"');
      return sendProblem(reply, problem(401, 'unauthorized', `a valid /v1 bearer token is required (${found}); mint one with \`amphi token --role R --tenant T --sub S\``));
    }
    if (!(await opts.tenants.named(found.tenant))) {
      return sendProblem(reply, problem(403, 'unknown-tenant', `the token's tenant "${found.tenant}" is not a tenant of this gateway`));
    }
    principals.set(request, found);
  });
}
