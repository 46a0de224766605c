/**
 * The engine seam: what canal needs from the place where publications, history and presence
 * live. It speaks the domain (publish, history, presence), never a store's commands, so the
 * in-memory engine and the Redis engine implement the same contract and pass the same suites
 * (test/contract/). Every method is async so a networked engine fits without changing callers.
 */
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';
import type { ClientInfo, Publication, JsonText, StreamPosition } from '../protocol/types.js';

/** A publication as it enters the broker, before it has a place in a stream. */
export interface PublicationInput {
  readonly data: JsonText;
  readonly info?: ClientInfo;
  readonly tags?: Readonly<Record<string, string>>;
}

/** How a channel keeps history; `size` 0 means no history (publications get no offset). */
export interface HistoryOptions {
  /** At most this many publications are kept. */
  readonly size: number;
  /** A publication is kept this long. */
  readonly ttlMs: number;
  /**
   * The stream's offset and epoch are kept this long after its last publish (default `ttlMs`),
   * so a quiet channel keeps its epoch after its publications expired.
   */
  readonly metaTtlMs?: number;
}

export interface PublishOptions {
  readonly history: HistoryOptions;
  /**
   * When set, a second publish with the same key within `idempotencyTtlMs` publishes nothing
   * and resolves with the first one's position.
   */
  readonly idempotencyKey?: string;
  readonly idempotencyTtlMs?: number;
}

export interface HistoryQuery {
  /** Return publications after this position; a different epoch is an UnrecoverablePositionError. */
  readonly since?: StreamPosition;
  /** At most this many publications; 0 returns none (only the position), -1 all there are. */
  readonly limit: number;
  /** Newest first. */
  readonly reverse?: boolean;
  /** The channel's history options, so an engine can expire and trim on read. */
  readonly history: HistoryOptions;
  /**
   * A read of a stream that has no publication yet hands out an epoch that a first publish must
   * keep; that epoch (and nothing else) is kept this long after each such read (default
   * `history.ttlMs`). Short, so reading never-published channels leaves nothing for long.
   */
  readonly emptyTtlMs?: number;
}

export interface HistoryPage {
  /** In stream order (oldest first), or newest first with `reverse`. */
  readonly publications: readonly Publication[];
  /** The stream's current top: the offset of its newest publication, and its epoch. */
  readonly position: StreamPosition;
}

/**
 * `since` names an epoch the stream no longer has, or an offset past its top. On the wire it is
 * reply error 112 (`unrecoverable position: <reason>`), wherever it surfaces.
 */
export class UnrecoverablePositionError extends ReplyError {
  constructor(reason = 'the stream no longer has this position') {
    super(ErrorCode.UnrecoverablePosition, `unrecoverable position: ${reason}`);
    this.name = 'UnrecoverablePositionError';
  }
}

/**
 * The engine could not be reached or did not answer in time. `message` says what failed, for
 * logs; on the wire it is temporary reply error 100 `temporarily unavailable, try again` (the
 * client retries), wherever it surfaces.
 */
export class EngineUnavailableError extends ReplyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Internal, message, { temporary: true, wireMessage: 'temporarily unavailable, try again' });
    this.name = 'EngineUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * A message between nodes, e.g. the server API disconnecting a user whose connections may be
 * on any node. JSON-serialisable; `op` says what it is.
 */
export interface ControlMessage {
  readonly op: string;
  readonly [field: string]: unknown;
}

/** What a node tells the others about itself (the server API's `info`). */
export interface NodeSummary {
  readonly uid: string;
  readonly name: string;
  readonly version: string;
  readonly num_clients: number;
  readonly num_users: number;
  readonly num_channels: number;
  readonly num_subs: number;
  readonly uptime: number;
}

/** Which nodes are alive: each announces itself periodically; silent ones drop out. */
export interface NodeRegistry {
  /** Records this node's summary; it is listed for `ttlMs` unless announced again. */
  announce(summary: NodeSummary, ttlMs: number): Promise<void>;
  /** Every node announced within its TTL, this one included. */
  list(): Promise<NodeSummary[]>;
}

/** Receives what the broker delivers to this node. Called in stream order per channel. */
export interface BrokerEventHandler {
  /** A publication in a channel this node is subscribed to; `position.offset` is 0 without history. */
  onPublication(channel: string, pub: Publication, position: StreamPosition): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
  /**
   * The broker may have lost deliveries for `channel` (or for every channel when undefined),
   * e.g. its connection to Redis dropped and came back (re-subscribed). The node checks those
   * channels against their streams and repairs what is missing.
   */
  onInsufficientState(channel?: string): void;
  /** A control message from any node (this one included). */
  onControl(message: ControlMessage): void;
}

