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
