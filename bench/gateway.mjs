// The gateway's throughput, measured so that it cannot flatter: every answer is checked, and
// each figure is the median and spread (min–max) of --runs runs.
//
//   floor     a bare Node http 302 server in a process of its own (bench/floor-302.mjs), hit by
//             the same load generator with the same connections, paths and answer checks;
//   join      every join a new userID (fresh meetings each run, at most --per-meeting users
//             in each, under the policy's limit), through the gateway with its rate limits on
//             (raised out of reach); the figure is admitted joins/s: 302s to a pool server for
//             that meeting and user. Refusals (error redirects), wrong or other answers and
//             connection errors are counted apart and fail the bench past --max-bad;
//   rejoin    the same users joining again, a separate run;
//             floor, join and rejoin alternate, and each run's join/floor ratio is kept;
//   create    new meetings on a pool registered with its real capacity (--create-size, e.g.
//             standard: 500 load units): "room" while the pool has room (placed), "full" once it
//             is full (overcommitted); the gateway's placement metrics prove which it was;
//   getMeetings  200 servers, 2,000 meetings, one and ten callers (not with --quick).
//
// Each measured run first waits (up to --quiet-wait seconds, 30; none with --quick) until other
// processes use less than 0.15 core; the cores they used during the run are kept with it, and
// a round they disturbed anyway is made again (--retries 2), the disturbed one kept apart.
// Results go to bench/results/<name>.json (default `gateway`; --quick writes only with --name),
// which `npm run bench:table` turns into the README's table.
// Run after `npm run build`: node bench/gateway.mjs [--runs 3] [--duration 5] [--connections 50] [--quick] [--name NAME]
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { BbbClient } from '../dist/src/bbb/client.js';
import { loadSettings } from '../dist/src/config/settings.js';
import { DEFAULT_POLICY_DIR, loadPolicyDir, profileLimits, reservationFor } from '../dist/src/policy/index.js';
import { createRedis } from '../dist/src/redis/connect.js';
import { startPrivateRedis } from '../dist/src/redis/private-redis.js';
import { Store } from '../dist/src/state/store.js';
import { mapLimit } from '../dist/src/util/map-limit.js';
import { assertClean, checkedRun, checkXmlSuccess, buildFingerprint, cpuSample, cpuUse, parseMetrics, provenance, spread, startCli, startNode, waitQuiet, writeResults } from './lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
    name: { type: 'string' },
    'join-servers': { type: 'string', default: '20' },
    'per-meeting': { type: 'string', default: '280' },
    'max-rate': { type: 'string', default: '60000' },
    'create-servers': { type: 'string', default: '200' },
    'create-size': { type: 'string', default: 'standard' },
    'max-bad': { type: 'string', default: '0.001' },
    'quiet-wait': { type: 'string', default: '30' },
    retries: { type: 'string', default: '2' },
  },
});
const QUICK = values.quick;
const RUNS = QUICK ? 1 : Number(values.runs);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const JOIN_SERVERS = Number(values['join-servers']);
const PER_MEETING = Number(values['per-meeting']);
const CREATE_SERVERS = Number(values['create-servers']);
const MAX_BAD = Number(values['max-bad']);
const QUIET_WAIT = QUICK ? 0 : Number(values['quiet-wait']);
const RETRIES = QUICK ? 0 : Number(values.retries);
const FOREIGN_MAX = 0.15; // cores other processes may use during a run that counts
const NAME = values.name ?? (QUICK ? undefined : 'gateway');
const SECRET = 'bench-secret';
// Rate limits stay on (their counting is part of every answer's cost) but out of reach: the
// load generator is one address and one tenant.
const LIMITS = { AMPHI_RATE_LIMIT_PER_IP: '1000000000', AMPHI_RATE_LIMIT_PER_TENANT: '1000000000' };

