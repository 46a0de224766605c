/**
 * The file-descriptor budget: every TCP connection (WebSocket, HTTP, half-open) holds one file
 * descriptor, and a process past its limit (`ulimit -n`) can accept nothing at all — not even
 * GET /healthz (issue 13: 450 half-open connections locked a node out). canal therefore caps
 * its open connections below the limit, leaving FD_RESERVE descriptors for everything else a
 * node opens (Redis connections, files, logs, the process's own).
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept free of client connections. */
export const FD_RESERVE = 64;

/** The soft limit on open files of this process, or undefined where it cannot be read (not Linux). */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** How many connections fit under `limit` descriptors (at least 1). */
export function connectionBudget(limit: number): number {
  return Math.max(1, limit - FD_RESERVE);
}
