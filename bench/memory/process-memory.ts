/**
 * A process's memory as the kernel counts it (/proc/PID/status), the figure an operator sees:
 * resident set size, split into anonymous memory (heaps, buffers) and file-backed pages (the
 * node binary and libraries, shared with other processes).
 */
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** VmRSS, in bytes. */
  readonly rss: number;
  /** RssAnon, in bytes. */
  readonly anon: number;
  /** RssFile + RssShmem, in bytes. */
  readonly file: number;
}

/** Reads `pid`'s memory; throws when the process is gone. */
export function readProcessMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') + kib('RssShmem') };
}
