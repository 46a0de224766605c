/**
 * A server's memory as the kernel counts it (/proc/PID/status), the figure an operator sees:
 * resident set size, split into anonymous memory (heaps, buffers) and file-backed pages (the
 * runtime's binary and libraries, shared with other processes). A server that forks workers is
 * counted with them.
 */
import { readFileSync } from 'node:fs';
import { processTree } from '../lib/cpu.js';

export interface ProcessMemory {
  /** VmRSS, in bytes. */
  readonly rss: number;
  /** RssAnon, in bytes. */
  readonly anon: number;
  /** RssFile + RssShmem, in bytes. */
  readonly file: number;
}

/** Reads one process's memory; throws when the process is gone. */
function readOne(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') + kib('RssShmem') };
}

/** Reads the memory of `pid` and of every process below it, summed; throws when `pid` is gone. */
export function readProcessMemory(pid: number): ProcessMemory {
  const [first, ...rest] = processTree(pid).map((p, i) => {
    try {
      return readOne(p);
    } catch (err) {
      if (i === 0) throw err;
      return { rss: 0, anon: 0, file: 0 }; // a worker that ended between the listing and the read
    }
  });
  return rest.reduce((a, m) => ({ rss: a.rss + m.rss, anon: a.anon + m.anon, file: a.file + m.file }), first!);
}
