// A server's CPU as its node_exporter reports it: `node_cpu_seconds_total{cpu,mode}` counters
// (seconds each CPU spent in each mode since boot). Pure: the poller fetches the text, these
// functions read it and turn two samples into a utilization, as Prometheus' rate() would:
//
//   utilization = 1 − Δidle / Δtotal   (idle and total summed over every cpu; total = all modes)
//
// This is the figure `1 - avg(rate(node_cpu_seconds_total{mode="idle"}[…]))` dashboards show.
// Anything doubtful (a malformed or NaN counter, a counter that went back: the host rebooted
// or the exporter restarted, a change of the CPUs counted) gives no figure rather than a wrong
// one: the caller then treats the CPU as unknown.

/** The counters of one scrape, summed over every cpu. */
export interface CpuCounters {
  /** Σ idle seconds. */
  idle: number;
  /** Σ seconds of every mode. */
  total: number;
  /** CPUs seen (distinct `cpu` labels). */
  cpus: number;
}

/** Counters as sampled at a time (ms, the poller's clock): what the next scrape compares with. */
export interface CpuSample extends CpuCounters {
  at: number;
}

/** The metric names: node_exporter ≥ 0.16, and the older `node_cpu`. */
const NAMES: ReadonlySet<string> = new Set(['node_cpu_seconds_total', 'node_cpu']);

/** `name{labels} value [timestamp]`, or `name value [timestamp]`. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

/** A label set (`a="x",b="y"`, escapes \\ \" \n, optional trailing comma); undefined when malformed. */
export function parseLabels(text: string): Map<string, string> | undefined {
  const labels = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const skipSpaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  while (true) {
    skipSpaces();
    if (i >= n) return labels;
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name) return undefined;
    i += name.length;
    skipSpaces();
    if (text[i] !== '=') return undefined;
    i++;
    skipSpaces();
    if (text[i] !== '"') return undefined;
    i++;
    let value = '';
    let closed = false;
    while (i < n) {
      const c = text[i]!;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else return undefined;
        i += 2;
      } else if (c === '"') {
        i++;
        closed = true;
        break;
      } else {
        value += c;
        i++;
      }
    }
    if (!closed || labels.has(name)) return undefined;
    labels.set(name, value);
    skipSpaces();
    if (i >= n) return labels;
    if (text[i] !== ',') return undefined;
    i++;
  }
}

/** A sample value as Prometheus writes it; NaN for anything else. */
function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return NaN;
  return Number(text);
}

/**
 * The CPU counters of one node_exporter scrape (Prometheus text format), summed over its cpus;
 * undefined when it holds none, or when any of them is malformed, not finite or negative, or
 * repeated (the sums would be wrong). Comments, blank lines and other metrics are skipped,
 * even malformed ones; labels may come in any order and beside others.
 */
export function parseNodeCpu(text: string): CpuCounters | undefined {
  let idle = 0;
  let total = 0;
  let idleSeen = false;
  const cpus = new Set<string>();
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name === undefined || !NAMES.has(name)) continue;
    const m = SAMPLE.exec(line);
    if (!m) return undefined;
    const labels = parseLabels(m[2] ?? '');
    const cpu = labels?.get('cpu');
    const mode = labels?.get('mode');
    const value = parseValue(m[3]!);
    if (cpu === undefined || mode === undefined || !Number.isFinite(value) || value < 0) return undefined;
    const series = `${cpu}\u0000${mode}`;
    if (seen.has(series)) return undefined;
    seen.add(series);
    cpus.add(cpu);
    total += value;
    if (mode === 'idle') {
      idle += value;
      idleSeen = true;
    }
  }
  if (cpus.size === 0 || !idleSeen) return undefined;
  return { idle, total, cpus: cpus.size };
}

/**
 * The share of the CPUs' time spent busy between two samples, 0..1; undefined when the counters
 * do not allow it: no time passed, a counter went back (reboot, exporter restart), the CPUs
 * counted changed, or idle grew more than the total (inconsistent counters).
 */
export function cpuUtilization(prev: CpuCounters, cur: CpuCounters): number | undefined {
  if (prev.cpus !== cur.cpus) return undefined;
  const dTotal = cur.total - prev.total;
  const dIdle = cur.idle - prev.idle;
  if (!(dTotal > 0) || dIdle < 0 || cur.total - cur.idle < prev.total - prev.idle - 1e-6) return undefined;
  // Each counter is rounded on its own: allow their rounding, never more.
  if (dIdle > dTotal + 1e-6 * Math.max(1, cur.cpus)) return undefined;
  return Math.min(1, Math.max(0, 1 - dIdle / dTotal));
}

/** A sample as kept on the server record in Redis: `idle|total|cpus|at`. */
export function encodeCpuSample(s: CpuSample): string {
  return `${s.idle}|${s.total}|${s.cpus}|${s.at}`;
}

/** A sample read back from the server record; undefined when absent or malformed. */
export function decodeCpuSample(text: string | undefined): CpuSample | undefined {
  if (!text) return undefined;
  const parts = text.split('|');
  if (parts.length !== 4) return undefined;
  const [idle, total, cpus, at] = parts.map(Number) as [number, number, number, number];
  if (![idle, total, cpus, at].every(Number.isFinite) || idle < 0 || total < idle || !Number.isInteger(cpus) || cpus < 1) return undefined;
  return { idle, total, cpus, at };
}

export type CpuReading =
  /** A utilization, and the sample to compare the next scrape with. */
  | { kind: 'utilization'; cpu: number; sample: CpuSample }
  /** The first sample, or the first after a reset / a gap too long: a baseline only. */
  | { kind: 'baseline'; sample: CpuSample; reason: string }
  /** The scrape said nothing usable; the previous sample stays. */
  | { kind: 'malformed'; reason: string };

/**
 * What a scrape taken at `at` says against the previous sample: a utilization when both are
 * usable and at most `maxWindowMs` apart (an older one would average over a stale window).
 */
export function readCpu(text: string, at: number, prev: CpuSample | undefined, maxWindowMs: number): CpuReading {
  const counters = parseNodeCpu(text);
  if (counters === undefined) return { kind: 'malformed', reason: 'no valid node_cpu_seconds_total counters' };
  const sample: CpuSample = { ...counters, at };
  if (prev === undefined) return { kind: 'baseline', sample, reason: 'first sample' };
  if (at - prev.at > maxWindowMs || at <= prev.at) return { kind: 'baseline', sample, reason: 'previous sample too old' };
  const cpu = cpuUtilization(prev, counters);
  if (cpu === undefined) return { kind: 'baseline', sample, reason: 'counters went back or changed (reset)' };
  return { kind: 'utilization', cpu, sample };
}
