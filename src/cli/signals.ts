// Shared shutdown path for long-running commands (gateway, sim, redis, ...).

export interface RunUntilSignalOptions {
  /** Told which signal arrived, e.g. to log "stopping". */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Told when `stop` fails; defaults to a line on stderr. */
  onError?: (err: unknown) => void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Waits for SIGINT or SIGTERM, then runs `stop` once and resolves to the exit code: 0 after a
 * clean stop, 1 if `stop` threw. A second signal while stopping exits at once (130), so an
 * impatient Ctrl-C never leaves the user stuck behind a hung shutdown.
 */
export function runUntilSignal(stop: () => Promise<void>, opts: RunUntilSignalOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130);
      stopping = true;
      opts.onSignal?.(signal);
      stop().then(
        () => finish(0),
        (err: unknown) => {
          (opts.onError ?? reportStopError)(err);
          finish(1);
        },
      );
    };
    // One bound handler per signal, so the name is known however the event was emitted.
    const handlers = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
    const finish = (code: number): void => {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
      resolve(code);
    };
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
}

function reportStopError(err: unknown): void {
  process.stderr.write(`amphi: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
}
