// The node_exporter CPU reading (poller/node-cpu.ts), the measured-load rule
// (placement/cpu-load.ts rule 1), the simulator's counters (sim-metrics.ts).
import { describe, expect, it } from 'vitest';
import { cpuNow, freshCpu, measuredServerLoad, meetingScale } from '../../src/placement/cpu-load.js';
import { withCpu } from '../../src/poller/measure.js';
import { cpuUtilization, decodeCpuSample, encodeCpuSample, parseLabels, parseNodeCpu, readCpu } from '../../src/poller/node-cpu.js';
import { NodeCpuCounters } from '../../src/simulator/sim-metrics.js';
import type { PolledMeeting } from '../../src/state/types.js';

// A real node_exporter 1.x answer, shortened: other families around, HELP/TYPE comments.
const REAL = `# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.4417e-05
go_gc_duration_seconds_sum 0.012
# HELP node_cpu_guest_seconds_total Seconds the CPUs spent in guests (VMs) for each mode.
# TYPE node_cpu_guest_seconds_total counter
node_cpu_guest_seconds_total{cpu="0",mode="nice"} 0
node_cpu_guest_seconds_total{cpu="0",mode="user"} 12
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 1.23456789e+06
node_cpu_seconds_total{cpu="0",mode="iowait"} 1234.5
node_cpu_seconds_total{cpu="0",mode="irq"} 0
node_cpu_seconds_total{cpu="0",mode="nice"} 10.25
node_cpu_seconds_total{cpu="0",mode="softirq"} 99.75
node_cpu_seconds_total{cpu="0",mode="steal"} 0
node_cpu_seconds_total{cpu="0",mode="system"} 5000
node_cpu_seconds_total{cpu="0",mode="user"} 20000
node_cpu_seconds_total{cpu="1",mode="idle"} 1234000
node_cpu_seconds_total{cpu="1",mode="system"} 4000
node_cpu_seconds_total{cpu="1",mode="user"} 21000
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.21
`;

describe('parseNodeCpu', () => {
  it('sums idle and every mode over the cpus of a real node_exporter answer, skipping other families', () => {
    const c = parseNodeCpu(REAL)!;
    expect(c.cpus).toBe(2);
    expect(c.idle).toBeCloseTo(1234567.89 + 1234000, 6);
    expect(c.total).toBeCloseTo(1234567.89 + 1234.5 + 10.25 + 99.75 + 5000 + 20000 + 1234000 + 4000 + 21000, 6);
  });

  it('reads labels in any order, beside others, with spaces, escapes, trailing comma and timestamps', () => {
    const text = [
      'node_cpu_seconds_total{mode="idle",instance="bbb1:9100",cpu="0"} 100 1700000000000',
      'node_cpu_seconds_total{ job="node" , mode = "user", cpu="0", note="a \\"quoted\\" \\\\ }, value\\n",} 50',
      'node_cpu_seconds_total{cpu="1",mode="idle"}\t200',
      'node_cpu_seconds_total{cpu="1",mode="user"} +5e1',
    ].join('\r\n');
    expect(parseNodeCpu(text)).toEqual({ idle: 300, total: 400, cpus: 2 });
  });

  it('accepts the older node_cpu name', () => {
    expect(parseNodeCpu('node_cpu{cpu="cpu0",mode="idle"} 9\nnode_cpu{cpu="cpu0",mode="user"} 1\n')).toEqual({ idle: 9, total: 10, cpus: 1 });
  });

  it('ignores malformed lines of other metrics, but not of the CPU counters', () => {
    const good = 'node_cpu_seconds_total{cpu="0",mode="idle"} 10\nnode_cpu_seconds_total{cpu="0",mode="user"} 5\n';
    expect(parseNodeCpu(`garbage line {{{\nnode_load1 abc\nnode_cpu_seconds_total_x{ 1\n${good}`)).toEqual({ idle: 10, total: 15, cpus: 1 });
    for (const bad of [
      'node_cpu_seconds_total{cpu="0",mode="system"} twelve',
      'node_cpu_seconds_total{cpu="0",mode="system" 3',
      'node_cpu_seconds_total{cpu="0",mode="system} 3',
      'node_cpu_seconds_total{cpu="0"} 3',
      'node_cpu_seconds_total{mode="system"} 3',
      'node_cpu_seconds_total{cpu="0",mode="system"}',
      'node_cpu_seconds_total 3',
      'node_cpu_seconds_total{cpu="0",mode="system"} NaN',
      'node_cpu_seconds_total{cpu="0",mode="system"} +Inf',
      'node_cpu_seconds_total{cpu="0",mode="system"} -1',
      'node_cpu_seconds_total{cpu="0",mode="idle"} 11', // the same series twice
      'node_cpu_seconds_total{cpu="0",cpu="1",mode="system"} 3',
    ]) {
      expect(parseNodeCpu(`${good}${bad}\n`), bad).toBeUndefined();
    }
  });

  it('gives nothing for an answer without CPU counters or without idle', () => {
    expect(parseNodeCpu('')).toBeUndefined();
    expect(parseNodeCpu('# just a comment\nnode_load1 1\n')).toBeUndefined();
    expect(parseNodeCpu('<html>502 Bad Gateway</html>')).toBeUndefined();
    expect(parseNodeCpu('node_cpu_seconds_total{cpu="0",mode="user"} 5\n')).toBeUndefined();
  });

  it('parses label sets strictly', () => {
    expect(parseLabels('')).toEqual(new Map());
    expect(parseLabels('a="1",b="x,y"')).toEqual(new Map([['a', '1'], ['b', 'x,y']]));
    expect(parseLabels('a="1" b="2"')).toBeUndefined();
    expect(parseLabels('a=1')).toBeUndefined();
    expect(parseLabels('a="\\x"')).toBeUndefined();
  });
});