// The shipped policy says how many users a default (`auto`) meeting admits and what a new
// meeting reserves on a server: the join runs stay under the one, the create runs use the other.
const loaded = await loadPolicyDir(DEFAULT_POLICY_DIR);
if (!loaded.ok) throw new Error(`policy: ${JSON.stringify(loaded.errors)}`);
const { policy } = loaded;
const auto = policy.profiles[policy.tenantDefaults.profile];
const seats = profileLimits(policy.curve.points, auto).maxParticipants - (auto.moderatorMargin ?? 0);
if (PER_MEETING > seats) throw new Error(`--per-meeting ${PER_MEETING} is above the ${seats} seats of a default meeting: joins would be refused`);
const CAPACITY = policy.load.sizeClasses[values['create-size']];
if (!CAPACITY) throw new Error(`--create-size: no size class ${values['create-size']}`);
const RESERVED = reservationFor(policy, auto.expected);
// Creates measured "with room" stop at 90 % of what the pool holds under the gateway's fill
// ceiling (AMPHI_PLACEMENT_MAX_FILL, as the gateway started below reads it), so none of them is overcommitted.
const MAX_FILL = loadSettings({}).AMPHI_PLACEMENT_MAX_FILL;
const ROOM_CREATES = Math.floor(CREATE_SERVERS * Math.floor((CAPACITY * MAX_FILL) / RESERVED) * 0.9);

const settings = {
  quick: QUICK,
  runs: RUNS,
  durationS: DURATION,
  connections: CONNECTIONS,
  joinServers: JOIN_SERVERS,
  usersPerMeeting: PER_MEETING,
  seatsPerMeeting: seats,
  createServers: CREATE_SERVERS,
  createServerSize: values['create-size'],
  createServerCapacity: CAPACITY,
  reservedPerMeeting: RESERVED,
  roomCreates: ROOM_CREATES,
  maxBad: MAX_BAD,
  quietWaitS: QUIET_WAIT,
  retries: RETRIES,
  foreignMaxCores: FOREIGN_MAX,
  gatewayEnv: LIMITS,
};
const runs = { floor: [], join: [], rejoin: [], createRoom: [], createFull: [], getMeetings: [], getMeetingsX10: [] };
const discarded = [];
const gatewayCounts = {};

/**
 * One round: `fn(id)` makes its runs ({ floor: …, join: … }). A round that other processes
 * disturbed (more than FOREIGN_MAX cores during one of its runs) is made again, with new users
 * and meetings, up to RETRIES times; the disturbed ones are kept apart in the results.
 */
async function round(phase, n, fn) {
  for (let attempt = 0; ; attempt++) {
    const got = await fn(attempt ? `${n}.${attempt}` : String(n));
    const disturbed = Object.values(got).some((r) => (r.cpu?.foreign ?? 0) > FOREIGN_MAX);
    if (!disturbed || attempt >= RETRIES) {
      for (const [name, r] of Object.entries(got)) runs[name].push(r);
      return;
    }
    discarded.push({ phase, round: n, attempt, runs: got });
    console.log(`(${phase} run ${n + 1} disturbed by other processes: made again)`);
  }
}

/**
 * A measured run: first, up to QUIET_WAIT seconds for the other processes on the machine to
 * calm down. `usPerOk`: each process's CPU per ok answer, in µs (from /proc).
 */
async function measured(opts) {
  const quiet = QUIET_WAIT > 0 ? await waitQuiet(QUIET_WAIT) : undefined;
  const r = await checkedRun(opts);
  if (r.cpu && r.rate > 0) r.usPerOk = Object.fromEntries(Object.entries(r.cpu.byRole).map(([role, cores]) => [role, Math.round((cores / r.rate) * 1e7) / 10]));
  return { ...r, ...(quiet && { quiet }) };
}

