// The morning scenario, assembled from the real pieces: a private Redis, the gateway and the
// poller as their own processes (`amphi gateway`, `amphi poller`), the scaler role in this
// process with the simulated provider (it boots simulated BBB servers after the provisioning
// delay, in a process of their own: sim-host.ts), and the traffic driver playing the morning
// through the gateway's BBB API as an LMS and browsers would. Every simulated minute, the run reads what the servers themselves report (their
// CPU figure, their participants) and what the provider holds; grade.ts turns that into the verdict.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScalerConfig } from '../../scaler/config.js';
import { DemandHistory } from '../../scaler/history.js';
import { LargeArrivalHistory } from '../../scaler/arrivals.js';
import { SimulatedProvider } from '../../scaler/providers/simulated.js';
import type { ReconcileResult } from '../../scaler/reconcile.js';
import { startScalerRole } from '../cli/commands/scaler.js';
import type { CliIO } from '../cli/command.js';
import { bootRuntime } from '../cli/runtime.js';
import type { Runtime } from '../cli/runtime.js';
import { redisTargetEnv } from '../redis/target.js';
import { TrafficDriver } from '../traffic/driver.js';
import type { TrafficCounters } from '../traffic/driver.js';
import { seededRandom } from '../traffic/random.js';
import { grade, meanReadyUtilizationAtPeak } from './grade.js';
import type { MinuteSample, ScenarioCounts, ScenarioResult } from './grade.js';
import { generateMorning, MORNING_MS } from './morning.js';
import { renderChart } from './chart.js';
import { SimHostClient } from './sim-host.js';
import { stopChild } from './stop-child.js';
import { acceleratedMs, clockWeight, ScenarioClock, speedProfile } from './time.js';
import { cpuTimeline, meetingPeaks } from './truth.js';
import { isLargeMeeting } from '../placement/choose.js';

const HOST = '127.0.0.1';
const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;
/** The simulated morning: Tuesday 1 December 2026, 7:30 in Paris. Fixed, so a seed replays the same morning. */
export const SCENARIO_START = Date.parse('2026-12-01T07:30:00+01:00');
/**
 * The pool runs from 7:15, its minimum at first: a scaler runs all night, and the staff meetings
 * at 7:35 need servers asked for before 7:30 with any provisioning delay up to 8 minutes. The
 * quarter hour is played (fast: nothing happens) and paid for like the rest.
 */
const WARM_UP = 15 * MINUTE;
const CLOCK_START = SCENARIO_START - WARM_UP;
const SIZE_CLASS = 'large';
const CORES = 16;
const CAPACITY = 1000;
/**
 * Servers of the minimum pool, there from the start and never removed: 4, or one per 2,000
 * users of the peak, as an operator keeps enough on through the night for the staff meetings
 * before the first bell (15 for 30,000 users: 4 % of the peak pool).
 */
export function minimumPool(peakUsers: number): number {
  return Math.max(4, Math.ceil(peakUsers / 2000));
}
/** Joins refused by the capacity policy (the camera rule, a webinar's seats): the rule working, not a shortage. */
const POLICY_KEYS = new Set(['maxParticipantsReached']);

export interface ScenarioOptions {
  peakUsers: number;
  /** Simulated ms from asking the provider to a server that answers. */
  provisionDelayMs: number;
  seed: number;
  /** The fastest the morning plays (simulated ms per real ms), where little happens. */
  maxSpeed: number;
  /** Where the timetable is dense, the clock slows so the traffic stays within this many events a real second. */
  eventsPerSecond: number;
  /** Earlier mornings in the scaler's demand history (0: it learns nothing in advance). */
  historyWeeks: number;
  /** Where the chart goes. */
  chartPath: string;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
  /** Where the child processes and the scaler log. */
  logPath: string;
}

