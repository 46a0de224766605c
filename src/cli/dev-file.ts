/**
 * In loopback dev mode the server makes a random API key and token secret at start. It writes
 * them to a file only its user can read, so that `canal publish`, `canal token` and
 * `canal info` on the same machine work with no flags; the file is removed when the server
 * exits (normally, on a signal, or on a crash: everything but SIGKILL).
 *
 * The file lives in the shared temporary folder, where another user may have put a file (or a
 * link) by that name first: the server replaces whatever is there with a new file of mode 0600
 * (created exclusively, so a link is never followed), and a reader ignores a file that is not
 * its own or that others may write.
 */
import { closeSync, fstatSync, openSync, readFileSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DevSecrets {
  readonly url: string;
  readonly api_key?: string;
  readonly token_hmac_secret?: string;
}

/** Where the dev secrets of the server on `port` are kept. */
export function devFilePath(port: number): string {
  return join(tmpdir(), `canal-dev-${port}.json`);
}

/** Whether `stats` is a regular file of this process's user that only that user may read or write. */
function isPrivate(stats: Stats): boolean {
  const uid = typeof process.getuid === 'function' ? process.getuid() : stats.uid;
  return stats.isFile() && stats.uid === uid && (stats.mode & 0o077) === 0;
}

/**
 * Writes the secrets to a new file of mode 0600, replacing any file of that name. Throws when
 * the file cannot be made private (the caller warns and goes on without it).
 */
export function writeDevFile(port: number, secrets: DevSecrets): string {
  const path = devFilePath(port);
  rmSync(path, { force: true });
  // O_EXCL: if another process re-creates the name between the removal and here, fail rather than write into its file.
  const fd = openSync(path, 'wx', 0o600);
  try {
    if (!isPrivate(fstatSync(fd))) throw new Error(`${path} is not private to this user after creating it`);
    writeSync(fd, `${JSON.stringify(secrets)}\n`);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * The dev secrets of the server on `port`, or undefined when there is no file, or when it is
 * not this user's own private file (someone else could have planted it to redirect the CLI).
 */
export function readDevFile(port: number): DevSecrets | undefined {
  const path = devFilePath(port);
  try {
    if (!isPrivate(statSync(path))) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  } catch {
    return undefined;
  }
}

export function removeDevFile(port: number): void {
  rmSync(devFilePath(port), { force: true });
}
