/**
 * The Protobuf form of the client protocol (the `centrifuge-protobuf` WebSocket subprotocol and
 * the binary HTTP-streaming transport): commands in and replies out as the protocol's
 * client.proto messages, each preceded by its length as a varint. The field numbers below are
 * client.proto's. Payloads (`bytes` fields) go in and out through payload.ts, so a Protobuf
 * client receives exactly the bytes published, and JSON clients on the same channel read the
 * same publications. Malformed input is a bad request (3501) naming what was wrong, as for JSON.
 *
 * Written over protobufjs's Reader and Writer (the runtime the official client's Protobuf build
 * uses) rather than generated code: the messages are few, and canal's own types stay the one
 * representation on both codecs. Pure: no I/O.
 */
import pb from 'protobufjs/minimal.js';
import { DisconnectCode } from './codes.js';
import { binaryDelta } from './delta.js';
import { DisconnectError } from './errors.js';
import { payloadBytes, payloadFromBytes } from './payload.js';
import {
  METHODS, type ClientInfo, type Command, type ConnectResult, type HistoryResult, type Incoming, type Method,
  type PresenceResult, type Publication, type JsonText, type Results, type SubscribePosition, type SubscribeResult,
} from './types.js';
import { withDefined } from '../util/defined.js';

type Writer = pb.Writer;

function bad(reason: string): never {
  throw new DisconnectError(DisconnectCode.BadRequest, `bad request: ${reason}`);
}

// ---- writing ----

const VARINT = 0;
const LEN = 2;

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32((field << 3) | wire);
}

function putString(w: Writer, field: number, v: string | undefined): void {
  if (v) tag(w, field, LEN).string(v);
}

function putBytes(w: Writer, field: number, v: Uint8Array | undefined): void {
  if (v && v.length > 0) tag(w, field, LEN).bytes(v);
}

function putPayload(w: Writer, field: number, v: JsonText | undefined): void {
  if (v !== undefined) putBytes(w, field, payloadBytes(v));
}

function putUint(w: Writer, field: number, v: number | undefined): void {
  if (v) tag(w, field, VARINT).uint64(v);
}

function putInt64(w: Writer, field: number, v: number | undefined): void {
  if (v) tag(w, field, VARINT).int64(v);
}

function putBool(w: Writer, field: number, v: boolean | undefined): void {
  if (v) tag(w, field, VARINT).bool(true);
}

/** A nested message, written even when empty (a reply's method field must be present). */
function putMessage(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, LEN).fork();
  body(w);
  w.ldelim();
}

function putClientInfo(w: Writer, info: ClientInfo): void {
  putString(w, 1, info.user);
  putString(w, 2, info.client);
  putPayload(w, 3, info.conn_info);
  putPayload(w, 4, info.chan_info);
}

function putPublication(w: Writer, pub: Publication, data: Uint8Array, delta: boolean): void {
  putBytes(w, 4, data);
  if (pub.info) putMessage(w, 5, (m) => putClientInfo(m, pub.info!));
  putUint(w, 6, pub.offset);
  if (pub.tags) {
    for (const [k, v] of Object.entries(pub.tags)) putMessage(w, 7, (m) => { putString(m, 1, k); putString(m, 2, v); });
  }
  putBool(w, 8, delta);
  putInt64(w, 9, pub.time);
}

function putPublications(w: Writer, field: number, pubs: readonly Publication[] | undefined, delta: boolean): void {
  let prev: Uint8Array | undefined;
  for (const pub of pubs ?? []) {
    const bytes = payloadBytes(pub.data);
    // A recovered batch for a delta subscription starts in full; each next one is against the one before.
    const d = delta && prev !== undefined ? binaryDelta(prev, bytes) : undefined;
    putMessage(w, field, (m) => putPublication(m, pub, d ?? bytes, d !== undefined));
    prev = bytes;
  }
}

function putSubscribeResult(w: Writer, r: SubscribeResult): void {
  putBool(w, 1, r.expires);
  putUint(w, 2, r.ttl);
  putBool(w, 3, r.recoverable);
  putString(w, 6, r.epoch);
  putPublications(w, 7, r.publications, r.delta === true);
  putBool(w, 8, r.recovered);
  putUint(w, 9, r.offset);
  putBool(w, 10, r.positioned);
  putPayload(w, 11, r.data);
  putBool(w, 12, r.was_recovering);
  putBool(w, 13, r.delta);
}

function putConnectResult(w: Writer, r: ConnectResult): void {
  putString(w, 1, r.client);
  putString(w, 2, r.version);
  putBool(w, 3, r.expires);
  putUint(w, 4, r.ttl);
  putPayload(w, 5, r.data);
  for (const [channel, s] of Object.entries(r.subs ?? {})) {
    putMessage(w, 6, (m) => { putString(m, 1, channel); putMessage(m, 2, (v) => putSubscribeResult(v, s)); });
  }
  putUint(w, 7, r.ping);
  putBool(w, 8, r.pong);
  putString(w, 9, r.session);
  putString(w, 10, r.node);
}

