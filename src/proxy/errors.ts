/**
 * A proxy call that failed: the backend could not be reached, did not answer within the proxy's
 * timeout, answered an HTTP status other than 200, or answered something that is not a proxy
 * answer. As in Centrifugo, the client sees internal error 100, temporary (it retries); the
 * details — proxy name, event, cause — are for the log line the proxy writes, never for the wire.
 * (A backend's own `error` or `disconnect` answer is not a failure: it reaches the client as is.)
 */
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';

/** The events canal proxies, as Centrifugo names them. */
export type ProxyEvent = 'connect' | 'refresh' | 'subscribe' | 'publish' | 'sub_refresh' | 'rpc';

/** Why a call failed. */
export type ProxyFailureKind = 'unreachable' | 'timeout' | 'status' | 'invalid';

/** What the client is told, by kind (docs/proxy.md, "When the backend fails"). */
export const PROXY_FAILURE_MESSAGES: Readonly<Record<ProxyFailureKind, string>> = {
  unreachable: 'internal server error: the backend could not be reached, try again',
  timeout: 'internal server error: the backend did not answer in time, try again',
  status: 'internal server error: the backend failed, try again',
  invalid: 'internal server error: the backend\'s answer could not be read',
};

export class ProxyError extends ReplyError {
  readonly proxy: string;
  readonly event: ProxyEvent;
  readonly kind: ProxyFailureKind;

  /** `detail` says what happened, for the log (`connect ECONNREFUSED 127.0.0.1:5000`, `HTTP 500`). */
  constructor(proxy: string, event: ProxyEvent, kind: ProxyFailureKind, detail: string, options?: { cause?: unknown }) {
    super(ErrorCode.Internal, `proxy "${proxy}" (${event}): ${detail}`, { temporary: true, wireMessage: PROXY_FAILURE_MESSAGES[kind] });
    this.name = 'ProxyError';
    this.proxy = proxy;
    this.event = event;
    this.kind = kind;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
