import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyChecksum } from '../../bbb/checksum.js';
import { BBB_ERRORS } from '../../bbb/errors.js';
import { API_PREFIX, parseBbbRequest } from '../../bbb/request.js';
import { renderFailed } from '../../bbb/responses.js';
import type { BbbMessage } from '../../bbb/types.js';
import { apiIndex, CALLS, REQUEST_NOT_RECOGNIZED } from './calls/index.js';
import { joinError } from './calls/join.js';
import type { Answer, Call, Gateway } from './context.js';
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
  return reply.code(200).header('content-type', 'text/xml;charset=utf-8').header('cache-control', 'no-cache').send(answer.xml);
}

const failed = (error: BbbMessage, outcome: string): Answer => ({ xml: renderFailed(error), outcome });

function publicBase(gw: Gateway, req: FastifyRequest): string {
  return gw.settings.AMPHI_PUBLIC_URL?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
}

/** Answers one BBB API request for a tenant, from the raw URL below the tenant prefix. */
async function answer(gw: Gateway, req: FastifyRequest, tenant: Tenant | undefined, url: string, apiPath: string): Promise<Answer> {
  const parsed = parseBbbRequest({
    method: req.method,
    url,
    contentType: req.headers['content-type'],
    body: typeof req.body === 'string' ? req.body : undefined,
  });
  if (!parsed.ok) return failed(parsed.reason === 'notApi' ? REQUEST_NOT_RECOGNIZED : BBB_ERRORS.unsupportedContentType, parsed.reason);
  const { request } = parsed;
  const call: Call = { request, tenant: tenant ?? { name: '', secrets: [], settings: {} }, publicBase: publicBase(gw, req) };
  if (request.callName === '') return apiIndex(gw, call, apiPath);
  const spec = CALLS[request.callName];
  if (!spec || !spec.methods.includes(req.method)) return failed(REQUEST_NOT_RECOGNIZED, 'unknownCall');

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
    gw.metrics.requests.inc({ call: 'error', outcome: 'internalError' });
    return send(reply, failed(SERVICE_UNAVAILABLE, 'internalError'));
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply, tenantName: string | undefined): Promise<FastifyReply> => {
    const started = performance.now();
    const url = req.raw.url ?? req.url;
    const apiPath = tenantName === undefined ? API_PREFIX : `/t/${tenantName}${API_PREFIX}`;
    const tenant = tenantName === undefined ? await gw.tenants.forHost(req.headers.host) : await gw.tenants.named(tenantName);
    const below = tenantName === undefined ? url : url.slice(`/t/${tenantName}`.length);
    const result = await answer(gw, req, tenant, below, apiPath);
    const callName = below.slice(API_PREFIX.length + 1).split('?')[0] || 'index';
    const known = callName === 'index' || callName in CALLS ? callName : 'unknown';
    gw.metrics.answered(known, result.outcome, (performance.now() - started) / 1000);
    if (known === 'join' && result.outcome !== 'success') gw.metrics.refusedJoins.inc({ reason: result.outcome });
    return send(reply, result);
  };

  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
  for (const path of [API_PREFIX, `${API_PREFIX}/*`]) {
    app.route({ method: [...methods], url: path, handler: (req, reply) => handle(req, reply, undefined) });
    app.route({
      method: [...methods],
      url: `/t/:tenant${path}`,
      handler: (req, reply) => handle(req, reply, (req.params as { tenant: string }).tenant),
    });
  }
}
