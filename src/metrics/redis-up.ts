// amphi_redis_up: a PING when Prometheus scrapes, so the "Redis unreachable" alert needs no
// traffic to notice, and a scrape says why the Redis-backed gauges are empty.
import { Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';

/** Longer than a healthy PING by far, shorter than any scrape timeout. */
const PING_TIMEOUT_MS = 1000;

export function registerRedisUp(registry: Registry, redis: Pick<Redis, 'ping'>, timeoutMs = PING_TIMEOUT_MS): void {
  new Gauge({
    name: 'amphi_redis_up',
    help: `1 when Redis answered a PING within ${timeoutMs} ms at scrape time, else 0`,
    registers: [registry],
    // Across gateway workers: one that cannot reach Redis is one too many.
    aggregator: 'min',
    async collect() {
      this.set((await answers(redis, timeoutMs)) ? 1 : 0);
    },
  });
}

async function answers(redis: Pick<Redis, 'ping'>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([redis.ping().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}
