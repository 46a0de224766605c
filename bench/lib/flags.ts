/**
 * A benchmark's flags: one table gives each flag its default, its parser and its help line, so
 * parsing, validation and --help cannot disagree (as canal's own option table does). Flags are
 * `--name VALUE` or `--name=VALUE`; values are integers, lists of integers, one word of a set,
 * several words of a set, or free text.
 */
import { BenchError } from './benchmark.js';

/** One `--name VALUE` flag; `parse` throws an Error saying what is allowed. */
export interface Flag<T> {
  readonly default: T;
  /** What the value looks like in the help (`N`, `bench|chat`). */
  readonly arg: string;
  readonly doc: string;
  parse(raw: string): T;
  /** The value as the help shows a default. */
  show(value: T): string;
}

export type Flags = Readonly<Record<string, Flag<unknown>>>;
export type FlagValues<F extends Flags> = { readonly [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

/** An integer flag in `min..max`. */
export function int(fallback: number, min: number, max: number, doc: string): Flag<number> {
  return {
    default: fallback,
    arg: 'N',
    doc: `${doc} (${min}..${max})`,
    parse: (raw) => {
      const value = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) throw new Error(`must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
      return value;
    },
    show: String,
  };
}

/** A comma-separated list of integers in `min..max`. */
export function intList(fallback: readonly number[], min: number, max: number, doc: string): Flag<readonly number[]> {
  return {
    default: fallback,
    arg: 'N[,N...]',
    doc,
    parse: (raw) => {
      const values = raw.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
      if (values.some((v) => !Number.isInteger(v) || v < min || v > max)) {
        throw new Error(`must be integers ${min}..${max} separated by commas, got ${JSON.stringify(raw)}`);
      }
      return values;
    },
    show: (v) => v.join(','),
  };
}

/** One of `choices`. */
export function oneOf<const C extends readonly string[]>(choices: C, fallback: C[number], doc: string): Flag<C[number]> {
  return {
    default: fallback,
    arg: choices.join('|'),
    doc,
    parse: (raw) => {
      if (!(choices as readonly string[]).includes(raw)) throw new Error(`must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    },
    show: String,
  };
}

/** Some of `choices`, comma-separated, each at most once; kept in the order of `choices`. */
export function someOf<const C extends readonly string[]>(choices: C, fallback: readonly C[number][], doc: string): Flag<readonly C[number][]> {
  return {
    default: fallback,
    arg: `${choices.join(',')} (some)`,
    doc,
    parse: (raw) => {
      const picked = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const wrong = picked.filter((p) => !(choices as readonly string[]).includes(p));
      if (wrong.length > 0 || picked.length === 0) {
        throw new Error(`must be one or more of ${choices.join(', ')} separated by commas, got ${JSON.stringify(raw)}`);
      }
      return choices.filter((c) => picked.includes(c));
    },
    show: (v) => (v.length === 0 ? 'none' : v.join(',')),
  };
}

/** Free text (`--serve-flags "--workers 2"`). */
export function text(fallback: string, arg: string, doc: string): Flag<string> {
  return { default: fallback, arg, doc, parse: (raw) => raw, show: (v) => (v === '' ? 'none' : JSON.stringify(v)) };
}

/**
 * Parses `argv` against `flags`; undefined when --help (or -h) was asked. Throws BenchError
 * naming the flag and what it accepts for an unknown flag, a missing value or a wrong one.
 */
export function parseFlags<F extends Flags>(argv: readonly string[], flags: F, command: string): FlagValues<F> | undefined {
  const values: Record<string, unknown> = Object.fromEntries(Object.entries(flags).map(([name, spec]) => [name, spec.default]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return undefined;
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    const spec = match ? flags[match[1]!] : undefined;
    if (!match || !spec) throw new BenchError(`unknown argument ${JSON.stringify(arg)} (see npm run bench -- ${command} --help)`);
    const raw = match[2] ?? argv[++i];
    if (raw === undefined) throw new BenchError(`--${match[1]}: needs a value (${spec.arg})`);
    try {
      values[match[1]!] = spec.parse(raw);
    } catch (err) {
      throw new BenchError(`--${match[1]}: ${(err as Error).message}`);
    }
  }
  return values as FlagValues<F>;
}

/** The help lines for `flags`, in one aligned column: `  --name VALUE  doc (default D)`. */
export function flagsHelp(flags: Flags): string[] {
  const rows: Array<readonly [string, string]> = Object.entries(flags).map(([name, spec]) => [`--${name} ${spec.arg}`, `${spec.doc}; default ${spec.show(spec.default)}`]);
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, doc]) => `  ${flag.padEnd(width)}${doc}`);
}
