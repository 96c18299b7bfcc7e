// Shared plumbing for the benchmarks: child processes (the built CLI, bench scripts), a private
// Redis, autocannon runs whose every answer is checked, medians, and the results files that
// scripts/bench-table.mjs turns into the README's table. Everything listens on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

export const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
export const RESULTS_DIR = new URL('results/', import.meta.url).pathname;

/** The numeric command-line options, each with its default: `{ servers: 200 }` reads `--servers N`. */
export function numberOptions(defaults) {
  const options = Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string', default: String(value) }]));
  const { values } = parseArgs({ options });
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Number(value)]));
}

/** Starts `node <argv>` and resolves once a stdout/stderr line matches `ready`. Every line is kept in `lines`. */
export async function startNode(argv, env, ready) {
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const match = new Promise((resolve, reject) => {
    const onLine = (line) => {
      lines.push(line);
      const m = line.match(ready);
      if (m) resolve(m);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}:\n${lines.join('\n')}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const m = await match;
  clearTimeout(timer);
  return { child, match: m, lines, stop: () => stopChild(child) };
}

/** Starts `amphi <args>` and resolves once a stdout/stderr line matches `ready`. */
export function startCli(args, env, ready) {
  return startNode([CLI, ...args], env, ready);
}

export async function stopChild(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(t);
}

/**
 * An autocannon run of GET requests, every answer checked. `next(i, context)` gives the path of
 * the i-th request (0, 1, 2, … in the order they are sent; it may note in `context` what the
 * answer should be); `check(status, headers, body, context)` names the answer's kind: 'ok' or
 * any other word ('refused', 'wrong', …), each counted apart with its first example kept.
 * `rate` is ok answers per second of the run; `requests` how many paths were taken. With
 * `amount`, that many requests instead of `duration` seconds.
 */
export async function checkedRun({ url, next, check, amount, duration, connections }) {
  // Loaded here, not with the module: the benches that only need the helpers above (sim-memory
  // measures its own process) do not carry it.
  const { default: autocannon } = await import('autocannon');
  const counts = {};
  const examples = {};
  let taken = 0;
  let lastAnswer = 0;
  const request = {
    method: 'GET',
    setupRequest: (req, context) => {
      req.path = next(taken++, context);
      return req;
    },
    onResponse: (status, body, context, headers) => {
      lastAnswer = performance.now();
      const kind = check(status, headers, body, context);
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (kind !== 'ok' && !(kind in examples)) examples[kind] = { status, headers, body: body?.slice(0, 300) };
    },
  };
  const cpu0 = cpuSample();
  const start = performance.now();
  const r = await autocannon({ url, connections, pipelining: 1, requests: [request], ...(amount ? { amount } : { duration }) });
  // autocannon stops on its one-second tick: a run of `amount` requests lasts until the last answer.
  const seconds = amount ? Math.round(lastAnswer - start) / 1000 : r.duration;
  const cpu = cpuUse(cpu0, cpuSample(), r.duration); // over the whole autocannon run
  // autocannon's errors (connection errors) include its timeouts.
  const bad = Object.entries(counts).reduce((n, [kind, c]) => (kind === 'ok' ? n : n + c), 0) + r.errors;
  return {
    rate: Math.round((counts.ok ?? 0) / seconds),
    ok: counts.ok ?? 0,
    bad,
    counts,
    errors: r.errors,
    timeouts: r.timeouts,
    answered: r.requests.total,
    requests: taken,
    seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ...(cpu && { cpu }),
    ...(Object.keys(examples).length > 0 && { examples }),
  };
}

/** What one of our processes is, from its command line. */
function roleOf(pid) {
  if (pid === process.pid) return 'loadGenerator';
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (/redis-server/.test(argv[0])) return 'redis'; // it rewrites its argv[0] to `redis-server host:port`
  if (argv[1]?.endsWith('floor-302.mjs')) return 'floor';
  if (argv[1] === CLI) return argv[2]; // gateway, sim
  return argv[0].replace(/.*\//, '');
}

/**
 * CPU seconds used so far by the whole machine (busy) and by this process and its descendants
 * (ours), by role: loadGenerator, gateway, redis, sim, floor. Linux only, else undefined.
 */
export function cpuSample() {
  const TICK = 100; // USER_HZ
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    const f = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
    const procs = new Map();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const line = readFileSync(`/proc/${name}/stat`, 'utf8');
        const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
        procs.set(Number(name), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
      } catch {
        // gone meanwhile
      }
    }
    const ours = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, p] of procs) {
        if (!ours.has(pid) && ours.has(p.ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    const byRole = {};
    let total = 0;
    for (const pid of ours) {
      const ticks = procs.get(pid)?.ticks ?? 0;
      total += ticks;
      try {
        const role = roleOf(pid);
        byRole[role] = (byRole[role] ?? 0) + ticks / TICK;
      } catch {
        // gone meanwhile
      }
    }
    return { busy: busy / TICK, ours: total / TICK, byRole };
  } catch {
    return undefined;
  }
}

/**
 * Cores used between two samples `seconds` apart: all, ours, foreign (other processes on the
 * machine) and ours by role.
 */
export function cpuUse(a, b, seconds) {
  if (!a || !b || !(seconds > 0)) return undefined;
  const r = (x) => Math.round((x / seconds) * 100) / 100;
  const byRole = Object.fromEntries(Object.entries(b.byRole).map(([role, t]) => [role, r(t - (a.byRole[role] ?? 0))]));
  return { all: r(b.busy - a.busy), ours: r(b.ours - a.ours), foreign: r(b.busy - a.busy - (b.ours - a.ours)), byRole };
}

/**
 * Waits (at most `maxSeconds`) until other processes on the machine use less than `cores` over
 * one second: the benchmark shares its cores with whatever else runs. Returns the seconds waited
 * and the last sample's foreign use.
 */
export async function waitQuiet(maxSeconds, cores = 0.15) {
  const start = performance.now();
  for (;;) {
    const a = cpuSample();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const use = cpuUse(a, cpuSample(), 1);
    const waited = Math.round((performance.now() - start) / 1000);
    if (!use || use.foreign < cores || waited >= maxSeconds) return { waitedS: waited, foreign: use?.foreign };
  }
}

/** Throws, with the counts and examples, when more than `fraction` of a run's answers were not ok. */
export function assertClean(name, run, fraction) {
  const total = run.ok + run.bad;
  if (total === 0 || run.bad > fraction * total) {
    throw new Error(`${name}: ${run.bad} of ${total} answers not as expected (allowed ${fraction}): ${JSON.stringify({ counts: run.counts, errors: run.errors, timeouts: run.timeouts, examples: run.examples })}`);
  }
}

/** A BBB XML answer's kind: 'ok' for SUCCESS (not duplicateWarning), else a word for what it was. */
export function checkXmlSuccess(status, _headers, body) {
  if (status !== 200) return `http${status}`;
  if (!body.includes('<returncode>SUCCESS</returncode>')) return 'failed';
  return body.includes('duplicateWarning') ? 'duplicate' : 'ok';
}

/** Median and spread of some figures. */
export function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Prometheus text → { 'name{labels}': value } for the series whose name starts with `prefix`. */
export function parseMetrics(text, prefix) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

function git(...args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
}

/** The commit measured (with the files changed in the working tree, which the build included) and the machine. */
export function provenance() {
  let commit;
  try {
    const changed = git('status', '--porcelain')
      .split('\n')
      .filter((l) => l && !l.slice(3).startsWith('bench/results/'))
      .map((l) => l.slice(3));
    commit = { sha: git('rev-parse', 'HEAD').trim(), dirty: changed.length > 0, changed };
  } catch {
    commit = { sha: 'unknown', dirty: true, changed: [] };
  }
  let os = `${process.platform} ${release()}`;
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux: the kernel release above
  }
  return {
    date: new Date().toISOString(),
    commit,
    build: buildFingerprint(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cpus: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os,
    },
  };
}

/**
 * What was measured: a hash of dist/ (the build the benchmark runs, which `npm run build` may
 * replace at any time in a shared working tree) and when its newest file was written.
 */
export function buildFingerprint() {
  const hash = createHash('sha256');
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else {
        hash.update(path.slice(ROOT.length)).update(readFileSync(path));
        newest = Math.max(newest, statSync(path).mtimeMs);
      }
    }
  };
  walk(`${ROOT}dist`);
  return { dist: hash.digest('hex').slice(0, 16), builtAt: new Date(newest).toISOString() };
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResults(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
