/**
 * CPU pinning for a two-process benchmark: the server under test on one CPU, the load generator
 * on another, so they never compete for a core and the server's figure is one core's worth.
 * Uses `taskset` when present and when this process may run on at least two CPUs.
 */
import { spawnSync } from 'node:child_process';
import { oneOf } from './flags.js';

/** Who a pinned process is. */
export type Role = 'server' | 'load';

/** A command line, possibly prefixed by taskset. */
export interface CommandLine {
  readonly command: string;
  readonly args: readonly string[];
}

/** Where each role runs. */
export interface Pinning {
  readonly used: boolean;
  /** One line for the report: which CPU runs what, or why nothing is pinned. */
  readonly description: string;
  /** `command args`, run on the CPU of `role` when pinning is used, unchanged otherwise. */
  wrap(role: Role, command: string, args: readonly string[]): CommandLine;
}

/** Parses a CPU list as taskset prints it (`0-3,6`) into CPU numbers. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to = from] = part.split('-').map(Number);
    if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

function unpinned(why: string): Pinning {
  return { used: false, description: `no pinning (${why})`, wrap: (_role, command, args) => ({ command, args }) };
}

/**
 * Pins the server to the first CPU this process may use and the load generator to the second
 * (`taskset -c`), or nothing when taskset is missing or only one CPU is available.
 */
export function detectPinning(): Pinning {
  const probe = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return unpinned('taskset not found');
  const cpus = parseCpuList(/:\s*([\d,\s-]+)$/.exec(probe.stdout.trim())?.[1] ?? '');
  const [server, load] = cpus;
  if (server === undefined || load === undefined) return unpinned(`only CPU ${cpus.join(',') || '?'} available`);
  const cpuOf: Record<Role, number> = { server, load };
  return {
    used: true,
    description: `server on CPU ${server}, load generator on CPU ${load} (taskset -c)`,
    wrap: (role, command, args) => ({ command: 'taskset', args: ['-c', String(cpuOf[role]), command, ...args] }),
  };
}

/** The `--pin` flag every benchmark takes. */
export const PIN_CHOICES = oneOf(
  ['auto', 'off'] as const,
  'auto',
  'auto: servers on the first CPU this process may use, load processes on the second (taskset -c), when both exist; off: no pinning (e.g. to let `--serve-flags "--workers 2"` use every core)',
);

/** The pinning `--pin` asks for. */
export function choosePinning(choice: 'auto' | 'off'): Pinning {
  return choice === 'off' ? unpinned('--pin off') : detectPinning();
}
