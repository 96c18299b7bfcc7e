// The live policy of a process: loaded at start (an invalid policy stops start-up), then
// reloaded when a file of the directory changes. A valid edit replaces the policy and emits
// 'change'; an invalid one is rejected, emits 'error' with the located messages, and the
// previous policy stays in force.
import { EventEmitter } from 'node:events';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { DEFAULT_POLICY_DIR, loadPolicyDir, PolicyLoadError } from './loader.js';
import type { Policy } from './schema.js';

interface PolicyEvents {
  change: [policy: Policy];
  error: [error: PolicyLoadError];
}

export class PolicyStore extends EventEmitter<PolicyEvents> {
  private policy: Policy | undefined;
  private dir = DEFAULT_POLICY_DIR;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;

  /** Loads the policy; throws a PolicyLoadError listing every problem. */
  async load(dir: string = DEFAULT_POLICY_DIR): Promise<Policy> {
    const result = await loadPolicyDir(dir);
    if (!result.ok) throw new PolicyLoadError(result.errors);
    this.dir = dir;
    this.policy = result.policy;
    return result.policy;
  }

  current(): Policy {
    if (!this.policy) throw new Error('PolicyStore: load() the policy first');
    return this.policy;
  }

  /**
   * Watches the directory (editors save by renaming, Kubernetes swaps a ConfigMap's symlink:
   * both are directory events) and reloads once the writes settle for `debounceMs`.
   */
  watch(debounceMs = 200): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
    });
    this.watcher.on('error', (err) => this.reject(new PolicyLoadError([{ file: this.dir, line: 0, path: '', message: `watch failed: ${err.message}` }])));
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** One reload at a time; events during one schedule exactly one more. */
  async reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        const result = await loadPolicyDir(this.dir);
        if (!result.ok) this.reject(new PolicyLoadError(result.errors));
        else if (JSON.stringify(result.policy) !== JSON.stringify(this.policy)) {
          this.policy = result.policy;
          this.emit('change', result.policy);
        }
      } while (this.again);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** 'error' without a listener would throw and take the process down over a bad edit. */
  private reject(err: PolicyLoadError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
