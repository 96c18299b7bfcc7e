// Prometheus text for simulated servers, with the names greenstatic/bigbluebutton-exporter
// made familiar (bbb_meetings, bbb_meetings_participants, …) plus the simulator's CPU figure,
// which is what a real deployment would read from node_exporter.
import type { ServerTotals } from './sim-state.js';

export interface MetricsSample {
  /** e.g. `{ server: '3' }` in the cluster's aggregate; none for one server's own /metrics. */
  labels?: Readonly<Record<string, string>>;
  up: boolean;
  fault: string;
  totals: ServerTotals;
}

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  value: (s: MetricsSample) => number;
}

const FAMILIES: readonly Family[] = [
  { name: 'bbb_api_up', type: 'gauge', help: 'Whether the BBB API answers normally (fault none or slow)', value: (s) => (s.up ? 1 : 0) },
  { name: 'bbb_sim_cpu_percent', type: 'gauge', help: 'Simulated CPU load, percent of all cores', value: (s) => s.totals.load },
  { name: 'bbb_sim_cores', type: 'gauge', help: 'Cores of the simulated server', value: (s) => s.totals.cores },
  { name: 'bbb_meetings', type: 'gauge', help: 'Meetings on the server', value: (s) => s.totals.meetings },
  { name: 'bbb_meetings_participants', type: 'gauge', help: 'Participants in all meetings', value: (s) => s.totals.participants },
  { name: 'bbb_meetings_moderators', type: 'gauge', help: 'Moderators in all meetings', value: (s) => s.totals.moderators },
  { name: 'bbb_meetings_listeners', type: 'gauge', help: 'Listen-only users in all meetings', value: (s) => s.totals.listeners },
  { name: 'bbb_meetings_voice_participants', type: 'gauge', help: 'Users with a microphone in all meetings', value: (s) => s.totals.voice },
  { name: 'bbb_meetings_video_participants', type: 'gauge', help: 'Camera streams published in all meetings', value: (s) => s.totals.videos },
  { name: 'bbb_meetings_participants_max', type: 'gauge', help: 'Participants of the largest meeting', value: (s) => s.totals.largestMeeting },
  { name: 'bbb_sim_streams_delivered', type: 'gauge', help: 'Camera streams sent to viewers by the SFU', value: (s) => s.totals.streamsDelivered },
  { name: 'bbb_sim_pending_joins', type: 'gauge', help: 'Joins through the API that have not entered the client', value: (s) => s.totals.pendingJoins },
  { name: 'bbb_sim_recordings', type: 'gauge', help: 'Simulated recordings kept', value: (s) => s.totals.recordings },
  { name: 'bbb_unique_meetings_total', type: 'counter', help: 'Meetings created since start', value: (s) => s.totals.meetingsCreatedTotal },
];

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labelText(labels: Readonly<Record<string, string>> | undefined, extra?: Record<string, string>): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export function renderMetrics(samples: readonly MetricsSample[]): string {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of samples) lines.push(`${f.name}${labelText(s.labels)} ${f.value(s)}`);
  }
  lines.push('# HELP bbb_sim_fault Fault injected into the simulated server (1 for the active mode)', '# TYPE bbb_sim_fault gauge');
  for (const s of samples) lines.push(`bbb_sim_fault${labelText(s.labels, { mode: s.fault })} 1`);
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------ node exporter CPU counters

/** node_exporter's CPU modes the simulator fills; a real host has more (nice, iowait, irq…). */
export const NODE_CPU_MODES = ['idle', 'user', 'system'] as const;

/** Share of busy time the simulator books as `system` (SFU and FreeSWITCH syscalls); the rest is `user`. */
const SYSTEM_SHARE = 0.2;

/**
 * `node_cpu_seconds_total{cpu,mode}` as a real server's node_exporter exports them, integrated
 * over wall time from the simulated CPU figure: between two observations the server was as
 * busy as at the first (the figure only changes when its meetings do, and every change of
 * them goes through the server, which observes before and after). Busy is the figure in
 * percent of all cores, clamped to 100 % (a saturated server cannot be busier than its
 * cores), spread evenly over the cores; the rest is idle.
 */
export class NodeCpuCounters {
  private at: number;
  /** Busy fraction of all cores since `at`, 0..1. */
  private busy = 0;
  /** Seconds per core since start, by mode. */
  private readonly seconds = { idle: 0, user: 0, system: 0 };

  constructor(
    readonly cores: number,
    private readonly now: () => number,
  ) {
    this.at = now();
  }

  /**
   * Integrates up to now at the busy fraction in force since the last observation, then
   * takes `loadPercent` (percent of all cores, as load.ts serverLoad) as the new one.
   */
  observe(loadPercent: number): void {
    const now = this.now();
    const elapsed = Math.max(0, (now - this.at) / 1000);
    if (elapsed > 0) {
      this.seconds.idle += (1 - this.busy) * elapsed;
      this.seconds.user += this.busy * (1 - SYSTEM_SHARE) * elapsed;
      this.seconds.system += this.busy * SYSTEM_SHARE * elapsed;
    }
    // A clock that went back (an injected test clock) restarts from there, never counts down.
    this.at = Math.max(this.at, now);
    this.busy = Number.isFinite(loadPercent) ? Math.min(1, Math.max(0, loadPercent / 100)) : 0;
  }

  /** Seconds per core in one mode since start. */
  perCore(mode: (typeof NODE_CPU_MODES)[number]): number {
    return this.seconds[mode];
  }

  /** The node_exporter text of these counters (call observe() first to bring them up to now). */
  render(labels?: Readonly<Record<string, string>>): string {
    const lines = [
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.',
      '# TYPE node_cpu_seconds_total counter',
    ];
    for (let cpu = 0; cpu < this.cores; cpu++) {
      for (const mode of NODE_CPU_MODES) {
        lines.push(`node_cpu_seconds_total${labelText(labels, { cpu: String(cpu), mode })} ${round(this.seconds[mode])}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Counters in node_exporter's precision (it reads /proc/stat in 1/100 s). */
const round = (v: number): number => Math.round(v * 1000) / 1000;
