/**
 * A server under test as a child process on the server CPU: started, ready once it prints
 * where it listens (canal and every peer print `ws://127.0.0.1:PORT` on stdout), stopped.
 */
import { spawnChild, type Child } from './children.js';
import type { Pinning } from './pinning.js';

/** Which runtime runs a server: what tools can look inside it (the V8 inspector, or a Bun preload). */
export type Runtime = 'node' | 'bun';

/** How to start one server; it must listen on 127.0.0.1 and say so on stdout. */
export interface ServerCommand {
  readonly name: string;
  readonly runtime: Runtime;
  /** The runtime's executable; `args` start with the runtime's own flags, then the script. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** A started server and the port it listens on. */
export interface RunningServer {
  readonly child: Child;
  readonly port: number;
}

const LISTENING = /ws:\/\/127\.0\.0\.1:(\d+)/;
const READY_TIMEOUT_MS = 15_000;

/** Starts `server` pinned as a server; resolves once it listens. Rejects with BenchError (and kills it) when it does not within 15 s. */
export async function startServer(server: ServerCommand, pinning: Pinning): Promise<RunningServer> {
  const { command, args } = pinning.wrap('server', server.command, server.args);
  const child = spawnChild(server.name, command, args, server.env ? { env: server.env } : {});
  try {
    const match = await child.waitForLine(LISTENING, READY_TIMEOUT_MS);
    return { child, port: Number(match[1]) };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Throws the BenchError of the first of `servers` that has exited. */
export function throwIfDead(servers: readonly RunningServer[]): void {
  const dead = servers.find((s) => s.child.exit);
  if (dead) throw dead.child.failure('exited during the run');
}
