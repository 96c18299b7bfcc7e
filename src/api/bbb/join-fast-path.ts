import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { API_PREFIX } from '../../bbb/request.js';
import { renderFailed } from '../../bbb/responses.js';
import { clientAddress } from '../http/client-address.js';
import { forRequest, lazyRequestLog, nextRequestId } from '../http/request-log.js';
import { type Answer, type Gateway, XML_HEADERS } from './context.js';
import { answerBodiless, SERVICE_UNAVAILABLE } from './routes.js';

const JOIN = `${API_PREFIX}/join`;

/** `/bigbluebutton/api/join` or `/t/<tenant>/bigbluebutton/api/join`. */
function isJoinPath(path: string): boolean {
  if (path === JOIN) return true;
  return path.startsWith('/t/') && path.endsWith(JOIN) && path.indexOf('/', 3) === path.length - JOIN.length;
}

function writeAnswer(res: ServerResponse, answer: Answer): void {
  if ('redirect' in answer) {
    res.writeHead(302, { location: answer.redirect, 'content-length': 0 });
    res.end();
    return;
  }
  const body = typeof answer.xml === 'string' ? Buffer.from(answer.xml, 'utf8') : answer.xml;
  res.writeHead(200, { ...answer.headers, ...XML_HEADERS, 'content-length': body.length });
  res.end(body);
}

/**
 * Writes the answer; should that throw (a header Node refuses), a FAILED answer instead, and if
 * even that cannot be written the connection is dropped. Never an exception out of here.
 */
function write(res: ServerResponse, answer: Answer, log: FastifyBaseLogger): void {
  try {
    writeAnswer(res, answer);
  } catch (err) {
    log.error({ err }, 'join answer could not be written');
    try {
      if (!res.headersSent) writeAnswer(res, { xml: renderFailed(SERVICE_UNAVAILABLE), outcome: 'internalError' });
      else res.destroy();
    } catch {
      res.destroy();
    }
  }
}

/**
 * Joins are most of a gateway's traffic at the start of every class, so they are answered
 * straight from Node's http server, ahead of fastify's routing and request objects (a quarter
 * of a join's CPU). The answer is the one the fastify route gives, checks and rate limits
 * included (routes.ts answerBodiless); every other request goes to fastify. Returns whether it
 * took the request.
 */
export function joinFastPath(gw: Gateway): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (!isJoinPath(q === -1 ? url : url.slice(0, q))) return false;
    const log = lazyRequestLog(gw.log, nextRequestId());
    answerBodiless(forRequest(gw, log), { method: 'GET', url, host: req.headers.host, ...clientAddress(req, gw.trustProxy) }).then(
      (answer) => write(res, answer, log),
      (err: unknown) => {
        log.error({ err }, 'BBB API request failed');
        write(res, { xml: renderFailed(SERVICE_UNAVAILABLE), outcome: 'internalError' }, log);
      },
    );
    return true;
  };
}
