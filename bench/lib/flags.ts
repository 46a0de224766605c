/**
 * Integer flags for benchmarks: one table gives each flag its default, its bounds and its help
 * line, so parsing, validation and --help cannot disagree (as canal's own option table does).
 */
import { parseArgs } from 'node:util';
import { BenchError } from './benchmark.js';

/** One `--name N` flag. */
export interface IntFlag {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

export type IntFlags = Readonly<Record<string, IntFlag>>;

export type FlagValues<F extends IntFlags> = { readonly [K in keyof F]: number };

/**
 * Parses `argv` against `flags`; undefined when --help was asked. Throws BenchError naming
 * the flag and the accepted range for an unknown flag, a missing value or one out of bounds.
 */
export function parseIntFlags<F extends IntFlags>(argv: readonly string[], flags: F, command: string): FlagValues<F> | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of Object.keys(flags)) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new BenchError(`${(err as Error).message.split('\n')[0]} (see npm run bench -- ${command} --help)`);
  }
  if (values.help) return undefined;
  const out: Record<string, number> = {};
  for (const [name, spec] of Object.entries(flags)) {
    const raw = values[name];
    const value = typeof raw === 'string' ? Number(raw) : spec.default;
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
      throw new BenchError(`--${name}: must be an integer ${spec.min}..${spec.max}, got ${JSON.stringify(raw)}`);
    }
    out[name] = value;
  }
  return out as FlagValues<F>;
}

/** The help lines for `flags`: `--name N  doc (default D)`. */
export function flagsHelp(flags: IntFlags): string[] {
  const rows: Array<readonly [string, string]> = Object.entries(flags).map(([name, spec]) => [`--${name} N`, `${spec.doc} (default ${spec.default}; ${spec.min}..${spec.max})`]);
  rows.push(['-h, --help', 'Show this help.']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, doc]) => `  ${flag.padEnd(width)}${doc}`);
}
