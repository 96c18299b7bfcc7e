// The upstream client: how Amphi talks to the BBB servers of its pool. One module-level
// keep-alive Agent is shared by every client, so polling hundreds of servers reuses pooled
// connections instead of paying a TCP/TLS handshake per call.

import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { signQuery } from './checksum.js';
import type { ChecksumAlgorithm } from './checksum.js';
import {
  MalformedXmlError,
  parseXml,
  readFlag,
  readMessage,
  readReturnCode,
  toApiVersion,
  toCreateResult,
  toJoinResult,
  toMeetingInfo,
  toMeetings,
  toRecordings,
} from './parse.js';
import type { XmlNode } from './parse.js';
import { percentEncode } from './request.js';
import type { ApiVersion, BbbMessage, CreateResult, JoinResult, MeetingInfo, Recording } from './types.js';

/**
 * Shared by all clients that get no dispatcher of their own. Pools are per origin, so
 * `connections` bounds the sockets to one BBB server; idle sockets live longer than a
 * typical poll interval so that the next poll finds them open.
 */
export const sharedAgent = new Agent({
  connections: 32,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 120_000,
  connect: { timeout: 10_000 },
});

export const DEFAULT_TIMEOUT_MS = 5_000;
/** A sane BBB answer is far smaller; the cap keeps a broken server from exhausting memory. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export type BbbParams = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

export interface BbbClientOptions {
  /** e.g. `https://bbb1.example.com/bigbluebutton/api`; a trailing slash is ignored. */
  apiUrl: string;
  secret: string;
  /** Default sha1: every BBB version accepts it. */
  algorithm?: ChecksumAlgorithm;
  /** Bound on a whole call (connect, headers and body). Default 5000 ms. */
  timeoutMs?: number;
  /** Default: the shared keep-alive agent. */
  dispatcher?: Dispatcher;
  maxBodyBytes?: number;
}

export interface CallOptions {
  timeoutMs?: number;
  method?: 'GET' | 'POST';
  /** A POST body (e.g. create's XML modules); never part of the checksum. */
  body?: string;
  contentType?: string;
  /** An already-encoded query used as is instead of `params` (a gateway forwarding a client's query). */
  rawQuery?: string;
}

export interface RawAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: string;
}

export type BbbClientErrorKind = 'timeout' | 'refused' | 'network' | 'http' | 'malformed' | 'failed';

export interface BbbClientErrorInit {
  kind: BbbClientErrorKind;
  server: string;
  callName: string;
  detail: string;
  status?: number;
  messageKey?: string;
  bbbMessage?: string;
  cause?: unknown;
}

/** Every way a call to a BBB server can fail, classified so callers can decide on retries/health. */
export class BbbClientError extends Error {
  override readonly name = 'BbbClientError';
  readonly kind: BbbClientErrorKind;
  /** The apiUrl of the server that failed. */
  readonly server: string;
  readonly callName: string;
  readonly status?: number;
  readonly messageKey?: string;
  readonly bbbMessage?: string;

  constructor(init: BbbClientErrorInit) {
    super(`BBB ${init.callName || 'index'} on ${init.server} failed (${init.kind}): ${init.detail}`, {
      cause: init.cause,
    });
    this.kind = init.kind;
    this.server = init.server;
    this.callName = init.callName;
    if (init.status !== undefined) this.status = init.status;
    if (init.messageKey !== undefined) this.messageKey = init.messageKey;
    if (init.bbbMessage !== undefined) this.bbbMessage = init.bbbMessage;
  }
}

function entriesOf(params: BbbParams): Array<readonly [string, string]> {
  const iterator = (params as Partial<Iterable<unknown>>)[Symbol.iterator];
  return typeof iterator === 'function'
    ? [...(params as Iterable<readonly [string, string]>)]
    : Object.entries(params as Record<string, string>);
}

/**
 * encodeURIComponent plus `!'()*` (RFC 3986 strict, as the PHP client's rawurlencode). The
 * WHATWG URL parser undici applies re-encodes `'` in http(s) queries, which would change the
 * bytes BBB checksums after we signed them; the strict form is left alone by every parser.
 */
