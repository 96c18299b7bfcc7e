// `amphi scaler`: adds and removes BBB servers with the demand. Every reconcileInterval (aligned
// on the wall clock, so replicas decide the same tick), one replica takes the tick's lease in
// Redis and runs one reconcile step (scaler/reconcile.ts); every replica also runs the BullMQ
// worker that carries out the queued provisions and drains (scaler/jobs.ts). `--dry-run` prints
// one step's plan and changes nothing.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { forecastWindowMs, type ScalerConfig } from '../../../scaler/config.js';
import { AnnouncedStoreSource } from '../../../scaler/forecast/announced-store.js';
import { parseScalerFile, SCALEWAY_TOKEN_ENV, WEBHOOK_SECRET_ENV } from '../../../scaler/file.js';
import type { ProviderSettings } from '../../../scaler/file.js';
import { DemandHistory } from '../../../scaler/history.js';
import { LargeArrivalHistory } from '../../../scaler/arrivals.js';
import { ScalerJobs } from '../../../scaler/jobs.js';
import { recordJobEvent, recordStep } from '../../../scaler/status.js';
import type { ScalerJobEvent, ScalerJobsOptions } from '../../../scaler/jobs.js';
import type { CloudProvider } from '../../../scaler/providers/provider.js';
import { ScalewayProvider } from '../../../scaler/providers/scaleway.js';
import { SimulatedProvider } from '../../../scaler/providers/simulated.js';
import { StaticProvider } from '../../../scaler/providers/static.js';
import { WebhookProvider } from '../../../scaler/providers/webhook.js';
import { Reconciler } from '../../../scaler/reconcile.js';
import type { ReconcileResult, ReconcilerOptions } from '../../../scaler/reconcile.js';
import { settingsHelp } from '../../config/settings.js';
import { roleLog } from '../../log/logger.js';
import { registerRedisUp } from '../../metrics/redis-up.js';
import { DEFAULT_LOAD_WEIGHTS, type LoadWeights } from '../../placement/load-model.js';
import { DEFAULT_POLICY_DIR, loadPolicyDir, PolicyLoadError } from '../../policy/index.js';
import { createRedis } from '../../redis/connect.js';
import type { Store } from '../../state/store.js';
import type { CliIO, Command } from '../command.js';
import { serveRoleMetrics } from '../roles.js';
import { bootRuntime, runRoles, StartupError, startupSettings, withStartupErrors } from '../runtime.js';
import type { Runtime } from '../runtime.js';

export const SCALER_CONFIG_ENV = 'AMPHI_SCALER_CONFIG';

interface ScalerSetup {
  file: string;
  config: ScalerConfig;
  providerSettings: ProviderSettings;
  /** The capacity policy's load weights (load.weights), to weigh announced meetings; default: the shipped ones. */
  weights?: LoadWeights;
}

/** Reads and checks the scaler's file against the capacity policy's size classes; a problem is a StartupError (exit 2). */
export async function loadScalerSetup(file: string | undefined, env: NodeJS.ProcessEnv): Promise<ScalerSetup> {
  if (!file) throw new StartupError(`amphi scaler needs its settings file: --config FILE or ${SCALER_CONFIG_ENV} (a sample: scaler/scaler.example.yaml)`);
  const policy = await loadPolicyDir(startupSettings(env).AMPHI_POLICY_DIR ?? DEFAULT_POLICY_DIR);
  if (!policy.ok) throw new PolicyLoadError(policy.errors);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StartupError(`cannot read the scaler settings ${file}: ${(err as Error).message}`);
  }
  const parsed = parseScalerFile(text, policy.policy.load.sizeClasses);
  if (!parsed.ok) throw new StartupError(`the scaler settings in ${file} are invalid:\n  ${parsed.errors.join('\n  ')}`);
  return { file, config: parsed.config, providerSettings: parsed.provider, weights: policy.policy.load.weights };
}

