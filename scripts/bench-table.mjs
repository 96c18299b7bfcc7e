// Prints the README's benchmark table (Markdown) from bench/results/*.json, so that the table is
// generated from measured runs, never typed. One table per gateway results file (the figures of
// poll-round.json and placement.json, when present, are added to each).
//   node scripts/bench-table.mjs [bench/results/gateway.json …]    (npm run bench:table)
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../bench/results/', import.meta.url).pathname;
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => DIR + f);
const results = files.map((f) => ({ file: f, ...JSON.parse(readFileSync(f, 'utf8')) }));
const pollRound = results.find((r) => r.bench === 'poll-round');
const placement = results.find((r) => r.bench === 'placement');

const n = (x) => Math.round(x).toLocaleString('en-US');
const pct = (x) => `${Math.round(x * 100)} %`;
const range = (s, unit = '') => (s.n > 1 ? `${n(s.min)}–${n(s.max)}${unit}` : '(one run)');

function provenance(r) {
  const m = r.machine;
  // Uncommitted changes to the benchmark itself do not change what it measures; others do.
  const measured = r.commit.changed.filter((f) => !/^(bench|scripts)\//.test(f) && f !== 'package.json');
  const commit = `${r.commit.sha.slice(0, 7)}${measured.length > 0 ? ` with uncommitted changes to ${measured.join(', ')}` : ''}`;
  return `${r.date.slice(0, 10)}, ${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node.replace(/^v/, '')}; commit ${commit}`;
}

function gatewayTable(r) {
  const s = r.summary;
  const c = r.settings;
  const lines = [];
  const row = (what, key, figure) => {
    if (!s[key]) return;
    lines.push(`| ${what} | ${figure ?? `${n(s[key].rate.median)}/s`} | ${range(s[key].rate)} | ${n(s[key].p50.median)} / ${n(s[key].p99.median)} |`);
  };
  const ratioOf = (key) => {
    const q = s[key].ratio;
    const perRun = r.runs[key].map((x) => pct(x.ratio)).join(', ');
    return `**${n(s[key].rate.median)}/s, ${pct(q.median)} of the floor** (per run: ${perRun})`;
  };
  const answers = Object.values(r.runs).flat();
  const checked = answers.reduce((a, x) => a + x.ok + x.bad, 0);
  const bad = answers.reduce((a, x) => a + x.bad, 0);
  const foreign = Math.max(0, ...answers.map((x) => x.cpu?.foreign ?? 0));

  lines.push(
    `Measured ${provenance(r)}. Every process on the same ${r.machine.cpus} cores (load generator, gateway, Redis, simulated servers); ` +
      `autocannon, ${c.connections} connections, ${c.durationS} s a run; each figure the median of ${c.runs} run${c.runs === 1 ? '' : 's'}, ` +
      `floor and gateway runs alternating; one gateway process, rate limits on (AMPHI_RATE_LIMIT_PER_IP raised out of reach). ` +
      `Every answer was checked (joins: a 302 to a pool server naming that meeting and user; creates: SUCCESS; getMeetings: status and length of one answer read in full): ${n(checked)} answers, ${n(bad)} not as expected.` +
      (foreign > 0.1 ? ` Other processes used up to ${foreign} cores during a run.` : '') +
      (r.discarded?.length ? ` ${r.discarded.length} round${r.discarded.length === 1 ? '' : 's'} disturbed by other processes made again (kept apart in the results).` : '') +
      (r.build?.changedDuringRun ? ' dist/ was rebuilt during the bench: its later phases ran another build.' : ''),
    '',
    '| what | median | spread (min–max) | p50 / p99 ms (medians) |',
    '|---|---|---|---|',
  );
  row('bare Node `http` 302, in its own process (the floor)', 'floor');
  row(`join, every one a new userID (admitted joins/s; ${c.joinServers} servers, new meetings each run, ≤ ${c.usersPerMeeting} users a meeting)`, 'join', ratioOf('join'));
  row('rejoin: the same users joining again', 'rejoin', ratioOf('rejoin'));
  const us = (key, role) => s[key]?.usPerOk?.[role];
  if (us('join', 'gateway') !== undefined) {
    const each = (key) => `${us(key, 'gateway')} µs gateway + ${us(key, 'redis')} µs Redis`;
    lines.push(
      `| CPU per answer (from /proc, medians) | floor process ${us('floor', 'floor')} µs a 302; join ${each('join')}; rejoin ${each('rejoin')}; load generator ${us('floor', 'loadGenerator')} µs a request (floor run), ${us('join', 'loadGenerator')} µs (join run) | | |`,
    );
  }
  row(`create, pool with room (${c.createServers} ${c.createServerSize} servers of ${c.createServerCapacity} load units; ${n(c.roomCreates)} creates a run, all placed)`, 'createRoom');
  row('create, pool full (every placement overcommitted)', 'createFull');
  // A figure the load generator bounds says so: it measures autocannon as much as the gateway.
  const bound = (key) => (us(key, 'loadGenerator') > us(key, 'gateway') ? `, load generator-bound (${n(us(key, 'loadGenerator'))} µs of its CPU an answer, gateway ${n(us(key, 'gateway'))} µs)` : '');
  row(`getMeetings, 200 servers, 2,000 meetings (1.5 MB answer), one caller${bound('getMeetings')}`, 'getMeetings');
  row(`the same, 10 concurrent callers${bound('getMeetingsX10')}`, 'getMeetingsX10');
  if (pollRound) {
    const p = pollRound.summary;
    lines.push(
      `| poll round, ${pollRound.settings.servers} servers, ${n(pollRound.settings.meetings)} meetings, ${n(pollRound.settings.participants)} participants, ${pollRound.settings.concurrency} at once (${pollRound.date.slice(0, 10)}) | p50 ${n(p.p50Ms)} ms | max ${n(p.maxMs)} ms over ${pollRound.settings.rounds} rounds | cold round ${n(p.coldRoundMs)} ms |`,
    );
  }
  if (placement) {
    const st = placement.settings;
    for (const [name, v] of Object.entries(placement.variants)) {
      const label = name === 'baseline' ? `before (${v.revision.slice(0, 7)}: whole reservation hashes, every server a candidate)` : `${v.candidatesAtMost} candidates at most, running sums`;
      const { full, room } = v.scenarios;
      lines.push(
        `| placement inside Redis (SLOWLOG), ${n(st.servers)} servers, ${n(st.youngMeetings)} young meetings, ${label} (${placement.date.slice(0, 10)}) | pool full p50 ${n(full.insideRedisUs.p50)} µs, p99 ${n(full.insideRedisUs.p99)} µs | with room p50 ${n(room.insideRedisUs.p50)} µs, p99 ${n(room.insideRedisUs.p99)} µs | ${n(st.placements)} placements each |`,
      );
    }
  }
  return lines.join('\n');
}

const gateways = results.filter((r) => r.bench === 'gateway');
if (gateways.length === 0) {
  console.error(`no gateway results in ${files.join(', ') || DIR}: run node bench/gateway.mjs first`);
  process.exit(1);
}
console.log(gateways.map((r) => (gateways.length > 1 ? `<!-- ${r.file.replace(/.*\//, '')} -->\n` : '') + gatewayTable(r)).join('\n\n'));