describe('cpuUtilization and readCpu', () => {
  const at = (idle: number, total: number, cpus = 2) => ({ idle, total, cpus });

  it('is 1 − Δidle/Δtotal, like rate()', () => {
    // 2 cpus, 10 s: 20 cpu-seconds, 5 of them idle → 75 % busy.
    expect(cpuUtilization(at(1000, 1400), at(1005, 1420))).toBeCloseTo(0.75, 12);
    expect(cpuUtilization(at(1000, 1400), at(1020, 1420))).toBe(0);
    expect(cpuUtilization(at(1000, 1400), at(1000, 1420))).toBe(1);
  });

  it('is unknown on a counter reset, a change of cpus, no elapsed time or inconsistent counters', () => {
    expect(cpuUtilization(at(1000, 1400), at(5, 20))).toBeUndefined(); // reboot
    expect(cpuUtilization(at(1000, 1400), at(1010, 1390))).toBeUndefined(); // total went back
    expect(cpuUtilization(at(1000, 1400), at(1001, 1401, 4))).toBeUndefined(); // cpus changed
    expect(cpuUtilization(at(1000, 1400), at(1000, 1400))).toBeUndefined(); // no time
    expect(cpuUtilization(at(1000, 1400), at(1030, 1420))).toBeUndefined(); // idle grew more than total
    expect(cpuUtilization(at(1000, 1400), at(998, 1420))).toBeUndefined(); // idle went back
  });

  const text = (idle: number, user: number) => `node_cpu_seconds_total{cpu="0",mode="idle"} ${idle}\nnode_cpu_seconds_total{cpu="0",mode="user"} ${user}\n`;

  it('takes a first sample as a baseline, then a rate against it; a reset is a new baseline', () => {
    const first = readCpu(text(100, 100), 1000, undefined, 60_000);
    expect(first).toMatchObject({ kind: 'baseline', sample: { idle: 100, total: 200, cpus: 1, at: 1000 } });
    const prev = first.kind === 'baseline' ? first.sample : undefined;
    expect(readCpu(text(101, 104), 6000, prev, 60_000)).toMatchObject({ kind: 'utilization', cpu: 0.8 });
    expect(readCpu(text(1, 1), 6000, prev, 60_000)).toMatchObject({ kind: 'baseline', sample: { idle: 1, total: 2 } });
    expect(readCpu(text(101, 104), 100_000, prev, 60_000)).toMatchObject({ kind: 'baseline' }); // too old
    expect(readCpu('node_load1 3\n', 6000, prev, 60_000)).toMatchObject({ kind: 'malformed' });
  });

  it('round-trips the sample kept in Redis and refuses a damaged one', () => {
    const s = { idle: 1234567.891, total: 2345678.5, cpus: 16, at: 1_700_000_000_123 };
    expect(decodeCpuSample(encodeCpuSample(s))).toEqual(s);
    for (const bad of [undefined, '', '1|2|3', 'a|2|3|4', '5|2|1|4', '1|2|0|4', '1|2|1.5|4']) expect(decodeCpuSample(bad)).toBeUndefined();
  });
});

