import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyChecksum } from '../../bbb/checksum.js';
import { BBB_ERRORS } from '../../bbb/errors.js';
import { API_PREFIX, bodyKindAllowed, bodyKindOf, callNameOf, parseBbbRequest, splitUrl } from '../../bbb/request.js';
import { renderFailed } from '../../bbb/responses.js';
import type { BbbMessage } from '../../bbb/types.js';
import { clientAddress } from '../http/client-address.js';
import { forRequest } from '../http/request-log.js';
import { apiIndex, CALLS, type CallSpec, REQUEST_NOT_RECOGNIZED } from './calls/index.js';
import { joinError } from './calls/join.js';
import { type Answer, type Call, type Gateway, XML_HEADERS } from './context.js';
import { tooManyRequests } from './rate-limit.js';
import type { Tenant } from './tenants.js';

export const SERVICE_UNAVAILABLE = {
  messageKey: 'serviceUnavailable',
  message: 'The service is temporarily unavailable. Please try again.',
};

const BODY_TOO_LARGE = { messageKey: 'bodyTooLarge', message: 'The request body is larger than this service accepts.' };

export function send(reply: FastifyReply, answer: Answer): FastifyReply {
  if ('redirect' in answer) return reply.code(302).header('location', answer.redirect).send();
  if (answer.headers) reply.headers(answer.headers);
  return reply.code(200).headers(XML_HEADERS).send(answer.xml);
}

const failed = (error: BbbMessage, outcome: string): Answer => ({ xml: renderFailed(error), outcome });

/** What answering needs of an HTTP request, whether fastify or the join fast path received it. */
export interface IncomingCall {
  method: string;
  /** The raw URL, query included, exactly as received. */
  url: string;
  host: string | undefined;
  protocol: string;
  /** The client's address (through trusted proxies only), for the per-address rate limit. */
  ip: string;
  contentType?: string;
  /** Whether the request carries a body (Content-Length above 0 or chunked). */
  hasBody?: boolean;
  body?: string;
}

/** Where in the API a request goes: its tenant prefix, the URL below it, the call for metrics. */
interface Target {
  tenantName: string | undefined;
  apiPath: string;
  below: string;
  /** The call named by the path ('' for the index), undefined when the path is not the API's. */
  callName: string | undefined;
  /** The call name as a metrics label: a known call, `index`, or `unknown`. */
  known: string;
}

/** The tenant named by a `/t/<tenant>/bigbluebutton/api…` prefix, if the URL has one. */
function tenantPrefix(url: string): string | undefined {
  if (!url.startsWith('/t/')) return undefined;
  const end = url.indexOf('/', 3);
  return end > 3 ? url.slice(3, end) : undefined;
}

