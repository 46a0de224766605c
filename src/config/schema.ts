/**
 * The one typed configuration: every option with its default, its parser, its environment
 * variable and its flag, in one table. docs/config.md is checked against this table by a test.
 */
import { boolean, bytes, duration, host, integer, oneOf, type Parser } from './values.js';

/** One configuration option. `env` and `flag` are derived from the key unless set to false. */
export interface OptionSpec<T> {
  readonly parse: Parser<T>;
  readonly default: T;
  /** One sentence for --help and docs/config.md. */
  readonly doc: string;
  /** Whether a `CANAL_*` environment variable sets it (default true). */
  readonly env?: boolean;
  /** Whether a `--flag` sets it (default true). */
  readonly flag?: boolean;
  /** Placeholder for the flag's value in --help (e.g. PORT); boolean options have none. */
  readonly arg?: string;
}

function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Every option canal reads. The order here is the order of --help and docs/config.md. */
export const OPTIONS = {
  host: option({
    parse: host,
    default: '127.0.0.1',
    arg: 'HOST',
    doc: 'Address to listen on for HTTP and WebSocket.',
  }),
  port: option({
    parse: integer(0, 65535),
    default: 8765,
    arg: 'PORT',
    doc: 'TCP port for HTTP and WebSocket (0 picks a free port).',
  }),
  log_level: option({
    parse: oneOf(LOG_LEVELS),
    default: 'info' as (typeof LOG_LEVELS)[number],
    arg: 'LEVEL',
    doc: 'Least severe log level written (JSON lines on stderr); connections are logged at debug.',
  }),
  max_message_bytes: option({
    parse: bytes(1, 256 * 1024 * 1024),
    default: 1024 * 1024,
    arg: 'BYTES',
    doc: 'Largest WebSocket message accepted; a larger one closes the connection with 1009.',
  }),
  ping_interval: option({
    parse: duration(1000, 3_600_000),
    default: 25_000,
    arg: 'DURATION',
    doc: 'How often the server pings every connection; a peer silent until the next ping is dropped.',
  }),
  shutdown_timeout: option({
    parse: duration(0, 600_000),
    default: 5000,
    arg: 'DURATION',
    doc: 'On SIGINT/SIGTERM, how long connections get to close before they are terminated.',
  }),
} as const;

export type OptionKey = keyof typeof OPTIONS;

/** The resolved configuration: every option present, every value checked. */
export type Config = { -readonly [K in OptionKey]: (typeof OPTIONS)[K]['default'] };

/** The environment variable that sets `key` (e.g. `max_message_bytes` -> `CANAL_MAX_MESSAGE_BYTES`). */
export function envName(key: OptionKey): string | undefined {
  return (OPTIONS[key] as OptionSpec<unknown>).env === false ? undefined : `CANAL_${key.toUpperCase()}`;
}

/** The flag that sets `key` (e.g. `max_message_bytes` -> `--max-message-bytes`). */
export function flagName(key: OptionKey): string | undefined {
  return (OPTIONS[key] as OptionSpec<unknown>).flag === false ? undefined : `--${key.replaceAll('_', '-')}`;
}

/** Whether the option's flag takes no value (a boolean switch). */
export function isSwitch(key: OptionKey): boolean {
  return (OPTIONS[key].parse as Parser<unknown>) === (boolean as Parser<unknown>);
}

/** A fresh copy of the defaults. */
export function defaults(): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS)) out[key] = structuredClone(spec.default);
  return out as Config;
}
