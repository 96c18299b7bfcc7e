// The `webhook` provider: the scaler asks an operator's automation (Terraform, Ansible, a
// script behind a small HTTP server) for servers, and reads back what it built.
//
// ## The contract (the operator implements the server side)
//
// Every request goes to the configured base URL (e.g. `https://ops.example.org/amphi`) and is
// signed with the shared secret:
//
//   X-Amphi-Timestamp: <Unix time in seconds>
//   X-Amphi-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<METHOD>.<target>.<body>")>
//
// where <target> is the request's path and query as sent (`/amphi/servers?x=1`) and <body> the
// exact body bytes ('' for a GET). The receiver recomputes the HMAC, compares it in constant
// time, and refuses a timestamp more than 5 minutes away from its clock (and may remember the
// signatures it saw within those 5 minutes): a captured request cannot be replayed later, nor
// sent to another path or with another method. `verifyWebhookSignature` below does all of it
// for a Node receiver.
//
//   POST {base}/servers              {"idempotencyKey","sizeClass","name","tags":{…}}
//        → 200/201/202 with a server record. The operator MUST answer the same server for the
//          same idempotencyKey (a retried scaler job sends the same key; the scaler also looks
//          for the key in GET {base}/servers before it posts). Also sent as `Idempotency-Key`.
//   POST {base}/servers/{id}/delete  {"id"}
//        → 200/202/204; 404 when it is already gone (not an error).
//   GET  {base}/servers              → 200 {"servers":[server record, …]}
//   GET  {base}/servers/{id}         → 200 server record; 404 when gone.
//
// A server record: {"id", "sizeClass", "status": "booting"|"running"|"failed"|"gone",
// "idempotencyKey"?, "apiUrl"?, "secret"?, "tags"?: {…}}. The automation owns the new server's
// BBB secret: it reports `apiUrl` and `secret` once BBB is installed, and the scaler registers
// the server once its API answers with them (bbbApiAnswers). Use HTTPS: answers carry secrets.
// Nothing else is read from an answer; an answer's body never appears in an error.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { httpCall, parseJson, statusError } from './http.js';
import { checkIdempotencyKey, KEY_TAG, ProviderError, scalerTags } from './provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from './provider.js';

export const SIGNATURE_HEADER = 'x-amphi-signature';
export const TIMESTAMP_HEADER = 'x-amphi-timestamp';
export const REPLAY_TOLERANCE_SECONDS = 300;

/** The signature header's value for one request. */
export function signWebhook(secret: string, timestamp: string, method: string, target: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${method.toUpperCase()}.${target}.${body}`).digest('hex');
  return `sha256=${mac}`;
}

export interface WebhookRequestToVerify {
  method: string;
  /** Path and query as received (node:http `req.url`). */
  target: string;
  body: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The receiver's check: a valid signature over a timestamp within the tolerance. */
export function verifyWebhookSignature(
  secret: string,
  req: WebhookRequestToVerify,
  nowMs: number = Date.now(),
  toleranceSeconds = REPLAY_TOLERANCE_SECONDS,
): { ok: true } | { ok: false; reason: string } {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const timestamp = header(TIMESTAMP_HEADER);
  const signature = header(SIGNATURE_HEADER);
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing or malformed timestamp' };
  if (!signature) return { ok: false, reason: 'missing signature' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance (replay?)' };
  const expected = Buffer.from(signWebhook(secret, timestamp, req.method, req.target, req.body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

const recordSchema = z.object({
  id: z.string().min(1),
  sizeClass: z.string().min(1),
  status: z.enum(['booting', 'running', 'failed', 'gone']),
  idempotencyKey: z.string().optional(),
  apiUrl: z.string().url().optional(),
  secret: z.string().min(1).optional(),
  tags: z.record(z.string()).optional(),
});
const listSchema = z.object({ servers: z.array(recordSchema) });

export interface WebhookProviderOptions {
  /** e.g. `https://ops.example.org/amphi`; the paths above are appended. */
  url: string;
  /** The shared HMAC secret. Never logged, never in an error. */
  secret: string;
  /** Per call. Default 10 s. */
  timeoutMs?: number;
  /** Seconds since the epoch; tests move it. Default Date.now. */
  now?: () => number;
  dispatcher?: Dispatcher;
}

export class WebhookProvider implements CloudProvider {
  readonly name = 'webhook';
  private readonly base: URL;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly dispatcher: Dispatcher | undefined;

