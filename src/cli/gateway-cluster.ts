// `amphi gateway --workers N`: N gateway processes sharing one port (node:cluster), so one
// machine's cores all answer joins. The primary resolves the Redis once (a private one, when
// allowed and none is configured, so every worker shares it) and hands it to the workers, restarts a worker that dies, and aggregates the workers'
// metrics for /metrics, which any worker may be asked for.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { PrivateRedisPolicy } from '../redis/connect.js';
import { redisTargetEnv } from '../redis/target.js';
import type { CliIO } from './command.js';
import { startupRedis, startupSettings } from './runtime.js';
import { runUntilSignal } from './signals.js';

const METRICS_REQUEST = 'amphi:metrics-request';
const METRICS_ANSWER = 'amphi:metrics-answer';

interface MetricsMessage {
  type: string;
  id: string;
  body?: string;
  error?: string;
}

export const isGatewayWorker = (): boolean => cluster.isWorker;

/** In the primary: forks the workers and serves their metrics requests until a signal. */
export async function runGatewayPrimary(workers: number, io: CliIO, privateRedis: PrivateRedisPolicy): Promise<number> {
  const redis = await startupRedis(startupSettings(process.env), io, { privateRedis });
  const env = redisTargetEnv(redis.target);
  const aggregator = new AggregatorRegistry();
  let stopping = false;

  const onMessage = (worker: Worker) => async (msg: MetricsMessage) => {
    if (msg?.type !== METRICS_REQUEST) return;
    try {
      worker.send({ type: METRICS_ANSWER, id: msg.id, body: await aggregator.clusterMetrics() });
    } catch (err) {
      worker.send({ type: METRICS_ANSWER, id: msg.id, error: (err as Error).message });
    }
  };
  const fork = (): void => {
    const worker = cluster.fork(env);
    worker.on('message', onMessage(worker));
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    io.stderr(`amphi gateway: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 1000);
  });
  for (let i = 0; i < workers; i++) fork();
  io.stderr(`amphi gateway: ${workers} workers\n`);

  return runUntilSignal(async () => {
    stopping = true;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
    await redis.stop();
  });
}

/** In a worker: the /metrics answer, aggregated over every worker by the primary. */
export function workerMetrics(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  // Constructing one is what makes prom-client answer the primary's requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(registry);
  const pending = new Map<string, { resolve: (body: string) => void; reject: (err: Error) => void }>();
  process.on('message', (msg: MetricsMessage) => {
    if (msg?.type !== METRICS_ANSWER) return;
    const waiter = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error !== undefined) waiter?.reject(new Error(msg.error));
    else waiter?.resolve(msg.body ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomBytes(6).toString('hex');
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('metrics aggregation timed out'));
      }, timeoutMs);
      pending.set(id, {
        resolve: (body) => {
          clearTimeout(timer);
          resolve(body);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
