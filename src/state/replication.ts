// "Acknowledged ⇒ not lost" across a failover: before the gateway answers a create, the writes
// that placed the meeting must be on AMPHI_REDIS_WAIT_REPLICAS replicas, one of which Sentinel
// promotes if the primary dies (docs/redis.md).
import type { Redis } from 'ioredis';

export interface ReplicationOptions {
  /** A connection of its own: WAIT holds the connection it runs on, and the shared one carries every join. */
  connection: Redis;
  replicas: number;
  timeoutMs: number;
}

export class ReplicationError extends Error {}

/**
 * Waits until the replicas hold every write this process had answered before the call. WAIT
 * covers the writes of the connection it runs on, so this connection first writes a mark of
 * its own: executed after ours (their replies are in), it sits later in the replication
 * stream, and a replica that acknowledges it holds ours too.
 */
export async function waitForReplicas(opts: ReplicationOptions, markKey: string): Promise<void> {
  const results = await opts.connection.pipeline().set(markKey, '1', 'PX', 60_000).wait(opts.replicas, opts.timeoutMs).exec();
  const [setError] = results?.[0] ?? [];
  const [waitError, acked] = results?.[1] ?? [];
  if (setError ?? waitError) throw setError ?? waitError;
  if (typeof acked !== 'number' || acked < opts.replicas) {
    throw new ReplicationError(`${String(acked)} of ${opts.replicas} Redis replica(s) acknowledged the write within ${opts.timeoutMs} ms`);
  }
}
