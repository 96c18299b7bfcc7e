import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { API_PREFIX } from '../../bbb/request.js';
import { type Answer, type Gateway, XML_HEADERS } from './context.js';
import { answerIncoming } from './routes.js';

const JOIN = `${API_PREFIX}/join`;

/** `/bigbluebutton/api/join` or `/t/<tenant>/bigbluebutton/api/join`. */
function isJoinPath(path: string): boolean {
  if (path === JOIN) return true;
  return path.startsWith('/t/') && path.endsWith(JOIN) && path.indexOf('/', 3) === path.length - JOIN.length;
}

function first(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim() || undefined;
}

function write(res: ServerResponse, answer: Answer): void {
  if ('redirect' in answer) {
    res.writeHead(302, { location: answer.redirect, 'content-length': 0 });
    res.end();
    return;
  }
  const body = typeof answer.xml === 'string' ? Buffer.from(answer.xml, 'utf8') : answer.xml;
  res.writeHead(200, {
    ...answer.headers,
    ...XML_HEADERS,
    'content-length': body.length,
  });
  res.end(body);
}

/**
 * Joins are most of a gateway's traffic at the start of every class, so they are answered
 * straight from Node's http server, ahead of fastify's routing and request objects (a quarter
 * of a join's CPU). The answer itself is the one the fastify route gives (answerIncoming);
 * every other request goes to fastify. Returns whether it took the request.
 */
export function joinFastPath(gw: Gateway): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (!isJoinPath(q === -1 ? url : url.slice(0, q))) return false;
    const encrypted = (req.socket as TLSSocket).encrypted === true;
    void answerIncoming(gw, {
      method: 'GET',
      url,
      host: req.headers.host,
      // As fastify with trustProxy: the balancer in front says how the client reached us.
      protocol: first(req.headers['x-forwarded-proto']) ?? (encrypted ? 'https' : 'http'),
    }).then((answer) => write(res, answer));
    return true;
  };
}