function targetOf(url: string): Target {
  const tenantName = tenantPrefix(url);
  const below = tenantName === undefined ? url : url.slice(`/t/${tenantName}`.length);
  const callName = callNameOf(splitUrl(below).path);
  const known = callName === '' ? 'index' : callName !== undefined && CALLS.has(callName) ? callName : 'unknown';
  return { tenantName, apiPath: tenantName === undefined ? API_PREFIX : `/t/${tenantName}${API_PREFIX}`, below, callName, known };
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function publicBase(gw: Gateway, inc: Pick<IncomingCall, 'host' | 'protocol'>): string {
  if (gw.settings.AMPHI_PUBLIC_URL) return gw.settings.AMPHI_PUBLIC_URL.replace(/\/+$/, '');
  // Without AMPHI_PUBLIC_URL the Host header names us; anything but a host name is not used.
  return `${inc.protocol}://${inc.host !== undefined && HOST.test(inc.host) ? inc.host : 'localhost'}`;
}

const NO_TENANT: Tenant = { name: '', secrets: [], settings: {} };

async function tenantOf(gw: Gateway, inc: IncomingCall, t: Target): Promise<Tenant | undefined> {
  return t.tenantName === undefined ? gw.tenants.forHost(inc.host) : gw.tenants.named(t.tenantName);
}

/**
 * A refusal before the caller is known: a join gets BBB's error redirect, but to our own base
 * only (an unsigned request never picks where the browser goes), other calls FAILED XML.
 */
function refuseUnsigned(gw: Gateway, inc: IncomingCall, t: Target, error: BbbMessage, outcome: string): Answer {
  if (t.known !== 'join') return failed(error, outcome);
  const parsed = parseBbbRequest({ method: 'GET', url: t.below });
  if (!parsed.ok) return failed(error, outcome);
  return joinError({ request: parsed.request, tenant: NO_TENANT, publicBase: publicBase(gw, inc), clientIp: inc.ip }, error, outcome, false);
}

type Authenticated = { call: Call; spec: CallSpec } | { answer: Answer };

/** Parses the request and verifies its checksum against the tenant's secrets. */
async function authenticate(gw: Gateway, inc: IncomingCall, t: Target): Promise<Authenticated> {
  const tenant = await tenantOf(gw, inc, t);
  const parsed = parseBbbRequest({ method: inc.method, url: t.below, contentType: inc.contentType, body: inc.body });
  if (!parsed.ok) {
    return { answer: failed(parsed.reason === 'notApi' ? REQUEST_NOT_RECOGNIZED : BBB_ERRORS.unsupportedContentType, parsed.reason) };
  }
  const { request } = parsed;
  const call: Call = { request, tenant: tenant ?? NO_TENANT, publicBase: publicBase(gw, inc), clientIp: inc.ip };
  if (request.callName === '') return { answer: await apiIndex(gw, call, t.apiPath) };
  const spec = CALLS.get(request.callName);
  if (!spec || !spec.methods.includes(inc.method)) return { answer: failed(REQUEST_NOT_RECOGNIZED, 'unknownCall') };

  const verdict = verifyChecksum({
    callName: request.callName,
    rawQuery: request.rawQuery,
    checksum: request.params.get('checksum'),
    secrets: tenant?.secrets ?? [],
    allowed: gw.settings.AMPHI_CHECKSUM_ALGORITHMS,
    bodyParams: request.bodyParams,
  });
  if (verdict.ok) return { call, spec };
  const error = spec.legacyChecksum
    ? BBB_ERRORS.checksumErrorRecordings
    : verdict.reason === 'missing'
      ? BBB_ERRORS.checksumMissing
      : BBB_ERRORS.checksumError;
  return { answer: request.callName === 'join' ? joinError(call, error, 'checksumError', false) : failed(error, 'checksumError') };
}

/** The answer, or FAILED when the work throws (Redis down) or outlives the request deadline. */
function withinDeadline(gw: Gateway, t: Target, work: Promise<Answer | undefined>): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      gw.log.warn({ call: t.known, deadlineMs: gw.settings.AMPHI_REQUEST_TIMEOUT_MS }, 'BBB API request passed its deadline');
      resolve(failed(SERVICE_UNAVAILABLE, 'deadline'));
    }, gw.settings.AMPHI_REQUEST_TIMEOUT_MS);
    work.then(
      (answer) => {
        clearTimeout(timer);
        resolve(answer);
      },
      (err: unknown) => {
        clearTimeout(timer);
        gw.log.error({ err, call: t.known }, 'BBB API request failed');
        resolve(failed(SERVICE_UNAVAILABLE, 'internalError'));
      },
    );
  });
}

/** Counts and times an answer; undefined (screened, go on) is not an answer yet. */
function counted(gw: Gateway, t: Target, started: number, result: Answer | undefined): Answer | undefined {
  if (result === undefined) return undefined;
  gw.metrics.answered(t.known, result.outcome, (performance.now() - started) / 1000);
  if (t.known === 'join' && result.outcome !== 'success') gw.metrics.refusedJoins.inc({ reason: result.outcome });
  return result;
}

/** A GET join (the only join BBB serves) has its address counted with the join itself. */
function joinCountsItsAddress(inc: IncomingCall, t: Target): boolean {
  return t.known === 'join' && inc.method === 'GET';
}

/**
 * The checks made before a request's body is read: the per-address rate limit, the body's type,
 * and, when the checksum cannot depend on the body (anything but a form), the checksum. A
 * stranger's XML upload is refused without reading a byte of it. Undefined: go on.
 */
async function screen(gw: Gateway, inc: IncomingCall, t: Target): Promise<Answer | undefined> {
  // A GET join's address is counted in the join's own Redis call (join.ts), one round trip
  // less; anything else (a join by another method included) is counted here, before any work.
  const limited = joinCountsItsAddress(inc, t) ? undefined : await gw.limiter.address(inc.ip);
  if (limited) return refuseUnsigned(gw, inc, t, tooManyRequests(limited), 'rateLimited');
  if (inc.method !== 'POST' || !inc.hasBody) return undefined;
  const kind = bodyKindOf(inc.contentType, 1);
  if (kind === 'form') return undefined;
  if (t.callName !== undefined && !bodyKindAllowed(t.callName, kind)) return failed(BBB_ERRORS.unsupportedContentType, 'unsupportedContentType');
  const auth = await authenticate(gw, { ...inc, body: undefined }, t);
  return 'answer' in auth ? auth.answer : undefined;
}

/** Answers a request whose body (if any) has been read and screened. */
async function answer(gw: Gateway, inc: IncomingCall, t: Target): Promise<Answer> {
  const auth = await authenticate(gw, inc, t);
  if ('answer' in auth) {
    // A GET join refused before it could be counted still counts against its address.
    const limited = joinCountsItsAddress(inc, t) ? await gw.limiter.address(inc.ip) : undefined;
    return limited ? refuseUnsigned(gw, inc, t, tooManyRequests(limited), 'rateLimited') : auth.answer;
  }
  // A tenant's budget is for its own servers' calls. Joins come from every browser holding a
  // signed join URL, so strangers replaying one could spend it: they count per address only
  // (and a replayed URL takes one seat, see join.ts).
  if (auth.call.request.callName !== 'join') {
    const tenant = auth.call.tenant.name;
    const limited = (await gw.limiter.tenant(tenant)) ?? (auth.spec.fansOut ? await gw.limiter.fanOut(tenant) : undefined);
    if (limited) return failed(tooManyRequests(limited), 'rateLimited');
  }
  return auth.spec.handler(gw, auth.call);
}

