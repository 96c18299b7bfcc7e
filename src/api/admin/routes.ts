// The /admin JSON API: the operator verbs of src/admin/operations.ts behind an HS256 bearer
// token. Every answer that is not a success is an RFC 9457 problem (application/problem+json).
//
// Registration (the app decides whether to, i.e. only when AMPHI_JWT_SECRET is set):
//   await app.register(adminPlugin, { prefix: ADMIN_PREFIX, store, jwtSecret, issuer, audience, check, policy })
// or, equivalently, `await registerAdminApi(app, { store, jwtSecret, issuer, audience, check, policy })`.
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AdminError, InvalidInputError, NotFoundError, ServerCheckError } from '../../admin/errors.js';
import {
  addServer,
  addTenant,
  addTenantSecret,
  getServer,
  getTenant,
  getTenantSizeEstimate,
  listMeetings,
  listServers,
  listTenants,
  panicServer,
  removeServer,
  removeTenant,
  removeTenantSecret,
  setServerState,
} from '../../admin/operations.js';
import type { ServerCheckOptions } from '../../admin/operations.js';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, hasAdminScope } from '../../admin/token.js';
import type { Policy } from '../../policy/schema.js';
import { registerBearer } from '../http/bearer.js';
import { acceptJsonOnly, fallbackProblem, type Problem, PROBLEM_TYPE, sendProblem } from '../http/problem.js';
import type { Store } from '../../state/store.js';

export const ADMIN_PREFIX = '/admin';
export { PROBLEM_TYPE };

export interface AdminPluginOptions {
  store: Store;
  /** AMPHI_JWT_SECRET: tokens are HS256 JWTs signed with it and carrying the admin scope. */
  jwtSecret: string;
  /** The `iss` and `aud` a token must carry: AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE. */
  issuer?: string;
  audience?: string;
  /** How servers are checked when added (use the gateway's upstream algorithm and timeout). */
  check?: ServerCheckOptions;
  /** The capacity policy in force: without it, no …/size-estimate route. */
  policy?: () => Policy;
}

function problemOf(err: FastifyError | Error): Problem {
  if (err instanceof AdminError) {
    return {
      type: `urn:amphi:problem:${err.slug}`,
      title: err.title,
      status: err.status,
      detail: err.message,
      ...(err instanceof InvalidInputError && err.issues.length > 0 && { errors: err.issues }),
    };
  }
  return fallbackProblem(err);
}

/** `?force=true` and friends; anything else is a 400, not a silent false. */
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === '');

function parseInput<S extends z.ZodTypeAny>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw InvalidInputError.fromZod(result.error);
  return result.data as z.output<S>;
}

const forceQuery = z.object({ force: flag }).passthrough();
const meetingsQuery = z.object({ tenant: z.string().optional() }).passthrough();
const secretBody = z.object({ secret: z.unknown() }).strict();

type IdRequest = FastifyRequest<{ Params: { id: string } }>;
type NameRequest = FastifyRequest<{ Params: { name: string } }>;

