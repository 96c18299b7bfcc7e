// Join and create throughput through the gateway with 20 simulated servers, against a bare
// Node http server answering the same kind of 302 in the same run (the floor); and
// getMeetings latency with 200 servers and 2,000 meetings.
// Run after `npm run build`: node bench/gateway.mjs [--duration 5] [--quick]
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BbbClient } from '../dist/bbb/client.js';
import { startPrivateRedis } from '../dist/redis/private-redis.js';
import { createRedis } from '../dist/redis/connect.js';
import { Store } from '../dist/state/store.js';
import { cannon, startCli } from './lib.mjs';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' }, quick: { type: 'boolean' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const SECRET = 'bench-secret';
const results = {};

async function startPool(servers, redisUrl) {
  const sim = await startCli(['sim', '--servers', String(servers), '--json'], {}, /^\[/);
  const endpoints = JSON.parse(sim.match.input);
  const redis = createRedis(redisUrl);
  const store = new Store(redis);
  for (const [i, e] of endpoints.entries()) {
    await store.servers.add({ id: `sim${String(i).padStart(3, '0')}`, url: e.url, secret: e.secret, capacity: 100_000, health: 'online' });
  }
  return { sim, endpoints, redis, store };
}

async function startGateway(redisUrl, port) {
  // Rate limits stay on (their counting is part of every answer's cost) but out of reach: the
  // load generator is one address and one tenant.
  const env = { REDIS_URL: redisUrl, AMPHI_SECRET: SECRET, PORT: String(port), LOG_LEVEL: 'warn', AMPHI_RATE_LIMIT_PER_IP: '1000000000', AMPHI_RATE_LIMIT_PER_TENANT: '1000000000' };
  return startCli(['gateway'], env, /listening on (http:\/\/\S+)\/bigbluebutton/);
}

function bareServer() {
  // The floor: the cheapest possible 302 from Node's http module.
  const server = createServer((req, res) => {
    res.writeHead(302, { location: 'http://127.0.0.1:1/bigbluebutton/api/join?fullName=x&checksum=y' });
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const redis = await startPrivateRedis();
try {
  // 1. Joins and creates, 20 servers.
  const pool = await startPool(20, redis.url);
  const gateway = await startGateway(redis.url, 0);
  const base = gateway.match[1];
  const client = new BbbClient({ apiUrl: `${base}/bigbluebutton/api`, secret: SECRET });
  for (let i = 0; i < 100; i++) await client.create([['meetingID', `bench-${i}`], ['name', `Bench ${i}`]]);
  const joinUrls = Array.from({ length: 100 }, (_, i) =>
    new URL(client.joinUrl([['fullName', `User ${i}`], ['meetingID', `bench-${i}`], ['role', 'VIEWER'], ['userID', `u${i}`]])),
  );
  const bare = await bareServer();
  const bareUrl = `http://127.0.0.1:${bare.address().port}`;
  results.bare302 = await cannon({ url: `${bareUrl}/bigbluebutton/api/join?fullName=x`, duration, connections });
  results.join = await cannon({
    url: base,
    duration,
    connections,
    requests: joinUrls.map((u) => ({ method: 'GET', path: `${u.pathname}${u.search}` })),
  });
  bare.close();
  let n = 0;
  results.create = await cannon({
    url: base,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          const u = new URL(client.url('create', [['meetingID', `c-${process.pid}-${n++}`], ['name', 'Created by the benchmark']]));
          return { ...req, method: 'GET', path: `${u.pathname}${u.search}` };
        },
      },
    ],
  });
  await gateway.stop();
  await pool.sim.stop();
  await pool.redis.flushdb(); // our own private Redis, started above
  await pool.redis.quit();

  // 2. getMeetings with 200 servers and 2,000 meetings.
  if (!values.quick) {
    const big = await startPool(200, redis.url);
    const gw2 = await startGateway(redis.url, 0);
    const c2 = new BbbClient({ apiUrl: `${gw2.match[1]}/bigbluebutton/api`, secret: SECRET });
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => c2.create([['meetingID', `gm-${i + j}`], ['name', `Meeting ${i + j}`]])));
    }
    const gm = new URL(c2.url('getMeetings'));
    // Latency as one LMS sees it (one call at a time), then under 10 concurrent callers.
    results.getMeetings2000 = await cannon({ url: `${gw2.match[1]}${gm.pathname}${gm.search}`, duration, connections: 1 });
    results.getMeetings2000x10 = await cannon({ url: `${gw2.match[1]}${gm.pathname}${gm.search}`, duration, connections: 10 });
    await gw2.stop();
    await big.sim.stop();
    await big.redis.quit();
  }
} finally {
  await redis.stop();
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(JSON.stringify({ machine: `${cpus().length} × ${cpu}, node ${process.version}`, duration, results }));
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(16)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}`);
}
