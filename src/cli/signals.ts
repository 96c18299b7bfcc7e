// Shared shutdown path for long-running commands (gateway, sim, redis, ...).

export interface RunUntilSignalOptions {
  /** Told which signal arrived, e.g. to log "stopping". */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Told when `stop` fails; defaults to a line on stderr. */
  onError?: (err: unknown) => void;
  /**
   * A deadline for `stop`, from the signal: past it, `onExpired` is told (to say so on stderr)
   * and the promise resolves 1 without waiting further, so a hung shutdown still exits before
   * the orchestrator's SIGKILL and says why.
   */
  timeout?: { ms: number; onExpired: () => void };
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Waits for SIGINT or SIGTERM, then runs `stop` once and resolves to the exit code: 0 after a
 * clean stop, 1 if `stop` threw or outlived `opts.timeout`. A second signal while stopping exits
 * at once (130), so an impatient Ctrl-C never leaves the user stuck behind a hung shutdown.
 */
export function runUntilSignal(stop: () => Promise<void>, opts: RunUntilSignalOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let finished = false;
    let deadline: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130);
      stopping = true;
      opts.onSignal?.(signal);
      const { timeout } = opts;
      if (timeout) {
        deadline = setTimeout(() => {
          timeout.onExpired();
          finish(1);
        }, timeout.ms);
      }
      stop().then(
        () => finish(0),
        (err: unknown) => {
          if (finished) return; // past the deadline: already reported and resolved
          (opts.onError ?? reportStopError)(err);
          finish(1);
        },
      );
    };
    // One bound handler per signal, so the name is known however the event was emitted.
    const handlers = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
      resolve(code);
    };
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
}

function reportStopError(err: unknown): void {
  process.stderr.write(`amphi: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
}
