// The demo's terminal view, as pure functions from a snapshot to lines: a full frame redrawn
// in place on a terminal, a one-line summary for logs and pipes, and the final report. The
// I/O (collecting snapshots, writing, timers) lives in live-view.ts and collect.ts.
import { sumOf } from '../traffic/driver.js';
import type { TrafficCounters } from '../traffic/driver.js';

export interface ServerRow {
  id: string;
  /** Size class: standard, large, … */
  size: string;
  health: string;
  state: string;
  /** Capacity in load units. */
  capacity: number;
  /** Polled load in load units. */
  measuredLoad: number;
  /** What young meetings still reserve beyond what is measured. */
  reserved: number;
  meetings: number;
  participants: number;
  videos: number;
  /** The simulated server's own CPU-like figure (percent of its cores), when known. */
  cpu?: number;
}

export interface DemoSnapshot {
  elapsedMs: number;
  durationMs: number;
  /** Simulated time of day, `HH:MM`. */
  clock: string;
  speed: number;
  apiUrl: string;
  secret: string;
  /** BBB API requests the gateway answered per second (since the previous snapshot). */
  gatewayRps: number;
  gatewayRpsByCall: Record<string, number>;
  /** Every HTTP request the traffic sent per second (gateway and servers). */
  trafficRps: number;
  /** The gateway's own refused joins (amphi_joins_refused_total), by reason. */
  gatewayRefused: Record<string, number>;
  servers: ServerRow[];
  traffic: TrafficCounters;
  /** Users inside a meeting right now, as the traffic driver knows it. */
  inside: number;
}

export interface PoolTotals {
  servers: number;
  online: number;
  /** Of enabled, online servers. */
  capacity: number;
  used: number;
  reserved: number;
  headroom: number;
  meetings: number;
  participants: number;
  videos: number;
}

export interface RenderOptions {
  color: boolean;
  /** Terminal columns; the load bar shrinks to fit. */
  width?: number;
  /** Terminal rows: with more servers than fit, the busiest are shown and the rest summed up. */
  height?: number;
}

const ESC = '\x1b[';
const paint = (on: boolean, code: string, text: string): string => (on ? `${ESC}${code}m${text}${ESC}0m` : text);
const bold = (on: boolean, text: string): string => paint(on, '1', text);
const dim = (on: boolean, text: string): string => paint(on, '2', text);

/** Utilization thresholds: BBB audio degrades near 80 % CPU, so yellow comes before that. */
export function utilizationColor(utilization: number): 'green' | 'yellow' | 'red' {
  if (utilization < 0.6) return 'green';
  if (utilization < 0.85) return 'yellow';
  return 'red';
}

const COLOR_CODES = { green: '32', yellow: '33', red: '31' } as const;

export function poolTotals(servers: readonly ServerRow[]): PoolTotals {
  const t: PoolTotals = { servers: servers.length, online: 0, capacity: 0, used: 0, reserved: 0, headroom: 0, meetings: 0, participants: 0, videos: 0 };
  for (const s of servers) {
    if (s.health === 'online') t.online++;
    t.meetings += s.meetings;
    t.participants += s.participants;
    t.videos += s.videos;
    // As placement and the pool gauges count: only servers that can take meetings.
    if (s.health !== 'online' || s.state !== 'enabled') continue;
    t.capacity += s.capacity;
    t.used += s.measuredLoad;
    t.reserved += s.reserved;
    t.headroom += Math.max(0, s.capacity - s.measuredLoad - s.reserved);
  }
  return t;
}

/**
 * A bar of `width` cells: measured load solid, reservations shaded, the rest light. Over
 * capacity, the last cell is a `!`.
 */
export function loadBar(measured: number, reserved: number, capacity: number, width: number, color: boolean): string {
  const cap = capacity > 0 ? capacity : 1;
  const used = Math.min(width, Math.round((Math.max(0, measured) / cap) * width));
  const held = Math.min(width - used, Math.round((Math.max(0, reserved) / cap) * width));
  const free = width - used - held;
  const over = measured > cap;
  const solid = over ? `${'█'.repeat(width - 1)}!` : '█'.repeat(used);
  const shade = paint(color, COLOR_CODES[utilizationColor(measured / cap)], solid);
  return `${shade}${dim(color, '▒'.repeat(held))}${dim(color, '░'.repeat(free))}`;
}

const utilization = (r: ServerRow): number => (r.capacity > 0 ? r.measuredLoad / r.capacity : 0);

const pct = (part: number, whole: number): string => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '–');
const n = (x: number): string => String(Math.round(x));

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const rate = (x: number): string => (x >= 10 ? String(Math.round(x)) : x.toFixed(1));

