// Parsing of BBB API requests. The raw query string is kept byte for byte: the checksum is
// computed over it, so nothing may be decoded, re-ordered or re-encoded before verification.

export const API_PREFIX = '/bigbluebutton/api';

export interface SplitUrl {
  path: string;
  /** Everything after the first `?`, exactly as received ('' when absent). */
  rawQuery: string;
}

export function splitUrl(url: string): SplitUrl {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

/**
 * The BBB call named by a path below `/bigbluebutton/api`: '' for the index call
 * (`/bigbluebutton/api` or `/bigbluebutton/api/`), `hooks/create` style names for webhooks,
 * undefined when the path is not under the API.
 */
export function callNameOf(path: string, prefix: string = API_PREFIX): string | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  if (rest === '' || rest === '/') return '';
  if (rest[0] !== '/') return undefined;
  return rest.slice(1).replace(/\/+$/, '');
}

// bbb-web strips control characters from every parameter name and value before validation.
/** A character as %XX escapes of its UTF-8 bytes (upper-case hex, as Java and browsers write them). */
export function percentEncode(c: string): string {
  let out = '';
  for (const b of Buffer.from(c, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

export function sanitizeString(value: string): string {
  return value.replace(CONTROL_CHARS, '');
}

function decodeFormComponent(value: string): string {
  if (!value.includes('%') && !value.includes('+')) return value;
  const plusFree = value.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plusFree);
  } catch {
    // A malformed %-sequence is kept literally rather than failing the whole request.
    return plusFree;
  }
}

/**
 * Decodes an `application/x-www-form-urlencoded` string (query or body). The first value of a
 * repeated parameter wins, as in Grails' `params.x` on a single-valued read.
 */
export function parseForm(raw: string, into: Map<string, string> = new Map()): Map<string, string> {
  if (raw === '') return into;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = sanitizeString(decodeFormComponent(eq === -1 ? part : part.slice(0, eq)));
    const value = eq === -1 ? '' : sanitizeString(decodeFormComponent(part.slice(eq + 1)));
    if (key !== '' && !into.has(key)) into.set(key, value);
  }
  return into;
}

export type BodyKind = 'none' | 'form' | 'xml' | 'multipart' | 'unsupported';

/** Classifies a POST body by its Content-Type the way bbb-web's ContentTypeValidator does. */
export function bodyKindOf(contentType: string | undefined, bodyLength: number): BodyKind {
  if (bodyLength === 0) return 'none';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'application/xml' || type === 'text/xml') return 'xml';
  if (type === 'multipart/form-data') return 'multipart';
  return 'unsupported';
}

/** Which body kinds each call accepts (bbb-api.md §0, "POST bodies"). */
export function bodyKindAllowed(callName: string, kind: BodyKind): boolean {
  if (kind === 'none') return true;
  if (kind === 'unsupported') return false;
  if (callName === 'create') return true;
  if (callName === 'insertDocument') return kind === 'xml';
  return kind === 'form' || kind === 'multipart';
}

export interface BbbRequest {
  callName: string;
  method: string;
  rawQuery: string;
  /** Query parameters, then form-body parameters not already given in the query. */
  params: Map<string, string>;
  /** The form-body parameters alone (for the POST checksum rule), when the body was a form. */
  bodyParams?: Map<string, string>;
  /** Raw XML body (create modules, insertDocument), when the body was XML. */
  xmlBody?: string;
}

export interface RawBbbRequest {
  method: string;
  url: string;
  contentType?: string;
  body?: string;
  /** Path prefix before `/api` (default `/bigbluebutton/api`), e.g. for tenant prefixes. */
  prefix?: string;
}

export type ParsedRequest =
  | { ok: true; request: BbbRequest }
  | { ok: false; reason: 'notApi' | 'unsupportedContentType' };

export function parseBbbRequest(raw: RawBbbRequest): ParsedRequest {
  const { path, rawQuery } = splitUrl(raw.url);
  const callName = callNameOf(path, raw.prefix ?? API_PREFIX);
  if (callName === undefined) return { ok: false, reason: 'notApi' };
  const body = raw.body ?? '';
  const kind = raw.method === 'POST' ? bodyKindOf(raw.contentType, body.length) : 'none';
  if (!bodyKindAllowed(callName, kind)) return { ok: false, reason: 'unsupportedContentType' };
  const params = parseForm(rawQuery);
  const request: BbbRequest = { callName, method: raw.method, rawQuery, params };
  if (kind === 'form') {
    request.bodyParams = parseForm(body);
    for (const [key, value] of request.bodyParams) if (!params.has(key)) params.set(key, value);
  } else if (kind === 'xml') {
    request.xmlBody = body;
  }
  return { ok: true, request };
}