export interface ScenarioReport {
  result: ScenarioResult;
  samples: MinuteSample[];
  traffic: TrafficCounters;
  meanReadyUtilizationAtPeak: number;
  provisions: { asked: number; failed: number };
  /** The gateway's placements by outcome (its own count): `overcommitted` went where no server had room. */
  placements: Record<string, number>;
  /** The clock's slowest and fastest speeds, and the real ms the morning was planned to take. */
  speeds: { min: number; max: number; plannedMs: number };
  wallMs: number;
}

/** The scaler's settings for the morning, in simulated time (the scaler decides on the scenario's clock). */
export function scenarioScalerConfig(provisionDelayMs: number, historyWeeks: number, minimum: number): ScalerConfig {
  const parsed = parseScalerConfig({
    // The published sizing of a BBB server (audio degrades past 80 %): the placement fill
    // ceiling (90 %) is the margin, and the webinars that come mid-lesson get room of their own.
    targetUtilization: 0.8,
    scaleInUtilization: 0.7,
    // The operator's setting covers the boot and the first check that finds it answering.
    provisioningTime: `${Math.ceil(provisionDelayMs / 1000) + 60}s`,
    reconcileInterval: '1m',
    minLifetime: '15m',
    cooldowns: { scaleInAfterScaleOut: '10m', scaleInAfterScaleIn: '1m' },
    maxConcurrent: { provisions: 600, drains: 400 },
    classes: { [SIZE_CLASS]: { min: minimum, max: 1000 } },
    schedule: { timezone: 'Europe/Paris', rules: [] },
    weeklyProfile: { weeks: Math.max(1, historyWeeks), percentile: 90 },
  });
  if (!parsed.ok) throw new Error(`scenario scaler settings: ${parsed.errors.join('; ')}`);
  return parsed.config;
}

