/**
 * The messages between a test (on Node) and a canal it runs on Bun (test/helpers/bun-host.ts),
 * over Node's IPC channel with JSON serialization, and how values cross it: bytes (Protobuf
 * publication data) as tagged base64, errors as their name, code and message, so a hook's
 * ReplyError or DisconnectError is thrown again as one on the other side.
 */
import { DisconnectError, ReplyError } from '../../src/protocol/errors.js';

/** What the test sends to the host. */
export type ToHost =
  | { readonly t: 'start'; readonly options: unknown; readonly hooks: readonly string[]; readonly logLevel?: string }
  | { readonly t: 'call'; readonly id: number; readonly method: 'publish' | 'metricsText' | 'close' | 'sync'; readonly args: unknown[] }
  | { readonly t: 'hookReply'; readonly id: number; readonly ok: boolean; readonly value: unknown };

/** What the host sends to the test. */
export type FromHost =
  | { readonly t: 'started'; readonly port: number; readonly apiKey?: string; readonly tokenSecret?: string; readonly nodeId: string; readonly nodeName: string }
  | { readonly t: 'startFailed'; readonly error: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: boolean; readonly value: unknown }
  | { readonly t: 'hook'; readonly id: number; readonly name: string; readonly ctx: unknown }
  | { readonly t: 'log'; readonly line: string };

/** A value made fit for JSON: bytes become `{ $bytes: base64 }`; everything else is walked as is. */
export function encode(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v);
    return out;
  }
  return value;
}

/** The value {@link encode} made, back: tagged bytes become a Uint8Array. */
export function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    const bytes = (value as { $bytes?: unknown }).$bytes;
    if (typeof bytes === 'string' && Object.keys(value).length === 1) return new Uint8Array(Buffer.from(bytes, 'base64'));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = decode(v);
    return out;
  }
  return value;
}

/** An error as it crosses: enough to throw the same kind again. */
interface CrossingError {
  readonly $error: string;
  readonly message: string;
  readonly code?: unknown;
  readonly temporary?: boolean;
  readonly reason?: string;
}

export function encodeError(err: unknown): CrossingError {
  if (!(err instanceof Error)) return { $error: 'Error', message: String(err) };
  const e = err as Error & { code?: unknown; temporary?: boolean; reason?: string };
  return {
    $error: e.name, message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.temporary !== undefined ? { temporary: e.temporary } : {}),
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
  };
}

/** The error {@link encodeError} described: a ReplyError or DisconnectError again, else an Error with its name and code. */
export function decodeError(value: unknown): Error {
  const e = value as CrossingError;
  if (e.$error === 'ReplyError') return new ReplyError(e.code as never, e.message, e.temporary !== undefined ? { temporary: e.temporary } : {});
  if (e.$error === 'DisconnectError') return new DisconnectError(e.code as number, e.reason);
  const err = Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {});
  err.name = e.$error;
  return err;
}
