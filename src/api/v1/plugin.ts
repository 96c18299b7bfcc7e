// The /v1 JSON API for teachers' rooms, and its OpenAPI 3 description (generated from the
// routes' zod schemas) at /docs (Swagger UI) and /docs/json. Registered by the app only when
// AMPHI_JWT_SECRET is set, as /admin is.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodIssue } from 'zod';
import { linkKey } from '../../rooms/link-token.js';
import type { RoomMeetings } from '../../rooms/room-meetings.js';
import type { Gateway } from '../bbb/context.js';
import { acceptJsonOnly, fallbackProblem, type Problem, problem, ProblemError, sendProblem } from '../http/problem.js';
import { v1Auth } from './auth.js';
import type { V1Context } from './context.js';
import { linkRoutes } from './links.js';
import { roomRoutes } from './rooms.js';
import { V1_PREFIX } from './views.js';

export const DOCS_PREFIX = '/docs';

export interface V1Options {
  gateway: Gateway;
  /** The rooms' meetings, shared with the /j pages. */
  rooms: RoomMeetings;
  jwtSecret: string;
  issuer: string;
  audience: string;
}

/**
 * The problem for a /v1 URL fastify refuses before routing (an undecodable %-sequence, a path
 * parameter over its length), which never reaches the plugin; undefined for other URLs.
 */
export function v1BadUrlProblem(url: string, err: { statusCode?: number; message: string }): Problem | undefined {
  if (url !== V1_PREFIX && !url.startsWith(`${V1_PREFIX}/`) && !url.startsWith(`${V1_PREFIX}?`)) return undefined;
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  return problem(status, 'bad-url', status === 414 ? 'a part of the URL is too long' : 'the URL is not valid (an undecodable %-sequence)');
}

/**
 * Error answers are application/problem+json, whatever a route's success media type: the
 * generated document says application/json (or the route's own), so it is renamed here.
 */
function problemMediaTypes<D extends { paths?: object }>(doc: D): D {
  for (const operations of Object.values(doc.paths ?? {}) as Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>[]) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400 || !response.content) continue;
        const [schema] = Object.values(response.content);
        response.content = { 'application/problem+json': schema };
      }
    }
  }
  return doc;
}

/** One {field, message} per problem; a field the API does not know is named too. */
function fieldErrors(issues: readonly ZodIssue[], context: string | undefined): { field: string; message: string }[] {
  return issues.flatMap((i) => {
    const path = i.path.join('.');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: path ? `${path}.${k}` : k, message: 'is not a field of this request' }));
    return [{ field: path || (context ?? 'body'), message: i.message }];
  });
}

async function v1Api(app: FastifyInstance, opts: V1Options & { ctx: V1Context }): Promise<void> {
  acceptJsonOnly(app, 64 * 1024);
  await v1Auth(app, { jwtSecret: opts.jwtSecret, issuer: opts.issuer, audience: opts.audience, tenants: opts.gateway.tenants });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ProblemError) return sendProblem(reply, err.problem);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = fieldErrors(
        err.validation.map((v) => v.params.issue),
        err.validationContext,
      );
      return sendProblem(reply, problem(400, 'invalid-input', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors));
    }
    const p = fallbackProblem(err);
    if (p.status >= 500) request.log.error({ err }, 'v1 request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, 'not-found', `no /v1 route ${request.method} ${request.url.split('?')[0]}`)));

  await roomRoutes(app, opts.ctx);
  await linkRoutes(app, opts.ctx);
}

/** Registers /v1 and /docs. Call it only when AMPHI_JWT_SECRET is set. */
export async function registerV1Api(app: FastifyInstance, opts: V1Options): Promise<void> {
  const ctx: V1Context = { gw: opts.gateway, meetings: opts.rooms, key: linkKey(opts.jwtSecret) };
  // A scope of its own: the zod compilers and the OpenAPI document concern these routes only.
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    await scope.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Amphi rooms API',
          version: '1',
          description: "Teachers' rooms on an Amphi BigBlueButton pool: rooms, join links (/j/<token>), calendar invitations. Errors are RFC 9457 problem details.",
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        tags: [
          { name: 'rooms', description: 'Rooms and their meetings' },
          { name: 'links', description: 'Join links and invitations' },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: (doc) => ('openapiObject' in doc ? problemMediaTypes(doc.openapiObject) : doc.swaggerObject),
    });
    await scope.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
    await scope.register(v1Api, { ...opts, ctx, prefix: V1_PREFIX });
  });
}
