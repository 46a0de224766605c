/**
 * What every peer server shares as a process: `--port N` (0 picks a free port), one line on
 * stdout saying where it listens (the benchmark reads the port from it), and exiting when the
 * benchmark goes away: on SIGTERM/SIGINT, or when its stdin closes because the parent died.
 */
import { parseArgs } from 'node:util';

/** The only address peers listen on: benchmarks never leave the machine. */
export const PEER_HOST = '127.0.0.1';

/** The port asked for with `--port`, 0 when absent; exits 1 on a bad value. */
export function peerPort(argv: readonly string[]): number {
  const { values } = parseArgs({ args: [...argv], options: { port: { type: 'string', default: '0' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port: must be an integer 0..65535, got ${JSON.stringify(values.port)}\n`);
    process.exit(1);
  }
  return port;
}

/** Prints the listening line (`<name> listening on ws://127.0.0.1:PORT/`) and arms the exits. */
export function announce(name: string, port: number): void {
  process.stdout.write(`${name} listening on ws://${PEER_HOST}:${port}/\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
  process.stdin.once('end', () => process.exit(0));
  process.stdin.resume();
}
