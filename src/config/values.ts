/**
 * Value parsers for configuration fields. Each takes a raw value (a JSON value from a file or
 * the embedding API, or a string from the environment or a flag) and returns the typed value,
 * or throws {@link ValueError} whose message says what is allowed. Pure: no I/O.
 */

/** A raw value did not fit its field; `allowed` is the human description of what would. */
export class ValueError extends Error {
  constructor(readonly allowed: string) {
    super(allowed);
    this.name = 'ValueError';
  }
}

/** Several nested fields were wrong; each names its path below the option (e.g. `chat.history_size`). */
export class NestedValueErrors extends Error {
  constructor(readonly problems: ReadonlyArray<{ readonly path: string; readonly message: string }>) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.name = 'NestedValueErrors';
  }
}

/** `"abc"`, `70000`, `[1]`: a raw value as shown in messages, cut to 60 characters. */
export function show(raw: unknown): string {
  const s = JSON.stringify(raw) ?? String(raw);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A parser turns a raw value into a typed one and carries the human description of what it accepts. */
export interface Parser<T> {
  readonly allowed: string;
  (raw: unknown): T;
}

function parser<T>(allowed: string, fn: (raw: unknown) => T): Parser<T> {
  const p = ((raw: unknown) => fn(raw)) as Parser<T>;
  Object.defineProperty(p, 'allowed', { value: allowed });
  return p;
}

function fail(allowed: string): never {
  throw new ValueError(allowed);
}

/** Integers in [min, max]; strings of decimal digits are accepted (env and flags are strings). */
export function integer(min: number, max: number): Parser<number> {
  const allowed = `an integer from ${min} to ${max}`;
  return parser(allowed, (raw) => {
    const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(allowed);
    return n;
  });
}

/**
 * An integer in [min, max] (as {@link integer}), or the word `word`, which the caller resolves
 * (`workers: "auto"`, one per CPU); `meaning` says what the word stands for in messages.
 */
export function integerOr<const W extends string>(word: W, meaning: string, min: number, max: number): Parser<number | W> {
  const allowed = `an integer from ${min} to ${max}, or ${JSON.stringify(word)} (${meaning})`;
  const number = integer(min, max);
  return parser(allowed, (raw) => {
    if (raw === word) return word;
    try {
      return number(raw);
    } catch {
      return fail(allowed);
    }
  });
}

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** A byte count: an integer, or a string such as `64KiB`, `1MiB`, `2MB`, within [min, max]. */
export function bytes(min: number, max: number): Parser<number> {
  const allowed = `a byte count from ${min} to ${max} (an integer, or with a unit: 64KiB, 1MiB)`;
  return parser(allowed, (raw) => {
    let n: number | undefined;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string') {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
      const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
      if (m && unit !== undefined) n = Math.round(Number(m[1]) * unit);
    }
    if (n === undefined || !Number.isInteger(n) || n < min || n > max) fail(allowed);
    return n;
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: a number of ms, or a string such as `500ms`, `25s`, `10m`, `1h`. */
export function duration(minMs: number, maxMs: number): Parser<number> {
  const allowed = `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (e.g. 500ms, 25s, 10m, 1h; a bare number is milliseconds)`;
  return parser(allowed, (raw) => {
    let n: number | undefined;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string') {
      const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
      if (m) n = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
    }
    if (n === undefined || !Number.isFinite(n) || n < minMs || n > maxMs) fail(allowed);
    return n;
  });
}

/** Renders milliseconds the way {@link duration} accepts them (`25s`, `1h`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** true/false, or the strings true/false/1/0/yes/no/on/off. */
export const boolean: Parser<boolean> = parser('true or false', (raw) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  return fail('true or false');
});

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  const allowed = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return parser(allowed, (raw) => {
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) fail(allowed);
    return raw as T;
  });
}

/** A string that matches `pattern` (described by `allowed`), at most `maxLength` long. */
export function text(allowed: string, pattern: RegExp = /^[\s\S]*$/, maxLength = 4096): Parser<string> {
  return parser(allowed, (raw) => {
    if (typeof raw !== 'string' || raw.length > maxLength || !pattern.test(raw)) fail(allowed);
    return raw;
  });
}

/** A host name or IP address to listen on. */
export const host: Parser<string> = text(
  'a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::1, localhost)',
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/,
  253,
);

/** Wraps a parser so that `undefined` and the empty string are allowed and mean "not set". */
export function optional<T>(inner: Parser<T>): Parser<T | undefined> {
  return parser(`${inner.allowed}, or unset`, (raw) => (raw === undefined || raw === '' ? undefined : inner(raw)));
}

/** A list of strings: a JSON array, or (env and flags) a comma-separated string. */
export function list(item: Parser<string>): Parser<string[]> {
  const allowed = `a list of ${item.allowed} (a JSON array, or comma-separated)`;
  return parser(allowed, (raw) => {
    const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
    if (!Array.isArray(items)) fail(allowed);
    return items.map((v) => {
      try {
        return item(v);
      } catch {
        return fail(allowed);
      }
    });
  });
}
