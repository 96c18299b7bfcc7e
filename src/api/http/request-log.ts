// Every line logged while answering a request carries its id (`reqId`). Fastify gives the
// requests it routes a child logger with it; joins, answered ahead of fastify
// (bbb/join-fast-path.ts), take an id from the same sequence and a child made only if they log,
// so that a join that logs nothing pays for no logger.
import type { FastifyBaseLogger } from 'fastify';
import type { Gateway } from '../bbb/context.js';

let lastId = 0;

/** Fastify's default form (req-1, req-2, …, base 36), one sequence for both paths. */
export function nextRequestId(): string {
  lastId += 1;
  return `req-${lastId.toString(36)}`;
}

/** A child of `parent` carrying `reqId`, created at its first use. */
export function lazyRequestLog(parent: FastifyBaseLogger, reqId: string): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  return new Proxy(parent, { get: (_parent, key) => Reflect.get((child ??= parent.child({ reqId })), key) });
}

/** The gateway as one request sees it: the handlers log through `gw.log`, which then names the request. */
export function forRequest(gw: Gateway, log: FastifyBaseLogger): Gateway {
  return { ...gw, log };
}
