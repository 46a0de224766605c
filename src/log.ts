/**
 * Logging: pino JSON lines on stderr (written synchronously: nothing is lost at exit, and nothing
 * is logged per message at info), so that stdout carries only what a person asked for
 * (the listening line, a CLI command's output).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger writing JSON lines to stderr at `level`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'canal' } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that writes nothing, for tests and embedding without logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Options of a {@link WindowedLog}; the defaults hold outside tests. */
export interface WindowedLogOptions {
  /** Lines logged per window before the rest are only counted; default 20. */
  readonly limit?: number;
  /** Length of a window in ms; default 60 000. */
  readonly windowMs?: number;
  /** The clock; default Date.now. */
  readonly now?: () => number;
  /** Runs `fn` after `ms` (an unref'd setTimeout by default); tests pass one they drive. */
  readonly schedule?: (fn: () => void, ms: number) => void;
}

/**
 * Info lines about something a client can cause at will (a refused upgrade, connect or admin
 * request), bounded: at most `limit` lines per window; past it the events are counted by a key
 * and told in one summary line when the window ends, so a flood cannot fill the disk. One
 * instance per kind of event, shared by every connection.
 */
export class WindowedLog {
  readonly #log: Logger;
  readonly #what: string;
  readonly #countBy: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => void;
  #windowStart = -Infinity;
  #logged = 0;
  /** Events not logged in the current window, by key. */
  #suppressed = new Map<string | number, number>();

  /**
   * `what` names the events in the summary (`3 more ${what} (...)`); the summary counts them in
   * a field `by_${countBy}`.
   */
  constructor(log: Logger, what: string, countBy: string, options: WindowedLogOptions = {}) {
    this.#log = log;
    this.#what = what;
    this.#countBy = countBy;
    this.#limit = options.limit ?? 20;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms).unref());
  }

  /** Logs `msg` with `fields` at info, or, past the window's limit, counts it under `key`. */
  info(fields: Record<string, unknown>, msg: string, key: string | number): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#limit) {
      this.#logged++;
      this.#log.info(fields, msg);
      return;
    }
    if (this.#suppressed.size === 0) this.#schedule(() => this.flush(), this.#windowStart + this.#windowMs - now);
    this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
  }

  /** Logs the count of events not logged so far, if any (called when a window ends). */
  flush(): void {
    if (this.#suppressed.size === 0) return;
    const counts = Object.fromEntries(this.#suppressed);
    const count = [...this.#suppressed.values()].reduce((a, b) => a + b, 0);
    this.#suppressed = new Map();
    this.#log.info({ count, [`by_${this.#countBy}`]: counts, window_ms: this.#windowMs },
      `${count} more ${this.#what} (not logged one by one: at most ${this.#limit} lines per window)`);
  }
}

/** Longest client-chosen text (a header, a path, a reason) copied into a log line. */
const FIELD_MAX = 200;

/** The first line of `s`, cut to 200 characters: text a client chose, made fit for one log field. */
export function logField(s: string): string {
  const line = s.split('\n', 1)[0]!;
  return line.length > FIELD_MAX ? `${line.slice(0, FIELD_MAX)}…` : line;
}
