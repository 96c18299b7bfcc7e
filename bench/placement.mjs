// Placement inside Redis at pool scale: 1,000 servers holding 10,000 young meetings (placed, not
// yet measured: a school morning at 8:00), with room and full. Every place-meeting call is timed
// as Redis ran it (SLOWLOG with every command logged: microseconds inside Redis, queueing and the
// network left out) and as the client saw it (the EVALSHA round trip). In the full pool no
// candidate has room, so the script compares every candidate it is given: the worst case.
//
// Measures the working tree's scripts; `--baseline <git revision>` measures that revision's
// place-meeting.lua and forget-meeting.lua beside them, on the same data in a fresh private Redis
// (they must take the same KEYS and ARGV, as the scripts before the reservation sums did).
// Run after `npm run build`:
//   node bench/placement.mjs [--baseline HEAD] [--servers 1000] [--meetings 10000] [--placements 2000]
// Writes bench/results/placement.json.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { MAX_CANDIDATES, NO_TAGS, rankServers } from '../dist/src/placement/choose.js';
import { createRedis } from '../dist/src/redis/connect.js';
import { startPrivateRedis } from '../dist/src/redis/private-redis.js';
import { keysFor } from '../dist/src/state/keys.js';
import { loadScript } from '../dist/src/state/scripts.js';
import { Store } from '../dist/src/state/store.js';
import { provenance, writeResults } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    baseline: { type: 'string' },
    servers: { type: 'string', default: '1000' },
    meetings: { type: 'string', default: '10000' },
    placements: { type: 'string', default: '2000' },
  },
});
const SERVERS = Number(opts.servers);
const MEETINGS = Number(opts.meetings);
const PLACEMENTS = Number(opts.placements);
const NEED = 40; // a class of 25 with 5 cameras, about
const FADE_MS = 900_000;
const PER_SERVER = Math.ceil(MEETINGS / SERVERS);
// Full: the young meetings take every server's capacity, so no server has room for one more.
const CAPACITY = { full: PER_SERVER * NEED, room: PER_SERVER * NEED * 2.5 };
// Every call is made at the same moment, so that the reservations do not fade during the run
// (a slower script would otherwise find room sooner).
const NOW = Date.now();
const WARMUP = 50;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const round = (x, digits = 3) => Number(x.toFixed(digits));

