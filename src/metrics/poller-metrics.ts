// The poller's instruments, fed by its onRound/onServer hooks: how long rounds take, how each
// server's poll ended (and why it failed), and what the rounds changed in the store.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoundStats, ServerPollResult } from '../poller/poller.js';

export interface PollerMetrics {
  registry: Registry;
  onRound(stats: RoundStats): void;
  onServer(result: ServerPollResult): void;
}

export interface PollerMetricsOptions {
  /** Default: a registry of its own. Under `amphi all`, the gateway's. */
  registry?: Registry;
  /** Node process metrics; off when the registry already has them (the gateway's). Default on. */
  processMetrics?: boolean;
  /** The poll interval, exported so an alert can compare rounds with it. */
  intervalMs: number;
  now?: () => number;
}

const OUTCOMES: readonly ServerPollResult['outcome'][] = ['polled', 'failed', 'skipped', 'deferred', 'error'];

export const FAILURE_REASONS = ['timeout', 'refused', 'network', 'http', 'checksum', 'failed', 'parse', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * A bounded label for a failed poll, read from the text poller.ts's failureText() records on the
 * server and in the log (`timeout`, `http 502`, `FAILED checksumError`, …): the text itself may
 * carry an error message, which is no label value.
 */
export function failureReason(text: string | undefined): FailureReason {
  if (text === 'timeout' || text === 'refused') return text;
  if (text === 'malformed XML') return 'parse';
  if (text === 'FAILED checksumError') return 'checksum';
  if (text?.startsWith('FAILED ')) return 'failed';
  if (text?.startsWith('http ')) return 'http';
  if (text?.startsWith('network ') || text === 'network error') return 'network';
  return 'other';
}

export function createPollerMetrics(opts: PollerMetricsOptions): PollerMetrics {
  const registry = opts.registry ?? new Registry();
  const now = opts.now ?? Date.now;
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'amphi_' });
  const registers = [registry];
  const roundSeconds = new Histogram({
    name: 'amphi_poller_round_duration_seconds',
    help: 'Time one poll round took over the pool, from its start to its last server',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const servers = new Counter({
    name: 'amphi_poller_servers_total',
    help: 'Server polls by outcome: polled, failed (no usable answer), skipped (leased by another replica), deferred (disabled, not due), error (the store write failed)',
    labelNames: ['outcome'],
    registers,
  });
  const failures = new Counter({
    name: 'amphi_poller_failures_total',
    help: `Failed server polls by reason (${FAILURE_REASONS.join(', ')})`,
    labelNames: ['reason'],
    registers,
  });
  const adopted = new Counter({
    name: 'amphi_poller_meetings_adopted_total',
    help: 'Meetings a poll found running that the store did not know, now pinned to their server',
    registers,
  });
  const forgotten = new Counter({
    name: 'amphi_poller_meetings_forgotten_total',
    help: 'Meetings no longer on their server (older than the create grace) that the poller dropped',
    registers,
  });
  const restores = new Counter({
    name: 'amphi_poller_state_restores_total',
    help: 'Rounds that found Redis had lost the pool state and wrote back the servers and tenants they knew',
    registers,
  });
  const overCurve = new Gauge({
    name: 'amphi_poller_meetings_over_curve',
    help: 'Meetings above the camera curve on the servers the last round of this poller polled',
    registers,
  });
  const lastRound = new Gauge({
    name: 'amphi_poller_last_round_timestamp_seconds',
    help: 'When the last poll round of this poller ended (Unix time)',
    registers,
  });
  new Gauge({ name: 'amphi_poller_interval_seconds', help: 'The poll interval (AMPHI_POLL_INTERVAL_MS)', registers }).set(opts.intervalMs / 1000);

  // Every series exists from the start: increase() over a series born with its first failure misses it.
  for (const outcome of OUTCOMES) servers.inc({ outcome }, 0);
  for (const reason of FAILURE_REASONS) failures.inc({ reason }, 0);

  return {
    registry,
    onRound(stats) {
      roundSeconds.observe(stats.durationMs / 1000);
      adopted.inc(stats.repinned);
      forgotten.inc(stats.forgotten);
      if (stats.restored) restores.inc();
      overCurve.set(stats.overCurve);
      lastRound.set(now() / 1000);
    },
    onServer(result) {
      servers.inc({ outcome: result.outcome });
      if (result.outcome === 'failed') failures.inc({ reason: failureReason(result.error) });
    },
  };
}
