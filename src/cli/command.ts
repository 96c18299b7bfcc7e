// The shape every `amphi <command>` implements; the dispatcher in dispatch.ts knows nothing else.

/** Where a command writes; injected so the dispatcher and commands are testable in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  name: string;
  /** One line, shown by `amphi --help`. */
  summary: string;
  /** Full help text with the options, shown by `amphi <name> --help`. */
  usage: string;
  /** Receives the arguments after the command name; resolves to the process exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Writers bound to the real process streams. */
export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
