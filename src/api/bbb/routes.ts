import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyChecksum } from '../../bbb/checksum.js';
import { BBB_ERRORS } from '../../bbb/errors.js';
import { API_PREFIX, parseBbbRequest } from '../../bbb/request.js';
import { renderFailed } from '../../bbb/responses.js';
import type { BbbMessage } from '../../bbb/types.js';
import { apiIndex, CALLS, REQUEST_NOT_RECOGNIZED } from './calls/index.js';
import { joinError } from './calls/join.js';
import { type Answer, type Call, type Gateway, XML_HEADERS } from './context.js';
import type { Tenant } from './tenants.js';

export const SERVICE_UNAVAILABLE = {
  messageKey: 'serviceUnavailable',
  message: 'The service is temporarily unavailable. Please try again.',
};

/** Large enough for create's XML modules carrying base64 presentations. */
const BODY_LIMIT = 64 * 1024 * 1024;

function send(reply: FastifyReply, answer: Answer): FastifyReply {
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
  contentType?: string;
  body?: string;
}

function publicBase(gw: Gateway, inc: IncomingCall): string {
  return gw.settings.AMPHI_PUBLIC_URL?.replace(/\/+$/, '') ?? `${inc.protocol}://${inc.host ?? 'localhost'}`;
}

/** Answers one BBB API request for a tenant, from the raw URL below the tenant prefix. */
async function answer(gw: Gateway, inc: IncomingCall, tenant: Tenant | undefined, url: string, apiPath: string): Promise<Answer> {
  const parsed = parseBbbRequest({ method: inc.method, url, contentType: inc.contentType, body: inc.body });
  if (!parsed.ok) return failed(parsed.reason === 'notApi' ? REQUEST_NOT_RECOGNIZED : BBB_ERRORS.unsupportedContentType, parsed.reason);
  const { request } = parsed;
  const call: Call = { request, tenant: tenant ?? { name: '', secrets: [], settings: {} }, publicBase: publicBase(gw, inc) };
  if (request.callName === '') return apiIndex(gw, call, apiPath);
  const spec = CALLS[request.callName];
  if (!spec || !spec.methods.includes(inc.method)) return failed(REQUEST_NOT_RECOGNIZED, 'unknownCall');

  const verdict = verifyChecksum({
    callName: request.callName,
    rawQuery: request.rawQuery,
    checksum: request.params.get('checksum'),
    secrets: tenant?.secrets ?? [],
    allowed: gw.settings.AMPHI_CHECKSUM_ALGORITHMS,
    bodyParams: request.bodyParams,
  });
  if (!verdict.ok) {
    const error = spec.legacyChecksum
      ? BBB_ERRORS.checksumErrorRecordings
      : verdict.reason === 'missing'
        ? BBB_ERRORS.checksumMissing
        : BBB_ERRORS.checksumError;
    return request.callName === 'join' ? joinError(call, error, 'checksumError') : failed(error, 'checksumError');
  }
  return spec.handler(gw, call);
}

/** The tenant named by a `/t/<tenant>/bigbluebutton/api…` prefix, if the URL has one. */
function tenantPrefix(url: string): string | undefined {
  if (!url.startsWith('/t/')) return undefined;
  const end = url.indexOf('/', 3);
  return end > 3 ? url.slice(3, end) : undefined;
}

/**
 * Answers a BBB API request, counted and timed. Internal failures (Redis down) become a BBB
 * FAILED, never an exception: BBB clients must see FAILED, not a 500.
 */
export async function answerIncoming(gw: Gateway, inc: IncomingCall): Promise<Answer> {
  const started = performance.now();
  const tenantName = tenantPrefix(inc.url);
  const apiPath = tenantName === undefined ? API_PREFIX : `/t/${tenantName}${API_PREFIX}`;
  const below = tenantName === undefined ? inc.url : inc.url.slice(`/t/${tenantName}`.length);
  const callName = below.slice(API_PREFIX.length + 1).split('?')[0] || 'index';
  const known = callName === 'index' || callName in CALLS ? callName : 'unknown';
  let result: Answer;
  try {
    const tenant = tenantName === undefined ? await gw.tenants.forHost(inc.host) : await gw.tenants.named(tenantName);
    result = await answer(gw, inc, tenant, below, apiPath);
  } catch (err) {
    gw.log.error({ err, call: known }, 'BBB API request failed');
    result = failed(SERVICE_UNAVAILABLE, 'internalError');
  }
  gw.metrics.answered(known, result.outcome, (performance.now() - started) / 1000);
  if (known === 'join' && result.outcome !== 'success') gw.metrics.refusedJoins.inc({ reason: result.outcome });
  return result;
}

/**
 * The BBB-compatible API: `/bigbluebutton/api/*` (tenant by host name, else the default
 * tenant) and `/t/<tenant>/bigbluebutton/api/*`. Every answer is BBB XML with HTTP 200 (join:
 * 302), including internal failures, which BBB clients must see as FAILED, not as a 500.
 */
export async function bbbRoutes(app: FastifyInstance, opts: { gateway: Gateway }): Promise<void> {
  const gw = opts.gateway;
  // Bodies stay raw strings: form bodies take part in the checksum, XML bodies are forwarded.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler(async (err, req, reply) => {
    req.log.error({ err }, 'BBB API request failed');
    gw.metrics.answered('unknown', 'internalError', 0);
    return send(reply, failed(SERVICE_UNAVAILABLE, 'internalError'));
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    send(
      reply,
      await answerIncoming(gw, {
        method: req.method,
        url: req.raw.url ?? req.url,
        host: req.headers.host,
        protocol: req.protocol,
        contentType: req.headers['content-type'],
        body: typeof req.body === 'string' ? req.body : undefined,
      }),
    );

  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
  for (const path of [API_PREFIX, `${API_PREFIX}/*`]) {
    app.route({ method: [...methods], url: path, handler: handle });
    app.route({ method: [...methods], url: `/t/:tenant${path}`, handler: handle });
  }
}
