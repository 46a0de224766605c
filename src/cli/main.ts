/** The `canal` command: picks the subcommand, turns usage errors into one line and exit code 1. */
import { ExitCode, UsageError, type CliIo } from './io.js';
import { serve } from './serve.js';
import { VERSION } from '../version.js';

type Command = (io: CliIo, argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  serve: { run: serve, summary: 'run the server (the default command)' },
};

/** The text of `canal --help`. */
export function mainHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'canal — a real-time WebSocket server: echo, channels, demos.',
    '',
    'Usage: canal [command] [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]!.summary}`),
    '',
    'Run "canal <command> --help" for the options of a command.',
    '  -h, --help     show this help',
    '  -v, --version  print the version',
  ].join('\n');
}

/** Runs the command line in `io.argv` (without node and script); resolves with the exit code. */
export async function main(io: CliIo): Promise<number> {
  const [first, ...rest] = io.argv;
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      io.out(mainHelp());
      return ExitCode.Ok;
    }
    if (first === '--version' || first === '-v') {
      io.out(VERSION);
      return ExitCode.Ok;
    }
    if (first === undefined || first.startsWith('-')) return await serve(io, io.argv);
    const command = COMMANDS[first];
    if (!command) throw new UsageError(`unknown command "${first}" (commands: ${Object.keys(COMMANDS).join(', ')}; see canal --help)`);
    return await command.run(io, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`canal: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}
