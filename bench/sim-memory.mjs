// How cheap are simulated BBB servers? Starts N servers in this process (default 200), reports
// the startup time and memory, fills each with meetings and users, reports again, checks that
// every server answers a signed getMeetings, then closes everything.
//
//   npm run build && node --expose-gc bench/sim-memory.mjs [--servers 200] [--meetings 4] [--users 50]
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SimCluster } from '../dist/src/simulator/index.js';
import { numberOptions } from './lib.mjs';

const { servers, meetings: meetingsPerServer, users: usersPerMeeting } = numberOptions({ servers: 200, meetings: 4, users: 50 });

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
function memory() {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external) };
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const baseline = memory();
let t = performance.now();
const cluster = await SimCluster.start({ servers });
const startupMs = Math.round(performance.now() - t);
const afterStart = memory();

t = performance.now();
let users = 0;
for (const { server } of cluster.servers()) {
  for (let m = 0; m < meetingsPerServer; m++) {
    const meetingID = `bench-${m}`;
    const created = server.model.create(new Map([['meetingID', meetingID], ['name', `Bench ${m}`]]));
    if (!created.ok) throw new Error(`create failed: ${created.error.messageKey}`);
    server.addUsers(meetingID, { count: 1, role: 'MODERATOR', cameras: 1, audio: 'mic' });
    users += 1 + server.addUsers(meetingID, { count: usersPerMeeting - 1, audio: 'listen' }).admitted.length;
  }
}
const populateMs = Math.round(performance.now() - t);
const afterPopulate = memory();
const loads = cluster.list().map((e) => e.load);

t = performance.now();
const answers = await Promise.all(
  cluster.endpoints().map(({ url, secret }) => {
    const checksum = createHash('sha1').update(`getMeetings${secret}`).digest('hex');
    return get(`${url}/getMeetings?checksum=${checksum}`);
  }),
);
const pollMs = Math.round(performance.now() - t);
const ok = answers.filter((a) => a.status === 200 && a.body.includes('<returncode>SUCCESS</returncode>')).length;

t = performance.now();
await cluster.close();
const closeMs = Math.round(performance.now() - t);

const result = {
  node: process.version,
  servers,
  startupMs,
  perServerStartupMs: Math.round((startupMs / servers) * 100) / 100,
  memory: { baseline, afterStart, afterPopulate },
  perServerMB: {
    rss: Math.round(((afterStart.rssMB - baseline.rssMB) / servers) * 100) / 100,
    heap: Math.round(((afterStart.heapUsedMB - baseline.heapUsedMB) / servers) * 100) / 100,
  },
  populated: { meetings: servers * meetingsPerServer, users, populateMs, loadPercent: { min: Math.min(...loads), max: Math.max(...loads) } },
  getMeetingsRound: { answered: ok, of: servers, ms: pollMs },
  closeMs,
};
console.log(JSON.stringify(result, null, 2));
if (ok !== servers) process.exitCode = 1;