function show(name, r) {
  const bad = r.bad ? `  NOT OK ${r.bad} ${JSON.stringify(r.counts)} errors ${r.errors}` : '';
  // Other processes on the machine take CPU from the measured ones: said, not hidden.
  const foreign = r.cpu?.foreign > 0.1 ? `  (other processes used ${r.cpu.foreign} cores)` : '';
  const waited = r.quiet?.waitedS > 1 ? `  (waited ${r.quiet.waitedS} s for a quiet machine)` : '';
  const cpu = r.usPerOk ? `  µs CPU each: ${Object.entries(r.usPerOk).filter(([, us]) => us >= 0.5).map(([role, us]) => `${role} ${us}`).join(', ')}` : '';
  console.log(`${name.padEnd(14)} ${String(r.rate).padStart(7)} ok/s  (${r.ok} in ${r.seconds} s)  p50 ${r.p50} ms  p99 ${r.p99} ms${r.ratio ? `  ${r.ratio} of the floor` : ''}${cpu}${bad}${foreign}${waited}`);
}

async function startGateway(redisUrl) {
  const env = { REDIS_URL: redisUrl, AMPHI_SECRET: SECRET, PORT: '0', LOG_LEVEL: 'warn', ...LIMITS };
  const gw = await startCli(['gateway'], env, /listening on (http:\/\/\S+)\/bigbluebutton/);
  const base = gw.match[1];
  return { ...gw, base, client: new BbbClient({ apiUrl: `${base}/bigbluebutton/api`, secret: SECRET }), logFrom: gw.lines.length };
}

/** Stops the gateway; what it logged (at warn and above) after it started is suspicious and kept. */
async function stopGateway(gw, phase) {
  gatewayCounts[phase] = await metrics(gw.base, 'amphi_requests_total');
  Object.assign(gatewayCounts[phase], await metrics(gw.base, 'amphi_joins_refused_total'));
  await gw.stop();
  const logged = gw.lines.slice(gw.logFrom);
  if (logged.length > 0) {
    gatewayCounts[phase].log = logged.slice(0, 20);
    console.error(`gateway (${phase}) logged ${logged.length} lines:\n${logged.slice(0, 20).join('\n')}`);
  }
}

async function metrics(base, prefix) {
  const res = await request(`${base}/metrics`);
  return parseMetrics(await res.body.text(), prefix);
}

/** Placements so far, by outcome (placed, overcommitted, …), from the gateway's metrics. */
async function placements(base) {
  const m = await metrics(base, 'amphi_placement_duration_seconds_count');
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [/outcome="([^"]+)"/.exec(k)[1], v]));
}
const minus = (a, b) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));

