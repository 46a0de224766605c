/** A pino logger whose JSON lines a test reads back, to assert on what canal logs. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** One parsed log line. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly lines: LogLine[];
  /** The lines whose `msg` is `msg`. */
  withMessage(msg: string | RegExp): LogLine[];
  /**
   * Resolves once every line canal logged so far is in `lines`: at once for a canal in this
   * process (pino writes synchronously); for one on Bun, after its lines have crossed.
   */
  settled(): Promise<void>;
}

/** How to wait for the lines a logger's canal in another process has logged so far (remote-canal.ts). */
const settlers = new WeakMap<Logger, () => Promise<void>>();

/** Tells {@link CapturedLog.settled} of `logger` how to wait for lines logged in another process. */
export function settleLinesWith(logger: Logger, settle: () => Promise<void>): void {
  settlers.set(logger, settle);
}

/** pino's number for the info level. */
export const INFO = 30;

/** A logger at `level` (default info) that keeps its lines in memory. */
export function captureLog(level = 'info'): CapturedLog {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  // sync: a line is in `lines` as soon as the call that logs it returns.
  const logger = pino({ level }, stream);
  return {
    logger,
    lines,
    withMessage: (msg) => lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg))),
    settled: async () => {
      await settlers.get(logger)?.();
    },
  };
}
