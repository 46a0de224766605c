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

/** `{"a":1,"b":"x"}` from pairs of key and already-encoded value; undefined values are skipped. */
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
  return object([
    ['user', q(info.user)],
    ['client', q(info.client)],
    ['conn_info', raw(info.conn_info)],
    ['chan_info', raw(info.chan_info)],
  ]);
}

/** A Publication object (the value of a `pub` push, or an element of `publications`). */
export function encodePublication(pub: Publication): string {
  return object([
    ['data', payloadJson(pub.data)],
    ['info', pub.info ? encodeClientInfo(pub.info) : undefined],
    ['offset', num(pub.offset)],
    ['tags', pub.tags && Object.keys(pub.tags).length > 0 ? q(pub.tags) : undefined],
    ['time', num(pub.time)],
  ]);
}

/**
 * A Publication object for a subscription with fossil deltas: `data` is a JSON string — the
 * publication's JSON text when `delta` is false, the delta's text when true — as the client
 * expects once deltas are negotiated (it parses the string, or applies the delta to the bytes
 * of the previous one).
 */
export function encodeDeltaPublication(pub: Publication, data: string, delta: boolean): string {
  return object([
    ['data', q(data)],
    ['info', pub.info ? encodeClientInfo(pub.info) : undefined],
    ['offset', num(pub.offset)],
    ['tags', pub.tags && Object.keys(pub.tags).length > 0 ? q(pub.tags) : undefined],
    ['delta', flag(delta)],
    ['time', num(pub.time)],
  ]);
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
  return object([
    ['expires', flag(r.expires)],
    ['ttl', num(r.ttl)],
    ['recoverable', flag(r.recoverable)],
    ['epoch', str(r.epoch)],
    ['publications', encodePublications(r.publications, r.delta)],
    ['recovered', flag(r.recovered)],
    ['offset', num(r.offset)],
    ['positioned', flag(r.positioned)],
    ['data', raw(r.data)],
    ['was_recovering', flag(r.was_recovering)],
    ['delta', flag(r.delta)],
  ]);
}

function encodeConnectResult(r: ConnectResult): string {
  let subs: string | undefined;
  if (r.subs && Object.keys(r.subs).length > 0) {
    subs = object(Object.entries(r.subs).map(([ch, s]) => [ch, encodeSubscribeResult(s)] as const));
  }
  return object([
    ['client', q(r.client)],
    ['version', q(r.version)],
    ['expires', flag(r.expires)],
    ['ttl', num(r.ttl)],
    ['data', raw(r.data)],
    ['subs', subs],
    ['ping', num(r.ping)],
    ['pong', flag(r.pong)],
    ['session', str(r.session)],
    ['node', str(r.node)],
  ]);
}

function encodeHistoryResult(r: HistoryResult): string {
  return object([
    ['publications', encodePublications(r.publications) ?? '[]'],
    ['epoch', str(r.epoch)],
    ['offset', num(r.offset)],
  ]);
}

function encodePresenceResult(r: PresenceResult): string {
  return object([['presence', object(Object.entries(r.presence).map(([id, info]) => [id, encodeClientInfo(info)] as const))]]);
}

/** The result object of `method`. */
export function encodeResult<M extends Method>(method: M, result: Results[M]): string {
  switch (method) {
    case 'connect': return encodeConnectResult(result as ConnectResult);
    case 'subscribe': return encodeSubscribeResult(result as SubscribeResult);
    case 'history': return encodeHistoryResult(result as HistoryResult);
    case 'presence': return encodePresenceResult(result as PresenceResult);
    case 'rpc': return object([['data', raw((result as Results['rpc']).data)]]);
    case 'refresh':
    case 'sub_refresh': {
      const r = result as Results['refresh'];
      return object([
        ['client', 'client' in r ? str(r.client) : undefined],
        ['version', 'version' in r ? str(r.version) : undefined],
        ['expires', flag(r.expires)],
        ['ttl', num(r.ttl)],
      ]);
    }
    default: return q(result);
  }
}

/**
 * A successful reply: `{"id":N,"<method>":{...}}`. The method object is always present, even
 * when empty: the centrifuge SDK reads it unconditionally.
 */
export function encodeReply<M extends Method>(id: number, method: M, result: Results[M]): string {
  return `{"id":${id},${q(method)}:${encodeResult(method, result)}}`;
}

/** An error reply: `{"id":N,"error":{"code":C,"message":"...","temporary":true}}`. */
export function encodeErrorReply(id: number, code: number, message: string, temporary: boolean): string {
  return `{"id":${id},"error":${object([['code', String(code)], ['message', q(message)], ['temporary', flag(temporary)]])}}`;
}

/** The server's application-level ping; the client answers with the same `{}` when asked to. */
export const PING = '{}';

function push(channel: string | undefined, kind: string, body: string): string {
  return `{"push":${object([['channel', str(channel)], [kind, body]])}}`;
}

/** A publication push for `channel`; encoded once and written to every subscriber. */
export function encodePublicationPush(channel: string, pub: Publication): string {
  return push(channel, 'pub', encodePublication(pub));
}

/** A join push (someone subscribed to `channel`). */
export function encodeJoinPush(channel: string, info: ClientInfo): string {
  return push(channel, 'join', object([['info', encodeClientInfo(info)]]));
}

/** A leave push (someone unsubscribed from `channel`). */
export function encodeLeavePush(channel: string, info: ClientInfo): string {
  return push(channel, 'leave', object([['info', encodeClientInfo(info)]]));
}

/** An unsubscribe push: the server ended the subscription (code >= 2500: the client resubscribes). */
export function encodeUnsubscribePush(channel: string, code: number, reason: string): string {
  return push(channel, 'unsubscribe', object([['code', String(code)], ['reason', q(reason)]]));
}

/** A server-side subscribe push: the server subscribed the client to `channel`. */
export function encodeSubscribePush(channel: string, r: SubscribeResult): string {
  return push(channel, 'subscribe', object([
    ['recoverable', flag(r.recoverable)],
    ['epoch', str(r.epoch)],
    ['offset', num(r.offset)],
    ['positioned', flag(r.positioned)],
    ['data', raw(r.data)],
  ]));
}

/**
 * A disconnect push: how an emulated connection (HTTP streaming, SSE) learns the close code
 * and reason that a WebSocket gets in its close frame; `reconnect` follows the code's range.
 */
export function encodeDisconnectPush(code: number, reason: string, reconnect: boolean): string {
  return push(undefined, 'disconnect', object([['code', String(code)], ['reason', q(reason)], ['reconnect', flag(reconnect)]]));
}