export function encodeComponent(value: string): string {
  // Most values (IDs, roles, numbers) need nothing: the join path signs several per request.
  if (UNRESERVED_ONLY.test(value)) return value;
  // A lone surrogate would make encodeURIComponent throw; it is written as U+FFFD, as UTF-8 would.
  return encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD')).replace(/[!'()*]/g, percentEncode);
}

const UNRESERVED_ONLY = /^[A-Za-z0-9._~-]*$/;

/** The query exactly as it is signed and sent: order kept, keys and values percent-encoded. */
export function encodeQuery(params: BbbParams): string {
  return entriesOf(params)
    .map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(value)}`)
    .join('&');
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** Error codes of an error, its cause chain and (for happy-eyeballs connects) its AggregateError parts. */
function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 4 || typeof err !== 'object' || err === null) return [];
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const codes = typeof code === 'string' ? [code] : [];
  codes.push(...errorCodes(cause, depth + 1));
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

function transportKind(err: unknown, timedOut: boolean): BbbClientErrorKind {
  const codes = errorCodes(err);
  const isTimeoutName = err instanceof Error && err.name === 'TimeoutError';
  if (timedOut || isTimeoutName || codes.some((c) => TIMEOUT_CODES.has(c))) return 'timeout';
  if (codes.includes('ECONNREFUSED')) return 'refused';
  return 'network';
}

function describe(err: unknown): string {
  const codes = errorCodes(err);
  const message = err instanceof Error ? err.message : String(err);
  return codes.length > 0 ? `${codes[0]}: ${message}` : message;
}

class BodyTooLargeError extends Error {}

async function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BodyTooLargeError(`answer larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class BbbClient {
  readonly apiUrl: string;
  private readonly secret: string;
  private readonly algorithm: ChecksumAlgorithm;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly maxBodyBytes: number;

  constructor(options: BbbClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    // Fail at configuration time, not on the first poll.
    new URL(this.apiUrl);
    this.secret = options.secret;
    this.algorithm = options.algorithm ?? 'sha1';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher ?? sharedAgent;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** A signed URL; the index call ('') is `…/api/?checksum=…`, which bbb-web maps to index. */
  url(callName: string, params: BbbParams = []): string {
    return this.signedUrl(callName, encodeQuery(params));
  }

  /** A signed URL over a query that is already encoded, kept byte for byte. */
  signedUrl(callName: string, encodedQuery: string): string {
    return `${this.apiUrl}/${callName}?${signQuery(callName, encodedQuery, this.secret, this.algorithm)}`;
  }

  /**
   * Sends a signed call and returns the answer untouched (any HTTP status, FAILED included).
   * Throws BbbClientError only for transport failures: timeout, refused, network.
   */
  async callRaw(callName: string, params: BbbParams = [], opts: CallOptions = {}): Promise<RawAnswer> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    // undici's own timeouts bound each phase; the signal bounds the call as a whole.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const url = opts.rawQuery !== undefined ? this.signedUrl(callName, opts.rawQuery) : this.url(callName, params);
      const answer = await request(url, {
        dispatcher: this.dispatcher,
        method: opts.method ?? 'GET',
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
        ...(opts.body !== undefined && {
          body: opts.body,
          headers: { 'content-type': opts.contentType ?? 'application/xml' },
        }),
      });
      // Reading the whole body also hands the socket back to the pool for reuse.
      const body = await readBody(answer.body, this.maxBodyBytes);
      return { status: answer.statusCode, headers: answer.headers, body };
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw this.error(callName, 'malformed', err.message, { cause: err });
      const kind = transportKind(err, signal.aborted);
      const detail = kind === 'timeout' ? `no complete answer within ${timeoutMs} ms` : describe(err);
      throw this.error(callName, kind, detail, { cause: err });
    }
  }

  /**
   * Sends a signed call and returns the parsed `<response>` of a SUCCESS answer. Anything else
   * (non-2xx, not XML, no returncode, FAILED) is thrown as a classified BbbClientError.
   */
  async call(callName: string, params: BbbParams = [], opts: CallOptions = {}): Promise<XmlNode> {
    const raw = await this.callRaw(callName, params, opts);
    if (raw.status < 200 || raw.status > 299) {
      throw this.error(callName, 'http', `HTTP ${raw.status}`, { status: raw.status });
    }
    const resp = await this.parse(callName, raw.body);
    const returnCode = readReturnCode(resp);
    if (returnCode === '') throw this.error(callName, 'malformed', 'answer has no <returncode>');
    if (returnCode !== 'SUCCESS') {
      const { messageKey, message } = readMessage(resp);
      throw this.error(callName, 'failed', `${returnCode} ${messageKey}: ${message}`, {
        messageKey,
        bbbMessage: message,
      });
    }
    return resp;
  }

  async index(): Promise<ApiVersion> {
    return this.typed('', [], toApiVersion);
  }

  async create(params: BbbParams, opts: CallOptions = {}): Promise<CreateResult> {
    return this.typed('create', params, toCreateResult, opts);
  }

  /** Every meeting of the server; the noMeetings answer gives []. */
  async getMeetings(): Promise<MeetingInfo[]> {
    return this.typed('getMeetings', [], toMeetings);
  }

  async getMeetingInfo(meetingID: string, opts: CallOptions = {}): Promise<MeetingInfo> {
    return this.typed('getMeetingInfo', [['meetingID', meetingID]], toMeetingInfo, opts);
  }

  /** An unknown meeting is not an error in BBB: it answers running=false. */
  async isMeetingRunning(meetingID: string): Promise<boolean> {
    return this.typed('isMeetingRunning', [['meetingID', meetingID]], (resp) => readFlag(resp, 'running'));
  }

  async end(meetingID: string, password?: string): Promise<BbbMessage> {
    const params: Array<[string, string]> = [['meetingID', meetingID]];
    if (password !== undefined) params.push(['password', password]);
    return this.typed('end', params, readMessage);
  }

  /** A server-side join: forces redirect=false so BBB answers XML instead of a 302. */
  async join(params: BbbParams): Promise<JoinResult> {
    const withoutRedirect = entriesOf(params).filter(([key]) => key !== 'redirect');
    return this.typed('join', [...withoutRedirect, ['redirect', 'false']], toJoinResult);
  }

  /** The signed URL a browser follows to join; no request is made. */
  joinUrl(params: BbbParams): string {
    return this.url('join', params);
  }

  /** Recordings matching the filters; the noRecordings answer gives []. */
  async getRecordings(params: BbbParams = []): Promise<Recording[]> {
    return this.typed('getRecordings', params, toRecordings);
  }

  /** Returns the `<published>` flag the server echoes. */
  async publishRecordings(recordID: string, publish: boolean): Promise<boolean> {
    const params: Array<[string, string]> = [
      ['recordID', recordID],
      ['publish', String(publish)],
    ];
    return this.typed('publishRecordings', params, (resp) => readFlag(resp, 'published'));
  }

  async deleteRecordings(recordID: string): Promise<boolean> {
    return this.typed('deleteRecordings', [['recordID', recordID]], (resp) => readFlag(resp, 'deleted'));
  }

  /** `meta` keys may be given with or without the `meta_` prefix. */
  async updateRecordings(recordID: string, meta: Readonly<Record<string, string>>): Promise<boolean> {
    const params: Array<[string, string]> = [['recordID', recordID]];
    for (const [key, value] of Object.entries(meta)) {
      params.push([key.startsWith('meta_') ? key : `meta_${key}`, value]);
    }
    return this.typed('updateRecordings', params, (resp) => readFlag(resp, 'updated'));
  }

  private async typed<T>(
    callName: string,
    params: BbbParams,
    map: (resp: XmlNode) => T,
    opts: CallOptions = {},
  ): Promise<T> {
    const resp = await this.call(callName, params, opts);
    try {
      return map(resp);
    } catch (err) {
      throw this.asMalformed(callName, err);
    }
  }

  private async parse(callName: string, body: string): Promise<XmlNode> {
    try {
      return await parseXml(body);
    } catch (err) {
      throw this.asMalformed(callName, err);
    }
  }

  private asMalformed(callName: string, err: unknown): unknown {
    if (!(err instanceof MalformedXmlError)) return err;
    return this.error(callName, 'malformed', err.message, { cause: err });
  }

  private error(
    callName: string,
    kind: BbbClientErrorKind,
    detail: string,
    extra: Pick<BbbClientErrorInit, 'status' | 'messageKey' | 'bbbMessage' | 'cause'> = {},
  ): BbbClientError {
    return new BbbClientError({ kind, server: this.apiUrl, callName, detail, ...extra });
  }
}