/** The working tree's scripts as the store sends them (includes expanded), or a revision's from git. */
function scriptsAt(revision) {
  const script = (name) => {
    if (revision === undefined) return loadScript(name);
    const lua = execFileSync('git', ['show', `${revision}:src/state/commands/${name}.lua`], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    return { lua, sha: createHash('sha1').update(lua).digest('hex') };
  };
  return { place: script('place-meeting'), forget: script('forget-meeting') };
}

/** Keys and arguments as MeetingDirectory.place and .forget send them. */
function placeCall(keys, meetingID, candidates, sampled) {
  const ref = `default:${meetingID}`;
  const k = [keys.meeting(ref), keys.meetings, keys.tenantMeetings('default'), keys.tenantUsage('default'), keys.tenantPending('default')];
  for (const id of candidates) k.push(keys.server(id), keys.reservations(id), keys.serverMeetings(id));
  return [k.length, ...k, NOW, FADE_MS, NEED, sampled, ref, 'default', meetingID, meetingID, '{}', 0, 0, 60_000, ...candidates];
}
function forgetCall(keys, meetingID, server) {
  const ref = `default:${meetingID}`;
  const k = [keys.meeting(ref), keys.meetings, keys.serverMeetings(server), keys.reservations(server), keys.inside(ref), keys.pending(ref), keys.tenantMeetings('default'), keys.tenantPending('default'), keys.server(server)];
  return [k.length, ...k, ref, server, meetingID];
}

async function measure(variant, scripts, limit) {
  const redisServer = await startPrivateRedis();
  const redis = createRedis(redisServer.url, { commandTimeout: null });
  try {
    const keys = keysFor('default');
    const store = new Store(redis);
    const ids = Array.from({ length: SERVERS }, (_, i) => `bbb${String(i).padStart(4, '0')}`);
    for (const id of ids) await store.servers.add({ id, url: `http://127.0.0.1:1/${id}`, secret: 's', capacity: CAPACITY.full, health: 'online' });
    await redis.script('LOAD', scripts.place.lua);

    // The young meetings, placed by the script under test (each given its server as the only candidate).
    for (let i = 0; i < MEETINGS; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(i + 200, MEETINGS); j++) batch.push(redis.evalsha(scripts.place.sha, ...placeCall(keys, `young${j}`, [ids[j % SERVERS]], 1)));
      await Promise.all(batch);
    }
    const reservations = await redis.hlen(keys.reservations(ids[0]));

    const scenarios = {};
    for (const [scenario, capacity] of Object.entries(CAPACITY)) {
      const tx = redis.multi();
      for (const id of ids) tx.hset(keys.server(id), 'capacity', capacity);
      await tx.exec();
      // The gateway's ranking on its view of the pool (measured load 0, every young meeting's reservation).
      const views = ids.map((id) => ({ id, capacity, load: PER_SERVER * NEED, state: 'enabled', health: 'online', tags: [] }));
      const outcomes = {};
      const roundTrips = [];
      const inside = [];
      await redis.config('SET', 'slowlog-log-slower-than', '0');
      for (let i = 0; i < WARMUP + PLACEMENTS; i++) {
        if (i === WARMUP) await redis.config('RESETSTAT');
        const meetingID = `${scenario}${i}`;
        const { candidates, sampled } = rankServers(views, NEED, NO_TAGS, Math.random, 2, limit);
        const args = placeCall(keys, meetingID, candidates, sampled);
        const t0 = process.hrtime.bigint();
        const [outcome, server] = await redis.evalsha(scripts.place.sha, ...args);
        const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
        if (outcome !== 'placed' && outcome !== 'overcommitted') throw new Error(`${variant} ${scenario}: ${outcome}`);
        // The newest entry is the script's own, logged once the commands it ran were.
        const [[, , micros, argv]] = await redis.slowlog('GET', 1);
        if (String(argv[0]).toLowerCase() !== 'evalsha' || argv[1] !== scripts.place.sha) throw new Error(`unexpected SLOWLOG entry ${argv.slice(0, 2)}`);
        await redis.slowlog('RESET');
        if (i >= WARMUP) {
          roundTrips.push(elapsed);
          inside.push(Number(micros));
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
        // Taken back at once (EVAL, so that the evalsha statistics are the placements' alone):
        // every placement sees the same pool.
        await redis.eval(scripts.forget.lua, ...forgetCall(keys, meetingID, server));
      }
      const stats = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(await redis.info('commandstats'));
      await redis.config('SET', 'slowlog-log-slower-than', '10000');
      await redis.slowlog('RESET');
      inside.sort((a, b) => a - b);
      roundTrips.sort((a, b) => a - b);
      scenarios[scenario] = {
        capacity,
        outcomes,
        insideRedisUs: {
          p50: percentile(inside, 50),
          p99: percentile(inside, 99),
          max: inside[inside.length - 1],
          mean: round(inside.reduce((a, b) => a + b, 0) / inside.length, 1),
          usecPerCall: stats ? Number(stats[3]) : undefined,
        },
        roundTripMs: { p50: round(percentile(roundTrips, 50)), p99: round(percentile(roundTrips, 99)), max: round(roundTrips[roundTrips.length - 1]) },
      };
      const s = scenarios[scenario];
      console.log(
        `${variant}, ${scenario}: inside Redis p50 ${s.insideRedisUs.p50} µs, p99 ${s.insideRedisUs.p99} µs, max ${s.insideRedisUs.max} µs (usec_per_call ${s.insideRedisUs.usecPerCall}); ` +
          `round trip p50 ${s.roundTripMs.p50} ms, p99 ${s.roundTripMs.p99} ms; ${JSON.stringify(outcomes)}`,
      );
    }
    return { scripts: { place: scripts.place.sha, forget: scripts.forget.sha }, candidatesAtMost: Math.min(limit, SERVERS), reservationsPerServer: reservations, redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1], scenarios };
  } finally {
    await redis.quit();
    await redisServer.stop();
  }
}

// The baseline's ranking gave the script every placeable server; the current one gives it
// MAX_CANDIDATES at most, and is also measured with every server, for the scripts alone.
const variants = {};
if (opts.baseline !== undefined) {
  const sha = execFileSync('git', ['rev-parse', opts.baseline], { cwd: new URL('..', import.meta.url), encoding: 'utf8' }).trim();
  variants.baseline = { revision: sha, ...(await measure('baseline', scriptsAt(sha), Infinity)) };
}
const current = scriptsAt(undefined);
variants.currentEveryServer = { revision: 'working tree', ...(await measure('current, every server a candidate', current, Infinity)) };
variants.current = { revision: 'working tree', ...(await measure('current', current, MAX_CANDIDATES)) };

const file = writeResults('placement', {
  bench: 'placement',
  ...provenance(),
  settings: { servers: SERVERS, youngMeetings: MEETINGS, placements: PLACEMENTS, warmup: WARMUP, needUnits: NEED, fadeMs: FADE_MS, capacity: CAPACITY, choices: 2 },
  variants,
});
console.log(`wrote ${file}`);