/** The field of Reply that carries each method's result (client.proto). */
const RESULT_FIELD: Readonly<Record<Method, number>> = {
  connect: 5, subscribe: 6, unsubscribe: 7, publish: 8, presence: 9, presence_stats: 10, history: 11, ping: 12,
  send: 0, rpc: 13, refresh: 14, sub_refresh: 15,
};

function putResult<M extends Method>(w: Writer, method: M, result: Results[M]): void {
  switch (method) {
    case 'connect': return putConnectResult(w, result as ConnectResult);
    case 'subscribe': return putSubscribeResult(w, result as SubscribeResult);
    case 'history': {
      const r = result as HistoryResult;
      putPublications(w, 1, r.publications, false);
      putString(w, 2, r.epoch);
      putUint(w, 3, r.offset);
      return;
    }
    case 'presence':
      for (const [id, info] of Object.entries((result as PresenceResult).presence)) {
        putMessage(w, 1, (m) => { putString(m, 1, id); putMessage(m, 2, (v) => putClientInfo(v, info)); });
      }
      return;
    case 'presence_stats': {
      const r = result as Results['presence_stats'];
      putUint(w, 1, r.num_clients);
      putUint(w, 2, r.num_users);
      return;
    }
    case 'rpc': return putPayload(w, 1, (result as Results['rpc']).data);
    case 'refresh': {
      const r = result as Results['refresh'];
      putString(w, 1, r.client);
      putString(w, 2, r.version);
      putBool(w, 3, r.expires);
      putUint(w, 4, r.ttl);
      return;
    }
    case 'sub_refresh': {
      const r = result as Results['sub_refresh'];
      putBool(w, 1, r.expires);
      putUint(w, 2, r.ttl);
      return;
    }
    default: return; // unsubscribe, publish, ping: empty results
  }
}

/** One Reply, length first. */
function delimited(body: (w: Writer) => void): Uint8Array {
  const w = pb.Writer.create();
  w.fork();
  body(w);
  w.ldelim();
  return w.finish();
}

/** A successful reply to command `id`. */
export function encodeProtobufReply<M extends Method>(id: number, method: M, result: Results[M]): Uint8Array {
  return delimited((w) => {
    putUint(w, 1, id);
    putMessage(w, RESULT_FIELD[method], (m) => putResult(m, method, result));
  });
}

/** An error reply to command `id`. */
export function encodeProtobufErrorReply(id: number, code: number, message: string, temporary: boolean): Uint8Array {
  return delimited((w) => {
    putUint(w, 1, id);
    putMessage(w, 2, (m) => { putUint(m, 1, code); putString(m, 2, message); putBool(m, 3, temporary); });
  });
}

/** The server's ping: an empty Reply (one byte of length, 0). */
export const PROTOBUF_PING: Uint8Array = Uint8Array.of(0);

function pushReply(channel: string | undefined, field: number, body: (w: Writer) => void): Uint8Array {
  return delimited((w) => putMessage(w, 4, (p) => {
    putString(p, 2, channel);
    putMessage(p, field, body);
  }));
}

/** A publication push whose data field holds `data` (the data's bytes, or a delta when `delta`). */
export function encodeProtobufPublicationPush(channel: string, pub: Publication, data: Uint8Array, delta: boolean): Uint8Array {
  return pushReply(channel, 4, (w) => putPublication(w, pub, data, delta));
}

export function encodeProtobufJoinPush(channel: string, info: ClientInfo): Uint8Array {
  return pushReply(channel, 5, (w) => putMessage(w, 1, (m) => putClientInfo(m, info)));
}

export function encodeProtobufLeavePush(channel: string, info: ClientInfo): Uint8Array {
  return pushReply(channel, 6, (w) => putMessage(w, 1, (m) => putClientInfo(m, info)));
}

export function encodeProtobufUnsubscribePush(channel: string, code: number, reason: string): Uint8Array {
  return pushReply(channel, 7, (w) => { putUint(w, 2, code); putString(w, 3, reason); });
}

export function encodeProtobufSubscribePush(channel: string, r: SubscribeResult): Uint8Array {
  return pushReply(channel, 9, (w) => {
    putBool(w, 1, r.recoverable);
    putString(w, 4, r.epoch);
    putUint(w, 5, r.offset);
    putBool(w, 6, r.positioned);
    putPayload(w, 7, r.data);
  });
}

