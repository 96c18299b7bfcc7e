// `amphi demo`: the gateway and the poller on a simulated pool, with a school morning of
// traffic through the gateway's BBB API and a live capacity view in the terminal.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BbbClient } from '../../bbb/client.js';
import { Demo } from '../../demo/demo.js';
import { LiveView } from '../../demo/live-view.js';
import { renderFinalSummary } from '../../demo/view.js';
import { deleteByPrefix } from '../../redis/delete-prefix.js';
import { clockLabel } from '../../traffic/model.js';
import type { Command } from '../command.js';
import { processIO } from '../command.js';
import { numberOption } from '../number-option.js';
import { bootRuntime, withStartupErrors } from '../runtime.js';

const MAX_SERVERS = 200;

function timeOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error('--start must be a time of day, HH:MM');
  return Number(m[1]) * 60 + Number(m[2]);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Gateway + poller on a simulated pool, with school-morning traffic and a live capacity view',
  usage: `Usage: amphi demo [options]

Starts simulated BBB servers (mostly standard 8-core, one or two large 16-core), registers
them in the store, runs the Amphi gateway on 127.0.0.1 and the poller (every second), and
plays a school morning compressed in time through the gateway's BBB API, as an LMS and
browsers would: classes are created, pupils join, enter, turn cameras on and off, take the
microphone and leave; teachers end their meetings. A live view shows every server's load,
meetings, participants and cameras, the pool's headroom, request rates and refused joins.
Stops after --duration seconds or on Ctrl-C, and prints a summary.

While it runs, any BBB client can talk to the gateway (URL and secret are printed).
Redis: REDIS_URL or REDIS_SENTINELS if set (the demo then uses a pool of its own and deletes
it at the end), otherwise a private redis-server.

Options:
  -n, --servers N            Simulated servers (default 8, at most ${MAX_SERVERS})
  -d, --duration S           Real seconds to run (default 150)
  -s, --speed X              Time compression: simulated seconds per real second (default 60)
      --seed N               Seed of the traffic model: same seed, same morning (default 1)
  -p, --port P               Gateway port on 127.0.0.1 (default 8090, or a free one if taken;
                             0 = any free port)
      --classes-per-hour N   Meetings starting per simulated hour (default: sized to reach
                             about 75 % of the pool at the top of the hour)
      --start HH:MM          Simulated time of day at the start (default 07:45)
      --no-color             No colors in the live view (also when NO_COLOR is set)
  -h, --help                 Show this help
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          servers: { type: 'string', short: 'n' },
          duration: { type: 'string', short: 'd' },
          speed: { type: 'string', short: 's' },
          seed: { type: 'string' },
          port: { type: 'string', short: 'p' },
          'classes-per-hour': { type: 'string' },
          start: { type: 'string' },
          'no-color': { type: 'boolean' },
        },
      });
      const servers = numberOption('servers', values.servers, 1, MAX_SERVERS) ?? 8;
      const durationS = numberOption('duration', values.duration, 1, 24 * 3600, false) ?? 150;
      const speed = numberOption('speed', values.speed, 1, 3600, false) ?? 60;
      const seed = numberOption('seed', values.seed, 0, 2 ** 31) ?? 1;
      const port = numberOption('port', values.port, 0, 65535) ?? 8090;
      const classesPerHour = numberOption('classes-per-hour', values['classes-per-hour'], 1, 100_000);
      const startMinuteOfDay = timeOption(values.start);

      // The demo's own defaults, each overridable from the environment: a shared secret to
      // sign with, a poll every second, reservations that fade in compressed time, and the
      // per-address rate limit lifted for loopback, where every simulated pupil comes from.
      const env: NodeJS.ProcessEnv = { ...process.env };
      env.AMPHI_SECRET ||= randomBytes(16).toString('hex');
      env.AMPHI_RATE_LIMIT_ALLOW ||= '127.0.0.1,::1';
      env.AMPHI_POLL_INTERVAL_MS ||= '1000';
      env.AMPHI_POLL_TIMEOUT_MS ||= '900';
      env.AMPHI_RESERVATION_FADE_MS ||= String(Math.max(1000, Math.round((10 * 60_000) / speed)));
      const sharedRedis = Boolean(process.env.REDIS_URL?.trim() || process.env.REDIS_SENTINELS?.trim());
      // On a Redis others use, a pool of our own: nothing of theirs is read, placed on or deleted.
      if (sharedRedis && !process.env.AMPHI_POOL) env.AMPHI_POOL = `demo-${randomBytes(4).toString('hex')}`;

      const runtime = await bootRuntime(env, io, { privateRedis: 'fallback' });
      let demo: Demo | undefined;
      let view: LiveView | undefined;
      let stopWhen: StopWhen | undefined;
      try {
        demo = await Demo.start({
          store: runtime.store,
          redis: runtime.redis,
          settings: runtime.settings,
          servers,
          seed,
          speed,
          durationMs: durationS * 1000,
          port,
          portFallback: values.port === undefined,
          classesPerHour,
          startMinuteOfDay,
        });
        const d = demo;
        const large = d.servers.filter((s) => s.size === 'large').length;
        const users = d.schedule.meetings.reduce((sum, m) => sum + m.attendees, 0);
        const probe = new BbbClient({ apiUrl: d.apiUrl, secret: d.secret });
        io.stderr(
          [
            `amphi demo: ${servers} simulated BBB servers (${servers - large} standard, ${large} large), gateway on ${d.gatewayUrl}`,
            `  Any BBB client can use the gateway while the demo runs:`,
            `    BBB API URL  ${d.apiUrl}`,
            `    secret       ${d.secret}`,
            `    try          curl '${probe.url('getMeetings')}'`,
            `    metrics      ${d.gatewayUrl}/metrics`,
            `  Traffic: a school morning from ${clockLabel(d.startMinuteOfDay, 0)}, ×${speed} (1 s = ${formatSpeed(speed)}), seed ${seed}: ` +
              `${d.schedule.meetings.length} meetings (${d.classesPerHour}/h), ${users} participants planned over ${durationS} s`,
            '',
          ].join('\n'),
        );

        const tty = io === processIO && process.stdout.isTTY === true;
        view = new LiveView({
          collect: () => d.collector.collect(),
          write: io.stdout,
          tty,
          color: tty && !values['no-color'] && !process.env.NO_COLOR,
          columns: () => process.stdout.columns,
          rows: () => process.stdout.rows,
          onError: (err) => io.stderr(`amphi demo: view: ${err instanceof Error ? err.message : String(err)}\n`),
        });
        view.start();
        void d.play();

        stopWhen = untilSignalOrTimeout(durationS * 1000, (signal) => io.stderr(`\namphi demo: ${signal} received, stopping\n`));
        const reason = await stopWhen.reason;
        await view.stop();
        view = undefined;
        const summary = d.collector.summary();
        await d.stop();
        io.stdout(`\n${renderFinalSummary(summary).join('\n')}\n`);
        if (reason === 'timeout') io.stderr(`amphi demo: ran for ${durationS} s; stopped\n`);
        return 0;
      } finally {
        await view?.stop();
        await demo?.stop();
        if (sharedRedis) await deleteByPrefix(runtime.redis, runtime.store.ctx.keys.prefix).catch(() => 0);
        await runtime.close();
        stopWhen?.dispose();
      }
    }),
};

function formatSpeed(speed: number): string {
  return speed % 60 === 0 ? `${speed / 60} min` : `${speed} s`;
}

interface StopWhen {
  reason: Promise<'timeout' | 'signal'>;
  /** Removes every signal listener this installed. */
  dispose(): void;
}

/**
 * Resolves at the end of the run or on SIGINT/SIGTERM, whichever comes first (runUntilSignal
 * only ends on a signal). After the first signal, a second one exits at once, as the other
 * commands do, so a slow shutdown never traps the user.
 */
function untilSignalOrTimeout(ms: number, onSignal: (signal: NodeJS.Signals) => void): StopWhen {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const impatient = (): never => process.exit(130);
  let finish: (reason: 'timeout' | 'signal') => void = () => {};
  const first = (signal: NodeJS.Signals): void => {
    finish('signal');
    onSignal(signal);
    for (const s of signals) process.on(s, impatient);
  };
  const reason = new Promise<'timeout' | 'signal'>((resolve) => {
    const timer = setTimeout(() => finish('timeout'), ms);
    finish = (why) => {
      clearTimeout(timer);
      for (const s of signals) process.removeListener(s, first);
      resolve(why);
    };
  });
  for (const s of signals) process.on(s, first);
  return {
    reason,
    dispose: () => {
      finish('timeout');
      for (const s of signals) process.removeListener(s, impatient);
    },
  };
}
