/**
 * Centrifugo's proxy bodies as JSON text (the HTTP proxy of Centrifugo v6, whose fields come from
 * its proxy.proto): requests out, answers in. Field order and omissions are Go's encoding of
 * those messages, so a backend sees what Centrifugo sends; `bytes` fields travel as embedded
 * JSON, or as base64 in `b64data` with binary encoding. An answer is `{"result": ...}`,
 * `{"error": {"code", "message", "temporary"}}` or `{"disconnect": {"code", "reason"}}`;
 * disconnect wins over error, error over result, as Centrifugo reads them. Pure.
 */
import { DISCONNECTS, ERRORS, type ErrorCodeValue } from '../protocol/codes.js';
import { DisconnectError, ReplyError } from '../protocol/errors.js';
import { compactJson, jsonDepth, MAX_JSON_DEPTH, jsonTextAt } from '../protocol/json-text.js';
import {
  parseSubscribeOptions, payloadField, payloadFromBase64, ShapeError, unixSeconds, type SubscribeOptions,
} from '../protocol/subscribe-options.js';
import { isBinary, payloadBytes, payloadJson } from '../protocol/payload.js';
import type { JsonText } from '../protocol/types.js';

/** A member whose value is already JSON text, written as is. */
class Embedded {
  constructor(readonly json: string) {}
}

/** One JSON object, members in the given order, undefined members left out (Go's omitempty). */
function objectText(members: ReadonlyArray<readonly [string, unknown]>): string {
  let out = '';
  for (const [key, value] of members) {
    if (value === undefined) continue;
    out += `${out === '' ? '{' : ','}${JSON.stringify(key)}:${value instanceof Embedded ? value.json : JSON.stringify(value)}`;
  }
  return out === '' ? '{}' : `${out}}`;
}

/** The members every request starts with. */
export interface RequestBase {
  readonly client: string;
  /** How the client is connected: `websocket`, `http_stream` or `sse`. */
  readonly transport: string;
  /** The client protocol's format: `json` or `protobuf`. */
  readonly protocol: string;
  /** Base64 `b64data` instead of JSON `data` (the proxy's binary_encoding). */
  readonly binary: boolean;
}

/** The connection-wide members of every request but connect. */
export interface CallerFields extends RequestBase {
  readonly user: string;
  /** The connection's meta, when the proxy includes it. */
  readonly meta?: JsonText;
}

function base(r: RequestBase): Array<readonly [string, unknown]> {
  return [['client', r.client], ['transport', r.transport], ['protocol', r.protocol], ['encoding', r.binary ? 'binary' : 'json']];
}

/**
 * `data` or `b64data` for a client's payload, as the proxy's encoding says: `b64data` is the
 * base64 of the bytes the client sent (a Protobuf client's bytes exactly as written); `data`
 * embeds JSON text as is, and bytes that are not JSON as a JSON string of their base64, as JSON
 * clients would receive them.
 */
function dataMembers(binary: boolean, data: JsonText | undefined): Array<readonly [string, unknown]> {
  if (data === undefined) return [];
  if (binary) return [['b64data', Buffer.from(payloadBytes(data)).toString('base64')]];
  return [['data', new Embedded(isBinary(data) ? payloadJson(data) : data)]];
}

function metaMember(meta: JsonText | undefined): ReadonlyArray<readonly [string, unknown]> {
  return meta === undefined ? [] : [['meta', new Embedded(meta)]];
}

export function connectRequest(r: RequestBase & { data?: JsonText; name?: string; version?: string; channels: readonly string[] }): string {
  return objectText([
    ...base(r), ...dataMembers(r.binary, r.data), ['name', r.name || undefined], ['version', r.version || undefined],
    ['channels', r.channels.length > 0 ? r.channels : undefined],
  ]);
}

export function refreshRequest(r: CallerFields): string {
  return objectText([...base(r), ['user', r.user], ...metaMember(r.meta)]);
}

export function subscribeRequest(r: CallerFields & { channel: string; data?: JsonText }): string {
  return objectText([...base(r), ['user', r.user], ['channel', r.channel], ...metaMember(r.meta), ...dataMembers(r.binary, r.data)]);
}

export function publishRequest(r: CallerFields & { channel: string; data: JsonText }): string {
  return objectText([...base(r), ['user', r.user], ['channel', r.channel], ...dataMembers(r.binary, r.data), ...metaMember(r.meta)]);
}

export function rpcRequest(r: CallerFields & { method: string; data?: JsonText }): string {
  return objectText([...base(r), ['user', r.user], ['method', r.method], ...dataMembers(r.binary, r.data), ...metaMember(r.meta)]);
}