// The three entry points below are the HTTP paths' only ways in: each one counts, times and
// bounds its step, and turns internal failures (Redis down) into a BBB FAILED, never an
// exception: BBB clients must see FAILED, not a 500.

/** Before the body is read (fastify's onRequest): see `screen`. */
export async function screenIncoming(gw: Gateway, inc: IncomingCall): Promise<Answer | undefined> {
  const started = performance.now();
  const t = targetOf(inc.url);
  return counted(gw, t, started, await withinDeadline(gw, t, screen(gw, inc, t)));
}

/** Once the body is read (the fastify route). */
export async function answerIncoming(gw: Gateway, inc: IncomingCall): Promise<Answer> {
  const started = performance.now();
  const t = targetOf(inc.url);
  return counted(gw, t, started, await withinDeadline(gw, t, answer(gw, inc, t)))!;
}

/** Both steps at once, for a request without a body to wait for (the join fast path). */
export async function answerBodiless(gw: Gateway, inc: IncomingCall): Promise<Answer> {
  const started = performance.now();
  const t = targetOf(inc.url);
  const both = async (): Promise<Answer> => (await screen(gw, inc, t)) ?? answer(gw, inc, t);
  return counted(gw, t, started, await withinDeadline(gw, t, both()))!;
}

function hasBody(req: FastifyRequest): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** A fastify error (body too large, bad media type) as a BBB answer; our own bugs are logged. */
function fastifyErrorAnswer(gw: Gateway, err: { statusCode?: number }): Answer {
  if (err.statusCode === 413) return failed(BODY_TOO_LARGE, 'bodyTooLarge');
  if (err.statusCode === 415) return failed(BBB_ERRORS.unsupportedContentType, 'unsupportedContentType');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return failed(REQUEST_NOT_RECOGNIZED, 'badRequest');
  gw.log.error({ err }, 'BBB API request failed');
  return failed(SERVICE_UNAVAILABLE, 'internalError');
}

/**
 * A URL fastify cannot route (an undecodable %-sequence in the path): on the BBB API, the BBB
 * answer to an unknown request; elsewhere fastify's own 400.
 */
export function badUrlAnswer(url: string): Answer | undefined {
  return targetOf(url).callName === undefined ? undefined : failed(REQUEST_NOT_RECOGNIZED, 'badUrl');
}

/**
 * The BBB-compatible API: `/bigbluebutton/api/*` (tenant by host name, else the default
 * tenant) and `/t/<tenant>/bigbluebutton/api/*`. Every answer is BBB XML with HTTP 200 (join:
 * 302), including internal failures, which BBB clients must see as FAILED, not as a 500.
 */
export async function bbbRoutes(app: FastifyInstance, opts: { gateway: Gateway }): Promise<void> {
  const gw = opts.gateway;
  const { settings } = gw;
  const incoming = (req: FastifyRequest): IncomingCall => ({
    method: req.method,
    url: req.raw.url ?? req.url,
    host: req.headers.host,
    ...clientAddress(req.raw, gw.trustProxy),
    contentType: req.headers['content-type'],
    hasBody: hasBody(req),
    body: typeof req.body === 'string' ? req.body : undefined,
  });

  // Bodies stay raw strings: form bodies take part in the checksum, XML bodies are forwarded.
  // Each kind has its own limit: presentations come as XML, a form is a few parameters.
  app.removeAllContentTypeParsers();
  const keep = (_req: FastifyRequest, body: string, done: (err: null, body: string) => void): void => done(null, body);
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string', bodyLimit: settings.AMPHI_FORM_BODY_LIMIT }, keep);
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string', bodyLimit: settings.AMPHI_XML_BODY_LIMIT }, keep);
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: settings.AMPHI_FORM_BODY_LIMIT }, keep);

  app.addHook('onRequest', async (req, reply) => {
    const early = await screenIncoming(forRequest(gw, req.log), incoming(req));
    // The unread body is not wanted: close the connection rather than drain it.
    if (early) return send(reply.header('connection', 'close'), early);
  });

  app.setErrorHandler(async (err, req, reply) => {
    const answer = fastifyErrorAnswer(forRequest(gw, req.log), err as { statusCode?: number });
    gw.metrics.answered('unknown', answer.outcome, 0);
    return send(reply.header('connection', 'close'), answer);
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => send(reply, await answerIncoming(forRequest(gw, req.log), incoming(req)));

  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
  for (const path of [API_PREFIX, `${API_PREFIX}/*`]) {
    app.route({ method: [...methods], url: path, handler: handle });
    app.route({ method: [...methods], url: `/t/:tenant${path}`, handler: handle });
  }
}
