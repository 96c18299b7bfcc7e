import { describe, expect, it } from 'vitest';
import {
  formatCounts,
  formatDuration,
  loadBar,
  poolTotals,
  renderFinalSummary,
  renderFrame,
  renderSummaryLine,
  truncateVisible,
  utilizationColor,
} from '../../src/demo/view.js';
import type { DemoSnapshot, ServerRow } from '../../src/demo/view.js';
import { emptyCounters } from '../../src/traffic/driver.js';

// eslint-disable-next-line no-control-regex
const strip = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

const row = (o: Partial<ServerRow> & { id: string }): ServerRow => ({
  size: 'standard',
  health: 'online',
  state: 'enabled',
  capacity: 500,
  measuredLoad: 0,
  reserved: 0,
  meetings: 0,
  participants: 0,
  videos: 0,
  ...o,
});

function snapshot(servers: ServerRow[]): DemoSnapshot {
  const traffic = emptyCounters();
  Object.assign(traffic, { creates: 12, created: 11, joins: 300, joined: 290, entered: 288, left: 40, cameraOn: 31 });
  traffic.createFailed = { noAvailableServers: 1 };
  traffic.refused = { maxParticipantsReached: 7, guestDeniedAccess: 1 };
  traffic.errors = { 'join: timeout after 5000 ms': 2 };
  return {
    elapsedMs: 75_000,
    durationMs: 150_000,
    clock: '09:00',
    speed: 60,
    apiUrl: 'http://127.0.0.1:8090/bigbluebutton/api',
    secret: 's3cr3t',
    gatewayRps: 123.4,
    gatewayRpsByCall: { join: 110, create: 9, end: 4 },
    trafficRps: 310,
    gatewayRefused: {},
    servers,
    traffic,
    inside: 248,
  };
}

const servers = [
  row({ id: 'bbb-01', measuredLoad: 250, reserved: 50, meetings: 4, participants: 100, videos: 12, cpu: 41.2 }),
  row({ id: 'bbb-02', measuredLoad: 460, meetings: 6, participants: 170, videos: 30 }),
  row({ id: 'bbb-03', size: 'large', capacity: 1000, measuredLoad: 100, reserved: 2000, meetings: 1 }),
  row({ id: 'bbb-04', health: 'offline', measuredLoad: 300, meetings: 2, participants: 50 }),
  row({ id: 'bbb-05', state: 'cordoned', measuredLoad: 100 }),
];

describe('pool totals', () => {
  it('counts capacity, use and headroom on enabled online servers only, never negative headroom', () => {
    const t = poolTotals(servers);
    expect(t).toMatchObject({ servers: 5, online: 4, capacity: 2000, used: 810, reserved: 2050 });
    // bbb-01 500-250-50 + bbb-02 40 + bbb-03 none left (over-reserved).
    expect(t.headroom).toBe(240);
    // Meetings and users are counted wherever they are: they are real.
    expect(t.meetings).toBe(13);
    expect(t.participants).toBe(320);
  });
});

describe('load bar', () => {
  it('fills in proportion to measured load, then reservations, then free space', () => {
    const bar = loadBar(250, 100, 500, 20, false);
    expect(bar).toBe(`${'█'.repeat(10)}${'▒'.repeat(4)}${'░'.repeat(6)}`);
    expect(loadBar(0, 0, 500, 10, false)).toBe('░'.repeat(10));
    expect(loadBar(500, 0, 500, 10, false)).toBe('█'.repeat(10));
  });

  it('marks an overloaded server and never grows past its width', () => {
    expect(loadBar(1200, 300, 500, 10, false)).toBe(`${'█'.repeat(9)}!`);
    expect(strip(loadBar(100, 5000, 500, 10, false))).toHaveLength(10);
  });

  it('colors by utilization', () => {
    expect(utilizationColor(0.3)).toBe('green');
    expect(utilizationColor(0.7)).toBe('yellow');
    expect(utilizationColor(0.9)).toBe('red');
    expect(loadBar(100, 0, 500, 10, true)).toContain('\x1b[32m');
    expect(loadBar(460, 0, 500, 10, true)).toContain('\x1b[31m');
    expect(loadBar(460, 0, 500, 10, false)).not.toContain('\x1b[');
  });
});

