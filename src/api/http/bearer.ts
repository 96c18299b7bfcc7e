// HS256 bearer tokens as the /admin and /v1 APIs verify them (the rules are admin/token.ts's):
// @fastify/jwt under a namespace of the caller's, so that both coexist in one app, then the
// lifetime checks the library leaves out. fast-jwt checks iss and aud only when present, hence
// requiredClaims; exp is required for the same reason.
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CLOCK_TOLERANCE_SECONDS, lifetimeProblem, REQUIRED_CLAIMS, TOKEN_ALGORITHM } from '../../admin/token.js';

export interface BearerOptions {
  secret: string;
  /** @fastify/jwt's namespace: one per API. */
  namespace: string;
  issuer: string;
  audience: string;
  /** Claims required beyond REQUIRED_CLAIMS. */
  alsoRequired?: readonly string[];
}

/** Registers the verifier on `app`; returns what reads a request's verified claims, or throws why there are none. */
export async function registerBearer(app: FastifyInstance, opts: BearerOptions): Promise<(request: FastifyRequest) => Promise<unknown>> {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    namespace: opts.namespace,
    verify: {
      algorithms: [TOKEN_ALGORITHM],
      allowedIss: opts.issuer,
      allowedAud: opts.audience,
      requiredClaims: [...REQUIRED_CLAIMS, ...(opts.alsoRequired ?? [])],
      clockTolerance: CLOCK_TOLERANCE_SECONDS * 1000,
    },
  });
  const verify = `${opts.namespace}JwtVerify`;
  return async (request) => {
    const claims = await (request as unknown as Record<string, () => Promise<unknown>>)[verify]!();
    const problem = lifetimeProblem(claims);
    if (problem !== undefined) throw new Error(problem);
    return claims;
  };
}
