/**
 * Options of one subscription as Centrifugo's backends write them — in a connection token's
 * `subs` claim, a subscription token, a connect or subscribe proxy's answer: `info` / `b64info`,
 * `data` / `b64data`, `expire_at`, and `override` of the namespace's presence, join_leave,
 * force_recovery and force_positioning (each `{"value": bool}`). Pure: shapes in, values out;
 * a wrong shape is a {@link ShapeError} naming the field, which the caller turns into its own
 * error (an invalid token, a backend's bad answer).
 */
import { payloadFromBytes } from './payload.js';
import type { JsonText } from './types.js';

/** A value did not have the shape its field needs; `message` names the field and what was wrong. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** Namespace options one subscription may turn on or off (Centrifugo's SubscribeOptionOverride). */
export interface SubscribeOverride {
  readonly presence?: boolean;
  readonly join_leave?: boolean;
  readonly force_recovery?: boolean;
  readonly force_positioning?: boolean;
}

/** One subscription's options; absent fields keep the namespace's (or nothing). */
export interface SubscribeOptions {
  /** Shown to others as `chan_info`. */
  readonly info?: JsonText;
  /** Sent to the client in the subscribe result (or push). */
  readonly data?: JsonText;
  readonly override?: SubscribeOverride;
  /** Unix ms when the subscription expires unless refreshed; absent: never. */
  readonly expiresAt?: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The payload that `b64` (standard base64, padded, as Go's StdEncoding writes it) holds: JSON
 * text when its bytes are compact JSON, else the bytes as they are (payload.ts), which Protobuf
 * clients receive unchanged and JSON clients as a JSON string of their base64. Throws ShapeError
 * naming `field` when `b64` is not base64.
 */
export function payloadFromBase64(b64: string, field: string): JsonText {
  if (!BASE64.test(b64)) throw new ShapeError(`${field} is not standard base64`);
  return payloadFromBytes(Buffer.from(b64, 'base64'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The payload of `obj[key]` (its JSON), or of `obj[b64key]` decoded when that is a non-empty string (it wins,
 * as in Centrifugo); undefined when neither is set. `null` counts as unset, as Go reads it.
 */
export function payloadField(obj: Record<string, unknown>, key: string, b64key: string, where: string): JsonText | undefined {
  const b64 = obj[b64key];
  if (b64 !== undefined && b64 !== null && typeof b64 !== 'string') throw new ShapeError(`${where}${b64key} must be a string`);
  if (typeof b64 === 'string' && b64 !== '') return payloadFromBase64(b64, `${where}${b64key}`);
  const value = obj[key];
  return value === undefined || value === null ? undefined : (JSON.stringify(value) as JsonText);
}

/** A Unix time in seconds as an integer; absent, null, 0 (Go's zero value) or negative mean none, as in Centrifugo. */
export function unixSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ShapeError(`${field} must be an integer (Unix seconds), got ${JSON.stringify(value)}`);
  return value > 0 ? value : undefined;
}

const OVERRIDES = ['presence', 'join_leave', 'force_recovery', 'force_positioning', 'force_push_join_leave'] as const;

/** `override`: each present member is `{"value": bool}`; force_push_join_leave is read and ignored (canal pushes join/leave to those who ask). */
export function parseOverride(value: unknown, where: string): SubscribeOverride | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ShapeError(`${where}override must be an object`);
  const out: Record<string, boolean> = {};
  for (const key of OVERRIDES) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (!isObject(v) || (v.value !== undefined && typeof v.value !== 'boolean')) {
      throw new ShapeError(`${where}override.${key} must be {"value": true|false}`);
    }
    if (key !== 'force_push_join_leave') out[key] = v.value === true;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * One subscription's options from `value` (an object; unknown members are ignored, as Go does);
 * `where` prefixes field names in messages (`subs["news:1"].`). `expire_at` is Unix seconds.
 */
export function parseSubscribeOptions(value: unknown, where = ''): SubscribeOptions {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ShapeError(`${where || 'options '}must be an object`);
  const out: { -readonly [K in keyof SubscribeOptions]: SubscribeOptions[K] } = {};
  const info = payloadField(value, 'info', 'b64info', where);
  if (info !== undefined) out.info = info;
  const data = payloadField(value, 'data', 'b64data', where);
  if (data !== undefined) out.data = data;
  const override = parseOverride(value.override, where);
  if (override !== undefined) out.override = override;
  const expireAt = unixSeconds(value.expire_at, `${where}expire_at`);
  if (expireAt !== undefined) out.expiresAt = expireAt * 1000;
  return out;
}
