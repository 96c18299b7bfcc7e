// /v1 bearer tokens: HS256 JWTs signed with AMPHI_JWT_SECRET like the admin ones (admin/token.ts
// mints both), told apart by their audience (AMPHI_V1_AUDIENCE): an admin token is no /v1 token
// and a /v1 token no admin one. They carry who calls (sub), for which tenant, in which role.
import { InvalidInputError } from '../admin/errors.js';
import { DEFAULT_ISSUER, signHs256, standardClaims } from '../admin/token.js';
import { TENANT_NAME } from '../state/tenant-registry.js';
import { type Principal, PRINCIPAL_ROLES, type PrincipalRole } from './types.js';

/** Default of AMPHI_V1_AUDIENCE. */
export const DEFAULT_V1_AUDIENCE = 'amphi-v1';
export const MAX_SUB_LENGTH = 200;
/**
 * Well-formed text: no lone UTF-16 surrogate (String.prototype.isWellFormed is not in Node 20's
 * ES2023 types). Two subs differing only there would be two owners that decode as one.
 */
export const WELL_FORMED = /^[^\p{Surrogate}]*$/u;
export const WELL_FORMED_MESSAGE = 'must be well-formed text (no lone UTF-16 surrogate)';

export interface V1Claims {
  sub: string;
  tenant: string;
  role: PrincipalRole;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface V1MintOptions {
  role: string;
  tenant: string;
  sub: string;
  /** Lifetime in seconds; default one hour, at most 366 days. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  now?: () => number;
}

/** Why these claims name no caller, or undefined: checks sub, tenant and role. */
export function principalProblem(claims: { sub?: unknown; tenant?: unknown; role?: unknown }): string | undefined {
  const { sub, tenant, role } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) return `sub must be a string of 1..${MAX_SUB_LENGTH} characters`;
  // Control characters would end up in logs and Redis keys.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(sub)) return 'sub must not contain control characters';
  if (!WELL_FORMED.test(sub)) return `sub ${WELL_FORMED_MESSAGE}`;
  if (typeof tenant !== 'string' || !TENANT_NAME.test(tenant)) return `tenant must be a tenant name (${TENANT_NAME.source})`;
  if (typeof role !== 'string' || !(PRINCIPAL_ROLES as readonly string[]).includes(role)) return `role must be one of ${PRINCIPAL_ROLES.join(', ')}`;
  return undefined;
}

/** The caller a token's verified claims name, or why they name none. */
export function principalOf(claims: unknown): Principal | string {
  const c = (typeof claims === 'object' && claims !== null ? claims : {}) as { sub?: unknown; tenant?: unknown; role?: unknown };
  const problem = principalProblem(c);
  if (problem !== undefined) return problem;
  return { sub: c.sub as string, tenant: c.tenant as string, role: c.role as PrincipalRole };
}

export function mintV1Token(secret: string, opts: V1MintOptions): string {
  const problem = principalProblem(opts);
  if (problem !== undefined) throw new InvalidInputError(problem);
  const claims: V1Claims = {
    sub: opts.sub,
    tenant: opts.tenant,
    role: opts.role as PrincipalRole,
    iss: opts.issuer ?? DEFAULT_ISSUER,
    aud: opts.audience ?? DEFAULT_V1_AUDIENCE,
    ...standardClaims(opts),
  };
  return signHs256(secret, claims);
}
