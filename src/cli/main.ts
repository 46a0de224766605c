/** The `canal` command: picks the subcommand, turns usage errors into one line and exit code 1. */
import { didYouMean } from '../config/did-you-mean.js';
import { ExitCode, UsageError, type CliIo } from './io.js';
import { configCommand } from './config-cmd.js';
import { connect } from './connect.js';
import { info } from './info.js';
import { publish } from './publish.js';
import { serve } from './serve.js';
import { token } from './token.js';
import { VERSION } from '../version.js';

type Command = (io: CliIo, argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  serve: { run: serve, summary: 'run the server (the default command)' },
  publish: { run: publish, summary: 'publish to a channel through the server API' },
  token: { run: token, summary: 'mint a connection or subscription token (JWT)' },
  connect: { run: connect, summary: 'an interactive WebSocket client for any endpoint' },
  info: { run: info, summary: 'show the nodes: clients, users, channels, uptime' },
  config: { run: configCommand, summary: 'check a config file, or print an example' },
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
    if (!command) {
      throw new UsageError(`unknown command "${first}"${didYouMean(first, Object.keys(COMMANDS))} (commands: ${Object.keys(COMMANDS).join(', ')}; see canal --help)`);
    }
    return await command.run(io, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`canal: ${err.message}`);
      return ExitCode.Failure;
    }
    throw err;
  }
}
