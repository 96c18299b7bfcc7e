// "Acknowledged ⇒ not lost" across a failover: before the gateway answers a create, the writes
// that placed the meeting must be on AMPHI_REDIS_WAIT_REPLICAS replicas, one of which Sentinel
// promotes if the primary dies (docs/redis.md).
import type { Redis } from 'ioredis';

export interface ReplicationOptions {
  /**
   * Connections of their own: WAIT holds the connection it runs on (up to `timeoutMs` when no
   * replica answers), and the shared one carries every join. Several, so that concurrent creates
   * do not queue behind one another's WAIT; each call takes the next one in turn.
   */
  connection: Redis | readonly Redis[];
  replicas: number;
  timeoutMs: number;
}

export class ReplicationError extends Error {}

let turn = 0;

function pick(connection: Redis | readonly Redis[]): Redis {
  if (!Array.isArray(connection)) return connection as Redis;
  const list = connection as readonly Redis[];
  turn = (turn + 1) % list.length;
  return list[turn]!;
}

/**
 * Waits until the replicas hold every write this process had answered before the call. WAIT
 * covers the writes of the connection it runs on, so this connection first writes a mark of
 * its own: executed after ours (their replies are in), it sits later in the replication
 * stream, and a replica that acknowledges it holds ours too.
 *
 * `mustExist` names a key the caller wrote (a create's meeting): the waiter's connection is
 * not the one that wrote it, and if a failover completed in between, the waiter already talks
 * to the new primary, where the WAIT would succeed although the write is gone. The key is read
 * in the same pipeline, before the mark, on the same connection; missing, the call fails.
 */
export async function waitForReplicas(opts: ReplicationOptions, markKey: string, mustExist?: string): Promise<void> {
  const pipeline = pick(opts.connection).pipeline();
  if (mustExist !== undefined) pipeline.exists(mustExist);
  const results = await pipeline.set(markKey, '1', 'PX', 60_000).wait(opts.replicas, opts.timeoutMs).exec();
  const at = mustExist === undefined ? 0 : 1;
  const [existsError, exists] = mustExist === undefined ? [] : (results?.[0] ?? []);
  const [setError] = results?.[at] ?? [];
  const [waitError, acked] = results?.[at + 1] ?? [];
  if (existsError ?? setError ?? waitError) throw existsError ?? setError ?? waitError;
  if (mustExist !== undefined && exists !== 1) {
    throw new ReplicationError('the written key is no longer on the Redis primary (a failover lost it); not acknowledged');
  }
  if (typeof acked !== 'number' || acked < opts.replicas) {
    throw new ReplicationError(`${String(acked)} of ${opts.replicas} Redis replica(s) acknowledged the write within ${opts.timeoutMs} ms`);
  }
}
