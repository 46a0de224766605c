/**
 * Encoding replies and pushes as JSON text. Embedded JSON ({@link JsonText}: publication data,
 * conn_info, chan_info) is inserted as it is, never parsed and serialised again. Fields with
 * their default value (false, 0, empty) are left out, as proto3 JSON does. Pure: no I/O.
 */
import { textDelta, utf8Bytes } from './delta.js';
import { payloadJson } from './payload.js';
import type {
  ClientInfo, ConnectResult, HistoryResult, Method, PresenceResult, Publication, JsonText, Results,
  SubscribeResult,
} from './types.js';

const q = JSON.stringify;

/**
 * The text of a JSON object built field by field: `new JsonObject().add('a', '1').add('b', '"x"').end()`
 * is `{"a":1,"b":"x"}`; an undefined value is left out. Keys are written as they are (every
 * caller's is a constant protocol field name, with nothing to escape). One small object per
 * encoded object, where arrays of [key, value] pairs and a JSON.stringify per key were
 * garbage on every reply (sampled: about 1 KB per connect + subscribe, docs/benchmarks.md "Memory").
 */
class JsonObject {
  #text = '{';

  add(key: string, value: string | undefined): this {
    if (value !== undefined) this.#text += this.#text.length > 1 ? `,"${key}":${value}` : `"${key}":${value}`;
    return this;
  }

  end(): string {
    return `${this.#text}}`;
  }
}