describe('live frame', () => {
  it('shows the header, one line per server with its numbers, pool totals and traffic', () => {
    const lines = renderFrame(snapshot(servers), { color: false, width: 120 });
    const text = lines.join('\n');
    expect(lines[0]).toContain('09:00');
    expect(lines[0]).toContain('1:15 / 2:30');
    expect(text).toContain('http://127.0.0.1:8090/bigbluebutton/api');
    expect(text).toContain('s3cr3t');
    expect(text).toMatch(/gateway 123 req\/s \(join 110 · create 9 · end 4\)/);
    const b1 = lines.find((l) => l.startsWith('bbb-01'))!;
    expect(b1).toMatch(/online\s+enabled/);
    expect(b1).toMatch(/250\/500\s+50%\s+4\s+100\s+12\s+41%/);
    expect(lines.find((l) => l.startsWith('bbb-04'))).toContain('offline');
    expect(lines.find((l) => l.startsWith('bbb-03'))).toMatch(/large/);
    expect(text).toMatch(/POOL\s+4\/5 online\s+capacity 2000\s+used 810 \(41%\)\s+reserved 2050\s+headroom 240/);
    expect(text).toMatch(/meetings 13\s+users 320\s+cameras 42/);
    expect(text).toContain('meetings created 11/12, ended 0');
    expect(text).toContain('creates failed: noAvailableServers 1');
    expect(text).toContain('joins 300: joined 290, entered 288, refused 8');
    expect(text).toContain('maxParticipantsReached 7 · guestDeniedAccess 1');
    expect(text).toContain('join: timeout after 5000 ms 2');
    expect(text).not.toContain('\x1b[');
  });

  it('fits a 100-column terminal, and gives a wider one a longer bar', () => {
    const normal = renderFrame(snapshot(servers), { color: true, width: 100 });
    for (const line of normal) expect(strip(line).length).toBeLessThanOrEqual(100);
    const wide = renderFrame(snapshot(servers), { color: false, width: 140 });
    const len = (lines: string[]) => strip(lines.find((l) => l.startsWith('bbb-01'))!).length;
    expect(len(wide)).toBeGreaterThan(len(normal));
  });

  it('shows the busiest servers when they do not all fit the terminal', () => {
    const many = Array.from({ length: 30 }, (_, i) => row({ id: `bbb-${String(i + 1).padStart(2, '0')}`, measuredLoad: (i * 37) % 500 }));
    const lines = renderFrame(snapshot(many), { color: false, width: 120, height: 20 });
    expect(lines.length).toBeLessThanOrEqual(20);
    const shown = lines.filter((l) => l.startsWith('bbb-'));
    expect(shown).toHaveLength(5);
    const loads = many.map((r) => r.measuredLoad).sort((a, b) => b - a);
    for (const l of shown) expect(Number(/(\d+)\/500/.exec(l)![1])).toBeGreaterThanOrEqual(loads[4]!);
    expect(lines.join('\n')).toContain('… and 25 less loaded servers');
    // Pool totals still count every server.
    expect(lines.join('\n')).toContain(`capacity ${30 * 500}`);
    expect(renderFrame(snapshot(many), { color: false, height: 100 }).filter((l) => l.startsWith('bbb-'))).toHaveLength(30);
  });

  it('cuts lines longer than the terminal without counting escape sequences', () => {
    expect(truncateVisible('abcdef', 4)).toBe('abcd');
    expect(truncateVisible('abc', 4)).toBe('abc');
    expect(truncateVisible('\x1b[31mabcdef\x1b[0m', 3)).toBe('\x1b[31mabc\x1b[0m');
    expect(strip(truncateVisible('██▒▒░░', 3))).toBe('██▒');
    const tiny = renderFrame(snapshot(servers), { color: true, width: 40 });
    for (const line of tiny) expect(strip(line).length).toBeLessThanOrEqual(40);
  });

  it('colors only when asked, and the colored frame says the same thing', () => {
    const plain = renderFrame(snapshot(servers), { color: false, width: 120 });
    const colored = renderFrame(snapshot(servers), { color: true, width: 120 });
    expect(colored.join('\n')).toContain('\x1b[');
    expect(colored.map(strip)).toEqual(plain);
  });

  it('says none when nothing was refused or failed', () => {
    const s = snapshot([row({ id: 'bbb-01' })]);
    s.traffic = emptyCounters();
    const text = renderFrame(s, { color: false }).join('\n');
    expect(text).toMatch(/REFUSED\s+none/);
    expect(text).toMatch(/ERRORS\s+none/);
  });
});

describe('summary line and final report', () => {
  it('puts the essentials of a snapshot on one line', () => {
    const line = renderSummaryLine(snapshot(servers));
    expect(line).not.toContain('\n');
    expect(line).toContain('[09:00 ×60 1:15]');
    expect(line).toContain('servers 4/5 online');
    expect(line).toContain('load 810/2000 (41%)');
    expect(line).toContain('entered 288, refused 8, errors 2');
  });

  it('reports peaks and placements per server, and the traffic outcome', () => {
    const traffic = emptyCounters();
    Object.assign(traffic, { creates: 3, created: 3, joins: 60, joined: 58, entered: 58, ended: 2 });
    traffic.refused = { maxParticipantsReached: 2 };
    const lines = renderFinalSummary({
      elapsedMs: 150_000,
      clockFrom: '07:45',
      clockTo: '10:15',
      servers: [
        { id: 'bbb-01', size: 'standard', capacity: 500, peakUtilization: 0.874, peakParticipants: 140, meetingsPlaced: 2 },
        { id: 'bbb-02', size: 'large', capacity: 1000, peakUtilization: 1.25, peakParticipants: 300, meetingsPlaced: 1 },
      ],
      traffic,
      gatewayRequests: 65,
      gatewayRefused: {},
    });
    const text = lines.join('\n');
    expect(lines[0]).toContain('2:30 of real time, 07:45–10:15 simulated');
    expect(lines.find((l) => l.startsWith('bbb-01'))).toMatch(/standard\s+500\s+87%\s+140\s+2$/);
    expect(lines.find((l) => l.startsWith('bbb-02'))).toMatch(/large\s+1000\s+125%\s+300\s+1$/);
    expect(lines.find((l) => l.startsWith('total'))).toMatch(/1500\s+3$/);
    expect(text).toContain('joins: 60 attempted, 58 accepted by a server, 58 entered, 2 refused (maxParticipantsReached 2)');
    expect(text).toContain('errors: none');
  });

  it('formats durations and count lists', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(61_500)).toBe('1:01');
    expect(formatCounts({})).toBe('none');
    expect(formatCounts({ a: 1, b: 5, c: 0 })).toBe('b 5 · a 1');
    expect(formatCounts({ a: 1, b: 2, c: 3 }, 2)).toBe('c 3 · b 2 · +1 more');
  });
});
