/**
 * Decoding client frames: newline-delimited JSON commands in, typed commands out. Any line
 * that is not a command of the protocol — bad JSON, not an object, no known method, a field of
 * the wrong type — makes the whole frame a bad request (disconnect 3501), with a reason that
 * names the line and the field. Unknown fields are ignored, as the protocol asks (newer
 * clients send fields older servers do not know). Pure: no I/O.
 */
import { DisconnectCode } from './codes.js';
import { DisconnectError } from './errors.js';
import {
  METHODS, type Command, type ConnectRequest, type HistoryRequest, type Incoming, type Method, type JsonText,
  type SubscribePosition, type SubscribeRequest,
} from './types.js';
import { withDefined } from '../util/defined.js';
import { compactJson, jsonDepth, MAX_JSON_DEPTH, jsonTextAt } from './json-text.js';

type Obj = Record<string, unknown>;

/** A command line was malformed: disconnect with 3501 and this reason. */
function bad(reason: string): never {
  throw new DisconnectError(DisconnectCode.BadRequest, `bad request: ${reason}`);
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Typed access to one request object; errors name the field by its path. */
class Fields {
  /**
   * `obj` is the parsed object at `keys` inside the line `source`; the source is kept so that
   * embedded JSON values are taken as written (see json-text.ts).
   */
  constructor(
    private readonly obj: Obj,
    private readonly path: string,
    private readonly source: string,
    private readonly keys: readonly string[],
  ) {}

  #get(key: string): unknown {
    const v = this.obj[key];
    return v === null ? undefined : v; // proto3 JSON: null means the default
  }

  string(key: string): string | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') bad(`${this.path}.${key} must be a string`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) bad(`${this.path}.${key} is required`);
    return v;
  }

  boolean(key: string): boolean {
    const v = this.#get(key);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') bad(`${this.path}.${key} must be true or false`);
    return v;
  }

  /** A non-negative integer (uint32/uint64 fields); JSON clients may send 64-bit values as strings. */
  uint(key: string): number | undefined {
    let v = this.#get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && /^\d{1,16}$/.test(v)) v = Number(v);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${this.path}.${key} must be a non-negative integer`);
    return v;
  }

  int(key: string): number | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(`${this.path}.${key} must be an integer`);
    return v;
  }

  /** An embedded JSON value (a protocol `bytes` field), kept as its JSON text. */
  json(key: string): JsonText | undefined {
    if (!(key in this.obj)) return undefined;
    return compactJson(jsonTextAt(this.source, [...this.keys, key])!) as JsonText;
  }

  object(key: string): Fields | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (!isObject(v)) bad(`${this.path}.${key} must be an object`);
    return new Fields(v, `${this.path}.${key}`, this.source, [...this.keys, key]);
  }

  entries(): Array<[string, unknown]> {
    return Object.entries(this.obj);
  }

  at(key: string, value: unknown): Fields {
    if (!isObject(value)) bad(`${this.path}.${key} must be an object`);
    return new Fields(value, `${this.path}.${key}`, this.source, [...this.keys, key]);
  }
}


function decodePosition(f: Fields): SubscribePosition {
  return withDefined<SubscribePosition>({ recover: f.boolean('recover') }, { offset: f.uint('offset'), epoch: f.string('epoch') });
}

function decodeConnect(f: Fields): ConnectRequest {
  const subsField = f.object('subs');
  let subs: Record<string, SubscribePosition> | undefined;
  if (subsField) {
    subs = {};
    for (const [channel, value] of subsField.entries()) subs[channel] = decodePosition(subsField.at(channel, value));
  }
  const headersField = f.object('headers');
  let headers: Record<string, string> | undefined;
  if (headersField) {
    headers = {};
    for (const [name] of headersField.entries()) headers[name] = headersField.requiredString(name);
  }
  return withDefined<ConnectRequest>({}, {
    token: f.string('token') || undefined,
    data: f.json('data'),
    subs,
    name: f.string('name'),
    version: f.string('version'),
    headers,
  });
}

