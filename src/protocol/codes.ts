/**
 * Every wire code canal sends, as stable numbers with a sentence each (docs/errors.md lists
 * the same table; a test keeps them in step). Numbers follow the Centrifugo client protocol so
 * the official SDKs react as documented.
 */

/**
 * Reply error codes: the command failed, the connection stays open. `temporary` tells the
 * client it may retry (the centrifuge SDK retries connect/subscribe on temporary errors).
 */
export const ErrorCode = {
  Internal: 100,
  Unauthorized: 101,
  UnknownChannel: 102,
  PermissionDenied: 103,
  MethodNotFound: 104,
  AlreadySubscribed: 105,
  LimitExceeded: 106,
  BadRequest: 107,
  NotAvailable: 108,
  TokenExpired: 109,
  Expired: 110,
  TooManyRequests: 111,
  UnrecoverablePosition: 112,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The default message and retry rule of each reply error code. */
export const ERRORS: Readonly<Record<ErrorCodeValue, { readonly message: string; readonly temporary: boolean }>> = {
  100: { message: 'internal server error', temporary: true },
  101: { message: 'unauthorized', temporary: false },
  102: { message: 'unknown channel', temporary: false },
  103: { message: 'permission denied', temporary: false },
  104: { message: 'method not found', temporary: false },
  105: { message: 'already subscribed', temporary: false },
  106: { message: 'limit exceeded', temporary: false },
  107: { message: 'bad request', temporary: false },
  108: { message: 'not available', temporary: false },
  109: { message: 'token expired', temporary: false },
  110: { message: 'expired', temporary: false },
  111: { message: 'too many requests', temporary: true },
  112: { message: 'unrecoverable position', temporary: false },
};

/**
 * Disconnect codes, sent as the WebSocket close code with a plain-text reason. The range says
 * whether the client reconnects: 3000-3499 (and 4000-4499, for applications) reconnect;
 * 3500-3999 (and 4500-4999) do not. The reason is never empty: the centrifuge SDK applies the
 * no-reconnect range only when a reason is present.
 */
export const DisconnectCode = {
  ConnectionClosed: 3000,
  Shutdown: 3001,
  ServerError: 3004,
  Expired: 3005,
  SubExpired: 3006,
  Slow: 3008,
  WriteError: 3009,
  InsufficientState: 3010,
  ForceReconnect: 3011,
  NoPong: 3012,
  TooManyRequests: 3013,
  StateInvalidated: 3014,
  InvalidToken: 3500,
  BadRequest: 3501,
  Stale: 3502,
  ForceNoReconnect: 3503,
  ConnectionLimit: 3504,
  ChannelLimit: 3505,
  InappropriateProtocol: 3506,
  PermissionDenied: 3507,
  NotAvailable: 3508,
  TooManyErrors: 3509,
} as const;

export type DisconnectCodeValue = (typeof DisconnectCode)[keyof typeof DisconnectCode];

/** The default reason of each disconnect code. */
export const DISCONNECTS: Readonly<Record<DisconnectCodeValue, string>> = {
  3000: 'connection closed',
  3001: 'shutdown',
  3004: 'internal server error',
  3005: 'connection expired',
  3006: 'subscription expired',
  3008: 'slow',
  3009: 'write error',
  3010: 'insufficient state',
  3011: 'force reconnect',
  3012: 'no pong',
  3013: 'too many requests',
  3014: 'state invalidated',
  3500: 'invalid token',
  3501: 'bad request',
  3502: 'stale',
  3503: 'force disconnect',
  3504: 'connection limit',
  3505: 'channel limit',
  3506: 'inappropriate protocol',
  3507: 'permission denied',
  3508: 'not available',
  3509: 'too many errors',
};

/** Whether a client should reconnect after a disconnect with `code` (the range rule). */
export function reconnects(code: number): boolean {
  return (code >= 3000 && code < 3500) || (code >= 4000 && code < 4500);
}

/**
 * WebSocket close codes (RFC 6455 §7.4.1) for clients that do not speak the protocol: plain
 * clients on /raw/<channel> and the echo endpoint. `ws` itself closes with 1002 (a frame that
 * breaks RFC 6455), 1007 (text that is not UTF-8) and 1009 (a message over the size limit); on
 * Bun canal sends that 1009 itself.
 */
export const CloseCode = {
  /** A close that ends a conversation on purpose; `canal connect` sends it when its input ends. */
  Normal: 1000,
  /** The server is going away (shutdown). */
  GoingAway: 1001,
  /** A binary message where only text is taken. */
  UnsupportedData: 1003,
  /** Never sent (RFC 6455 §7.4.1): what a close frame that carries no code reads as. */
  NoStatus: 1005,
  /** The client may not do what it did, or did it too much (read-only, too fast, too slow, refused). */
  PolicyViolation: 1008,
  /** A message larger than the endpoint's limit. */
  MessageTooBig: 1009,
  /** The server failed; the client may try again. */
  InternalError: 1011,
} as const;

/**
 * Unsubscribe push codes: below 2500 the client stays unsubscribed; from 2500 it subscribes
 * again at once (recovering when it can).
 */
export const UnsubscribeCode = {
  Server: 2000,
  InsufficientState: 2500,
  Expired: 2501,
} as const;

export type UnsubscribeCodeValue = (typeof UnsubscribeCode)[keyof typeof UnsubscribeCode];

export const UNSUBSCRIBES: Readonly<Record<UnsubscribeCodeValue, string>> = {
  2000: 'server unsubscribe',
  2500: 'insufficient state',
  2501: 'subscription expired',
};
