/**
 * One info line per WebSocket upgrade refused before the handshake (origin, connection limit,
 * draining, unknown path, a /raw/ channel that cannot be served), so a person whose page closes
 * with 1006 finds the reason in the server's log. A browser never shows a refused handshake's
 * status or body to the page (WHATWG WebSockets: the failure is only an 'error' event), so the
 * log is the only place it can be read. Bounded ({@link WindowedLog}): at most `limit` lines per
 * window, then a count by status, so a flood of bad upgrades cannot fill the disk.
 */
import { logField, WindowedLog, type Logger, type WindowedLogOptions } from '../log.js';
import type { Refusal, UpgradeRequest } from './router.js';

export type RefusalLogOptions = WindowedLogOptions;

/** Logs refused upgrades at info, `limit` per window, and a count of the rest. */
export class RefusalLog {
  readonly #lines: WindowedLog;

  constructor(log: Logger, options: RefusalLogOptions = {}) {
    this.#lines = new WindowedLog(log, 'websocket upgrades refused', 'status', options);
  }

  /** Records one refusal of `req` (whose path is `pathname`): a log line, or a count for the summary. */
  record(req: UpgradeRequest, pathname: string, refusal: Refusal): void {
    this.#lines.info({
      status: refusal.status,
      reason: logField(refusal.message),
      path: logField(pathname),
      origin: req.headers.origin === undefined ? undefined : logField(req.headers.origin),
      remote: req.socket.remoteAddress,
    }, 'websocket upgrade refused', refusal.status);
  }

  /** Logs the count of refusals not logged so far, if any (called when a window ends). */
  flush(): void {
    this.#lines.flush();
  }
}
