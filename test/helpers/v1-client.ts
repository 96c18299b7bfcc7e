// The /v1 API and the /j/<token> pages as their callers use them, for the rooms tests: bearer
// tokens minted here (independently of the gateway's own minting, so that a test can also craft
// the broken ones an attacker would send), JSON calls, link forms, and the browser's walk from a
// link's 303 into the simulated BBB client.
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { SimServer } from '../../src/simulator/index.js';

export const V1_AUDIENCE = 'amphi-v1';
export const V1_ISSUER = 'amphi';

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A JWT with exactly this header and these claims, HMAC-signed with `secret` as its alg says (HS256 else), or the given signature. */
export function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string, signature?: string): string {
  const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const hash = { HS384: 'sha384', HS512: 'sha512' }[String(header.alg)] ?? 'sha256';
  return `${body}.${signature ?? createHmac(hash, secret).update(body).digest('base64url')}`;
}

export interface V1Identity {
  sub: string;
  tenant: string;
  role: 'teacher' | 'service' | 'admin' | string;
}

/** The claims of a valid /v1 token for `who`, one hour long; `extra` overrides or adds (undefined removes). */
export function v1Claims(who: V1Identity, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: who.sub, tenant: who.tenant, role: who.role, iss: V1_ISSUER, aud: V1_AUDIENCE, iat, exp: iat + 3600, jti: randomUUID(), ...extra };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

export function v1Token(secret: string, who: V1Identity, extra: Record<string, unknown> = {}): string {
  return signJwt({ alg: 'HS256', typ: 'JWT' }, v1Claims(who, extra), secret);
}

/** The contract's views (see /tmp/v1-contract.md and src/api/v1). */
export interface LinkView {
  id: string;
  role: 'moderator' | 'viewer';
  url: string;
  expiresAt: string;
  maxUses?: number | null;
  uses: number;
  revoked: boolean;
  createdAt: string;
}
export interface LiveView {
  participants: number;
  moderators: number;
  cameras: number;
  listeners: number;
}
export interface RoomView {
  id: string;
  title: string;
  owner: string;
  tenant: string;
  profile?: string | null;
  expectedParticipants?: number | null;
  expectedCameras?: number | null;
  start?: string | null;
  end?: string | null;
  welcome?: string | null;
  record: boolean;
  createdAt: string;
  updatedAt: string;
  state: 'idle' | 'running';
  live: LiveView;
  limits: { profile: string; maxParticipants: number; maxCameras: number; curve: { cameras: number; participants: number }[] };
  links: LinkView[];
  inviteUrl: string;
}
export interface RoomList {
  items: RoomView[];
  nextCursor?: string | null;
}
export interface ProblemView {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export interface JsonAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  text: string;
  /** The parsed body when it is JSON (problem+json included). */
  body: T;
}

/** One /v1 call; `token` undefined sends no Authorization header. */
export async function v1Call<T = unknown>(
  base: string,
  token: string | undefined,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.body.text();
  const contentType = String(res.headers['content-type'] ?? '');
  let parsed: unknown;
  if (/json/.test(contentType) && text !== '') parsed = JSON.parse(text);
  return { status: res.statusCode, headers: res.headers as JsonAnswer['headers'], contentType, text, body: parsed as T };
}

/** A /v1 client bound to a base URL and a token. */
export function v1Client(base: string, token: string | undefined) {
  return {
    token,
    get: <T = unknown>(path: string) => v1Call<T>(base, token, 'GET', path),
    post: <T = unknown>(path: string, body: unknown = {}) => v1Call<T>(base, token, 'POST', path, body),
    patch: <T = unknown>(path: string, body: unknown) => v1Call<T>(base, token, 'PATCH', path, body),
    delete: <T = unknown>(path: string) => v1Call<T>(base, token, 'DELETE', path),
  };
}
export type V1Client = ReturnType<typeof v1Client>;

export interface PageAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  html: string;
  location?: string;
}