/** The provider, with every deletion checked: a server deleted with people inside interrupted their meetings. */
class WatchedProvider extends SimulatedProvider {
  interrupted = 0;
  asked = new Set<string>();
  constructor(
    private readonly host: SimHostClient,
    opts: ConstructorParameters<typeof SimulatedProvider>[0],
  ) {
    super({ ...opts, serverHost: { start: (secret) => host.start(secret, CORES), stop: (url) => host.stop(url) } });
  }
  override async create(req: Parameters<SimulatedProvider['create']>[0]) {
    const server = await super.create(req);
    this.asked.add(server.id);
    return server;
  }
  failed = new Set<string>();
  override async delete(id: string): Promise<void> {
    const server = await this.get(id);
    if (server?.status === 'failed') this.failed.add(id);
    if (server?.apiUrl !== undefined) for (const f of await this.host.read(server.apiUrl)) this.interrupted += f.occupiedMeetings;
    return super.delete(id);
  }
}

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioReport> {
  const wallStart = Date.now();
  const schedule = generateMorning({ peakUsers: opts.peakUsers, idPrefix: `m${opts.seed}` }, seededRandom(opts.seed));
  const events = schedule.events.filter((e) => e.at < MORNING_MS);
  const clock = new ScenarioClock(
    CLOCK_START,
    speedProfile(
      events.map((e) => WARM_UP + e.at),
      { maxSpeed: opts.maxSpeed, eventsPerSecond: opts.eventsPerSecond, lengthMs: WARM_UP + MORNING_MS, weights: events.map(clockWeight) },
    ),
  );
  const speeds = { ...clock.speedRange, plannedMs: clock.real(WARM_UP + MORNING_MS) };
  const base = minimumPool(opts.peakUsers);
  const secret = randomBytes(20).toString('hex');
  const log = createWriteStream(opts.logPath, { flags: 'w' });
  const logIO: CliIO = { stdout: (t) => void log.write(t), stderr: (t) => void log.write(t) };
  // The gateway and the poller wait wall ms, one figure for the whole morning: it is taken at the
  // slowest speed, the bell waves', where placements happen and must see a reservation fade over
  // 15 simulated minutes (any shorter wall figure fades it in the first slow minutes, while the
  // pupils are still arriving, and servers fill past 100 %). Elsewhere the same wall time is more
  // simulated time: a class placed at a bell holds its reservation's excess over its measured
  // load (its roster over the pupils who came) until about the next bell.
  const slow = (ms: number) => acceleratedMs(ms, speeds.min);
  // The scaler's step and its jobs' checks, in wall ms: a simulated minute at the fastest speed, so at least that often.
  const often = (ms: number) => acceleratedMs(ms, speeds.max);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: '',
    REDIS_SENTINELS: '',
    AMPHI_POOL: 'scenario',
    AMPHI_SECRET: secret,
    LOG_LEVEL: 'warn',
    // The LMS and the browsers all come from 127.0.0.1 here.
    AMPHI_RATE_LIMIT_PER_IP: '0',
    AMPHI_RATE_LIMIT_PER_TENANT: '0',
    AMPHI_RESERVATION_FADE_MS: String(Math.max(1000, slow(15 * MINUTE))),
    AMPHI_CREATE_GRACE_MS: String(slow(MINUTE)),
    // Every 30 simulated seconds in the waves (Scalelite polls every 60), at least every half
    // second of real time between them (50 simulated seconds at 100×: the ends of the lessons are
    // seen that much later); 400 servers polled more often would take the poller's whole core.
    AMPHI_POLL_INTERVAL_MS: String(Math.max(200, Math.min(500, slow(30_000)))),
    AMPHI_POLL_CONCURRENCY: '64',
    // The poller's own /metrics is not read here; a fixed port could be taken.
    AMPHI_METRICS_PORT: '0',
  };

  // The scaler (in this process) logs each decision and job outcome with its reason, into the log file.
  const runtime = await bootRuntime({ ...env, LOG_LEVEL: 'info' }, logIO, { privateRedis: 'fallback' });
  const children: ChildProcess[] = [];
  let scaler: { stop(): Promise<void> } | undefined;
  let driver: TrafficDriver | undefined;
  const host = new SimHostClient({ simStart: CLOCK_START, profile: clock.profile, log: (t) => void log.write(t) });
  // Boots take the provisioning delay in simulated time, whatever the speed while they boot.
  const providerClock = {
    now: () => clock.at(Date.now()),
    setTimeout: (fn: () => void, simMs: number) => setTimeout(fn, clock.realDuration(simMs, Date.now())).unref(),
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  };
  const provider = new WatchedProvider(host, { bootDelayMs: opts.provisionDelayMs, seed: opts.seed, clock: providerClock });
  const config = scenarioScalerConfig(opts.provisionDelayMs, opts.historyWeeks, base);
  try {
    opts.progress(`seeding the demand history with ${opts.historyWeeks} earlier Tuesday morning(s)`);
    await seedHistory(runtime, opts);

    for (let i = 1; i <= base; i++) {
      const serverSecret = randomBytes(20).toString('hex');
      const url = await host.start(serverSecret, CORES);
      await runtime.store.servers.add({ id: `base-${i}`, url, secret: serverSecret, capacity: CAPACITY, sizeClass: SIZE_CLASS, health: 'online', metricsUrl: metricsUrlOf(url) });
    }

    const port = await freePort();
    const childEnv = { ...env, ...redisTargetEnv(runtime.redisTarget), HOST, PORT: String(port) };
    children.push(startChild('gateway', childEnv, log), startChild('poller', childEnv, log));
    await waitReady(`http://${HOST}:${port}/ready`, children);

    let lastStep = { desired: base, scalerDemand: { reactive: 0, forecast: 0 } };
    scaler = await startScalerRole(runtime, logIO, { file: '(scenario)', config, providerSettings: { type: 'simulated' } }, provider, {
      clock: (t) => clock.at(t),
      tickMs: Math.max(500, often(MINUTE)),
      jobs: { bootPollMs: often(30_000), drainPollMs: often(30_000), backoffMs: often(5_000), bootTimeoutMs: slow(opts.provisionDelayMs + 15 * MINUTE), concurrency: 32 },
      onStep: (r: ReconcileResult) => {
        lastStep = {
          desired: Object.values(r.plan.desired).reduce((a, b) => a + b, 0),
          scalerDemand: { reactive: r.plan.reactive / CAPACITY, forecast: r.plan.forecast.total / CAPACITY },
        };
      },
    });

    driver = new TrafficDriver({ apiUrl: `http://${HOST}:${port}/bigbluebutton/api`, secret, realOffset: (at) => clock.real(WARM_UP + at), concurrency: 512, timeoutMs: 15_000 });
    opts.progress(
      `playing 7:15–12:30 (the pool from 7:15, the morning from 7:30): ${schedule.meetings.length} meetings, ${events.length} events, at ${speedText(speeds.max)} where quiet, down to ${speedText(speeds.min)} in the bell waves (${Math.round(speeds.plannedMs / 1000)} s)`,
    );

    const samples: MinuteSample[] = [];
    const sampleNow = async () => samples.push(await sample(runtime, provider, host, clock, base, lastStep));
    const playStart = Date.now();
    clock.start(playStart);
    await host.startClock(playStart);
    const playing = driver.play(events);
    const until = clock.wallAt(SCENARIO_START + MORNING_MS);
    let minute = 0;
    let nextProgress = Date.now();
    while (Date.now() < until) {
      await sampleNow();
      if (Date.now() >= nextProgress) {
        const s = samples[samples.length - 1]!;
        opts.progress(
          `${clockOf(s.minute)}  ${speedText(clock.speedAt(Date.now()))}  users ${s.users}  servers ready ${s.ready} / desired ${s.desired} / paid ${s.provisioned}  max util ${Math.round(s.maxUtilization * 100)} %  join lag ${Math.round(driver.counters.joinLagMs)} ms`,
        );
        nextProgress += 10_000;
      }
      minute = Math.max(minute + 1, Math.floor(clock.elapsed(Date.now()) / MINUTE) + 1);
      await sleep(Math.max(0, Math.min(clock.wallAt(CLOCK_START + minute * MINUTE), until) - Date.now()));
    }
    await sampleNow();
    await driver.stop();
    await playing.catch(() => {});
    const placements = await placementsOf(`http://${HOST}:${port}/metrics`);

    const traffic = { ...driver.counters, refused: { ...driver.counters.refused }, createFailed: { ...driver.counters.createFailed }, errors: { ...driver.counters.errors } };
    const counts = countsOf(traffic, provider.interrupted);
    const chart = renderChart(samples, { title: `Amphi: a school morning, ${opts.peakUsers} users at peak, provisioning ${Math.round(opts.provisionDelayMs / 60_000)} min, seed ${opts.seed}`, clock: clockOf });
    await writeFile(opts.chartPath, chart);
    const result = grade(samples, counts, opts.chartPath);
    const provisions = { asked: provider.asked.size, failed: provider.failed.size };
    return { result, samples, traffic, meanReadyUtilizationAtPeak: meanReadyUtilizationAtPeak(samples), provisions, placements, speeds, wallMs: Date.now() - wallStart };
  } finally {
    await driver?.close().catch(() => {});
    await scaler?.stop().catch(() => {});
    await provider.close().catch(() => {});
    await Promise.all(children.map(stopChild));
    await host.close();
    await runtime.close();
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

/**
 * Each earlier week's morning (another seed): its demand, and its large meetings at their
 * creation, as the servers' CPU would have shown them, in load units.
 */
async function seedHistory(runtime: Runtime, opts: ScenarioOptions): Promise<void> {
  const { keys } = runtime.store.ctx;
  const history = new DemandHistory(runtime.redis, keys.demandHistory);
  const arrivals = new LargeArrivalHistory(runtime.redis, keys.largeArrivals);
  // Percent of one core → share of a 16-core server → its load units.
  const units = (percent: number) => (percent / (CORES * 100)) * CAPACITY;
  for (let week = 1; week <= opts.historyWeeks; week++) {
    const past = generateMorning({ peakUsers: opts.peakUsers, idPrefix: `w${week}` }, seededRandom(opts.seed * 1009 + week));
    const start = SCENARIO_START - week * WEEK;
    const timeline = cpuTimeline(past.events, MINUTE, MORNING_MS);
    for (let m = 0; m < timeline.length; m++) await history.record(start + m * MINUTE, { total: units(timeline[m]!), byClass: {} });
    const large = [...meetingPeaks(past.events)].filter(([, p]) => isLargeMeeting(units(p.peak), CAPACITY, runtime.settings.AMPHI_PLACEMENT_LARGE_SHARE));
    await arrivals.record(large.map(([ref, p]) => ({ ref, at: start + p.createdAt, load: units(p.peak) })));
  }
}

async function sample(runtime: Runtime, provider: WatchedProvider, host: SimHostClient, clock: ScenarioClock, base: number, step: Pick<MinuteSample, 'desired' | 'scalerDemand'>): Promise<MinuteSample> {
  const [records, listed, figures] = await Promise.all([runtime.store.servers.list(), provider.list(), host.read()]);
  let users = 0;
  let maxUtilization = 0;
  let loadInServers = 0;
  const utilization = new Map<string, number>();
  for (const f of figures) {
    const u = f.load / 100;
    users += f.participants;
    maxUtilization = Math.max(maxUtilization, u);
    loadInServers += u * (f.cores / CORES);
    utilization.set(f.url, u);
  }
  const ready = records.filter((r) => r.state === 'enabled' && r.health === 'online');
  return {
    minute: clock.elapsed(Date.now()) / MINUTE,
    users,
    ready: ready.length,
    provisioned: base + listed.filter((s) => s.status !== 'gone').length,
    ...step,
    readyUtilization: ready.flatMap((r) => (utilization.has(r.url) ? [utilization.get(r.url)!] : [])),
    maxUtilization,
    loadInServers,
  };
}

/** Refusals sorted by cause: the policy's keys are the rule at work; every other refusal or failed join is a shortage. */
export function countsOf(t: TrafficCounters, interrupted: number): ScenarioCounts {
  let policy = 0;
  let capacity = 0;
  for (const [key, n] of Object.entries(t.refused)) {
    if (POLICY_KEYS.has(key)) policy += n;
    else capacity += n;
  }
  // A class whose create failed is refused to its teacher; join errors are joins that did not happen.
  for (const n of Object.values(t.createFailed)) capacity += n;
  for (const [key, n] of Object.entries(t.errors)) if (key.startsWith('join') || key.startsWith('enter') || key.startsWith('create')) capacity += n;
  return { joinsRefusedForCapacity: capacity, joinsRefusedByPolicy: policy, meetingsInterruptedByScaleIn: interrupted };
}

/** The gateway's placement count by outcome, from its /metrics; empty when it cannot be read. */
async function placementsOf(metricsUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(metricsUrl)).text();
    for (const m of text.matchAll(/^amphi_placement_duration_seconds_count\{outcome="([a-z]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  } catch {
    // The table then says none; the verdict does not depend on it.
  }
  return out;
}

/** A simulated server's node-exporter-style metrics live beside its API. */
function metricsUrlOf(apiUrl: string): string {
  return new URL('/metrics', apiUrl).href;
}

const speedText = (speed: number) => `${speed >= 10 ? Math.round(speed) : speed.toFixed(1)}×`;

/** The time of day of a sample's minute (minutes since 7:15). */
export function clockOf(minute: number): string {
  const total = 7 * 60 + 15 + Math.floor(minute);
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

function startChild(role: 'gateway' | 'poller', env: NodeJS.ProcessEnv, log: WriteStream): ChildProcess {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => log.write(d));
  child.stderr?.on('data', (d: Buffer) => log.write(d));
  return child;
}

async function waitReady(url: string, children: readonly ChildProcess[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`a scenario process exited during start-up (code ${dead.exitCode}); see the log`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the gateway did not answer ${url} within 20 s`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
