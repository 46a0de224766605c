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
