// The /v1 API's OpenAPI description: served at /docs/json (and the Swagger UI at /docs) when
// AMPHI_JWT_SECRET is set, valid OpenAPI 3, and listing every /v1 route the app has.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

describe('/docs (OpenAPI of the /v1 API)', () => {
  let pool: TestPool;
  let gw: TestGateway;

  beforeAll(async () => {
    pool = await startTestPool({ label: 'openapi', servers: 1, env: { AMPHI_JWT_SECRET: 'openapi-test-jwt-secret-0123456789' } });
    gw = await pool.startGateway();
  });
  afterAll(async () => pool.close());

  it('validates as OpenAPI 3 and lists every /v1 route with its methods', async () => {
    const res = await fetch(`${gw.url}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    // Every route fastify has under /v1 (but its HEAD twins), as OpenAPI spells paths, read
    // from fastify's route tree: each line is one segment below its parent's.
    const routes = new Set<string>();
    const stack: string[] = [];
    for (const line of gw.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ]*)[├└]── (.*) \(([A-Z, ]+)\)$/.exec(line);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      stack.length = depth;
      const path = `${stack[depth - 1] ?? ''}${m[2]!}`;
      stack.push(path);
      if (!path.startsWith('/v1')) continue;
      for (const method of m[3]!.split(', ')) if (method !== 'HEAD') routes.add(`${method.toLowerCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)));
    expect(routes.size).toBeGreaterThanOrEqual(9);
    expect([...routes].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => r.split(' ')[1]!.startsWith('/v1')).sort()).toEqual([...routes].sort());
    // Nothing but the /v1 API is described.
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/v1/'))).toBe(true);
    // Every error answer is described as problem details, successes keep their own type.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses) as [string, { content?: Record<string, unknown> }][]) {
          if (Number(status) >= 400) expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(['application/problem+json']);
        }
      }
    }
    expect(doc.paths['/v1/rooms']!.post!.responses['400']).toBeDefined();
    expect(Object.keys((doc.paths['/v1/rooms/{id}/invite.ics']!.get!.responses['200'] as { content: object }).content)).toEqual(['text/calendar']);
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await fetch(`${gw.url}/docs/`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/swagger/i);
  });

  it('is off without AMPHI_JWT_SECRET', async () => {
    const off = await startTestPool({ label: 'openapi-off', servers: 1 });
    try {
      const g = await off.startGateway();
      expect((await fetch(`${g.url}/docs/json`)).status).toBe(404);
      expect((await fetch(`${g.url}/v1/rooms`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