/** Simulated servers; `register(prefix)` registers them (ids `<prefix>-simNNN`) in place of the previous registration, whose meetings go with it. */
async function startPool(servers, redis, capacity) {
  const sim = await startCli(['sim', '--servers', String(servers), '--json'], {}, /^\[/);
  const endpoints = JSON.parse(sim.match.input);
  const store = new Store(redis);
  const register = async (prefix = 'pool') => {
    for (const id of await store.servers.ids()) await store.servers.remove(id);
    for (const [i, e] of endpoints.entries()) {
      await store.servers.add({ id: `${prefix}-sim${String(i).padStart(3, '0')}`, url: e.url, secret: e.secret, capacity, health: 'online' });
    }
  };
  return { sim, endpoints, register };
}

/**
 * A 302 to a join on one of `servers` (API URLs) naming the meeting and user asked for (the
 * request's `&meetingID=…&role=VIEWER&userID=…&`, put in context by joinPaths' reader), not an
 * error redirect (`errors=`).
 */
function joinCheck(servers) {
  return (status, headers, _body, context) => {
    const location = headers.location ?? headers.Location;
    if (status !== 302 || typeof location !== 'string') return 'other';
    if (location.includes('errors=')) return 'refused';
    const at = location.indexOf('/join?');
    return at > 0 && servers.has(location.slice(0, at)) && location.includes(context.expect) ? 'ok' : 'wrong';
  };
}

/**
 * Reads paths[i] (paths[i % length] past the end: `wrapped` counts those), noting the answer
 * expected. The floor and the gateway runs use the same reader: the same load-generator work.
 */
function reader(paths, length = paths.length) {
  const r = {
    wrapped: 0,
    next: (i, context) => {
      if (i >= length) r.wrapped++;
      const path = paths[i % length];
      context.expect = path.slice(path.indexOf('&meetingID='), path.indexOf('&checksum=') + 1);
      return path;
    },
  };
  return r;
}

/** `count` signed join paths, user k a new userID in meeting k mod M of M new meetings (≤ PER_MEETING users each). */
async function joinPaths(gw, id, count) {
  const meetings = Math.ceil(count / PER_MEETING);
  await mapLimit(Array.from({ length: meetings }, (_, m) => m), 50, (m) => gw.client.create([['meetingID', `j${id}-${m}`], ['name', `Bench ${id}-${m}`]]));
  const paths = new Array(count);
  for (let k = 0; k < count; k++) {
    const url = gw.client.joinUrl([['fullName', `User ${k}`], ['meetingID', `j${id}-${k % meetings}`], ['role', 'VIEWER'], ['userID', `u${id}-${k}`]]);
    paths[k] = url.slice(gw.base.length);
  }
  return { paths, meetings };
}

// Is the machine quiet? Other processes' CPU during each run is kept with the run as well.
const before = cpuSample();
await sleep(1000);
const idle = cpuUse(before, cpuSample(), 1);
if (idle?.foreign > 0.1) console.warn(`warning: other processes use ${idle.foreign} cores before the bench starts: figures will be low`);

const measuredBuild = buildFingerprint();
const redisServer = await startPrivateRedis();
const redis = createRedis(redisServer.url);
const started = performance.now();
try {
  // 1. Joins: floor, distinct joins and rejoins, alternating.
  {
    const pool = await startPool(JOIN_SERVERS, redis, 100_000); // joins do not depend on the servers' load
    await pool.register();
    const gw = await startGateway(redisServer.url);
    const floorServer = await startNode([new URL('floor-302.mjs', import.meta.url).pathname], {}, /floor listening on (\d+) (\S+)/);
    const floorBase = `http://127.0.0.1:${floorServer.match[1]}`;
    const joinCheckGateway = joinCheck(new Set(pool.endpoints.map((e) => e.url)));
    const joinCheckFloor = joinCheck(new Set([floorServer.match[2]]));
    const common = { duration: DURATION, connections: CONNECTIONS };
    let bestFloor = 0;
    try {
      // Warm-up (not reported): one second of each, on users of their own.
      const warm = await joinPaths(gw, 'warm', Number(values['max-rate']));
      const warmFloor = await checkedRun({ connections: CONNECTIONS, duration: 1, url: floorBase, next: reader(warm.paths).next, check: joinCheckFloor });
      assertClean('floor warm-up', warmFloor, MAX_BAD);
      bestFloor = warmFloor.rate;
      assertClean('join warm-up', await checkedRun({ connections: CONNECTIONS, duration: 1, url: gw.base, next: reader(warm.paths).next, check: joinCheckGateway }), MAX_BAD);
      for (let n = 0; n < RUNS; n++) {
        await round('joins', n, async (id) => {
          // Enough new users for the run at the largest rate seen possible; each is used once.
          const budget = Math.ceil(Math.max(Number(values['max-rate']), 1.25 * bestFloor) * DURATION);
          const t = performance.now();
          const { paths, meetings } = await joinPaths(gw, id, budget);
          console.log(`run ${n + 1}/${RUNS}: ${budget} join URLs over ${meetings} new meetings, made in ${Math.round(performance.now() - t)} ms`);

          const floor = await measured({ ...common, url: floorBase, next: reader(paths).next, check: joinCheckFloor });
          bestFloor = Math.max(bestFloor, floor.rate);
          show('floor', floor);
          assertClean('floor', floor, MAX_BAD);

          const once = reader(paths);
          const join = await measured({ ...common, url: gw.base, next: once.next, check: joinCheckGateway });
          if (once.wrapped > 0) throw new Error(`join: ${budget} new users were not enough (${join.requests} taken): raise --max-rate`);
          join.meetings = meetings;
          join.ratio = Math.round((join.rate / floor.rate) * 1000) / 1000;
          show('join', join);
          assertClean('join', join, MAX_BAD);

          // Every user the join run surely sent (the last request of each connection may not have gone out).
          const sent = Math.max(1, join.requests - CONNECTIONS);
          const rejoin = await measured({ ...common, url: gw.base, next: reader(paths, sent).next, check: joinCheckGateway });
          rejoin.users = sent;
          rejoin.ratio = Math.round((rejoin.rate / floor.rate) * 1000) / 1000;
          show('rejoin', rejoin);
          assertClean('rejoin', rejoin, MAX_BAD);
          return { floor, join, rejoin };
        });
      }
    } finally {
      await floorServer.stop();
      await stopGateway(gw, 'joins');
      await pool.sim.stop();
      await redis.flushdb(); // our own private Redis, started above
    }
  }

  // 2. Creates on a pool with its real capacity: with room, then full. The gateway is warmed
  // up first; each run gets a fresh pool (the same simulated servers registered anew).
  {
    const pool = await startPool(CREATE_SERVERS, redis, CAPACITY);
    await pool.register('warm');
    const gw = await startGateway(redisServer.url);
    try {
      const creates = (prefix) => (i) => gw.client.url('create', [['meetingID', `${prefix}-${i}`], ['name', 'Created by the benchmark']]).slice(gw.base.length);
      const warm = await checkedRun({ url: gw.base, connections: CONNECTIONS, duration: 3, next: creates('warm'), check: checkXmlSuccess });
      assertClean('create warm-up', warm, MAX_BAD);
      for (let n = 0; n < RUNS; n++) {
        await round('creates', n, async (id) => {
          await pool.register(`r${id}`);
          await sleep(1500); // the gateway's cached pool view (AMPHI_SNAPSHOT_MS) sees only the new servers
          const p0 = await placements(gw.base);
          const room = await measured({ url: gw.base, connections: CONNECTIONS, amount: ROOM_CREATES, next: creates(`room${id}`), check: checkXmlSuccess });
          const p1 = await placements(gw.base);
          room.placements = minus(p1, p0);
          show('create, room', room);
          assertClean('create with room', room, MAX_BAD);
          if ((room.placements.overcommitted ?? 0) > MAX_BAD * room.ok) throw new Error(`create with room: placements ${JSON.stringify(room.placements)}`);

          // Fill the pool: until a whole batch of creates finds no room.
          let filled = 0;
          for (let last = p1; ; ) {
            await Promise.all(Array.from({ length: 50 }, () => gw.client.create([['meetingID', `fill${id}-${filled++}`], ['name', 'Fill']])));
            const now = await placements(gw.base);
            if ((now.placed ?? 0) === (last.placed ?? 0)) break;
            if (filled > ROOM_CREATES) throw new Error(`the pool never filled: ${JSON.stringify(now)}`);
            last = now;
          }
          const p2 = await placements(gw.base);
          const full = await measured({ url: gw.base, connections: CONNECTIONS, duration: DURATION, next: creates(`full${id}`), check: checkXmlSuccess });
          full.placements = minus(await placements(gw.base), p2);
          full.filledWith = filled;
          show('create, full', full);
          assertClean('create on a full pool', full, MAX_BAD);
          // "Full" describes the pool, it is no answer check: a few placements may still find room
          // (a reservation faded, a create failed and gave its place back), so 1 % is tolerated.
          if ((full.placements.placed ?? 0) > Math.max(5, 0.01 * full.ok)) throw new Error(`create on a full pool: placements ${JSON.stringify(full.placements)}`);
          return { createRoom: room, createFull: full };
        });
      }
    } finally {
      await stopGateway(gw, 'creates');
      await pool.sim.stop();
      await redis.flushdb();
    }
  }

  // 3. getMeetings with 200 servers and 2,000 meetings: as one LMS sees it (one call at a time), then 10 callers.
  if (!QUICK) {
    const pool = await startPool(200, redis, 100_000);
    await pool.register();
    const gw = await startGateway(redisServer.url);
    try {
      for (let i = 0; i < 2000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => gw.client.create([['meetingID', `gm-${i + j}`], ['name', `Meeting ${i + j}`]])));
      }
      const path = gw.client.url('getMeetings').slice(gw.base.length);
      // One answer read in full: a SUCCESS listing the 2,000 meetings. Reading each 1.5 MB answer
      // of the runs as text would make the load generator the bottleneck (a third of the rate),
      // so each is checked against it by status and length.
      const reference = await (await request(`${gw.base}${path}`)).body.text();
      const listed = reference.match(/<meeting>/g)?.length;
      if (checkXmlSuccess(200, {}, reference) !== 'ok' || listed !== 2000) throw new Error(`getMeetings lists ${listed} meetings: ${reference.slice(0, 300)}`);
      const check = (status, _headers, body) => (status !== 200 ? `http${status}` : body.length === reference.length ? 'ok' : 'otherLength');
      for (let n = 0; n < RUNS; n++) {
        await round('getMeetings', n, async () => {
          const got = {};
          for (const [name, connections] of [['getMeetings', 1], ['getMeetingsX10', 10]]) {
            got[name] = await measured({ url: gw.base, connections, duration: DURATION, next: () => path, check });
            show(name, got[name]);
            assertClean(name, got[name], MAX_BAD);
          }
          return got;
        });
      }
    } finally {
      await stopGateway(gw, 'getMeetings');
      await pool.sim.stop();
      await redis.flushdb();
    }
  }
} finally {
  await redis.quit();
  await redisServer.stop();
}

