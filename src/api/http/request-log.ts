// Every line logged while answering a request carries its id (`reqId`). Fastify gives the
// requests it routes a child logger with it; joins, answered ahead of fastify
// (bbb/join-fast-path.ts), take an id from the same sequence and a child made only if they log,
// so that a join that logs nothing pays for no logger.
import cluster from 'node:cluster';
import type { FastifyBaseLogger } from 'fastify';
import type { Gateway } from '../bbb/context.js';

let lastId = 0;

/**
 * What sets this process's ids apart from its siblings': the gateway's cluster workers
 * (`--workers`) each count from 1, so an id names its worker (`w3`), or else the process (`p4711`).
 */
function processTag(): string {
  return cluster.isWorker && cluster.worker ? `w${cluster.worker.id}` : `p${process.pid}`;
}

let tag: string | undefined;

/** Fastify's default form (req-1, req-2, …, base 36) after the process's tag (`req-w3-1f`), one sequence for both paths. */
export function nextRequestId(): string {
  lastId += 1;
  tag ??= processTag();
  return `req-${tag}-${lastId.toString(36)}`;
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
