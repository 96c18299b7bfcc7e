import type { StoreContext } from './context.js';
import { runScript } from './scripts.js';

interface Attempt {
  /** Meeting hash, inside set, pending zset; then tenant-usage hash, tenant-pending zset when tracked. */
  keys: string[];
  member: string;
  named: boolean;
  /** The attempt's entry in its tenant's pending zset; '' when the tenant has no participant quota. */
  tenantMember: string;
  resolve: (line: string) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the join attempts of one event-loop turn into one count-join call: at class start a
 * gateway receives joins in bursts, and a script call per join was a fifth of a join's cost.
 * Each attempt gets back its own line, counted in arrival order.
 */
export class JoinCounter {
  private queue: Attempt[] = [];

  constructor(
    private readonly ctx: StoreContext,
    private readonly pendingTtlMs: number,
  ) {}

  count(keys: string[], member: string, named: boolean, tenantMember: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ keys, member, named, tenantMember, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const keys: string[] = [];
    const args: (string | number)[] = [this.ctx.now(), this.pendingTtlMs];
    for (const a of batch) {
      keys.push(...a.keys);
      args.push(a.member, a.named ? '1' : '0', a.tenantMember);
    }
    runScript(this.ctx.redis, 'count-join', keys, args).then(
      (reply) => {
        const lines = String(reply).split('\n');
        batch.forEach((a, i) => a.resolve(lines[i] ?? ''));
      },
      (err: unknown) => {
        for (const a of batch) a.reject(err);
      },
    );
  }
}
