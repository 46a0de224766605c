/**
 * Command-line parsing on top of node:util parseArgs, with the errors reworded into one line a
 * person can act on. Config flags come from the option table, so every option has its flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../config/did-you-mean.js';
import { flagName, isSwitch, OPTIONS, type OptionKey } from '../config/schema.js';
import { UsageError } from './io.js';

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

/** parseArgs options for every configuration flag, keyed by flag name without dashes. */
export function configFlagOptions(): ParseOptions {
  const out: ParseOptions = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const flag = flagName(key);
    if (!flag) continue;
    out[flag.slice(2)] = { type: isSwitch(key) ? 'boolean' : 'string' };
    // Every switch can also be turned off from the command line: --no-dev.
    if (isSwitch(key)) out[`no-${flag.slice(2)}`] = { type: 'boolean' };
  }
  return out;
}

/** Picks the configuration flags out of parsed values, keyed by option key. */
export function configFlagValues(values: Record<string, unknown>): Partial<Record<OptionKey, string | boolean>> {
  const out: Partial<Record<OptionKey, string | boolean>> = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const flag = flagName(key);
    const v = flag ? values[flag.slice(2)] : undefined;
    if (typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    if (flag && values[`no-${flag.slice(2)}`] === true) out[key] = false;
  }
  return out;
}

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** Parses `argv` strictly; unknown flags and missing values throw {@link UsageError}. */
export function parse(argv: readonly string[], options: ParseOptions, command: string, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const flag = /'(-[^' ]+)/.exec(e.message)?.[1];
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
        const close = flag?.startsWith('--') ? closestName(flag.slice(2).split('=')[0]!, Object.keys(options)) : undefined;
        const hint = close === undefined ? '' : `; did you mean --${close}?`;
        throw new UsageError(`unknown flag ${flag ?? ''} for "canal ${command}"${hint} (see canal ${command} --help)`);
      }
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(`flag ${flag ?? ''} needs a value (see canal ${command} --help)`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/.exec(e.message)?.[1] ?? '')} for "canal ${command}" (see canal ${command} --help)`);
      default:
        throw new UsageError(e.message);
    }
  }
}
