// `amphi <command> [options]`: picks the command from the registry, handles help, and turns
// usage errors and failures into exit codes. Kept apart from main.ts so tests can call it.
import type { CliIO, Command } from './command.js';
import { commands as registry } from './commands.js';

export const EXIT_USAGE = 2;

export async function main(argv: readonly string[], io: CliIO, commands: readonly Command[] = registry): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout(overview(commands));
    return 0;
  }
  if (first === 'help') {
    if (rest[0] === undefined) {
      io.stdout(overview(commands));
      return 0;
    }
    return showUsage(rest[0], commands, io);
  }

  const command = commands.find((c) => c.name === first);
  if (!command) return unknown(first, io);
  if (wantsHelp(rest)) return showUsage(first, commands, io);

  try {
    return await command.run(rest, io);
  } catch (err) {
    if (isParseArgsError(err)) {
      io.stderr(`amphi ${command.name}: ${err.message}\nRun 'amphi ${command.name} --help' for its options.\n`);
      return EXIT_USAGE;
    }
    io.stderr(`amphi ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(0, ...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: amphi <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'amphi <command> --help' for a command's options.",
    '',
  ].join('\n');
}

function showUsage(name: string, commands: readonly Command[], io: CliIO): number {
  const command = commands.find((c) => c.name === name);
  if (!command) return unknown(name, io);
  io.stdout(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
  return 0;
}

function unknown(name: string, io: CliIO): number {
  io.stderr(`amphi: unknown command '${name}'. Run 'amphi --help' for the list of commands.\n`);
  return EXIT_USAGE;
}

/** --help / -h anywhere before a `--` separator. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** parseArgs errors (unknown option, missing value, ...) are usage errors, not failures. */
function isParseArgsError(err: unknown): err is Error & { code: string } {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
