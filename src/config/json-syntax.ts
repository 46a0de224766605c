/**
 * Where a text stops being JSON, and why, in words a person can act on: JSON.parse on Node 20
 * says "at position 57" for some mistakes and nothing at all for others (`Unexpected token 'x',
 * "..." is not valid JSON`), while a config file or a command-line value is fixed by line and
 * column. Pure: text in, a position and a reason out. Follows RFC 8259.
 */

/** The first place where `text` is not JSON. `line` and `column` count from 1. */
export interface JsonSyntaxError {
  /** Index into the text (UTF-16 code units), `text.length` when the text ends too soon. */
  readonly offset: number;
  readonly line: number;
  /** In characters (code points) from the start of the line. */
  readonly column: number;
  /** What is wrong there, e.g. `a comma before "}" (JSON allows no trailing comma)`. */
  readonly reason: string;
}

class Stop extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A scanner over one text; each method consumes one production or throws {@link Stop}. */
class Scanner {
  #at = 0;

  constructor(readonly text: string) {}

  document(): void {
    if (this.text.trim() === '') this.#stop('there is nothing but white space, and JSON needs a value');
    this.#value();
    this.#space();
    if (this.#at < this.text.length) this.#stop('text after the end of the JSON value');
  }

  #stop(reason: string, at = this.#at): never {
    throw new Stop(at, reason);
  }

  #space(): void {
    while (this.#at < this.text.length && WHITESPACE.has(this.text[this.#at]!)) this.#at++;
  }

  #value(): void {
    this.#space();
    const c = this.text[this.#at];
    if (c === undefined) this.#stop('the text ends where a value should be (a missing "}" or "]"?)');
    if (c === '{') return this.#object();
    if (c === '[') return this.#array();
    if (c === '"') return this.#string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.#number();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.#at)) {
        this.#at += word.length;
        return;
      }
    }
    if (c === "'") this.#stop('strings take double quotes, not single ones');
    this.#stop(`expected a value (a string in double quotes, a number, an object, an array, true, false or null), found ${show(c)}`);
  }

  #object(): void {
    this.#at++;
    this.#space();
    if (this.text[this.#at] === '}') {
      this.#at++;
      return;
    }
    for (;;) {
      this.#space();
      const c = this.text[this.#at];
      if (c !== '"') {
        if (c === '}') this.#stop('a comma before "}" (JSON allows no trailing comma)', this.#lastComma());
        if (c === undefined) this.#stop('the text ends inside an object (a missing "}"?)');
        this.#stop(c === "'" ? 'property names take double quotes, not single ones' : `expected a property name in double quotes, found ${show(c)}`);
      }
      this.#string();
      this.#space();
      if (this.text[this.#at] !== ':') this.#stop(`expected ":" after the property name, found ${this.#found()}`);
      this.#at++;
      this.#value();
      const end = this.#at;
      this.#space();
      const next = this.text[this.#at];
      if (next === '}') {
        this.#at++;
        return;
      }
      if (next === '"') this.#stop('a missing "," between two properties', end);
      if (next !== ',') this.#stop(next === undefined ? 'the text ends inside an object (a missing "}"?)' : `expected "," or "}" after a property, found ${show(next)}`);
      this.#at++;
    }
  }

  #array(): void {
    this.#at++;
    this.#space();
    if (this.text[this.#at] === ']') {
      this.#at++;
      return;
    }
    for (;;) {
      this.#space();
      if (this.text[this.#at] === ']') this.#stop('a comma before "]" (JSON allows no trailing comma)', this.#lastComma());
      this.#value();
      const end = this.#at;
      this.#space();
      const next = this.text[this.#at];
      if (next === ']') {
        this.#at++;
        return;
      }
      if (next !== undefined && /["{[\-0-9tfn]/.test(next)) this.#stop('a missing "," between two items', end);
      if (next !== ',') this.#stop(next === undefined ? 'the text ends inside an array (a missing "]"?)' : `expected "," or "]" after an item, found ${show(next)}`);
      this.#at++;
    }
  }

  #string(): void {
    const start = this.#at;
    this.#at++;
    for (;;) {
      const c = this.text[this.#at];
      if (c === undefined) this.#stop('a string that is never closed (a missing \'"\'?)', start);
      if (c === '"') {
        this.#at++;
        return;
      }
      if (c === '\n' || c === '\r') this.#stop('a line break inside a string (write \\n, or close the string)');
      if (c < ' ') this.#stop(`a control character inside a string (write it escaped, as \\u${c.charCodeAt(0).toString(16).padStart(4, '0')})`);
      if (c === '\\') {
        const e = this.text[this.#at + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.#at + 2, this.#at + 6))) this.#stop('"\\u" must be followed by 4 hexadecimal digits');
          this.#at += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) this.#stop(`an unknown escape "\\${e ?? ''}" (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
        this.#at += 2;
        continue;
      }
      this.#at++;
    }
  }

  #number(): void {
    NUMBER.lastIndex = this.#at;
    const m = NUMBER.exec(this.text);
    if (!m || m[0] === '-') this.#stop('a number must have digits (e.g. -1, 0.5, 2e3)');
    this.#at += m[0].length;
  }

  /** Where the comma is that comes before the current position (for "trailing comma" errors). */
  #lastComma(): number {
    const i = this.text.lastIndexOf(',', this.#at);
    return i === -1 ? this.#at : i;
  }

  #found(): string {
    const c = this.text[this.#at];
    return c === undefined ? 'the end of the text' : show(c);
  }
}

function show(c: string): string {
  return JSON.stringify(c);
}

/**
 * The first syntax error of `text` as JSON, or undefined when it is valid JSON (or nests too
 * deeply to scan, which JSON.parse reports by itself).
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new Scanner(text).document();
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) {
      if (err instanceof RangeError) return undefined;
      throw err;
    }
    const before = text.slice(0, err.offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    return {
      offset: err.offset,
      line: before.split('\n').length,
      column: [...before.slice(lineStart)].length + 1,
      reason: err.reason,
    };
  }
}
