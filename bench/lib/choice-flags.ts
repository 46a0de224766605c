/**
 * Flags whose value is a word or a list (`--engine redis`, `--subscribers 1000,10000`), taken out
 * of argv before the integer flags are parsed (options.ts), with the same kind of messages: one
 * table gives each flag its default, its parser and its help line.
 */
import { BenchError } from './benchmark.js';

/** One `--name VALUE` flag; `parse` throws an Error saying what is allowed. */
export interface ChoiceFlag<T> {
  readonly default: T;
  readonly arg: string;
  readonly doc: string;
  parse(raw: string): T;
}

export type ChoiceFlags = Readonly<Record<string, ChoiceFlag<unknown>>>;
export type ChoiceValues<F extends ChoiceFlags> = { readonly [K in keyof F]: F[K] extends ChoiceFlag<infer T> ? T : never };

/** A flag taking one of `choices`. */
export function oneOf<const C extends readonly string[]>(choices: C, fallback: C[number], doc: string): ChoiceFlag<C[number]> {
  return {
    default: fallback,
    arg: choices.join('|'),
    doc,
    parse: (raw) => {
      if (!(choices as readonly string[]).includes(raw)) throw new Error(`must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    },
  };
}

/** A flag taking a comma-separated list of integers in min..max. */
export function intList(fallback: readonly number[], min: number, max: number, doc: string): ChoiceFlag<readonly number[]> {
  return {
    default: fallback,
    arg: 'N[,N...]',
    doc,
    parse: (raw) => {
      const values = raw.split(',').map((s) => Number(s.trim()));
      if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min || v > max)) {
        throw new Error(`must be integers ${min}..${max} separated by commas, got ${JSON.stringify(raw)}`);
      }
      return values;
    },
  };
}

/**
 * Takes the flags of `flags` out of `argv` (`--name value` or `--name=value`); returns their
 * values and the other arguments, in order. Throws BenchError for a missing or wrong value.
 */
export function takeChoiceFlags<F extends ChoiceFlags>(argv: readonly string[], flags: F): { values: ChoiceValues<F>; rest: string[] } {
  const values: Record<string, unknown> = Object.fromEntries(Object.entries(flags).map(([name, spec]) => [name, spec.default]));
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const spec = match ? flags[match[1]!] : undefined;
    if (!match || !spec) {
      rest.push(arg);
      continue;
    }
    const raw = match[2] ?? argv[++i];
    if (raw === undefined) throw new BenchError(`--${match[1]}: needs a value (${spec.arg})`);
    try {
      values[match[1]!] = spec.parse(raw);
    } catch (err) {
      throw new BenchError(`--${match[1]}: ${(err as Error).message}`);
    }
  }
  return { values: values as ChoiceValues<F>, rest };
}

/**
 * The help lines for `flags` followed by `intLines` (options.ts's flagsHelp output), all in one
 * aligned column: `  --name VALUE  doc (default D)`.
 */
export function choiceFlagsHelp(flags: ChoiceFlags, intLines: readonly string[]): string[] {
  const rows: Array<readonly [string, string]> = Object.entries(flags).map(([name, spec]) => {
    const shown = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
    return [`--${name} ${spec.arg}`, `${spec.doc} (default ${shown})`];
  });
  for (const line of intLines) {
    const [flag = '', doc = ''] = line.trim().split(/\s{2,}(.*)/s);
    rows.push([flag, doc]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, doc]) => `  ${flag.padEnd(width)}${doc}`);
}
