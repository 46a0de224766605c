/**
 * The two kinds of failure a command can have, kept apart (STYLE rule 2 and 3): a
 * {@link ReplyError} fails one command and leaves the connection open; a
 * {@link DisconnectError} ends the connection with a close code. {@link toWire} is the one
 * place an error becomes a wire value; anything else is an internal error whose details are
 * logged by the caller and never sent.
 */
import { DisconnectCode, DISCONNECTS, ErrorCode, ERRORS, type DisconnectCodeValue, type ErrorCodeValue } from './codes.js';

/** A command failed with a protocol error code; the connection stays open. */
export class ReplyError extends Error {
  readonly code: ErrorCodeValue;
  readonly temporary: boolean;
  /**
   * What the client is told: `message`, unless the error's message is meant for logs only (an
   * engine failure names Redis and its cause; the client is told to try again).
   */
  readonly wireMessage: string;

  /** `message` defaults to the code's sentence; `temporary` to the code's retry rule; `wireMessage` to `message`. */
  constructor(code: ErrorCodeValue, message?: string, options: { temporary?: boolean; wireMessage?: string } = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'ReplyError';
    this.code = code;
    this.temporary = options.temporary ?? ERRORS[code].temporary;
    this.wireMessage = options.wireMessage ?? this.message;
  }
}

/** The connection must end with this close code and reason. */
export class DisconnectError extends Error {
  readonly code: DisconnectCodeValue | number;
  readonly reason: string;

  /** `reason` defaults to the code's sentence; it is cut to 123 bytes (RFC 6455 §5.5). */
  constructor(code: DisconnectCodeValue | number, reason?: string) {
    const text = truncateReason(reason ?? DISCONNECTS[code as DisconnectCodeValue] ?? 'disconnect');
    super(text);
    this.name = 'DisconnectError';
    this.code = code;
    this.reason = text;
  }
}

/**
 * A token (connection or subscription) could not be accepted: `expired`, `invalid` (bad
 * signature, algorithm, claims, or not a JWT at all), or `missing` where one is required. What
 * the client sees depends on where it was used; {@link toWire} decides.
 */
export class AuthError extends Error {
  constructor(readonly kind: 'expired' | 'invalid' | 'missing', message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Where a token was checked: on the connection (connect, refresh) or on one subscription. */
export type AuthContext = 'connection' | 'subscription';

/** A wire error: what the client sees. */
export type WireError =
  | { readonly kind: 'reply'; readonly code: number; readonly message: string; readonly temporary: boolean }
  | { readonly kind: 'disconnect'; readonly code: number; readonly reason: string }
  | { readonly kind: 'internal'; readonly code: 100; readonly message: string; readonly temporary: true; readonly cause: unknown };

/**
 * Turns any thrown value into what goes on the wire. ReplyError and DisconnectError map to
 * themselves; anything else is `internal` (code 100, temporary) and its details stay here.
 */
export function toWire(err: unknown, context: AuthContext = 'connection'): WireError {
  if (err instanceof AuthError) return authToWire(err, context);
  if (err instanceof ReplyError) return { kind: 'reply', code: err.code, message: err.wireMessage, temporary: err.temporary };
  if (err instanceof DisconnectError) return { kind: 'disconnect', code: err.code, reason: err.reason };
  return { kind: 'internal', code: 100, message: ERRORS[100].message, temporary: true, cause: err };
}

/**
 * Token failures: an expired token is 109 everywhere (the client fetches a new one and tries
 * again); a bad connection token ends the connection with 3500 (no reconnect: the same token
 * would fail again); a bad subscription token is 103 on that subscription only; a missing
 * connection token is 101 unauthorized.
 */
function authToWire(err: AuthError, context: AuthContext): WireError {
  if (err.kind === 'expired') return { kind: 'reply', code: ErrorCode.TokenExpired, message: err.message, temporary: false };
  if (context === 'subscription') return { kind: 'reply', code: ErrorCode.PermissionDenied, message: err.message, temporary: false };
  if (err.kind === 'missing') return { kind: 'reply', code: ErrorCode.Unauthorized, message: err.message, temporary: false };
  return { kind: 'disconnect', code: DisconnectCode.InvalidToken, reason: truncateReason(err.message) };
}

/** Close reasons are limited to 123 bytes of UTF-8 (a close frame's payload is at most 125). */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  // Cut whole code points, never half a surrogate pair (it would reach the client as U+FFFD).
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 120) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}
