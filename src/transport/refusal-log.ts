/**
 * One info line per WebSocket upgrade refused before the handshake (origin, connection limit,
 * draining, unknown path, a /raw/ channel that cannot be served), so a person whose page closes
 * with 1006 finds the reason in the server's log. A browser never shows a refused handshake's
 * status or body to the page (WHATWG WebSockets: the failure is only an 'error' event), so the
 * log is the only place it can be read. Bounded: at most `limit` lines per window; past it the
 * refusals are counted and told in one summary line when the window ends, so a flood of bad
 * upgrades cannot fill the disk.
 */
import type { Logger } from '../log.js';
import type { Refusal, UpgradeRequest } from './router.js';

export interface RefusalLogOptions {
  /** Lines logged per window before refusals are only counted; default 20. */
  readonly limit?: number;
  /** Length of a window in ms; default 60 000. */
  readonly windowMs?: number;
  /** The clock; default Date.now. */
  readonly now?: () => number;
  /** Runs `fn` after `ms` (an unref'd setTimeout by default); tests pass one they drive. */
  readonly schedule?: (fn: () => void, ms: number) => void;
}

/** Longest header value or path copied into a log line: a client chooses them. */
const FIELD_MAX = 200;

/** Logs refused upgrades at info, `limit` per window, and a count of the rest. */
export class RefusalLog {
  readonly #log: Logger;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => void;
  #windowStart = -Infinity;
  #logged = 0;
  /** Refusals not logged in the current window, by HTTP status. */
  #suppressed = new Map<number, number>();

  constructor(log: Logger, options: RefusalLogOptions = {}) {
    this.#log = log;
    this.#limit = options.limit ?? 20;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms).unref());
  }

  /** Records one refusal of `req` (whose path is `pathname`): a log line, or a count for the summary. */
  record(req: UpgradeRequest, pathname: string, refusal: Refusal): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#limit) {
      this.#logged++;
      this.#log.info({
        status: refusal.status,
        reason: firstLine(refusal.message),
        path: cut(pathname),
        origin: req.headers.origin === undefined ? undefined : cut(req.headers.origin),
        remote: req.socket.remoteAddress,
      }, 'websocket upgrade refused');
      return;
    }
    if (this.#suppressed.size === 0) this.#schedule(() => this.flush(), this.#windowStart + this.#windowMs - now);
    this.#suppressed.set(refusal.status, (this.#suppressed.get(refusal.status) ?? 0) + 1);
  }

  /** Logs the count of refusals not logged so far, if any (called when a window ends). */
  flush(): void {
    if (this.#suppressed.size === 0) return;
    const byStatus = Object.fromEntries(this.#suppressed);
    const count = [...this.#suppressed.values()].reduce((a, b) => a + b, 0);
    this.#suppressed = new Map();
    this.#log.info({ count, by_status: byStatus, window_ms: this.#windowMs },
      `${count} more websocket upgrades refused (not logged one by one: at most ${this.#limit} lines per window)`);
  }
}

function firstLine(message: string): string {
  return cut(message.split('\n', 1)[0]!);
}

function cut(s: string): string {
  return s.length > FIELD_MAX ? `${s.slice(0, FIELD_MAX)}…` : s;
}
