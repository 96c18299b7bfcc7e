// A poll round over a large pool: 200 simulated servers (in a child process, so the simulator's
// work does not share the poller's event loop) running 2,000 meetings with users, cameras and
// audio; the poller polls them all, measures them and writes them to a private Redis.
// Prints the first (cold) round and p50/max over the following rounds, and writes them to
// bench/results/<name>.json (default poll-round), which scripts/bench-table.mjs reads.
// Run after `npm run build`: node bench/poll-round.mjs [--servers 200] [--meetings 10] [--rounds 5] [--concurrency 32] [--name poll-round]
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { BbbClient } from '../dist/src/bbb/client.js';
import { Poller } from '../dist/src/poller/poller.js';
import { createRedis } from '../dist/src/redis/connect.js';
import { startPrivateRedis } from '../dist/src/redis/private-redis.js';
import { Store } from '../dist/src/state/store.js';
import { mapLimit } from '../dist/src/util/map-limit.js';
import { provenance, startCli, writeResults } from './lib.mjs';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '200' },
    meetings: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    name: { type: 'string', default: 'poll-round' },
  },
});
const [SERVERS, PER_SERVER, ROUNDS, CONCURRENCY] = [values.servers, values.meetings, values.rounds, values.concurrency].map(Number);
const NAME = values.name;

async function postJson(url, body) {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const redisServer = await startPrivateRedis();
const sim = await startCli(['sim', '--servers', String(SERVERS), '--json'], {}, /^\[/);
const redis = createRedis(redisServer.url);
let users = 0;
let cameras = 0;
try {
  const endpoints = JSON.parse(sim.match.input);
  const store = new Store(redis);
  await store.tenants.put({ name: 'acme', secrets: ['bench-acme'], hostnames: [], settings: {} });
  for (const [i, e] of endpoints.entries()) {
    await store.servers.add({ id: `sim${String(i).padStart(3, '0')}`, url: e.url, secret: e.secret, capacity: 1000 });
  }

  // Meetings of varied sizes: 5 to 32 users, some cameras; every other one belongs to a tenant.
  const meetings = [];
  for (const [i, e] of endpoints.entries()) {
    for (let j = 0; j < PER_SERVER; j++) {
      const n = i * PER_SERVER + j;
      meetings.push({ e, id: n % 2 ? `acme~room-${n}` : `room-${n}`, users: 5 + (n % 28), cameras: n % 4 });
    }
  }
  await mapLimit(meetings, 64, async (m) => {
    await new BbbClient({ apiUrl: m.e.url, secret: m.e.secret }).create([
      ['meetingID', m.id],
      ['name', `Bench ${m.id}`],
    ]);
    const control = `${m.e.url.replace(/\/bigbluebutton\/api$/, '')}/sim/meetings/${encodeURIComponent(m.id)}/users`;
    const withCam = m.cameras > 0 ? await postJson(control, { count: m.cameras, role: 'MODERATOR', cameras: 1, audio: 'mic' }) : undefined;
    await postJson(control, { count: m.users - m.cameras, role: 'VIEWER', cameras: 0, audio: m.users % 3 ? 'listen' : 'mic' });
    users += m.users;
    cameras += withCam ? withCam.admitted.reduce((a, u) => a + u.cameras, 0) : 0;
  });

  const poller = new Poller({
    store,
    intervalMs: 5000,
    timeoutMs: 3000,
    concurrency: CONCURRENCY,
    offlineAfter: 2,
    onlineAfter: 1,
    graceMs: 60_000,
    fadeMs: 900_000,
    algorithm: 'sha256',
  });
  const cold = await poller.pollOnce();
  if (cold.polled !== SERVERS || cold.repinned !== meetings.length) {
    throw new Error(`cold round: ${JSON.stringify(cold)}`);
  }
  const durations = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s = await poller.pollOnce();
    if (s.polled !== SERVERS) throw new Error(`round ${r}: ${JSON.stringify(s)}`);
    durations.push(s.durationMs);
  }
  const sorted = [...durations].sort((a, b) => a - b);
  const measured = await store.servers.list();
  const pooledParticipants = measured.reduce((a, s) => a + s.participants, 0);
  const result = {
    bench: 'poll-round',
    ...provenance(),
    settings: { servers: SERVERS, meetings: meetings.length, users, cameras, participants: pooledParticipants, concurrency: CONCURRENCY, rounds: ROUNDS },
    summary: {
      coldRoundMs: Math.round(cold.durationMs),
      p50Ms: Math.round(percentile(sorted, 50)),
      maxMs: Math.round(sorted[sorted.length - 1]),
    },
    runs: durations.map((d) => Math.round(d)), // in the order measured
  };
  const { summary } = result;
  console.log(
    `poll round over ${SERVERS} servers / ${meetings.length} meetings / ${pooledParticipants} participants ` +
      `(concurrency ${CONCURRENCY}): cold ${summary.coldRoundMs} ms (re-pins every meeting), ` +
      `then p50 ${summary.p50Ms} ms, max ${summary.maxMs} ms over ${ROUNDS} rounds`,
  );
  console.log(`written to ${writeResults(NAME, result)}`);
} finally {
  await redis.quit();
  await sim.stop();
  await redisServer.stop();
}