/**
 * Publish/subscribe between nodes, plus each channel's history stream. Within a channel,
 * publications are delivered in the order of their offsets to every node subscribed to it.
 */
export interface Broker {
  /** Starts delivering to `handler`; call once before anything else. */
  start(handler: BrokerEventHandler): Promise<void>;

  /**
   * Publishes to `channel`: with history, the publication is appended to the stream (next
   * offset) before the promise resolves and before it is delivered; then it reaches every
   * node subscribed to `channel` exactly once. Resolves with the stream's new top
   * (`{offset: 0, epoch: ''}` without history).
   */
  publish(channel: string, pub: PublicationInput, options: PublishOptions): Promise<StreamPosition>;

  /** Delivers a join to every node subscribed to `channel` (not kept in history). */
  publishJoin(channel: string, info: ClientInfo): Promise<void>;

  /** Delivers a leave to every node subscribed to `channel` (not kept in history). */
  publishLeave(channel: string, info: ClientInfo): Promise<void>;

  /** This node starts receiving `channel`'s deliveries. Idempotent. */
  subscribe(channel: string): Promise<void>;

  /** This node stops receiving `channel`'s deliveries. Idempotent. */
  unsubscribe(channel: string): Promise<void>;

  /**
   * Reads `channel`'s history. Without a stream (never published, or expired) the position is
   * offset 0 with a fresh epoch, which a publish within `query.emptyTtlMs` keeps. Throws
   * {@link UnrecoverablePositionError} when `since` does not fit the stream.
   */
  history(channel: string, query: HistoryQuery): Promise<HistoryPage>;

  /** Forgets `channel`'s publications; its offset and epoch are kept, so positions stay valid. */
  removeHistory(channel: string): Promise<void>;

  /** Delivers `message` to every node, this one included. Not ordered with publications. */
  publishControl(message: ControlMessage): Promise<void>;

  /** Stops; pending calls may fail. */
  close(): Promise<void>;
}

export interface PresenceStats {
  readonly numClients: number;
  readonly numUsers: number;
}

/**
 * Who is in each channel, across nodes. An entry lives `ttlMs` after its last `add` unless
 * removed, so the entries of a node that died disappear on their own.
 */
export interface PresenceManager {
  /** Adds or refreshes `info.client` in `channel`. */
  add(channel: string, info: ClientInfo, ttlMs: number): Promise<void>;
  /** Removes `clientId` from `channel`; no error when absent. */
  remove(channel: string, clientId: string): Promise<void>;
  /** Every live entry, keyed by client id. */
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  /** Counts of live clients and distinct users, without listing them. */
  stats(channel: string): Promise<PresenceStats>;
  close(): Promise<void>;
}

/** What {@link UserConnections.admit} decided. */
export type Admission =
  | { readonly admitted: true; readonly seq: number }
  | { readonly admitted: false; readonly count: number };

/**
 * The live connections of each user, across every node that shares the engine: what a per-user
 * connection limit counts. An entry lives `ttlMs` after its last admit or renew unless removed,
 * so the connections of a node that died stop counting on their own.
 */
export interface UserConnections {
  /**
   * Counts connection `client` of `user` if the user has fewer than `limit` live connections
   * (0: no limit), checking and counting in one atomic step across every node, so two nodes
   * can never both admit the last place. Admitting a client already counted renews it. Resolves
   * with a sequence number larger than that of every earlier admission of the user still
   * counted (so the newest connection is the one with the largest), or with the count that
   * refused it.
   */
  admit(user: string, client: string, limit: number, ttlMs: number): Promise<Admission>;
  /** Renews the entry of `client` for `ttlMs`, or counts it again if the store lost it (a restarted Redis). */
  renew(user: string, client: string, ttlMs: number): Promise<void>;
  /** Stops counting `client`; no error when it is not counted. */
  remove(user: string, client: string): Promise<void>;
  /** How many live connections `user` has. */
  count(user: string): Promise<number>;
}

/** A broker and a presence manager that share a backend. */
export interface Engine {
  /** `memory` or `redis`, for logs and the info API. */
  readonly name: string;
  readonly broker: Broker;
  readonly presence: PresenceManager;
  readonly nodes: NodeRegistry;
  /**
   * Per-user connection counts across nodes (user_connection_limit, single_connection). An
   * engine made outside canal may leave it out: each node then counts its own connections only.
   */
  readonly users?: UserConnections;
  close(): Promise<void>;
}