  constructor(opts: WebhookProviderOptions) {
    if (!opts.secret) throw new Error('webhook provider: a shared secret is required');
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new Error('webhook provider: url is not a URL');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('webhook provider: url must be http(s)');
    if (base.search || base.username || base.password) throw new Error('webhook provider: url must have no query and no credentials');
    base.pathname = base.pathname.replace(/\/+$/, '');
    this.base = base;
    this.secret = opts.secret;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.dispatcher = opts.dispatcher;
  }

  async create(req: CreateRequest): Promise<ProvisionedServer> {
    checkIdempotencyKey(this.name, req.idempotencyKey);
    const existing = (await this.list()).find((s) => s.idempotencyKey === req.idempotencyKey && s.status !== 'gone');
    if (existing) return existing;
    const body = JSON.stringify({
      idempotencyKey: req.idempotencyKey,
      sizeClass: req.sizeClass,
      name: req.name ?? `amphi-${req.sizeClass}-${req.idempotencyKey}`,
      tags: scalerTags(req),
    });
    const answer = await this.call('POST', ['servers'], body, { 'Idempotency-Key': req.idempotencyKey });
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 202) throw statusError(this.name, 'POST', answer.url, answer.status);
    const server = this.record(answer.json(), 'POST', answer.url);
    if (server.idempotencyKey !== req.idempotencyKey) {
      throw new ProviderError(this.name, `POST ${answer.url.pathname} answered a server for another idempotency key`, { retryable: false });
    }
    return server;
  }

  async delete(id: string): Promise<void> {
    const answer = await this.call('POST', ['servers', id, 'delete'], JSON.stringify({ id }));
    if (answer.status === 404 || answer.status === 200 || answer.status === 202 || answer.status === 204) return;
    throw statusError(this.name, 'POST', answer.url, answer.status);
  }

  async list(): Promise<ProvisionedServer[]> {
    const answer = await this.call('GET', ['servers']);
    if (answer.status !== 200) throw statusError(this.name, 'GET', answer.url, answer.status);
    const parsed = listSchema.safeParse(answer.json());
    if (!parsed.success) throw this.shapeError('GET', answer.url, parsed.error);
    return parsed.data.servers.map(toServer);
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const answer = await this.call('GET', ['servers', id]);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw statusError(this.name, 'GET', answer.url, answer.status);
    const server = this.record(answer.json(), 'GET', answer.url);
    return server.status === 'gone' ? undefined : server;
  }

  async status(id: string): Promise<ProviderServerStatus> {
    return (await this.get(id))?.status ?? 'gone';
  }

  private async call(method: 'GET' | 'POST', segments: string[], body = '', extra: Record<string, string> = {}) {
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname}/${segments.map(encodeURIComponent).join('/')}`;
    const timestamp = String(Math.floor(this.now() / 1000));
    const headers: Record<string, string> = {
      accept: 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, method, url.pathname + url.search, body),
      ...extra,
    };
    if (method === 'POST') headers['content-type'] = 'application/json';
    const answer = await httpCall(this.name, {
      method,
      url,
      headers,
      ...(method === 'POST' ? { body } : {}),
      timeoutMs: this.timeoutMs,
      ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
    });
    return { status: answer.status, url, json: () => parseJson(this.name, method, url, answer) };
  }

  private record(json: unknown, method: string, url: URL): ProvisionedServer {
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success) throw this.shapeError(method, url, parsed.error);
    return toServer(parsed.data);
  }

  /** Names the fields at fault, never their values (an answer may hold a secret). */
  private shapeError(method: string, url: URL, error: z.ZodError): ProviderError {
    const fields = [...new Set(error.issues.map((i) => i.path.join('.') || '(top level)'))].join(', ');
    return new ProviderError(this.name, `${method} ${url.pathname}: unexpected answer (${fields})`, { retryable: false });
  }
}

function toServer(r: z.infer<typeof recordSchema>): ProvisionedServer {
  const tags = { ...r.tags };
  const key = r.idempotencyKey ?? tags[KEY_TAG];
  return {
    id: r.id,
    sizeClass: r.sizeClass,
    status: r.status,
    ...(key !== undefined ? { idempotencyKey: key } : {}),
    ...(r.apiUrl !== undefined ? { apiUrl: r.apiUrl } : {}),
    ...(r.secret !== undefined ? { secret: r.secret } : {}),
    tags,
  };
}
