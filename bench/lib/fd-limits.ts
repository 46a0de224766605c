/**
 * File descriptors for benchmarks that hold thousands of connections: each server and each load
 * generator needs one per connection. Checks the limit this process passes on to its children
 * (`ulimit -n`), raises it for a child with `prlimit` when it is too low, and says precisely
 * what to do when it cannot be raised.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BenchError } from './benchmark.js';
import type { Pinning } from './pinning.js';

/** Descriptors a node process uses besides its connections: stdio, the event loop, libraries, files. */
export const FD_SLACK = 256;

/** The soft and hard RLIMIT_NOFILE of this process (Infinity for "unlimited"). */
export function fdLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'latin1').split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const [soft = 'NaN', hard = 'NaN'] = line.slice('Max open files'.length).trim().split(/\s+/);
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(soft), hard: value(hard) };
}

/**
 * `pinning`, with every command it wraps also given at least `connections` + {@link FD_SLACK}
 * descriptors: unchanged when `ulimit -n` already allows it, else prefixed by
 * `prlimit --nofile=NEED:HARD` (prlimit execs the command, so the pid stays the server's).
 * Throws BenchError, saying how to raise the limit, when prlimit is missing or not allowed to.
 */
export function withDescriptors(pinning: Pinning, connections: number): Pinning {
  const need = connections + FD_SLACK;
  let limits: { soft: number; hard: number };
  try {
    limits = fdLimits();
  } catch {
    return pinning; // not Linux: let the children fail with EMFILE if the limit is too low
  }
  if (limits.soft >= need) return pinning;
  const hard = Math.max(limits.hard, need);
  const flag = `--nofile=${need}:${Number.isFinite(hard) ? hard : 'unlimited'}`;
  const probe = spawnSync('prlimit', [flag, 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? 'prlimit is not installed' : `prlimit refused: ${probe.stderr.trim()}`;
    throw new BenchError(
      `${connections} connections need ${need} file descriptors per process, but ulimit -n is ${limits.soft} (hard limit ${limits.hard}) ` +
        `and it cannot be raised here (${why}). Raise it before running (ulimit -n ${need}; above the hard limit as root or in ` +
        '/etc/security/limits.conf), or ask for fewer connections.',
    );
  }
  return {
    used: pinning.used,
    description: `${pinning.description}; file descriptors raised to ${need} per process (prlimit)`,
    wrap: (role, command, args) => {
      const pinned = pinning.wrap(role, command, args);
      return { command: 'prlimit', args: [flag, pinned.command, ...pinned.args] };
    },
  };
}
