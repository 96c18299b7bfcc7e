// RFC 9457 problem details (application/problem+json): how the JSON APIs (/admin, /v1) answer
// anything that is not a success, and their shared JSON-only body parsing.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

export const PROBLEM_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** What was wrong with which part of the input (each API names its own fields). */
  errors?: readonly object[];
}

export const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  414: 'URI too long',
  422: 'Unprocessable content',
  503: 'Service unavailable',
};

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_TYPE).send(problem);
}

/** A problem of ours: type `urn:amphi:problem:<slug>`, the status's title. */
export function problem(status: number, slug: string, detail: string, errors?: readonly object[]): Problem {
  return { type: `urn:amphi:problem:${slug}`, title: TITLES[status] ?? 'Error', status, detail, ...(errors && errors.length > 0 && { errors }) };
}

/**
 * An error no API mapped: fastify's own client errors (bad JSON, unsupported media type, body
 * too large) keep their status; anything else is a 500 that says nothing of the server's insides.
 */
export function fallbackProblem(err: FastifyError | Error): Problem {
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { type: 'about:blank', title: TITLES[status] ?? 'Bad request', status, detail: err.message };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the request failed on the server; see its log' };
}

/**
 * Bodies are small JSON documents and nothing else (other types get 415). An empty body (a bare
 * POST …/enable) is no body; the rest goes to fastify's parser, which refuses
 * prototype-poisoning keys.
 */
export function acceptJsonOnly(app: FastifyInstance, bodyLimit = 256 * 1024): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    json(req, text, done);
  });
}

/** Thrown by a handler to answer this problem (the API's error handler sends it). */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}
