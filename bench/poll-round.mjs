// A poll round over a large pool: 200 simulated servers (in a child process, so the simulator's
// work does not share the poller's event loop) running 2,000 meetings with users, cameras and
// audio; the poller polls them all, measures them and writes them to a private Redis.
// Prints the first (cold) round and p50/max over the following rounds.
// Run after `npm run build`: node bench/poll-round.mjs [--servers 200] [--meetings 10] [--rounds 5] [--concurrency 32]
import { cpus } from 'node:os';
import { request } from 'undici';
import { BbbClient } from '../dist/bbb/client.js';
import { Poller } from '../dist/poller/poller.js';
import { createRedis } from '../dist/redis/connect.js';
import { startPrivateRedis } from '../dist/redis/private-redis.js';
import { Store } from '../dist/state/store.js';
import { mapLimit } from '../dist/util/map-limit.js';
import { numberOptions, startCli } from './lib.mjs';

const {
  servers: SERVERS,
  meetings: PER_SERVER,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
} = numberOptions({ servers: 200, meetings: 10, rounds: 5, concurrency: 32 });

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
  durations.sort((a, b) => a - b);
  const result = {
    bench: 'poll-round',
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`,
    servers: SERVERS,
    meetings: meetings.length,
    users,
    cameras,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    coldRoundMs: Math.round(cold.durationMs),
    p50Ms: Math.round(percentile(durations, 50)),
    maxMs: Math.round(durations[durations.length - 1]),
  };
  const measured = await store.servers.list();
  result.pooledParticipants = measured.reduce((a, s) => a + s.participants, 0);
  console.log(JSON.stringify(result));
  console.log(
    `poll round over ${SERVERS} servers / ${meetings.length} meetings / ${result.pooledParticipants} participants ` +
      `(concurrency ${CONCURRENCY}): cold ${result.coldRoundMs} ms (re-pins every meeting), ` +
      `then p50 ${result.p50Ms} ms, max ${result.maxMs} ms over ${ROUNDS} rounds`,
  );
} finally {
  await redis.quit();
  await sim.stop();
  await redisServer.stop();
}
