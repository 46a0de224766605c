/**
 * Every child process of a chaos run (canal nodes, redis-server) and its temp dir, cleaned up
 * whatever way the run ends: normal end, thrown error, Ctrl-C, SIGTERM. Nothing is left holding
 * a port, a CPU or a file.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

/** Kills every child still running and removes the temp dirs; synchronous, as 'exit' requires. */
export function cleanUpNow(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanUpNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nchaos: ${signal}, stopping every node and redis-server\n`);
      cleanUpNow();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Spawns a child that is killed when the run ends, whatever way it ends. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  hook();
  const child = spawn(command, [...args], options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Registers a directory to remove when the run ends. */
export function removeAtExit(dir: string): void {
  hook();
  dirs.add(dir);
}

/** The resident set size of process `pid` in bytes (Linux /proc), or undefined when it is gone. */
export async function rssBytes(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
