/**
 * In loopback dev mode the server makes a random API key and token secret at start. It writes
 * them to a file only its user can read, so that `canal publish`, `canal token` and
 * `canal info` on the same machine work with no flags; the file is removed at shutdown.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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

export function writeDevFile(port: number, secrets: DevSecrets): string {
  const path = devFilePath(port);
  writeFileSync(path, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
  return path;
}

/** The dev secrets of the server on `port`, or undefined when there is no readable file. */
export function readDevFile(port: number): DevSecrets | undefined {
  try {
    return JSON.parse(readFileSync(devFilePath(port), 'utf8')) as DevSecrets;
  } catch {
    return undefined;
  }
}

export function removeDevFile(port: number): void {
  rmSync(devFilePath(port), { force: true });
}
