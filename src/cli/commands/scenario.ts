// `amphi scenario`: the 30,000-user school morning, through the real gateway, poller and scaler,
// in accelerated time (src/scenario/run.ts); a table, a chart, and the verdict as one JSON line.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLAIRVOYANT_FILL } from '../../scenario/grade.js';
import { runScenario } from '../../scenario/run.js';
import type { ScenarioReport } from '../../scenario/run.js';
import { sumOf } from '../../traffic/driver.js';
import type { Command } from '../command.js';
import { numberOption } from '../number-option.js';
import { StartupError, withStartupErrors } from '../runtime.js';

/** Events a real second the bell waves are slowed to: what this 2-core machine carries with every user on time. */
const DEFAULT_EVENT_RATE = 800;
const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
const describe = (counts: Record<string, number>) => Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

export function formatTable(r: ScenarioReport): string {
  const x = r.result;
  const t = r.traffic;
  const rows: [string, string][] = [
    ['peak concurrent users', String(x.peakUsers)],
    ['joins entered / attempted', `${t.entered} / ${t.joins}`],
    ['joins refused for capacity', String(x.joinsRefusedForCapacity)],
    ['joins refused by policy', String(x.joinsRefusedByPolicy)],
    ['refusals and failed creates by BBB messageKey', describe({ ...t.refused, ...Object.fromEntries(Object.entries(t.createFailed).map(([k, n]) => [`create ${k}`, n])) })],
    ['cameras refused by the caps', String(sumOf(t.cameraRefused))],
    ['highest server utilization', percent(x.maxServerUtilization)],
    ['ready servers at the peak: p95 / mean', `${percent(x.p95ReadyUtilizationAtPeak)} / ${percent(r.meanReadyUtilizationAtPeak)}`],
    ['server-hours', x.serverHours.toFixed(1)],
    [`clairvoyant server-hours (servers filled to ${Math.round(CLAIRVOYANT_FILL * 100)} %)`, x.clairvoyantServerHours.toFixed(1)],
    ['ratio', x.clairvoyantServerHours > 0 ? `${(x.serverHours / x.clairvoyantServerHours).toFixed(2)}×` : 'n/a'],
    ['meetings interrupted by scale-in', String(x.meetingsInterruptedByScaleIn)],
    ['placements by outcome (the gateway\'s count)', describe(r.placements)],
    ['servers asked of the provider (failed to boot)', `${r.provisions.asked} (${r.provisions.failed})`],
    ['traffic errors', describe(t.errors)],
    ['speed of the clock: slowest / fastest', `${r.speeds.min.toFixed(1)}× / ${r.speeds.max.toFixed(1)}× (${(r.speeds.plannedMs / 1000).toFixed(0)} s planned)`],
    ['joins sent late at most', `${Math.round(t.maxJoinLagMs)} ms real`],
    ['wall time', `${(r.wallMs / 1000).toFixed(0)} s`],
    ['chart', x.chart],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

export const scenarioCommand: Command = {
  name: 'scenario',
  summary: 'The 30,000-user school morning through the gateway, poller and scaler, in accelerated time',
  usage: `Usage: amphi scenario [--json] [--peak-users N] [--provision-delay SECONDS] [--seed N] [--speed X]
                      [--event-rate N]

Replays a school morning from 7:30 to 12:30 (Tuesday 1 December 2026, Paris time): staff
meetings before the bell; classes of 20 to 35 with 5 to 30 cameras that change on the hour,
pupils joining over the first minutes; webinars of 150 to 350 with one camera from 9:30 to
11:00; a half-day slot at noon. It runs the real pieces on 127.0.0.1: a private redis-server,
\`amphi gateway\` and \`amphi poller\` as their own processes, and the scaler role in this one with
the simulated provider, which boots a simulated 16-core BBB server --provision-delay after it is
asked. The traffic goes through the gateway's BBB API as an LMS and browsers would. The pool
runs from 7:15, from its minimum (4 servers, or one per 2,000 users of the peak), so the scaler
can have servers ready for the staff meetings at 7:35; those 15 minutes are paid for like the
rest. The scaler's demand history holds the earlier Tuesdays' mornings (other seeds), as the
servers' CPU would have shown them: its weekly profile learns from them. The clock runs fast
where little happens and slows down in the bell waves (--speed, --event-rate); the scaler
decides in simulated time throughout.

Every simulated minute the run reads what the servers themselves report (their CPU figure and
participants), never Amphi's own estimate. It prints a table, writes the chart (SVG), and with
--json prints last one JSON line: peakUsers, joinsRefusedForCapacity, joinsRefusedByPolicy,
maxServerUtilization, p95ReadyUtilizationAtPeak (fractions), serverHours,
clairvoyantServerHours (each minute's measured load packed perfectly into servers filled to
${Math.round(CLAIRVOYANT_FILL * 100)} % of their CPU, provisioned instantly), meetingsInterruptedByScaleIn, chart.

Options:
      --json                 End with the JSON line
      --peak-users N         Concurrent users at the peak (default 30000, 100 to 60000)
      --provision-delay S    Simulated seconds from asking for a server to its BBB API
                             answering (default 360, at most 1800)
      --seed N               Seed of the morning (default 1)
      --speed X              The fastest the morning plays, in simulated seconds per real
                             second, where little happens (default 100)
      --event-rate N         Where the timetable is dense (the bell waves), the clock slows
                             down so the traffic stays within N events (joins, audio, cameras,
                             creates; an end, which takes a whole class out, counts for 8) a
                             real second (default ${DEFAULT_EVENT_RATE}). The morning of 30,000
                             users then takes about 9 minutes
      --history-weeks N      Earlier mornings in the demand history (default 4; 0: none)
      --chart PATH           Where the chart goes (default scenario-morning.svg)
      --log PATH             Where the gateway and the poller log their warnings and the
                             scaler each decision and job outcome (default in the temporary
                             directory)
      --samples PATH         Also write each simulated minute's measurements there, one JSON
                             object a line (users, servers ready/paid/desired, each ready
                             server's utilization), for analysis
  -h, --help                 Show this help
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          json: { type: 'boolean' },
          'peak-users': { type: 'string' },
          'provision-delay': { type: 'string' },
          seed: { type: 'string' },
          speed: { type: 'string' },
          'event-rate': { type: 'string' },
          'history-weeks': { type: 'string' },
          chart: { type: 'string' },
          log: { type: 'string' },
          samples: { type: 'string' },
        },
      });
      let options: Parameters<typeof runScenario>[0];
      try {
        options = {
          peakUsers: numberOption('peak-users', values['peak-users'], 100, 60_000) ?? 30_000,
          provisionDelayMs: (numberOption('provision-delay', values['provision-delay'], 0, 1800) ?? 360) * 1000,
          seed: numberOption('seed', values.seed, 0, 2 ** 31 - 1) ?? 1,
          maxSpeed: numberOption('speed', values.speed, 1, 200, false) ?? 100,
          eventsPerSecond: numberOption('event-rate', values['event-rate'], 10, 100_000) ?? DEFAULT_EVENT_RATE,
          historyWeeks: numberOption('history-weeks', values['history-weeks'], 0, 8) ?? 4,
          chartPath: values.chart ?? 'scenario-morning.svg',
          logPath: values.log ?? join(tmpdir(), `amphi-scenario-${process.pid}.log`),
          progress: (line) => io.stderr(`${line}\n`),
        };
      } catch (err) {
        // A bad option is a usage error (exit 2), like a bad setting.
        throw new StartupError((err as Error).message);
      }
      const report = await runScenario(options);
      if (values.samples !== undefined) await writeFile(values.samples, report.samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
      io.stdout(formatTable(report));
      if (values.json) io.stdout(`${JSON.stringify(report.result)}\n`);
      return 0;
    }),
};
