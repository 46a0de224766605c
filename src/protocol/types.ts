/**
 * The Centrifugo client protocol v2 (JSON) as canal speaks it: commands in, replies and
 * pushes out. Field names are the wire's (snake_case). `bytes` fields of the protocol (data,
 * conn_info, chan_info) travel as embedded JSON; canal keeps them as {@link JsonText} — the JSON
 * text itself — so a publication is serialised once, when it enters, and never again.
 */

/** JSON text, already serialised (e.g. `{"text":"hi"}` or `"hello"`). */
export type JsonText = string & { readonly __jsonText?: never };

/** A position in a channel's stream: the publication offset within an epoch. */
export interface StreamPosition {
  readonly offset: number;
  readonly epoch: string;
}

/** Who a connection is, as shown in presence, join/leave and publications. */
export interface ClientInfo {
  readonly user: string;
  readonly client: string;
  readonly conn_info?: JsonText;
  readonly chan_info?: JsonText;
}

/** A publication in a channel. `offset` is set when the channel keeps history. */
export interface Publication {
  readonly data: JsonText;
  readonly info?: ClientInfo;
  readonly offset?: number;
  readonly tags?: Readonly<Record<string, string>>;
  /** Unix time in milliseconds when the server accepted it. */
  readonly time?: number;
}

// ---- requests (after decoding and validation) ----

export interface SubscribePosition {
  readonly recover: boolean;
  readonly offset?: number;
  readonly epoch?: string;
}

export interface ConnectRequest {
  readonly token?: string;
  readonly data?: JsonText;
  /** Positions of server-side subscriptions the client held before, to recover them. */
  readonly subs?: Readonly<Record<string, SubscribePosition>>;
  readonly name?: string;
  readonly version?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SubscribeRequest {
  readonly channel: string;
  readonly token?: string;
  readonly recover: boolean;
  readonly offset?: number;
  readonly epoch?: string;
  readonly data?: JsonText;
  readonly positioned: boolean;
  readonly recoverable: boolean;
  readonly join_leave: boolean;
  /** The delta encoding the client asks for (`fossil`); the reply's `delta` says whether it is on. */
  readonly delta?: string;
}

export interface ChannelRequest {
  readonly channel: string;
}

export interface PublishRequest {
  readonly channel: string;
  readonly data: JsonText;
}

export interface HistoryRequest {
  readonly channel: string;
  /** At most this many publications; absent or 0 means none (only the stream position), -1 all. */
  readonly limit?: number;
  readonly since?: StreamPosition;
  readonly reverse: boolean;
}

export interface RpcRequest {
  readonly method: string;
  readonly data?: JsonText;
}

export interface SendRequest {
  readonly data?: JsonText;
}

export interface RefreshRequest {
  readonly token: string;
}

export interface SubRefreshRequest {
  readonly channel: string;
  readonly token: string;
}

/** The methods a client may call, in the protocol's field order. */
export const METHODS = [
  'connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats', 'history',
  'ping', 'send', 'rpc', 'refresh', 'sub_refresh',
] as const;

export type Method = (typeof METHODS)[number];

interface Requests {
  connect: ConnectRequest;
  subscribe: SubscribeRequest;
  unsubscribe: ChannelRequest;
  publish: PublishRequest;
  presence: ChannelRequest;
  presence_stats: ChannelRequest;
  history: HistoryRequest;
  ping: Record<string, never>;
  send: SendRequest;
  rpc: RpcRequest;
  refresh: RefreshRequest;
  sub_refresh: SubRefreshRequest;
}

/** A decoded command: `id` is 0 for `send` (no reply). */
export type Command = { [M in Method]: { readonly id: number; readonly method: M; readonly request: Requests[M] } }[Method];

/** What one line of a client frame is: a command, or the client's answer to a server ping. */
export type Incoming = Command | { readonly method: 'pong' };

// ---- results ----

export interface SubscribeResult {
  readonly expires?: boolean;
  readonly ttl?: number;
  readonly recoverable?: boolean;
  readonly epoch?: string;
  readonly offset?: number;
  readonly publications?: readonly Publication[];
  readonly recovered?: boolean;
  readonly positioned?: boolean;
  readonly data?: JsonText;
  readonly was_recovering?: boolean;
  /** Publications on this subscription may be fossil deltas against the previous one. */
  readonly delta?: boolean;
}

export interface ConnectResult {
  readonly client: string;
  readonly version: string;
  readonly expires?: boolean;
  readonly ttl?: number;
  readonly data?: JsonText;
  readonly subs?: Readonly<Record<string, SubscribeResult>>;
  readonly ping?: number;
  readonly pong?: boolean;
  /** The emulation session id (HTTP streaming and SSE only): the client sends its commands to /emulation with it. */
  readonly session?: string;
  readonly node?: string;
}

export interface RefreshResult {
  readonly client: string;
  readonly version: string;
  readonly expires?: boolean;
  readonly ttl?: number;
}

export interface SubRefreshResult {
  readonly expires?: boolean;
  readonly ttl?: number;
}

export interface HistoryResult {
  readonly publications: readonly Publication[];
  readonly epoch: string;
  readonly offset: number;
}

export interface PresenceResult {
  readonly presence: Readonly<Record<string, ClientInfo>>;
}

export interface PresenceStatsResult {
  readonly num_clients: number;
  readonly num_users: number;
}

export interface RpcResult {
  readonly data?: JsonText;
}

export type EmptyResult = Record<string, never>;

/** The result type of each method, as the reply carries it under the method's name. */
export interface Results {
  connect: ConnectResult;
  subscribe: SubscribeResult;
  unsubscribe: EmptyResult;
  publish: EmptyResult;
  presence: PresenceResult;
  presence_stats: PresenceStatsResult;
  history: HistoryResult;
  ping: EmptyResult;
  send: never;
  rpc: RpcResult;
  refresh: RefreshResult;
  sub_refresh: SubRefreshResult;
}
