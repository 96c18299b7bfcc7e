import type { StoreContext } from './context.js';
import { ScriptBatch } from './script-batch.js';

export interface WindowCount {
  /** Requests of this subject in the current window, this one included. */
  current: number;
  /** Until the window ends. */
  ttlMs: number;
}

/**
 * Fixed-window request counts in Redis (commands/rate-limit.lua), shared by every gateway
 * replica and worker. The requests of one event-loop turn are counted in one script call: a
 * call per request cost a quarter of the join throughput (README, Security).
 */
export class RateCounter {
  private readonly batch: ScriptBatch;

  constructor(
    private readonly ctx: StoreContext,
    windowMs: number,
  ) {
    this.batch = new ScriptBatch(ctx.redis, 'rate-limit', () => [windowMs]);
  }

  async count(subject: string): Promise<WindowCount> {
    const [current, ttl] = (await this.batch.run([this.ctx.keys.rateLimit(subject)], [])).split('\t');
    return { current: Number(current), ttlMs: Number(ttl) };
  }
}