export function subRefreshRequest(r: CallerFields & { channel: string }): string {
  return objectText([...base(r), ['user', r.user], ['channel', r.channel], ...metaMember(r.meta)]);
}

// ---- answers ----

/** What the connect proxy decided (its `result`). */
export interface ConnectAnswer {
  readonly user: string;
  /** Unix ms; absent: the connection does not expire. */
  readonly expiresAt?: number;
  readonly info?: JsonText;
  /** Returned to the client in the connect result. */
  readonly data?: JsonText;
  /** Server-side subscriptions: `channels` (no options) and `subs` (with options). */
  readonly subs: ReadonlyMap<string, SubscribeOptions>;
  readonly meta?: JsonText;
}

/** What the refresh or sub_refresh proxy decided. */
export interface RefreshAnswer {
  readonly expired: boolean;
  readonly expiresAt?: number;
  readonly info?: JsonText;
  /** refresh only: the connection's new meta. */
  readonly meta?: JsonText;
}

/** What the publish proxy decided: the data to publish instead, and how. */
export interface PublishAnswer {
  readonly data?: JsonText;
  readonly skipHistory: boolean;
  readonly tags?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
}

/** The answer text could not be read as a proxy answer; `message` says what was wrong. */
export class AnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnswerError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A parsed answer: its text (for exact raw values) and its `result` object, if any. */
interface Parsed {
  readonly text: string;
  readonly result: Record<string, unknown> | undefined;
}

/**
 * Parses an answer; a backend's `disconnect` or `error` is thrown as a DisconnectError or
 * ReplyError with its code. `honour` false (refresh, sub_refresh) reads only `result`, as
 * Centrifugo does there. Throws AnswerError for anything that is not an answer.
 */
function parse(text: string, honour: boolean): Parsed {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new AnswerError(`the answer nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AnswerError(`the answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!isObject(value)) throw new AnswerError(`the answer must be a JSON object with result, error or disconnect, got ${JSON.stringify(text.slice(0, 80))}`);
  if (honour && value.disconnect !== undefined && value.disconnect !== null) throw disconnectOf(value.disconnect);
  if (honour && value.error !== undefined && value.error !== null) throw errorOf(value.error);
  const result = value.result;
  if (result === undefined || result === null) return { text, result: undefined };
  if (!isObject(result)) throw new AnswerError('"result" must be an object');
  return { text, result };
}

function disconnectOf(d: unknown): DisconnectError {
  if (!isObject(d) || typeof d.code !== 'number' || !Number.isInteger(d.code) || d.code < 3000 || d.code > 4999) {
    throw new AnswerError(`"disconnect" must be {"code": 3000-4999, "reason": "..."}, got ${JSON.stringify(d)}`);
  }
  if (d.reason !== undefined && typeof d.reason !== 'string') throw new AnswerError('"disconnect.reason" must be a string');
  const reason = typeof d.reason === 'string' && d.reason !== '' ? d.reason : (DISCONNECTS as Record<number, string>)[d.code] ?? 'disconnect';
  return new DisconnectError(d.code, reason);
}

function errorOf(e: unknown): ReplyError {
  if (!isObject(e) || typeof e.code !== 'number' || !Number.isInteger(e.code) || e.code < 1 || e.code > 0xffffffff) {
    throw new AnswerError(`"error" must be {"code": a positive integer, "message": "...", "temporary": bool}, got ${JSON.stringify(e)}`);
  }
  if (e.message !== undefined && typeof e.message !== 'string') throw new AnswerError('"error.message" must be a string');
  if (e.temporary !== undefined && typeof e.temporary !== 'boolean') throw new AnswerError('"error.temporary" must be true or false');
  const known = (ERRORS as Record<number, { message: string } | undefined>)[e.code];
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : known?.message ?? '';
  // Any code is the backend's to give (Centrifugo reserves 400-1999 for applications): it goes to the client as is.
  return new ReplyError(e.code as ErrorCodeValue, message, { temporary: e.temporary === true, wireMessage: message });
}

/** Runs `fn`, turning a ShapeError into an AnswerError. */
function shaped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ShapeError) throw new AnswerError(err.message);
    throw err;
  }
}