const summary = {};
for (const [name, list] of Object.entries(runs)) {
  if (list.length === 0) continue;
  summary[name] = { rate: spread(list.map((r) => r.rate)), p50: spread(list.map((r) => r.p50)), p99: spread(list.map((r) => r.p99)) };
  if (list[0].ratio !== undefined) summary[name].ratio = spread(list.map((r) => r.ratio));
  if (list.every((r) => r.usPerOk)) {
    const roles = Object.keys(list[0].usPerOk);
    summary[name].usPerOk = Object.fromEntries(roles.map((role) => [role, spread(list.map((r) => r.usPerOk[role] ?? 0)).median]));
  }
  const foreign = Math.max(0, ...list.map((r) => r.cpu?.foreign ?? 0));
  if (foreign > 0.1) summary[name].foreignCpuMax = foreign;
}
const prov = provenance();
if (prov.build.dist !== measuredBuild.dist) {
  console.warn(`warning: dist/ changed during the bench (${measuredBuild.dist} → ${prov.build.dist}): someone rebuilt; later phases ran another build`);
  prov.build.changedDuringRun = { from: measuredBuild };
}
const result = { bench: 'gateway', ...prov, settings, cpuBeforeStart: idle, summary, runs, discarded, gatewayCounts, elapsedS: Math.round((performance.now() - started) / 1000) };

console.log('\nmedian (min–max) over', RUNS, RUNS === 1 ? 'run' : 'runs');
for (const [name, s] of Object.entries(summary)) {
  const ratio = s.ratio ? `  ${s.ratio.median} of the floor (${s.ratio.min}–${s.ratio.max})` : '';
  console.log(`${name.padEnd(14)} ${String(s.rate.median).padStart(7)} ok/s (${s.rate.min}–${s.rate.max})  p99 ${s.p99.median} ms${ratio}`);
}
if (NAME) console.log(`\nwritten to ${writeResults(NAME, result)}`);
else console.log('\n(--quick: no results file written; --name NAME writes bench/results/NAME.json)');