/** `{"a":1,"b":"x"}` from pairs of key (any string: it is escaped) and already-encoded value; undefined values are skipped. */
function object(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  let out = '{';
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${q(key)}:${value}`;
  }
  return `${out}}`;
}

const flag = (v: boolean | undefined): string | undefined => (v ? 'true' : undefined);
const num = (v: number | undefined): string | undefined => (v ? String(v) : undefined);
const str = (v: string | undefined): string | undefined => (v ? q(v) : undefined);
/** Embedded payloads go in as they are; only binary bytes from a Protobuf client need a JSON form (payload.ts). */
const raw = (v: JsonText | undefined): string | undefined => (v === undefined ? undefined : payloadJson(v));

/** A ClientInfo object. */
export function encodeClientInfo(info: ClientInfo): string {
  return new JsonObject()
    .add('user', q(info.user))
    .add('client', q(info.client))
    .add('conn_info', raw(info.conn_info))
    .add('chan_info', raw(info.chan_info))
    .end();
}

/** A Publication object (the value of a `pub` push, or an element of `publications`). */
export function encodePublication(pub: Publication): string {
  return new JsonObject()
    .add('data', payloadJson(pub.data))
    .add('info', pub.info ? encodeClientInfo(pub.info) : undefined)
    .add('offset', num(pub.offset))
    .add('tags', pub.tags && Object.keys(pub.tags).length > 0 ? q(pub.tags) : undefined)
    .add('time', num(pub.time))
    .end();
}

/**
 * A Publication object for a subscription with fossil deltas: `data` is a JSON string — the
 * publication's JSON text when `delta` is false, the delta's text when true — as the client
 * expects once deltas are negotiated (it parses the string, or applies the delta to the bytes
 * of the previous one).
 */
export function encodeDeltaPublication(pub: Publication, data: string, delta: boolean): string {
  return new JsonObject()
    .add('data', q(data))
    .add('info', pub.info ? encodeClientInfo(pub.info) : undefined)
    .add('offset', num(pub.offset))
    .add('tags', pub.tags && Object.keys(pub.tags).length > 0 ? q(pub.tags) : undefined)
    .add('delta', flag(delta))
    .add('time', num(pub.time))
    .end();
}

function encodePublications(pubs: readonly Publication[] | undefined, delta = false): string | undefined {
  if (!pubs || pubs.length === 0) return undefined;
  if (!delta) return `[${pubs.map(encodePublication).join(',')}]`;
  // A recovered batch for a delta subscription: the first in full, then each against the one before.
  let prev: Uint8Array | undefined;
  const out: string[] = [];
  for (const pub of pubs) {
    const text = payloadJson(pub.data);
    const bytes = utf8Bytes(text);
    const d = prev === undefined ? undefined : textDelta(prev, bytes);
    out.push(encodeDeltaPublication(pub, d ?? text, d !== undefined));
    prev = bytes;
  }
  return `[${out.join(',')}]`;
}

/** A SubscribeResult object. */
export function encodeSubscribeResult(r: SubscribeResult): string {
  return new JsonObject()
    .add('expires', flag(r.expires))
    .add('ttl', num(r.ttl))
    .add('recoverable', flag(r.recoverable))
    .add('epoch', str(r.epoch))
    .add('publications', encodePublications(r.publications, r.delta))
    .add('recovered', flag(r.recovered))
    .add('offset', num(r.offset))
    .add('positioned', flag(r.positioned))
    .add('data', raw(r.data))
    .add('was_recovering', flag(r.was_recovering))
    .add('delta', flag(r.delta))
    .end();
}

function encodeConnectResult(r: ConnectResult): string {
  let subs: string | undefined;
  if (r.subs && Object.keys(r.subs).length > 0) {
    subs = object(Object.entries(r.subs).map(([ch, s]) => [ch, encodeSubscribeResult(s)] as const));
  }
  return new JsonObject()
    .add('client', q(r.client))
    .add('version', q(r.version))
    .add('expires', flag(r.expires))
    .add('ttl', num(r.ttl))
    .add('data', raw(r.data))
    .add('subs', subs)
    .add('ping', num(r.ping))
    .add('pong', flag(r.pong))
    .add('session', str(r.session))
    .add('node', str(r.node))
    .end();
}

function encodeHistoryResult(r: HistoryResult): string {
  return new JsonObject()
    .add('publications', encodePublications(r.publications) ?? '[]')
    .add('epoch', str(r.epoch))
    .add('offset', num(r.offset))
    .end();
}

function encodePresenceResult(r: PresenceResult): string {
  return new JsonObject().add('presence', object(Object.entries(r.presence).map(([id, info]) => [id, encodeClientInfo(info)] as const))).end();
}

/** The result object of `method`. */
export function encodeResult<M extends Method>(method: M, result: Results[M]): string {
  switch (method) {
    case 'connect': return encodeConnectResult(result as ConnectResult);
    case 'subscribe': return encodeSubscribeResult(result as SubscribeResult);
    case 'history': return encodeHistoryResult(result as HistoryResult);
    case 'presence': return encodePresenceResult(result as PresenceResult);
    case 'rpc': return new JsonObject().add('data', raw((result as Results['rpc']).data)).end();
    case 'refresh':
    case 'sub_refresh': {
      const r = result as Results['refresh'];
      return new JsonObject()
        .add('client', 'client' in r ? str(r.client) : undefined)
        .add('version', 'version' in r ? str(r.version) : undefined)
        .add('expires', flag(r.expires))
        .add('ttl', num(r.ttl))
        .end();
    }
    default: return q(result);
  }
}

/**
 * A successful reply: `{"id":N,"<method>":{...}}`. The method object is always present, even
 * when empty: the centrifuge SDK reads it unconditionally.
 */
export function encodeReply<M extends Method>(id: number, method: M, result: Results[M]): string {
  return `{"id":${id},"${method}":${encodeResult(method, result)}}`;
}

/** An error reply: `{"id":N,"error":{"code":C,"message":"...","temporary":true}}`. */
export function encodeErrorReply(id: number, code: number, message: string, temporary: boolean): string {
  return `{"id":${id},"error":${new JsonObject()
    .add('code', String(code))
    .add('message', q(message))
    .add('temporary', flag(temporary))
    .end()}}`;
}

/** The server's application-level ping; the client answers with the same `{}` when asked to. */
export const PING = '{}';

function push(channel: string | undefined, kind: string, body: string): string {
  return `{"push":${new JsonObject().add('channel', str(channel)).add(kind, body).end()}}`;
}

/** A publication push for `channel`; encoded once and written to every subscriber. */
export function encodePublicationPush(channel: string, pub: Publication): string {
  return push(channel, 'pub', encodePublication(pub));
}

/** A join push (someone subscribed to `channel`). */
export function encodeJoinPush(channel: string, info: ClientInfo): string {
  return push(channel, 'join', new JsonObject().add('info', encodeClientInfo(info)).end());
}

/** A leave push (someone unsubscribed from `channel`). */
export function encodeLeavePush(channel: string, info: ClientInfo): string {
  return push(channel, 'leave', new JsonObject().add('info', encodeClientInfo(info)).end());
}

/** An unsubscribe push: the server ended the subscription (code >= 2500: the client resubscribes). */
export function encodeUnsubscribePush(channel: string, code: number, reason: string): string {
  return push(channel, 'unsubscribe', new JsonObject().add('code', String(code)).add('reason', q(reason)).end());
}

/** A server-side subscribe push: the server subscribed the client to `channel`. */
export function encodeSubscribePush(channel: string, r: SubscribeResult): string {
  return push(channel, 'subscribe', new JsonObject()
    .add('recoverable', flag(r.recoverable))
    .add('epoch', str(r.epoch))
    .add('offset', num(r.offset))
    .add('positioned', flag(r.positioned))
    .add('data', raw(r.data))
    .end());
}

/**
 * A disconnect push: how an emulated connection (HTTP streaming, SSE) learns the close code
 * and reason that a WebSocket gets in its close frame; `reconnect` follows the code's range.
 */
export function encodeDisconnectPush(code: number, reason: string, reconnect: boolean): string {
  return push(undefined, 'disconnect', new JsonObject()
    .add('code', String(code))
    .add('reason', q(reason))
    .add('reconnect', flag(reconnect))
    .end());
}