async function page(res: Awaited<ReturnType<typeof request>>): Promise<PageAnswer> {
  const html = await res.body.text();
  const loc = res.headers.location;
  return {
    status: res.statusCode,
    headers: res.headers as PageAnswer['headers'],
    contentType: String(res.headers['content-type'] ?? ''),
    html,
    location: typeof loc === 'string' ? loc : undefined,
  };
}

/** Opens a link page (GET /j/<token>) as a browser would. */
export async function openLink(url: string, lang = 'fr-FR,fr;q=0.9,en;q=0.5'): Promise<PageAnswer> {
  return page(await request(url, { headers: { 'accept-language': lang, accept: 'text/html' } }));
}

/** Submits a link page's form (POST /j/<token>, field `name`); redirects are not followed. */
export async function submitLink(url: string, name: string, lang = 'fr-FR,fr;q=0.9,en;q=0.5'): Promise<PageAnswer> {
  return page(
    await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': lang, accept: 'text/html' },
      body: new URLSearchParams({ name }).toString(),
    }),
  );
}

/**
 * Follows a join's redirect as the browser does (gateway or server API join, then the HTML5
 * client page, where the simulated user enters). Returns the session token the client got.
 */
export async function enterClient(location: string): Promise<string> {
  let url = location;
  for (let hop = 0; hop < 5; hop++) {
    const res = await request(url);
    await res.body.dump();
    const session = new URL(url).searchParams.get('sessionToken');
    if (res.statusCode < 300 || res.statusCode >= 400) {
      if (res.statusCode !== 200 || !session) throw new Error(`the client did not open at ${url}: HTTP ${res.statusCode}`);
      return session;
    }
    url = new URL(String(res.headers.location), url).toString();
  }
  throw new Error(`too many redirects from ${location}`);
}

/** Joins through a link and enters the meeting; returns the user's session token on the simulated server. */
export async function joinThrough(url: string, name: string): Promise<string> {
  const answer = await submitLink(url, name);
  if (answer.status !== 303 || !answer.location) throw new Error(`join through ${url} as ${name}: HTTP ${answer.status} ${answer.html.slice(0, 200)}`);
  return enterClient(answer.location);
}

/** The simulator's control API: a user's camera on or off. */
export async function setCamera(server: SimServer, sessionToken: string, on: boolean): Promise<void> {
  const res = await request(`${server.baseUrl}/sim/sessions/${sessionToken}/camera`, {
    method: 'POST',
    body: JSON.stringify({ on }),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`camera ${on ? 'on' : 'off'} for ${sessionToken}: HTTP ${res.statusCode} ${text}`);
}

/** The simulator's control API: users who join and enter a meeting directly on the server. */
export async function addSimUsers(server: SimServer, upstreamID: string, spec: { count: number; cameras?: number; userIdPrefix?: string }): Promise<{ admitted: { sessionToken: string }[]; refused: unknown[] }> {
  const res = await request(`${server.baseUrl}/sim/meetings/${encodeURIComponent(upstreamID)}/users`, {
    method: 'POST',
    body: JSON.stringify(spec),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`add users to ${upstreamID}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as { admitted: { sessionToken: string }[]; refused: unknown[] };
}

/** The contract's join-link key and token layout: `<linkId>.<expiresAt base36>.<mac>`. */
export const linkKey = (jwtSecret: string): Buffer => createHmac('sha256', jwtSecret).update('amphi join links').digest();
export function linkToken(jwtSecret: string, linkId: string, expiresAt: number): string {
  // The MAC covers the expiry in decimal (src/rooms/link-token.ts); the token carries it in base 36.
  const mac = createHmac('sha256', linkKey(jwtSecret)).update(`${linkId}.${expiresAt}`).digest('base64url').slice(0, 22);
  return `${linkId}.${expiresAt.toString(36)}.${mac}`;
}

/** The `<token>` of a link URL `…/j/<token>`. */
export const tokenOf = (url: string): string => new URL(url).pathname.replace(/^\/j\//, '');
