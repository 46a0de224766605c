import { payloadFromBytes, payloadValue } from './payload.js';
import type { JsonText } from './types.js';

/**
 * JSON text, kept as the client wrote it. JSON.parse turns numbers into doubles, so
 * 12345678901234567890 would come out as 12345678901234567000; a publication's data must reach
 * every subscriber exactly as sent (other SDKs read 64-bit integers). These scanners find a
 * value's text inside an already-validated JSON document and compact it to one line. Pure.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  return i;
}

/** The index just past the string that starts at `i` (a quote). */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22 /* " */) return i + 1;
    else i++;
  }
  return i;
}

/** The index just past the value that starts at `i` (after whitespace). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return skipString(text, i);
  if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
    let depth = 0;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === 0x22) {
        i = skipString(text, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  // A number, true, false or null: up to the next delimiter.
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
    i++;
  }
  return i;
}

/** The span of the value of member `key` of the object at `i`; the last one wins, as in JSON.parse. */
function memberSpan(text: string, i: number, key: string): [number, number] | undefined {
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  let found: [number, number] | undefined;
  i = skipWs(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== 0x7d) {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    i = skipWs(text, i + 1); // the colon
    const end = skipValue(text, i);
    if (name === key) found = [i, end];
    i = skipWs(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1);
  }
  return found;
}

/** The span of element `index` of the array at `i`. */
function elementSpan(text: string, i: number, index: number): [number, number] | undefined {
  if (text.charCodeAt(i) !== 0x5b) return undefined;
  i = skipWs(text, i + 1);
  for (let n = 0; i < text.length && text.charCodeAt(i) !== 0x5d; n++) {
    const end = skipValue(text, i);
    if (n === index) return [i, end];
    i = skipWs(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1);
  }
  return undefined;
}

/** Where a value lies in its JSON document: from `start` to just before `end`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The span of the whole document's value (without surrounding whitespace). */
export function documentSpan(text: string): Span {
  const start = skipWs(text, 0);
  return { start, end: skipValue(text, start) };
}

/** The span of member `key` of the object at `span`; undefined when absent or not an object. One scan of that object. */
export function memberAt(text: string, span: Span, key: string): Span | undefined {
  const found = memberSpan(text, span.start, key);
  return found && { start: found[0], end: found[1] };
}

/** The spans of every element of the array at `span`, in one scan; undefined when it is not an array. */
export function elementsAt(text: string, span: Span): Span[] | undefined {
  let i = span.start;
  if (text.charCodeAt(i) !== 0x5b) return undefined;
  const out: Span[] = [];
  i = skipWs(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== 0x5d) {
    const end = skipValue(text, i);
    out.push({ start: i, end });
    i = skipWs(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1);
  }
  return out;
}

/**
 * How deeply arrays and objects nest in `text` (0 for a string, number or literal), in one
 * pass that skips strings. `text` need not be valid JSON: this runs before parsing, so that a
 * document nested 100,000 deep is refused without being parsed or fanned out to clients whose
 * parsers would give up on it.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i) - 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/**
 * The deepest nesting canal accepts in a client's or the API's JSON (a whole protocol line, API
 * body or plain message, the wrapping included). Deeper JSON is refused with the endpoint's
 * bad-request answer: common parsers stop far below what JSON.parse takes (Python's default
 * recursion limit is 1,000), so subscribers could not read it anyway.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * The text of the value at `path` (object keys and array indexes) in `text`, which must be
 * valid JSON; undefined when the path does not exist. Whitespace inside the value is kept.
 */
export function jsonTextAt(text: string, path: ReadonlyArray<string | number>): string | undefined {
  let span: [number, number] = [skipWs(text, 0), text.length];
  for (const step of path) {
    const next = typeof step === 'number' ? elementSpan(text, span[0], step) : memberSpan(text, span[0], step);
    if (!next) return undefined;
    span = next;
  }
  return text.slice(span[0], skipValue(text, span[0]));
}

/** The same JSON value on one line: whitespace outside strings removed (strings untouched). */
export function compactJson(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    if (WS.has(text.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else {
      if (!WS.has(c)) out += text[i];
      i++;
    }
  }
  return out;
}

/**
 * The value of a payload, or undefined for none (an absent protocol `bytes` field): parsed JSON,
 * or a Uint8Array for binary bytes from a Protobuf client (payload.ts).
 */
export function parseData(text: JsonText | undefined): unknown {
  return text === undefined ? undefined : payloadValue(text);
}

/** The payload of a value (a Uint8Array is kept as bytes), or undefined for undefined. */
export function toJsonText(value: unknown): JsonText | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Uint8Array) return payloadFromBytes(value);
  return JSON.stringify(value) as JsonText;
}
