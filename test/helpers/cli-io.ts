// A CliIO that keeps what a command writes, for in-process command tests.
import type { CliIO } from '../../src/cli/command.js';

export interface CapturedIO extends CliIO {
  out: string;
  err: string;
  /** Forgets what was written so far. */
  reset(): void;
}

export function capture(): CapturedIO {
  const io = {
    out: '',
    err: '',
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
    reset: () => {
      io.out = '';
      io.err = '';
    },
  };
  return io;
}