/** `key 3 · other 1`, largest first; `none` when empty. */
export function formatCounts(counts: Readonly<Record<string, number>>, limit = 4): string {
  const entries = Object.entries(counts)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return 'none';
  const shown = entries.slice(0, limit).map(([k, v]) => `${k} ${v}`);
  if (entries.length > limit) shown.push(`+${entries.length - limit} more`);
  return shown.join(' · ');
}

/** The full frame: header, one line per server, pool totals, traffic. */
export function renderFrame(s: DemoSnapshot, opts: RenderOptions): string[] {
  const c = opts.color;
  const width = opts.width ?? 100;
  // Server lines are 77 columns plus the bar: the bar takes what the terminal has left.
  const barWidth = Math.max(6, Math.min(30, width - 78));
  const pool = poolTotals(s.servers);
  const t = s.traffic;
  const calls = formatCounts(
    Object.fromEntries(Object.entries(s.gatewayRpsByCall).map(([k, v]) => [k, Math.round(v)])),
    5,
  );
  const lines: string[] = [
    `${bold(c, 'Amphi demo')}  ${bold(c, s.clock)} simulated (×${s.speed})   elapsed ${formatDuration(s.elapsedMs)} / ${formatDuration(s.durationMs)}   Ctrl-C stops`,
    `BBB API ${s.apiUrl}   secret ${s.secret}`,
    `gateway ${bold(c, rate(s.gatewayRps))} req/s (${calls})   all traffic ${rate(s.trafficRps)} req/s`,
    '',
    dim(c, `${'SERVER'.padEnd(8)} ${'SIZE'.padEnd(8)} ${'HEALTH'.padEnd(7)} ${'STATE'.padEnd(8)} ${'LOAD'.padEnd(barWidth)} ${'USED/CAP'.padStart(9)} ${'UTIL'.padStart(5)} ${'MEET'.padStart(5)} ${'USERS'.padStart(6)} ${'CAMS'.padStart(5)} ${'CPU'.padStart(5)}`),
  ];
  // Rows left for servers: 5 lines above them, 8 below, the "more" line and a spare row.
  const room = opts.height === undefined ? Infinity : Math.max(1, opts.height - 15);
  let shown = s.servers;
  if (s.servers.length > room) {
    const busiest = new Set([...s.servers].sort((a, b) => utilization(b) - utilization(a)).slice(0, room));
    shown = s.servers.filter((r) => busiest.has(r));
  }
  for (const r of shown) {
    const utilText = paint(c, COLOR_CODES[utilizationColor(utilization(r))], pct(r.measuredLoad, r.capacity).padStart(5));
    const health = r.health === 'online' ? r.health.padEnd(7) : paint(c, '31', r.health.padEnd(7));
    lines.push(
      `${r.id.padEnd(8)} ${r.size.padEnd(8)} ${health} ${r.state.padEnd(8)} ${loadBar(r.measuredLoad, r.reserved, r.capacity, barWidth, c)} ` +
        `${`${n(r.measuredLoad)}/${n(r.capacity)}`.padStart(9)} ${utilText} ${String(r.meetings).padStart(5)} ${String(r.participants).padStart(6)} ` +
        `${String(r.videos).padStart(5)} ${(r.cpu === undefined ? '–' : `${Math.round(r.cpu)}%`).padStart(5)}`,
    );
  }
  if (shown.length < s.servers.length) lines.push(dim(c, `… and ${s.servers.length - shown.length} less loaded servers (enlarge the terminal to see them)`));
  lines.push(
    `${bold(c, 'POOL')}     ${pool.online}/${pool.servers} online   capacity ${n(pool.capacity)}   used ${n(pool.used)} (${pct(pool.used, pool.capacity)})   ` +
      `reserved ${n(pool.reserved)}   headroom ${n(pool.headroom)}`,
    `         meetings ${pool.meetings}   users ${pool.participants}   cameras ${pool.videos}`,
    `${bold(c, 'TRAFFIC')}  meetings created ${t.created}/${t.creates}, ended ${t.ended}   ` +
      `joins ${t.joins}: joined ${t.joined}, entered ${t.entered}, refused ${sumOf(t.refused)}`,
    `         inside ${s.inside}   left ${t.left}   cameras on ${t.cameraOn}, off ${t.cameraOff}, refused ${sumOf(t.cameraRefused)}   audio changes ${t.audioChanges}`,
    dim(c, `         skipped ${t.skipped}   gone ${t.gone}   lag ${t.lagMs} ms   in flight ${t.inFlight}   queued ${t.queued}`),
    `${bold(c, 'REFUSED')}  ${sumOf(t.refused) > 0 ? paint(c, '33', formatCounts(t.refused)) : 'none'}` +
      (sumOf(s.gatewayRefused) > 0 ? `   (by the gateway: ${formatCounts(s.gatewayRefused)})` : '') +
      (sumOf(t.createFailed) > 0 ? `   creates failed: ${paint(c, '31', formatCounts(t.createFailed))}` : ''),
    `${bold(c, 'ERRORS')}   ${sumOf(t.errors) > 0 ? paint(c, '31', formatCounts(t.errors, 3)) : 'none'}`,
  );
  // A wrapped line would push the frame down and break the redraw in place: cut instead.
  return lines.map((line) => truncateVisible(line, width));
}

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** Cuts a line to `width` visible characters, keeping escape sequences (and a final reset). */
export function truncateVisible(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; ) {
    ANSI.lastIndex = i;
    const esc = ANSI.exec(line);
    if (esc) {
      out += esc[0];
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    if (visible === width) return line.includes('\x1b[') ? `${out}\x1b[0m` : out;
    out += ch;
    visible++;
    i += ch.length;
  }
  return out;
}

