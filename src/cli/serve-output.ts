/** What `canal serve` prints on stdout, alone or as the primary of several workers. */
import { servesDemos } from '../config/resolve.js';
import type { Config } from '../config/schema.js';
import { withDefined } from '../util/defined.js';
import { devFilePath, removeDevFile, writeDevFile } from './dev-file.js';
import type { CliIo } from './io.js';

/**
 * The one line `canal serve` prints on stdout: where it listens, and the page to open when the
 * demo pages are served there (elsewhere / answers 404, so pointing at it would mislead).
 */
export function listeningLine(config: Readonly<Pick<Config, 'host' | 'dev' | 'demos'>>, port: number): string {
  const shown = config.host.includes(':') ? `[${config.host}]` : config.host;
  const where = `canal listening on ws://${shown}:${port}`;
  return servesDemos(config) ? `${where} (open http://${shown}:${port}/)` : where;
}

/**
 * Prints where canal listens and, in dev mode (`secrets` given), the random server API key,
 * which it first writes (with the random token secret, if any) to the dev file for
 * `canal publish`, `canal info` and `canal token` on this machine: a script that waits for the
 * listening line can run them at once. Returns what removes the file; it is removed at exit too.
 */
export function announceListening(io: CliIo, config: Config, port: number,
  secrets: { apiKey: string; tokenSecret: string | undefined } | undefined): (() => void) | undefined {
  if (secrets === undefined) {
    io.out(listeningLine(config, port));
    return undefined;
  }
  const shown = config.host.includes(':') ? `[${config.host}]` : config.host;
  try {
    writeDevFile(port, withDefined({ url: `http://${shown}:${port}` }, { api_key: secrets.apiKey, token_hmac_secret: secrets.tokenSecret }));
  } catch (err) {
    io.out(listeningLine(config, port));
    io.err(`canal: could not write ${devFilePath(port)} (${(err as Error).message}); pass --api-key to the CLI commands instead`);
    io.out(`dev mode: server API key ${secrets.apiKey}`);
    return undefined;
  }
  // 'exit' runs on a normal end, after an uncaught exception and after process.exit(): the
  // secrets do not outlive the server unless it is killed with SIGKILL.
  const remove = (): void => removeDevFile(port);
  process.on('exit', remove);
  io.out(listeningLine(config, port));
  io.out(`dev mode: server API key ${secrets.apiKey} (canal publish, canal info and canal token find it on this machine)`);
  return () => {
    remove();
    process.off('exit', remove);
  };
}