/** The provider the file names; a secret missing from the environment is a StartupError. */
export function buildProvider(p: ProviderSettings, env: NodeJS.ProcessEnv): CloudProvider {
  switch (p.type) {
    case 'simulated':
      return new SimulatedProvider({
        ...(p.bootDelayMs !== undefined && { bootDelayMs: p.bootDelayMs }),
        ...(p.bootJitterMs !== undefined && { bootJitterMs: p.bootJitterMs }),
        ...(p.failureRate !== undefined && { failureRate: p.failureRate }),
        ...(p.seed !== undefined && { seed: p.seed }),
        ...(p.host !== undefined && { host: p.host }),
      });
    case 'static':
      try {
        return new StaticProvider(p.servers);
      } catch (err) {
        throw new StartupError(`provider.servers: ${(err as Error).message}`);
      }
    case 'webhook': {
      const secret = env[WEBHOOK_SECRET_ENV];
      if (!secret) throw new StartupError(`the webhook provider needs its shared secret in ${WEBHOOK_SECRET_ENV}`);
      try {
        return new WebhookProvider({ url: p.url, secret, ...(p.timeoutMs !== undefined && { timeoutMs: p.timeoutMs }) });
      } catch (err) {
        throw new StartupError(`provider: ${(err as Error).message}`);
      }
    }
    case 'scaleway': {
      const token = env[SCALEWAY_TOKEN_ENV];
      if (!token) throw new StartupError(`the scaleway provider needs an API secret key in ${SCALEWAY_TOKEN_ENV}`);
      const { type: _type, ...opts } = p;
      try {
        return new ScalewayProvider({ ...opts, token });
      } catch (err) {
        throw new StartupError(`provider: ${(err as Error).message}`);
      }
    }
  }
}

interface Parts {
  connection: Redis;
  jobs: ScalerJobs;
  reconciler: Reconciler;
  provider: CloudProvider;
  close(): Promise<void>;
}

/** One decision or job outcome as a log line: its event names the message, its fields follow. */
type ScalerLog = (record: { event: string } & Record<string, unknown>, at?: 'debug' | 'info' | 'warn' | 'error') => void;

/**
 * A reconcile step that first reads the announced meetings (meta_amphi-start, recorded by the
 * gateway) into their forecast source. The source must answer synchronously, so it holds a
 * copy; reading it right before each step, rather than on a timer of its own, gives the step
 * the announcements as they are at its tick (a --dry-run's one step too) and leaves no timer to
 * stop. A failed read keeps the previous copy (announcements are known ahead) and is logged.
 */
class AnnouncedReconciler extends Reconciler {
  constructor(
    opts: ReconcilerOptions,
    private readonly announced: AnnouncedStoreSource,
    private readonly log?: ScalerLog,
  ) {
    super({ ...opts, sources: [...(opts.sources ?? []), announced] });
  }

  override async step(now: number, opts?: Parameters<Reconciler['step']>[1]): Promise<ReconcileResult> {
    try {
      await this.announced.refresh(this.timeOf(now));
    } catch (err) {
      this.log?.({ event: 'scaler.announced-read-failed', err }, 'warn');
    }
    return super.step(now, opts);
  }
}

/**
 * What the morning scenario changes to run the role in accelerated time: the clock the scaler
 * decides in (its settings are in that clock's time), the wall ms between steps, the job timings
 * (wall ms), and a look at each step's result. `amphi scaler` uses none of it.
 */
export interface ScalerTuning {
  clock?: (wall: number) => number;
  tickMs?: number;
  jobs?: Partial<Pick<ScalerJobsOptions, 'bootPollMs' | 'drainPollMs' | 'backoffMs' | 'bootTimeoutMs' | 'concurrency'>>;
  onStep?: (result: ReconcileResult) => void;
}

function assemble(runtime: Runtime, setup: ScalerSetup, provider: CloudProvider, worker: boolean, log?: ScalerLog, tuning: ScalerTuning = {}): Parts {
  const store: Store = runtime.store;
  const connection = createRedis(runtime.redisTarget, { maxRetriesPerRequest: null, commandTimeout: null, log: runtime.log, clientName: 'scaler-jobs' });
  const jobs = new ScalerJobs({
    connection,
    store,
    provider,
    classes: setup.config.classes,
    prefix: store.ctx.keys.bullPrefix,
    worker,
    ...tuning.jobs,
    ...(log && {
      onEvent: (e: ScalerJobEvent) => {
        const { serverId, ...fields } = e;
        log({ event: `scaler.job.${e.type}`, ...fields, ...(serverId !== undefined && { server: serverId }) }, e.outcome === 'failed' || e.outcome === 'boot-failed' ? 'warn' : 'info');
        // Counted in Redis for the gateway's /metrics (scaler/status.ts).
        recordJobEvent(store.ctx.redis, store.ctx.keys, e).catch((err: unknown) => log({ event: 'scaler.metrics-failed', err }, 'warn'));
      },
      onError: (err: Error) => log({ event: 'scaler.queue-error', err }, 'warn'),
    }),
  });
  const history = new DemandHistory(runtime.redis, store.ctx.keys.demandHistory);
  const arrivals = new LargeArrivalHistory(runtime.redis, store.ctx.keys.largeArrivals);
  const { config } = setup;
  // Announced meetings, read before each step for the window plan() looks at (with a tick to spare).
  const prior = setup.weights ?? DEFAULT_LOAD_WEIGHTS;
  const announced = new AnnouncedStoreSource(
    (from, to) => store.announcements.overlapping(from, to),
    {
      weights: prior,
      classes: Object.fromEntries(Object.entries(config.classes).map(([name, c]) => [name, c.capacity])),
      defaultDurationMs: config.announced.defaultDuration,
    },
    forecastWindowMs(config) + config.reconcileInterval,
    () => store.polls.learnedWeights(prior),
  );
  const reconciler = new AnnouncedReconciler(
    {
      store,
      jobs,
      provider,
      history,
      arrivals,
      config,
      placementFill: runtime.settings.AMPHI_PLACEMENT_MAX_FILL,
      largeShare: runtime.settings.AMPHI_PLACEMENT_LARGE_SHARE,
      fadeMs: runtime.settings.AMPHI_RESERVATION_FADE_MS,
      ...(tuning.clock && { clock: tuning.clock }),
      ...(tuning.tickMs !== undefined && { tickMs: tuning.tickMs }),
    },
    announced,
    log,
  );
  return {
    connection,
    jobs,
    reconciler,
    provider,
    async close() {
      await jobs.close();
      await connection.quit().catch(() => connection.disconnect());
      const closable = provider as CloudProvider & { close?: () => Promise<void> };
      await closable.close?.();
    },
  };
}