/** One line for a pipe or a log, printed every few seconds instead of redrawing. */
export function renderSummaryLine(s: DemoSnapshot): string {
  const pool = poolTotals(s.servers);
  const t = s.traffic;
  return (
    `[${s.clock} ×${s.speed} ${formatDuration(s.elapsedMs)}] servers ${pool.online}/${pool.servers} online, ` +
    `load ${n(pool.used)}/${n(pool.capacity)} (${pct(pool.used, pool.capacity)}), meetings ${pool.meetings}, users ${pool.participants}, ` +
    `cameras ${pool.videos} | gateway ${rate(s.gatewayRps)} req/s | created ${t.created}, entered ${t.entered}, ` +
    `refused ${sumOf(t.refused)}, errors ${sumOf(t.errors)}`
  );
}

export interface ServerSummary {
  id: string;
  size: string;
  capacity: number;
  /** Highest polled load over capacity seen during the run. */
  peakUtilization: number;
  peakParticipants: number;
  /** Meetings created on the server during the run. */
  meetingsPlaced: number;
}

export interface DemoSummary {
  elapsedMs: number;
  clockFrom: string;
  clockTo: string;
  servers: ServerSummary[];
  traffic: TrafficCounters;
  /** BBB API requests the gateway answered in total. */
  gatewayRequests: number;
  gatewayRefused: Record<string, number>;
}

/** The report printed when the demo stops. */
export function renderFinalSummary(s: DemoSummary): string[] {
  const t = s.traffic;
  const placed = s.servers.reduce((a, r) => a + r.meetingsPlaced, 0);
  const lines = [
    `Amphi demo summary: ${formatDuration(s.elapsedMs)} of real time, ${s.clockFrom}–${s.clockTo} simulated`,
    '',
    `${'SERVER'.padEnd(8)} ${'SIZE'.padEnd(8)} ${'CAPACITY'.padStart(8)} ${'PEAK UTIL'.padStart(9)} ${'PEAK USERS'.padStart(10)} ${'MEETINGS PLACED'.padStart(15)}`,
    ...s.servers.map(
      (r) =>
        `${r.id.padEnd(8)} ${r.size.padEnd(8)} ${String(r.capacity).padStart(8)} ${`${Math.round(r.peakUtilization * 100)}%`.padStart(9)} ` +
        `${String(r.peakParticipants).padStart(10)} ${String(r.meetingsPlaced).padStart(15)}`,
    ),
    `${'total'.padEnd(8)} ${''.padEnd(8)} ${String(s.servers.reduce((a, r) => a + r.capacity, 0)).padStart(8)} ${''.padStart(9)} ${''.padStart(10)} ${String(placed).padStart(15)}`,
    '',
    `meetings: ${t.created} created of ${t.creates} requested${sumOf(t.createFailed) > 0 ? ` (failed: ${formatCounts(t.createFailed)})` : ''}, ${t.ended} ended by their teacher`,
    `joins: ${t.joins} attempted, ${t.joined} accepted by a server, ${t.entered} entered, ${sumOf(t.refused)} refused (${formatCounts(t.refused)})`,
    `cameras: ${t.cameraOn} turned on, ${t.cameraOff} off, ${sumOf(t.cameraRefused)} refused (${formatCounts(t.cameraRefused)}); audio changes: ${t.audioChanges}; left: ${t.left}`,
    `gateway: ${s.gatewayRequests} BBB API requests answered; joins refused by the gateway: ${formatCounts(s.gatewayRefused)}`,
    `errors: ${sumOf(t.errors) > 0 ? formatCounts(t.errors, 6) : 'none'}${t.lastError && sumOf(t.errors) > 0 ? ` (last: ${t.lastError})` : ''}`,
  ];
  return lines;
}
