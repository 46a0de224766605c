/**
 * Server-side handlers for applications that embed canal. Each is optional and async; it may
 * return a result, or throw a ReplyError (the command fails with that code, the connection
 * stays) or a DisconnectError (the connection ends with that code). Any other error is an
 * internal error: logged on the server, sent to the client as code 100 with no details.
 */

/** A connection is being established (its `connect` command arrived). */
export interface ConnectingContext {
  /** The id canal gave this connection. */
  readonly client: string;
  /** The user from the connection token, or '' when there is none. */
  readonly user: string;
  /** The token, when the client sent one (already verified if a token key is configured). */
  readonly token?: string;
  /** The `data` the client sent with connect, parsed. */
  readonly data?: unknown;
  readonly name?: string;
  readonly version?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly remoteAddress?: string;
}

export interface ConnectingResult {
  /** Overrides the user (an empty string makes the connection anonymous). */
  readonly user?: string;
  /** Shown to others as `conn_info` in presence, join/leave and publications. */
  readonly info?: unknown;
  /** Returned to the client in the connect result. */
  readonly data?: unknown;
  /** Channels to subscribe the connection to on the server's side. */
  readonly channels?: readonly string[];
  /** When the connection expires unless refreshed, as Unix time in seconds. */
  readonly expireAt?: number;
}

export interface SubscribeContext {
  readonly client: string;
  readonly user: string;
  readonly channel: string;
  /** The `data` the client sent with subscribe, parsed. */
  readonly data?: unknown;
}

export interface SubscribeHandlerResult {
  /** Shown to others as `chan_info` in this channel's presence, join/leave and publications. */
  readonly info?: unknown;
  /** Returned to the client in the subscribe result. */
  readonly data?: unknown;
}

export interface PublishContext {
  readonly client: string;
  readonly user: string;
  readonly channel: string;
  readonly data: unknown;
}

export interface PublishHandlerResult {
  /** Replaces what is published. */
  readonly data?: unknown;
}

export interface RpcContext {
  readonly client: string;
  readonly user: string;
  readonly method: string;
  readonly data?: unknown;
}

export interface MessageContext {
  readonly client: string;
  readonly user: string;
  readonly data?: unknown;
}

export interface DisconnectContext {
  readonly client: string;
  readonly user: string;
  /** The close code the connection ended with. */
  readonly code: number;
}

/**
 * The handlers. A handler, when given, replaces the namespace's permission check for its
 * action: `onSubscribe` decides who may subscribe (a subscription token, when sent, is still
 * enough on its own), `onPublish` who may publish. Without `onRpc`, every RPC answers 104.
 */
export interface Handlers {
  onConnecting?(ctx: ConnectingContext): Promise<ConnectingResult | void> | ConnectingResult | void;
  onSubscribe?(ctx: SubscribeContext): Promise<SubscribeHandlerResult | void> | SubscribeHandlerResult | void;
  onPublish?(ctx: PublishContext): Promise<PublishHandlerResult | void> | PublishHandlerResult | void;
  onRpc?(ctx: RpcContext): Promise<unknown> | unknown;
  /** An asynchronous `send` from a client (no reply). */
  onMessage?(ctx: MessageContext): Promise<void> | void;
  /** A connected client went away (after its subscriptions were cleaned up). */
  onDisconnect?(ctx: DisconnectContext): void;
}