function decodeSubscribe(f: Fields): SubscribeRequest {
  return withDefined<SubscribeRequest>(
    {
      channel: f.requiredString('channel'),
      recover: f.boolean('recover'),
      positioned: f.boolean('positioned'),
      recoverable: f.boolean('recoverable'),
      join_leave: f.boolean('join_leave'),
    },
    {
      token: f.string('token') || undefined, offset: f.uint('offset'), epoch: f.string('epoch'), data: f.json('data'),
      delta: f.string('delta') || undefined,
    },
  );
}

function decodeHistory(f: Fields): HistoryRequest {
  const since = f.object('since');
  return withDefined<HistoryRequest>(
    { channel: f.requiredString('channel'), reverse: f.boolean('reverse') },
    {
      limit: f.int('limit'),
      since: since ? { offset: since.uint('offset') ?? 0, epoch: since.string('epoch') ?? '' } : undefined,
    },
  );
}

/** Decodes the request object of `method`; throws DisconnectError (3501) on a malformed field. */
function decodeRequest(method: Method, f: Fields): Command['request'] {
  switch (method) {
    case 'connect': return decodeConnect(f);
    case 'subscribe': return decodeSubscribe(f);
    case 'unsubscribe':
    case 'presence':
    case 'presence_stats': return { channel: f.requiredString('channel') };
    case 'publish': {
      const data = f.json('data');
      if (data === undefined) bad(`${method}.data is required`);
      return { channel: f.requiredString('channel'), data };
    }
    case 'history': return decodeHistory(f);
    case 'ping': return {};
    case 'send': return withDefined({}, { data: f.json('data') });
    case 'rpc': return withDefined({ method: f.string('method') ?? '' }, { data: f.json('data') });
    case 'refresh': return { token: f.requiredString('token') };
    case 'sub_refresh': return { channel: f.requiredString('channel'), token: f.requiredString('token') };
  }
}

/**
 * Decodes one line (a JSON object). `{}` with no id and no method is the client's pong.
 * `line` is its 1-based number in the frame, for messages.
 */
export function decodeLine(text: string, line: number): Incoming {
  if (jsonDepth(text) > MAX_JSON_DEPTH) bad(`line ${line} nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    bad(`line ${line} is not valid JSON`);
  }
  if (!isObject(value)) bad(`line ${line} is not a JSON object`);
  let method: Method | undefined;
  for (const m of METHODS) {
    if (value[m] === undefined || value[m] === null) continue;
    if (method) bad(`line ${line} has two methods (${method} and ${m}); send one per command`);
    method = m;
  }
  const rawId = value.id ?? 0;
  if (typeof rawId !== 'number' || !Number.isInteger(rawId) || rawId < 0 || rawId > 0xffffffff) {
    bad(`line ${line}: id must be an integer from 0 to 4294967295`);
  }
  if (!method) {
    if (rawId === 0) return { method: 'pong' };
    // The close reason holds 123 bytes: name the common methods, not all twelve.
    bad(`line ${line} has no known method (such as connect, subscribe, publish, rpc; see docs/protocol.md)`);
  }
  if (method !== 'send' && rawId === 0) bad(`line ${line}: ${method} needs an id greater than 0`);
  const body = value[method];
  if (!isObject(body)) bad(`line ${line}: ${method} must be an object`);
  return { id: rawId, method, request: decodeRequest(method, new Fields(body, method, text, [method])) } as Command;
}

/**
 * Decodes a text frame into its commands, in order. Blank lines are skipped; a frame with no
 * command is a bad request. Throws DisconnectError (3501) naming the first malformed line.
 */
export function decodeFrame(frame: string): Incoming[] {
  const out: Incoming[] = [];
  let start = 0;
  let line = 0;
  while (start <= frame.length) {
    let end = frame.indexOf('\n', start);
    if (end === -1) end = frame.length;
    line++;
    const text = frame.slice(start, end);
    if (text.trim() !== '') out.push(decodeLine(text, line));
    start = end + 1;
  }
  if (out.length === 0) bad('empty frame');
  return out;
}