/** One step's plan as text: desired servers per class, the actions with their reasons, what held others back. */
export function formatPlan(result: ReconcileResult, provider: string): string {
  const p = result.plan;
  const lines = [
    `amphi scaler --dry-run: tick ${result.tick}, provider ${provider}, ${result.servers.length} server(s) seen; nothing was enqueued`,
    `demand: ${Math.round(p.reactive)} units now, forecast peak ${Math.round(p.forecast.total)} units; capacity required ${Math.round(p.requiredCapacity)} units`,
    'desired servers per class:',
    ...Object.entries(p.desired).map(([name, n]) => `  ${name}: ${n}`),
    p.actions.length === 0 ? 'actions: none' : 'actions:',
    ...p.actions.map((a) => {
      const what = a.type === 'provision' ? `provision ${a.count} × ${a.sizeClass}` : `${a.type} ${a.server}`;
      return `  ${what}: ${a.reason}`;
    }),
    p.held.length === 0 ? 'held: none' : 'held:',
    ...p.held.map((h) => `  ${h}`),
    ...result.orphans.map((o) => `orphan ${o.id} (${o.sizeClass}): ${o.reason}`),
    ...result.log.filter((r) => r.event === 'scaler.provider-list-failed').map((r) => `provider list failed: ${'error' in r ? r.error : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface RunningScaler {
  /** Where /metrics and /health are served (AMPHI_METRICS_PORT), unless it is 0. */
  metricsAddress?: string;
  stop(): Promise<void>;
}

/**
 * A timer on the tick boundaries of reconcileInterval. Each tick, `SET <pool>scaler:lease:<tick>
 * NX` picks the one replica that reconciles it (the step's job ids are per tick anyway, so a
 * second replica deciding the same tick would only enqueue the same jobs).
 */
export async function startScalerRole(runtime: Runtime, io: CliIO, setup: ScalerSetup, provider: CloudProvider, tuning: ScalerTuning = {}): Promise<RunningScaler> {
  const owner = `${hostname()}:${process.pid}`;
  const logger = roleLog(runtime.log, 'scaler');
  const log: ScalerLog = (record, at = 'info') => logger[at](record, record.event);
  // The process and its Redis, for probes and dashboards (its decisions go to Redis, for the gateways' /metrics).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'amphi_' });
  registerRedisUp(registry, runtime.redis);
  const served = await serveRoleMetrics(registry, runtime.settings, logger);
  const parts = assemble(runtime, setup, provider, true, log, tuning);
  const interval = parts.reconciler.tickMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const tick = async (): Promise<void> => {
    const now = Date.now();
    const t = parts.reconciler.tickOf(now);
    try {
      const won = await runtime.redis.set(runtime.store.ctx.keys.scalerLease(t), owner, 'PX', Math.max(2 * interval, 1000), 'NX');
      if (won !== 'OK') return;
      const result = await parts.reconciler.step(now);
      tuning.onStep?.(result);
      for (const record of result.log) log(record, record.event === 'scaler.action-failed' || record.event === 'scaler.provider-list-failed' ? 'warn' : 'info');
      log({ event: 'scaler.step', tick: t, desired: result.plan.desired, reactive: Math.round(result.plan.reactive), requiredCapacity: Math.round(result.plan.requiredCapacity), actions: result.plan.actions.length }, 'debug');
      // The step's status and counts for the gateway's /metrics (scaler/status.ts); a failure there is not the step's.
      await recordStep(runtime.redis, runtime.store.ctx.keys, result, setup.config, result.at).catch((err: unknown) =>
        log({ event: 'scaler.metrics-failed', tick: t, err }, 'warn'),
      );
    } catch (err) {
      log({ event: 'scaler.step-failed', tick: t, err }, 'error');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    const now = Date.now();
    const next = (Math.floor(now / interval) + 1) * interval;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, next - now);
  };
  running = tick().finally(schedule);
  io.stderr(`amphi scaler ${owner}: pool '${runtime.settings.AMPHI_POOL}', provider ${provider.name}, reconciling every ${interval} ms (${setup.file})${served ? `; metrics on ${served.address}/metrics` : ''}\n`);
  return {
    ...(served && { metricsAddress: served.address }),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await parts.close();
      await served?.close();
    },
  };
}

/** `--dry-run`: one step that changes nothing, its plan on stdout. */
async function dryRun(io: CliIO, setup: ScalerSetup, provider: CloudProvider): Promise<number> {
  const runtime = await bootRuntime(process.env, io, { privateRedis: 'opt-in' });
  try {
    const parts = assemble(runtime, setup, provider, false);
    try {
      const result = await parts.reconciler.step(Date.now(), { dryRun: true });
      io.stdout(formatPlan(result, provider.name));
    } finally {
      await parts.close();
    }
  } finally {
    await runtime.close();
  }
  return 0;
}

export const scalerCommand: Command = {
  name: 'scaler',
  summary: 'Add and remove BBB servers with the demand (--dry-run: print one plan, change nothing)',
  usage: `Usage: amphi scaler [--config FILE] [--dry-run]

Every reconcileInterval, reads the pool, the scaler's jobs in flight and the provider's servers,
forecasts the demand (schedule minima, the weekly profile learned from the measured demand) and
queues the servers to provision and to drain as BullMQ jobs, which the worker of every replica
carries out. Several replicas are safe: one lease in Redis per tick picks the replica that
decides it. Logs JSON lines (pino, LOG_LEVEL) on stdout, one per action, held reason and job
outcome. Serves /health and Prometheus metrics (the process's, amphi_redis_up) on
http://HOST:AMPHI_METRICS_PORT/metrics (port 0: off); its decisions are recorded in Redis and
exported by every gateway (see docs/metrics.md).

Options:
  --config FILE   the scaler's settings (default: ${SCALER_CONFIG_ENV}); a sample with every
                  setting: scaler/scaler.example.yaml. Its provider section names the provider:
                    type: static     servers: [{ apiUrl, secret, sizeClass, id?, tags? }] (fixed pool)
                    type: simulated  bootDelayMs?, bootJitterMs?, failureRate?, seed?, host?
                    type: webhook    url, timeoutMs?; the shared secret in ${WEBHOOK_SECRET_ENV}
                    type: scaleway   zone, project, image, commercialTypes (class → type), tags?,
                                     apiUrlTemplate?; the API secret key in ${SCALEWAY_TOKEN_ENV}
  --dry-run       decide once and print the plan (desired servers per class, actions with their
                  reasons, what held others back); enqueue nothing, record nothing, exit 0

The size classes are the capacity policy's (AMPHI_POLICY_DIR). A bad settings file or a missing
secret ends start-up with a message naming the field, and exit code 2; so does a missing Redis:
the scaler needs the pool's, REDIS_URL or REDIS_SENTINELS (AMPHI_PRIVATE_REDIS=1 starts a
private redis-server instead, for development). The rest of the
configuration comes from the environment (or the YAML file named by AMPHI_CONFIG):

${settingsHelp()}
`,
  run: (argv, io) =>
    withStartupErrors(io, async () => {
      const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, 'dry-run': { type: 'boolean' } }, strict: true, allowPositionals: false });
      const setup = await loadScalerSetup(values.config ?? process.env[SCALER_CONFIG_ENV], process.env);
      const provider = buildProvider(setup.providerSettings, process.env);
      if (values['dry-run']) return dryRun(io, setup, provider);
      return runRoles(io, async (runtime) => [await startScalerRole(runtime, io, setup, provider)], {
        onSignal: (signal) => io.stderr(`amphi scaler: ${signal} received, finishing the current step\n`),
        privateRedis: 'opt-in',
      });
    }),
};
