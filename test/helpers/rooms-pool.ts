import { startTestPool, type TestGateway, type TestPool } from './gateway.js';

/**
 * A one-server pool (capacity 2000) and a gateway with the /v1 API and join links on
 * (AMPHI_JWT_SECRET = `jwtSecret`), rate limits off, and these tenants (name → BBB secret).
 */
export async function startRoomsPool(label: string, jwtSecret: string, tenants: Readonly<Record<string, string>>): Promise<{ pool: TestPool; gw: TestGateway }> {
  const pool = await startTestPool({
    servers: 1,
    capacity: 2000,
    label,
    env: { AMPHI_JWT_SECRET: jwtSecret, AMPHI_RATE_LIMIT_PER_IP: '0', AMPHI_RATE_LIMIT_PER_TENANT: '0' },
  });
  for (const [name, secret] of Object.entries(tenants)) await pool.store.tenants.put({ name, secrets: [secret], hostnames: [], settings: {} });
  return { pool, gw: await pool.startGateway() };
}
