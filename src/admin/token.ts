// Admin tokens (and, through the same minting, /v1 ones: rooms/v1-token.ts): HS256 JWTs signed
// with AMPHI_JWT_SECRET. Minted here with node:crypto (the CLI needs no fastify instance for
// this); verified by @fastify/jwt (api/http/bearer.ts, for /admin and /v1) with the rules below.
import { createHmac, randomUUID } from 'node:crypto';
import { InvalidInputError } from './errors.js';

/** The scope an admin token must carry, so a token minted for another use of the key is no admin key. */
export const ADMIN_SCOPE = 'amphi:admin';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/** Long-lived automation tokens are possible, eternal ones are not: rotate at least yearly. */
export const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;
/** Defaults of AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE. */
export const DEFAULT_ISSUER = 'amphi';
export const DEFAULT_AUDIENCE = 'amphi-admin';
/** The only algorithm verified: a token may not choose how it is checked (no `none`, no other HS*). */
export const TOKEN_ALGORITHM = 'HS256';
/** Claims a token must carry; a token without exp would be valid forever. */
export const REQUIRED_CLAIMS: readonly string[] = ['exp', 'iat', 'iss', 'aud'];
/** Clock skew forgiven between the machine that minted a token and the gateway. */
export const CLOCK_TOLERANCE_SECONDS = 30;

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `12h`, `30d` → seconds, within (0, 366 days]. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (UNITS[match[2] || 's'] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw new InvalidInputError(`expiry "${text}" must be a duration such as 900, 15m, 12h or 30d, at most 366d`);
  }
  return seconds;
}

export interface MintOptions {
  /** Lifetime in seconds; default one hour. */
  expiresIn?: number;
  /** Who the token is for, kept in `sub` for the logs. */
  subject?: string;
  /** `iss` and `aud`: AMPHI_JWT_ISSUER and AMPHI_JWT_AUDIENCE of the gateways it is for. */
  issuer?: string;
  audience?: string;
  now?: () => number;
}

export interface AdminClaims {
  sub: string;
  scope: string;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** The claims every token of ours carries, by the rules above: iat now, exp within the longest lifetime, a fresh jti. */
export function standardClaims(opts: { expiresIn?: number; now?: () => number }): { iat: number; exp: number; jti: string } {
  const ttl = opts.expiresIn ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new InvalidInputError(`token lifetime must be 1..${MAX_TOKEN_TTL_SECONDS} seconds`);
  }
  const iat = Math.floor((opts.now ?? Date.now)() / 1000);
  return { iat, exp: iat + ttl, jti: randomUUID() };
}

/** An HS256 JWT of `claims` (the admin and the /v1 tokens both). */
export function signHs256(secret: string, claims: object): string {
  if (secret === '') throw new InvalidInputError('a token needs AMPHI_JWT_SECRET');
  const body = `${b64url(JSON.stringify({ alg: TOKEN_ALGORITHM, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

export function mintAdminToken(secret: string, opts: MintOptions = {}): string {
  if (secret === '') throw new InvalidInputError('an admin token needs AMPHI_JWT_SECRET');
  const { iat, exp, jti } = standardClaims(opts);
  const claims: AdminClaims = {
    sub: opts.subject ?? 'operator',
    scope: ADMIN_SCOPE,
    iss: opts.issuer ?? DEFAULT_ISSUER,
    aud: opts.audience ?? DEFAULT_AUDIENCE,
    iat,
    exp,
    jti,
  };
  return signHs256(secret, claims);
}

/** OAuth-style space-separated scopes; the admin scope must be one of them. */
export function hasAdminScope(claims: unknown): boolean {
  if (typeof claims !== 'object' || claims === null) return false;
  const { scope } = claims as { scope?: unknown };
  return typeof scope === 'string' && scope.split(' ').includes(ADMIN_SCOPE);
}

/**
 * What the JWT library leaves unchecked, once it has verified the signature, exp, iss and aud:
 * iat is a number and not in the future, and the lifetime (exp - iat) is no longer than `amphi
 * token` allows, so a token made by other means cannot live for decades. Returns why the claims
 * are refused, or undefined.
 */
export function lifetimeProblem(claims: unknown, nowMs = Date.now()): string | undefined {
  const { iat, exp } = (typeof claims === 'object' && claims !== null ? claims : {}) as { iat?: unknown; exp?: unknown };
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'The iat claim must be a number.';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'The exp claim must be a number.';
  if (iat > nowMs / 1000 + CLOCK_TOLERANCE_SECONDS) return 'The token is issued in the future.';
  if (exp - iat > MAX_TOKEN_TTL_SECONDS) return `The token lives longer than ${MAX_TOKEN_TTL_SECONDS} seconds (366 days).`;
  return undefined;
}