function optionalString(result: Record<string, unknown>, key: string): string | undefined {
  const v = result[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AnswerError(`"result.${key}" must be a string`);
  return v;
}

function optionalBoolean(result: Record<string, unknown>, key: string): boolean {
  const v = result[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new AnswerError(`"result.${key}" must be true or false`);
  return v;
}

/**
 * The exact JSON text of `result.<key>` (numbers keep every digit), or the payload its base64
 * twin holds (any bytes: JSON text when they are compact JSON).
 */
function exactData(p: Parsed, key: string, b64key: string): JsonText | undefined {
  const result = p.result!;
  const b64 = result[b64key];
  if (typeof b64 === 'string' && b64 !== '') return shaped(() => payloadFromBase64(b64, `result.${b64key}`));
  if (b64 !== undefined && b64 !== null && typeof b64 !== 'string') throw new AnswerError(`"result.${b64key}" must be a string`);
  if (result[key] === undefined || result[key] === null) return undefined;
  return compactJson(jsonTextAt(p.text, ['result', key])!) as JsonText;
}

/** A connect answer; undefined when it has no `result` (the backend authenticated nobody). */
export function readConnectAnswer(text: string): ConnectAnswer | undefined {
  const p = parse(text, true);
  const r = p.result;
  if (!r) return undefined;
  return shaped(() => {
    const subs = new Map<string, SubscribeOptions>();
    const channels = r.channels;
    if (channels !== undefined && channels !== null) {
      if (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string')) throw new AnswerError('"result.channels" must be a list of channel names');
      for (const c of channels) subs.set(c, {});
    }
    if (r.subs !== undefined && r.subs !== null) {
      if (!isObject(r.subs)) throw new AnswerError('"result.subs" must be an object of channel -> options');
      for (const [channel, options] of Object.entries(r.subs)) subs.set(channel, parseSubscribeOptions(options, `result.subs[${JSON.stringify(channel)}].`));
    }
    const expireAt = unixSeconds(r.expire_at, 'result.expire_at');
    const out: { -readonly [K in keyof ConnectAnswer]: ConnectAnswer[K] } = { user: optionalString(r, 'user') ?? '', subs };
    if (expireAt !== undefined) out.expiresAt = expireAt * 1000;
    const info = payloadField(r, 'info', 'b64info', 'result.');
    if (info !== undefined) out.info = info;
    const data = exactData(p, 'data', 'b64data');
    if (data !== undefined) out.data = data;
    if (r.meta !== undefined && r.meta !== null) out.meta = compactJson(jsonTextAt(text, ['result', 'meta'])!) as JsonText;
    return out;
  });
}

/** A refresh (or sub_refresh) answer; undefined when it has no `result`. Only `result` is read, as in Centrifugo. */
export function readRefreshAnswer(text: string): RefreshAnswer | undefined {
  const p = parse(text, false);
  const r = p.result;
  if (!r) return undefined;
  return shaped(() => {
    const out: { -readonly [K in keyof RefreshAnswer]: RefreshAnswer[K] } = { expired: optionalBoolean(r, 'expired') };
    const expireAt = unixSeconds(r.expire_at, 'result.expire_at');
    if (expireAt !== undefined) out.expiresAt = expireAt * 1000;
    const info = payloadField(r, 'info', 'b64info', 'result.');
    if (info !== undefined) out.info = info;
    if (r.meta !== undefined && r.meta !== null) out.meta = compactJson(jsonTextAt(text, ['result', 'meta'])!) as JsonText;
    return out;
  });
}

/** A subscribe answer: the subscription's options (none when it has no `result`: allowed as is). */
export function readSubscribeAnswer(text: string): SubscribeOptions {
  const p = parse(text, true);
  if (!p.result) return {};
  const options = shaped(() => parseSubscribeOptions(p.result, 'result.'));
  const data = exactData(p, 'data', 'b64data');
  return data === undefined ? options : { ...options, data };
}

/** A publish answer: what to publish instead, if anything. */
export function readPublishAnswer(text: string): PublishAnswer {
  const p = parse(text, true);
  const r = p.result;
  if (!r) return { skipHistory: false };
  const out: { -readonly [K in keyof PublishAnswer]: PublishAnswer[K] } = { skipHistory: optionalBoolean(r, 'skip_history') };
  const data = exactData(p, 'data', 'b64data');
  if (data !== undefined) out.data = data;
  if (r.tags !== undefined && r.tags !== null) {
    if (!isObject(r.tags) || !Object.values(r.tags).every((v) => typeof v === 'string')) throw new AnswerError('"result.tags" must be an object of strings');
    out.tags = r.tags as Record<string, string>;
  }
  const key = optionalString(r, 'idempotency_key');
  if (key) out.idempotencyKey = key;
  return out;
}

/** An RPC answer: the method's result data (JSON text, exact), if any. */
export function readRpcAnswer(text: string): JsonText | undefined {
  const p = parse(text, true);
  return p.result ? exactData(p, 'data', 'b64data') : undefined;
}