export const adminPlugin: FastifyPluginAsync<AdminPluginOptions> = async (app, opts) => {
  const { store } = opts;
  if (!opts.jwtSecret) throw new Error('adminPlugin needs a jwtSecret (AMPHI_JWT_SECRET); leave it unregistered instead');

  // Its own namespace, so that it coexists with the /v1 API's tokens (http/bearer.ts).
  const claimsOf = await registerBearer(app, {
    secret: opts.jwtSecret,
    namespace: 'amphiAdmin',
    issuer: opts.issuer ?? DEFAULT_ISSUER,
    audience: opts.audience ?? DEFAULT_AUDIENCE,
  });

  acceptJsonOnly(app);

  // Authentication runs before the body is read and for unknown /admin paths too, so an
  // anonymous caller learns nothing, not even which routes exist.
  app.addHook('onRequest', async (request, reply) => {
    let claims: unknown;
    try {
      claims = await claimsOf(request);
    } catch (err) {
      reply.header('www-authenticate', 'Bearer realm="amphi-admin", error="invalid_token"');
      return sendProblem(reply, {
        type: 'urn:amphi:problem:unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: `a valid admin bearer token is required (${(err as Error).message})`,
      });
    }
    if (!hasAdminScope(claims)) {
      return sendProblem(reply, {
        type: 'urn:amphi:problem:forbidden',
        title: 'Forbidden',
        status: 403,
        detail: 'the token does not carry the amphi:admin scope (mint one with `amphi token`)',
      });
    }
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const problem = problemOf(err);
    if (problem.status >= 500) request.log.error({ err }, 'admin request failed');
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemOf(new NotFoundError(`no admin route ${request.method} ${request.url.split('?')[0]}`))),
  );

  const base = app.prefix;

  // Servers -------------------------------------------------------------------------------------
  app.get('/servers', async () => listServers(store));

  app.get('/servers/:id', async (request: IdRequest) => getServer(store, request.params.id));

  app.post('/servers', async (request, reply) => {
    const row = await addServer(store, request.body ?? {}, opts.check).catch((err: unknown) => {
      if (err instanceof ServerCheckError) throw new ServerCheckError(`${err.message} (send "check": false to add it anyway, offline until polled)`);
      throw err;
    });
    return reply.code(201).header('location', `${base}/servers/${encodeURIComponent(row.id)}`).send(row);
  });

  const states = { enable: 'enabled', cordon: 'cordoned', disable: 'disabled' } as const;
  for (const [verb, state] of Object.entries(states)) {
    app.post(`/servers/:id/${verb}`, async (request: IdRequest) => setServerState(store, request.params.id, state));
  }

  app.post('/servers/:id/panic', async (request: IdRequest) => panicServer(store, request.params.id));

  app.delete('/servers/:id', async (request: IdRequest) => {
    const { force } = parseInput(forceQuery, request.query);
    return removeServer(store, request.params.id, { force });
  });

  // Tenants -------------------------------------------------------------------------------------
  app.get('/tenants', async () => listTenants(store));

  app.get('/tenants/:name', async (request: NameRequest) => getTenant(store, request.params.name));

  // What a create with no profile and no hint reserves, learnt from the tenant's meetings.
  const policy = opts.policy;
  if (policy) {
    app.get('/tenants/:name/size-estimate', async (request: NameRequest) => getTenantSizeEstimate(store, request.params.name, policy()));
  }

  app.post('/tenants', async (request, reply) => {
    const row = await addTenant(store, request.body ?? {});
    return reply.code(201).header('location', `${base}/tenants/${encodeURIComponent(row.name)}`).send(row);
  });

  app.delete('/tenants/:name', async (request: NameRequest) => removeTenant(store, request.params.name));

  // Rotation: add the new secret, move the clients, remove the old one (DELETE with a JSON body).
  app.post('/tenants/:name/secrets', async (request: NameRequest, reply) => {
    const { secret } = parseInput(secretBody, request.body ?? {});
    return reply.code(201).send(await addTenantSecret(store, request.params.name, secret));
  });

  app.delete('/tenants/:name/secrets', async (request: NameRequest) => {
    const { secret } = parseInput(secretBody, request.body ?? {});
    return removeTenantSecret(store, request.params.name, secret);
  });

  // Meetings ------------------------------------------------------------------------------------
  app.get('/meetings', async (request) => {
    const { tenant } = parseInput(meetingsQuery, request.query);
    return listMeetings(store, tenant);
  });
};

/** Registers the admin API under /admin. Call it only when AMPHI_JWT_SECRET is set. */
export async function registerAdminApi(app: FastifyInstance, opts: AdminPluginOptions): Promise<void> {
  await app.register(adminPlugin, { ...opts, prefix: ADMIN_PREFIX });
}
