import type { Redis } from 'ioredis';
import { runScript, type ScriptName } from './scripts.js';

/** Entries in one script call at most (each is ~10 keys and arguments). */
const MAX_ENTRIES = 1000;

interface Entry {
  keys: readonly string[];
  args: readonly (string | number)[];
  resolve: (line: string) => void;
  reject: (err: unknown) => void;
}

/**
 * The calls of one script made in one event-loop turn, sent as one script call: at class start a
 * gateway receives joins in bursts, and a script call per join was a fifth of a join's cost.
 * The script handles the entries in arrival order, exactly as if each had come alone, and
 * answers one line per entry.
 */
export class ScriptBatch {
  private queue: Entry[] = [];

  /** `head`: the arguments that come once, before every entry's own (e.g. the time). */
  constructor(
    private readonly redis: Redis,
    private readonly script: ScriptName,
    private readonly head: () => (string | number)[],
  ) {}

  run(keys: readonly string[], args: readonly (string | number)[]): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) {
        // This batch, not whatever queue exists by then: one sent early must not be followed by
        // a flush of the next batch ahead of its own turn (or of an empty one).
        const batch = this.queue;
        setImmediate(() => this.flush(batch));
      }
      this.queue.push({ keys, args, resolve, reject });
      // A flood must not build one call too large to send: it goes out in pieces.
      if (this.queue.length >= MAX_ENTRIES) this.flush(this.queue);
    });
  }

  private flush(batch: Entry[]): void {
    // Already sent (the batch filled before its turn ended).
    if (batch !== this.queue) return;
    this.queue = [];
    const keys: string[] = [];
    const args = this.head();
    for (const entry of batch) {
      keys.push(...entry.keys);
      args.push(...entry.args);
    }
    runScript(this.redis, this.script, keys, args).then(
      (reply) => {
        const lines = String(reply).split('\n');
        batch.forEach((entry, i) => entry.resolve(lines[i] ?? ''));
      },
      (err: unknown) => {
        for (const entry of batch) entry.reject(err);
      },
    );
  }
}