describe('measured load from CPU (placement/cpu-load.ts rule 1)', () => {
  it('is max(model load, cpu × capacity), the model alone without a fresh CPU', () => {
    expect(measuredServerLoad(72.5, 500, 0.31)).toBeCloseTo(155, 9);
    expect(measuredServerLoad(300, 500, 0.31)).toBe(300);
    expect(measuredServerLoad(72.5, 500, undefined)).toBe(72.5);
    expect(measuredServerLoad(72.5, 500, 1.7)).toBe(500); // clamped to the capacity
    expect(measuredServerLoad(72.5, 500, NaN)).toBe(72.5);
  });

  it('counts a reading as fresh for the given window only', () => {
    expect(freshCpu(0.5, 1000, 16_000, 15_000)).toBe(0.5);
    expect(freshCpu(0.5, 1000, 16_001, 15_000)).toBeUndefined();
    expect(freshCpu(undefined, 1000, 1000, 15_000)).toBeUndefined();
  });

  it('brings a reading to now when meetings ended over its interval, never up', () => {
    // Half the model load left since the previous poll: half the reading is still there.
    expect(cpuNow(0.8, 300, 600)).toBeCloseTo(0.4, 9);
    // Every meeting ended: nothing is left of the reading, whatever the average says.
    expect(cpuNow(0.8, 0, 600)).toBe(0);
    // A rise, the same load, nothing known before, an empty server before: unchanged.
    expect(cpuNow(0.3, 600, 300)).toBe(0.3);
    expect(cpuNow(0.3, 300, 300)).toBe(0.3);
    expect(cpuNow(0.3, 300, undefined)).toBe(0.3);
    expect(cpuNow(0.3, 0, 0)).toBe(0.3);
    // A server busy with no meeting in the model (recordings being processed) keeps its reading.
    expect(measuredServerLoad(0, 500, cpuNow(0.6, 0, 0))).toBe(300);
  });

  it('a server whose classes ended since the last poll measures empty, not busy for one more interval', () => {
    const meeting = (load: number): PolledMeeting =>
      ({ tenant: 't', meetingID: `m${load}`, upstreamID: `m${load}`, createTime: 0, measuredLoad: load, info: {} }) as unknown as PolledMeeting;
    const totals = { meetings: 1, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 40 };
    // The previous poll saw 400 units of model load; one small meeting is left; the CPU over the
    // interval averaged 70 % (the classes ran most of it).
    const out = withCpu({ totals, meetings: [meeting(40)] }, 1000, 0.7, 400);
    expect(out.totals.measuredLoad).toBeCloseTo(70, 9);
    expect(out.modelLoad).toBe(40);
    // Without the previous figure, the average is taken as now.
    expect(withCpu({ totals, meetings: [meeting(40)] }, 1000, 0.7).totals.measuredLoad).toBe(700);
  });

  it('scales each meeting so they add up to the measured load', () => {
    expect(meetingScale(100, 250)).toBe(2.5);
    expect(meetingScale(100, 80)).toBe(1);
    expect(meetingScale(0, 80)).toBe(1);
    const meeting = (load: number): PolledMeeting =>
      ({ tenant: 't', meetingID: `m${load}`, upstreamID: `m${load}`, createTime: 0, measuredLoad: load, info: {} }) as unknown as PolledMeeting;
    const measured = { totals: { meetings: 2, participants: 0, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad: 100 }, meetings: [meeting(60), meeting(40)] };
    const out = withCpu(measured, 500, 0.5);
    expect(out.modelLoad).toBe(100);
    expect(out.totals.measuredLoad).toBe(250);
    expect(out.meetings.map((m) => m.measuredLoad)).toEqual([150, 100]);
    expect(withCpu(measured, 500, undefined).totals.measuredLoad).toBe(100);
    expect(withCpu(measured, 500, 0.1).meetings.map((m) => m.measuredLoad)).toEqual([60, 40]);
  });
});

describe('simulated node_exporter counters', () => {
  it('integrates the busy fraction over time per core, clamped at 100 %', () => {
    let now = 0;
    const c = new NodeCpuCounters(4, () => now);
    c.observe(50); // 50 % of all cores from t=0
    now = 10_000;
    c.observe(250); // saturated from t=10 s
    now = 14_000;
    c.observe(0);
    // Per core: 10 s at 50 % + 4 s at 100 % → 9 s busy, 5 s idle.
    expect(c.perCore('idle')).toBeCloseTo(5, 9);
    expect(c.perCore('user') + c.perCore('system')).toBeCloseTo(9, 9);
    const parsed = parseNodeCpu(c.render())!;
    expect(parsed.cpus).toBe(4);
    expect(parsed.idle).toBeCloseTo(20, 2);
    expect(parsed.total).toBeCloseTo(56, 2);
  });

  it('never counts down when the clock goes back', () => {
    let now = 10_000;
    const c = new NodeCpuCounters(1, () => now);
    c.observe(100);
    now = 5_000;
    c.observe(100);
    expect(c.perCore('user') + c.perCore('system')).toBe(0);
    now = 11_000;
    c.observe(0);
    expect(c.perCore('user') + c.perCore('system')).toBeCloseTo(1, 9);
  });
});