export function encodeProtobufDisconnectPush(code: number, reason: string, reconnect: boolean): Uint8Array {
  return pushReply(undefined, 11, (w) => { putUint(w, 1, code); putString(w, 2, reason); putBool(w, 3, reconnect); });
}

// ---- reading ----

type Long = { low: number; high: number; toNumber(): number };
type Value = number | Long | Uint8Array;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A message's fields by number, each with every value it had (proto3: the last scalar wins). */
class Fields {
  readonly #values = new Map<number, Value[]>();

  constructor(private readonly path: string, bytes: Uint8Array) {
    const r = pb.Reader.create(bytes);
    while (r.pos < r.len) {
      const t = r.uint32();
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 0) bad(`${path} has a field numbered 0`);
      let v: Value;
      if (wire === VARINT) v = r.uint64() as unknown as number | Long;
      else if (wire === LEN) v = r.bytes();
      else {
        r.skipType(wire);
        continue;
      }
      const list = this.#values.get(field);
      if (list) list.push(v);
      else this.#values.set(field, [v]);
    }
  }

  #last(field: number, want: 'varint' | 'bytes', name: string): Value | undefined {
    const list = this.#values.get(field);
    const v = list?.[list.length - 1];
    if (v === undefined) return undefined;
    if ((v instanceof Uint8Array) !== (want === 'bytes')) bad(`${this.path}.${name} has the wrong wire type`);
    return v;
  }

  string(field: number, name: string): string | undefined {
    const v = this.#last(field, 'bytes', name) as Uint8Array | undefined;
    if (v === undefined) return undefined;
    try {
      return strictUtf8.decode(v);
    } catch {
      bad(`${this.path}.${name} is not valid UTF-8`);
    }
  }

  requiredString(field: number, name: string): string {
    const v = this.string(field, name);
    if (!v) bad(`${this.path}.${name} is required`);
    return v;
  }

  payload(field: number, name: string): JsonText | undefined {
    const v = this.#last(field, 'bytes', name) as Uint8Array | undefined;
    return v === undefined ? undefined : payloadFromBytes(v);
  }

  uint(field: number, name: string): number | undefined {
    const v = this.#last(field, 'varint', name) as number | Long | undefined;
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : v.toNumber();
    if (!Number.isSafeInteger(n) || n < 0) bad(`${this.path}.${name} must be a non-negative integer below 2^53`);
    return n;
  }

  /** An int32 (negative values arrive sign-extended to 64 bits). */
  int32(field: number, name: string): number | undefined {
    const v = this.#last(field, 'varint', name) as number | Long | undefined;
    if (v === undefined) return undefined;
    return typeof v === 'number' ? v | 0 : v.low | 0;
  }

  boolean(field: number, name: string): boolean {
    const v = this.#last(field, 'varint', name) as number | Long | undefined;
    if (v === undefined) return false;
    return typeof v === 'number' ? v !== 0 : v.low !== 0 || v.high !== 0;
  }

  message(field: number, name: string): Fields | undefined {
    const v = this.#last(field, 'bytes', name) as Uint8Array | undefined;
    return v === undefined ? undefined : new Fields(`${this.path}.${name}`, v);
  }

  /** The entries of a map<string, V> field, V read by `value`. */
  map<V>(field: number, name: string, value: (entry: Fields, key: string) => V): Record<string, V> | undefined {
    const list = this.#values.get(field);
    if (!list) return undefined;
    const out: Record<string, V> = {};
    for (const v of list) {
      if (!(v instanceof Uint8Array)) bad(`${this.path}.${name} has the wrong wire type`);
      const entry = new Fields(`${this.path}.${name}`, v);
      const key = entry.string(1, 'key') ?? '';
      Object.defineProperty(out, key, { value: value(entry, key), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  has(field: number): boolean {
    return this.#values.has(field);
  }
}

/** The Command field of each method (client.proto). */
const METHOD_FIELD: Readonly<Record<Method, number>> = {
  connect: 4, subscribe: 5, unsubscribe: 6, publish: 7, presence: 8, presence_stats: 9, history: 10, ping: 11,
  send: 12, rpc: 13, refresh: 14, sub_refresh: 15,
};

function decodePosition(f: Fields): SubscribePosition {
  return withDefined<SubscribePosition>({ recover: f.boolean(3, 'recover') }, { offset: f.uint(7, 'offset'), epoch: f.string(6, 'epoch') });
}

function decodeRequest(method: Method, f: Fields): Command['request'] {
  switch (method) {
    case 'connect': {
      const entry = (e: Fields): SubscribePosition => decodePosition(e.message(2, 'value') ?? new Fields('connect.subs', new Uint8Array(0)));
      return withDefined({}, {
        token: f.string(1, 'token') || undefined,
        data: f.payload(2, 'data'),
        subs: f.map(3, 'subs', entry),
        name: f.string(4, 'name'),
        version: f.string(5, 'version'),
        headers: f.map(6, 'headers', (e) => e.string(2, 'value') ?? ''),
      });
    }
    case 'subscribe':
      return withDefined(
        {
          channel: f.requiredString(1, 'channel'),
          recover: f.boolean(3, 'recover'),
          positioned: f.boolean(9, 'positioned'),
          recoverable: f.boolean(10, 'recoverable'),
          join_leave: f.boolean(11, 'join_leave'),
        },
        {
          token: f.string(2, 'token') || undefined, offset: f.uint(7, 'offset'), epoch: f.string(6, 'epoch'),
          data: f.payload(8, 'data'), delta: f.string(12, 'delta') || undefined,
        },
      );
    case 'unsubscribe':
    case 'presence':
    case 'presence_stats': return { channel: f.requiredString(1, 'channel') };
    case 'publish': return { channel: f.requiredString(1, 'channel'), data: f.payload(2, 'data') ?? payloadFromBytes(new Uint8Array(0)) };
    case 'history': {
      const since = f.message(8, 'since');
      return withDefined({ channel: f.requiredString(1, 'channel'), reverse: f.boolean(9, 'reverse') }, {
        limit: f.int32(7, 'limit'),
        since: since ? { offset: since.uint(1, 'offset') ?? 0, epoch: since.string(2, 'epoch') ?? '' } : undefined,
      });
    }
    case 'ping': return {};
    case 'send': return withDefined({}, { data: f.payload(1, 'data') });
    case 'rpc': return withDefined({ method: f.string(2, 'method') ?? '' }, { data: f.payload(1, 'data') });
    case 'refresh': return { token: f.requiredString(1, 'token') };
    case 'sub_refresh': return { channel: f.requiredString(1, 'channel'), token: f.requiredString(2, 'token') };
  }
}

function decodeCommand(bytes: Uint8Array, n: number): Incoming {
  const f = new Fields(`command ${n}`, bytes);
  let method: Method | undefined;
  for (const m of METHODS) {
    if (!f.has(METHOD_FIELD[m])) continue;
    if (method) bad(`command ${n} has two methods (${method} and ${m}); send one per command`);
    method = m;
  }
  const id = f.uint(1, 'id') ?? 0;
  if (id > 0xffffffff) bad(`command ${n}: id must be an integer from 0 to 4294967295`);
  if (!method) {
    if (id === 0) return { method: 'pong' };
    bad(`command ${n} has no known method (such as connect, subscribe, publish, rpc; see docs/protocol.md)`);
  }
  if (method !== 'send' && id === 0) bad(`command ${n}: ${method} needs an id greater than 0`);
  const body = f.message(METHOD_FIELD[method], method)!;
  return { id, method, request: decodeRequest(method, body) } as Command;
}

/**
 * Decodes a binary frame (or an HTTP-streaming body) into its commands, in order: each a
 * Command preceded by its length as a varint. Throws DisconnectError (3501) naming the first
 * malformed command; a frame with no command is a bad request.
 */
export function decodeProtobufFrame(frame: Uint8Array): Incoming[] {
  const out: Incoming[] = [];
  const r = pb.Reader.create(frame);
  try {
    while (r.pos < r.len) out.push(decodeCommand(r.bytes(), out.length + 1));
  } catch (err) {
    if (err instanceof DisconnectError) throw err;
    bad(`command ${out.length + 1} is not a valid Protobuf Command (${(err as Error).message})`);
  }
  if (out.length === 0) bad('empty frame');
  return out;
}

/** An EmulationRequest (client.proto) from a Protobuf client's POST to /emulation. */
export interface EmulationRequest {
  readonly node: string;
  readonly session: string;
  /** The commands, as the session's codec reads them. */
  readonly data: Uint8Array;
}

/** Decodes an EmulationRequest; throws DisconnectError (3501) when malformed. */
export function decodeProtobufEmulationRequest(bytes: Uint8Array): EmulationRequest {
  try {
    const f = new Fields('emulation request', bytes);
    return {
      node: f.string(1, 'node') ?? '',
      session: f.string(2, 'session') ?? '',
      data: rawBytes(bytes, 3),
    };
  } catch (err) {
    if (err instanceof DisconnectError) throw err;
    bad(`not a valid Protobuf EmulationRequest (${(err as Error).message})`);
  }
}

/** The last value of bytes field `field` of the message `bytes`. */
function rawBytes(bytes: Uint8Array, field: number): Uint8Array {
  const r = pb.Reader.create(bytes);
  let out: Uint8Array = new Uint8Array(0);
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === field && (t & 7) === LEN) out = r.bytes();
    else r.skipType(t & 7);
  }
  return out;
}
