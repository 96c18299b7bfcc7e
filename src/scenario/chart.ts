// The scenario's chart as a self-contained SVG: concurrent users above; desired, ready and
// clairvoyant servers in the middle; the ready servers' mean and the highest utilization below.
// Pure: samples in, markup out.
import { clairvoyantServers } from './grade.js';
import type { MinuteSample } from './grade.js';

const WIDTH = 960;
const PANEL = 190;
const GAP = 40;
const LEFT = 70;
const RIGHT = 150;
const TOP = 40;

interface Series {
  label: string;
  color: string;
  values: number[];
  dash?: string;
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= x)!;
}

function panel(top: number, title: string, series: Series[], max: number, format: (v: number) => string, minutes: number, clock: (m: number) => string): string {
  const w = WIDTH - LEFT - RIGHT;
  const x = (i: number) => LEFT + (minutes <= 1 ? 0 : (i / (minutes - 1)) * w);
  const y = (v: number) => top + PANEL - (Math.min(v, max) / max) * PANEL;
  const parts: string[] = [`<text x="${LEFT}" y="${top - 8}" font-size="13" font-weight="bold">${escapeXml(title)}</text>`];
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    parts.push(`<line x1="${LEFT}" x2="${LEFT + w}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, `<text x="${LEFT - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${format(v)}</text>`);
  }
  for (let m = 0; m < minutes; m++) {
    if (!/:[03]0$/.test(clock(m))) continue;
    parts.push(`<line x1="${x(m)}" x2="${x(m)}" y1="${top}" y2="${top + PANEL}" stroke="#eee"/>`, `<text x="${x(m)}" y="${top + PANEL + 14}" font-size="11" text-anchor="middle">${clock(m)}</text>`);
  }
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${points}"/>`);
    const ly = top + 14 + k * 16;
    parts.push(`<line x1="${LEFT + w + 10}" x2="${LEFT + w + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`, `<text x="${LEFT + w + 32}" y="${ly}" font-size="11">${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

export function renderChart(samples: readonly MinuteSample[], opts: { title: string; clock: (minute: number) => string }): string {
  const n = samples.length;
  const users = samples.map((s) => s.users);
  const servers: Series[] = [
    { label: 'desired', color: '#d62728', values: samples.map((s) => s.desired), dash: '5 3' },
    { label: 'ready', color: '#1f77b4', values: samples.map((s) => s.ready) },
    { label: 'paid for', color: '#9467bd', values: samples.map((s) => s.provisioned) },
    { label: 'clairvoyant', color: '#2ca02c', values: samples.map((s) => clairvoyantServers(s.loadInServers)) },
  ];
  const mean = samples.map((s) => (s.readyUtilization.length === 0 ? 0 : s.readyUtilization.reduce((a, b) => a + b, 0) / s.readyUtilization.length));
  const utilization: Series[] = [
    { label: 'max (any server)', color: '#d62728', values: samples.map((s) => s.maxUtilization) },
    { label: 'mean (ready)', color: '#1f77b4', values: mean },
    { label: '100 %', color: '#999', values: samples.map(() => 1), dash: '2 3' },
  ];
  const serverMax = niceMax(Math.max(1, ...servers.flatMap((s) => s.values)));
  const height = TOP + 3 * PANEL + 2 * GAP + 40;
  const body = [
    panel(TOP, 'Concurrent users', [{ label: 'users', color: '#333', values: users }], niceMax(Math.max(1, ...users)), (v) => String(Math.round(v)), n, opts.clock),
    panel(TOP + PANEL + GAP, 'Servers', servers, serverMax, (v) => String(Math.round(v)), n, opts.clock),
    panel(TOP + 2 * (PANEL + GAP), 'Server utilization (as the servers report it)', utilization, 1.25, (v) => `${Math.round(v * 100)} %`, n, opts.clock),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" font-size="15" text-anchor="middle">${escapeXml(opts.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
