/**
 * One named proxy: the events it can be asked about, each one HTTP POST to its endpoint with
 * Centrifugo's body and headers, and its answer read. A backend's `error` or `disconnect`
 * answer is thrown as a ReplyError or DisconnectError with the backend's code; a failure
 * (unreachable, timeout, HTTP status, unreadable answer) is logged here — proxy name, event,
 * client, cause — and thrown as a {@link ProxyError} (the client sees temporary error 100).
 */
import type { ProxySettings } from '../config/proxies.js';
import type { Logger } from '../log.js';
import type { SubscribeOptions } from '../protocol/subscribe-options.js';
import type { JsonText } from '../protocol/types.js';
import { ProxyError, type ProxyEvent } from './errors.js';
import { CallFailure, HttpCaller } from './http-caller.js';
import {
  AnswerError, connectRequest, publishRequest, readConnectAnswer, readPublishAnswer, readRefreshAnswer, readRpcAnswer,
  readSubscribeAnswer, refreshRequest, rpcRequest, subRefreshRequest, subscribeRequest, type ConnectAnswer, type PublishAnswer,
  type CallerFields, type RefreshAnswer,
} from './wire.js';

/** Headers of a client's WebSocket upgrade request, as Node gives them (names in lower case). */
export type UpgradeHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Who a call is about: the connection, and what of it may go to the backend. */
export interface Caller {
  readonly client: string;
  /** How the client is connected: `websocket`, `http_stream` or `sse`. */
  readonly transport: string;
  /** The client protocol's format: `json` or `protobuf`. */
  readonly protocol: string;
  /** The connection's user ('' when anonymous or not yet known). */
  readonly user: string;
  /** The connection's meta (sent only by proxies with include_connection_meta). */
  readonly meta?: JsonText | undefined;
  /** The upgrade request's headers that some proxy forwards (see Proxies.keepHeaders). */
  readonly headers?: UpgradeHeaders | undefined;
  /** Headers the client sent in its connect command (emulation), for emulated_headers. */
  readonly emulated?: Readonly<Record<string, string>> | undefined;
}

export class Proxy {
  readonly name: string;
  readonly settings: ProxySettings;
  readonly #caller: HttpCaller;
  readonly #log: Logger;

  constructor(settings: ProxySettings, log: Logger) {
    this.name = settings.name;
    this.settings = settings;
    this.#log = log;
    this.#caller = new HttpCaller({ endpoint: settings.endpoint, timeoutMs: settings.timeoutMs, keepAlive: settings.keepAlive });
  }

  /** Sockets to the backend, in use and idle, for tests. */
  get sockets(): { busy: number; idle: number } {
    return this.#caller.sockets;
  }

  /** Closes the connections to the backend. */
  close(): void {
    this.#caller.close();
  }

  /** Who connects; undefined when the answer has no result. */
  connect(caller: Caller, request: { data?: JsonText | undefined; name?: string | undefined; version?: string | undefined; channels: readonly string[] }): Promise<ConnectAnswer | undefined> {
    const body = connectRequest({ client: caller.client, transport: caller.transport, protocol: caller.protocol, binary: this.settings.binaryEncoding, ...defined(request), channels: request.channels });
    return this.#call('connect', caller, body, readConnectAnswer);
  }

  /** Whether (and until when) a connection lives on; undefined when the answer has no result. */
  refresh(caller: Caller): Promise<RefreshAnswer | undefined> {
    return this.#call('refresh', caller, refreshRequest(this.#fields(caller)), readRefreshAnswer);
  }

  /** Whether the connection may subscribe to `channel`, and the subscription's options. */
  subscribe(caller: Caller, channel: string, data: JsonText | undefined): Promise<SubscribeOptions> {
    return this.#call('subscribe', caller, subscribeRequest({ ...this.#fields(caller), channel, ...defined({ data }) }), readSubscribeAnswer);
  }

  /** Whether the connection may publish `data` to `channel`, and what to publish instead. */
  publish(caller: Caller, channel: string, data: JsonText): Promise<PublishAnswer> {
    return this.#call('publish', caller, publishRequest({ ...this.#fields(caller), channel, data }), readPublishAnswer);
  }

  /** Whether (and until when) a subscription lives on; undefined when the answer has no result. */
  subRefresh(caller: Caller, channel: string): Promise<RefreshAnswer | undefined> {
    return this.#call('sub_refresh', caller, subRefreshRequest({ ...this.#fields(caller), channel }), readRefreshAnswer);
  }

  /** The result of RPC `method` (JSON text), if any. */
  rpc(caller: Caller, method: string, data: JsonText | undefined): Promise<JsonText | undefined> {
    return this.#call('rpc', caller, rpcRequest({ ...this.#fields(caller), method, ...defined({ data }) }), readRpcAnswer);
  }

  #fields(caller: Caller): CallerFields {
    const out: { -readonly [K in keyof CallerFields]: CallerFields[K] } = {
      client: caller.client, transport: caller.transport, protocol: caller.protocol, user: caller.user, binary: this.settings.binaryEncoding,
    };
    if (this.settings.includeMeta && caller.meta !== undefined) out.meta = caller.meta;
    return out;
  }

  /**
   * The headers of a call: static ones first, then the client's emulated ones this proxy
   * forwards, then its upgrade request's, which win over both (as in Centrifugo).
   */
  #headers(caller: Caller): Record<string, string | readonly string[]> {
    const out: Record<string, string | readonly string[]> = {};
    for (const [name, value] of Object.entries(this.settings.staticHeaders)) out[name.toLowerCase()] = value;
    if (caller.emulated) {
      for (const [name, value] of Object.entries(caller.emulated)) {
        const lower = name.toLowerCase();
        if (this.settings.emulatedHeaders.includes(lower) && !/[\r\n\0]/.test(value)) out[lower] = value;
      }
    }
    if (caller.headers) {
      for (const name of this.settings.httpHeaders) {
        const value = caller.headers[name];
        if (value !== undefined) out[name] = value;
      }
    }
    return out;
  }

  async #call<T>(event: ProxyEvent, caller: Caller, body: string, read: (text: string) => T): Promise<T> {
    const started = performance.now();
    let failure: ProxyError;
    try {
      return read(await this.#caller.post(body, this.#headers(caller)));
    } catch (err) {
      if (err instanceof CallFailure) failure = new ProxyError(this.name, event, err.kind, err.message, { cause: err });
      else if (err instanceof AnswerError) failure = new ProxyError(this.name, event, 'invalid', err.message, { cause: err });
      else throw err; // the backend's own error or disconnect answer
    }
    this.#log.error({
      proxy: this.name, event, client: caller.client, user: caller.user, cause: failure.kind, err: failure.message,
      ms: Math.round(performance.now() - started),
    }, `proxy call failed: ${failure.kind}`);
    throw failure;
  }
}

/** `fields` without its undefined members (exactOptionalPropertyTypes). */
function defined<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
