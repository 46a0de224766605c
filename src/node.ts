/**
 * The node: one canal process's view of channels. It receives the broker's deliveries and
 * hands them to the hub, and offers sessions and the server API the domain operations —
 * publish, history, presence, local subscribe — with namespace rules applied. It also keeps
 * the registry of connected sessions by client id and by user.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from './config/schema.js';
import type { NamespaceOptions } from './config/namespaces.js';
import { devNamespaces } from './config/namespaces.js';
import {
  type Broker, type BrokerEventHandler, type ControlMessage, type Engine, type HistoryOptions, type HistoryPage,
  type HistoryQuery, type NodeSummary, type PresenceStats, type UserConnections,
} from './engine/types.js';
import { MemoryUserConnections } from './engine/memory/memory-users.js';
import { Hub, type PlainSubscriber, type ProtocolSubscriber } from './hub/hub.js';
import type { Metrics } from './metrics.js';
import type { Logger } from './log.js';
import { checkChannelName, namespaceOf } from './protocol/channel.js';
import { DisconnectCode, ErrorCode } from './protocol/codes.js';
import { ReplyError } from './protocol/errors.js';
import type { ClientInfo, Publication, JsonText, StreamPosition } from './protocol/types.js';
import { StreamTracker } from './stream-tracker.js';
import { globMatcher } from './util/glob.js';
import { KeyedLock } from './util/keyed-lock.js';

/** What the node needs from a connected session (for the server API and the heartbeat). */
export interface SessionHandle {
  readonly id: string;
  readonly user: string;
  /** The number the engine gave this connection when it counted it (user_connection_limit, single_connection). */
  readonly admission?: number | undefined;
  /** Channels the session is subscribed to. */
  channels(): Iterable<string>;
  /** Ends the connection with `code` and `reason`. */
  disconnect(code: number, reason: string): void;
  /** The broker may have lost deliveries: positioned subscriptions (of `channel`, or all) must recover. */
  insufficientState(channel?: string): void;
  /** Subscribes the connection to `channel` from the server's side (a subscribe push tells the client). */
  serverSubscribe(channel: string): Promise<void>;
  /** Ends the connection's subscription to `channel` (an unsubscribe push with code 2000). */
  serverUnsubscribe(channel: string): void;
  /** Sets when the connection expires (Unix ms), or removes its expiry. */
  setExpiry(expiresAt: number | undefined): void;
  /** Renews the connection's presence entries. */
  refreshPresence(): void;
  /** The heartbeat's tick: ends what expired, asks refresh proxies, renews presence and the user count. */
  tick(nowMs: number): void;
  /** The heartbeat's application-level ping. */
  ping(): void;
  /** Ends the connection (3012) when the last ping got no pong. */
  checkPong(): void;
}

export interface PublishInput {
  readonly data: JsonText;
  readonly info?: ClientInfo;
  readonly tags?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
  /** Publish without keeping it in history (it gets no offset). */
  readonly skipHistory?: boolean;
}

/** How long an idempotency key remembers its publication (Centrifugo's window). */
const IDEMPOTENCY_TTL_MS = 5 * 60_000;

/** How often a node announces itself to the others, and how long an announcement lasts. */
const ANNOUNCE_EVERY_MS = 5000;
const ANNOUNCE_TTL_MS = 3 * ANNOUNCE_EVERY_MS;

/** Control messages: server API actions on a user's connections, wherever they are. */
export type UserAction =
  | { readonly op: 'channels_request'; readonly user?: undefined; readonly id: string; readonly from: string; readonly pattern?: string }
  | EmulationAction
  | {
    readonly op: 'channels_reply'; readonly user?: undefined; readonly id: string; readonly to: string; readonly node: string;
    readonly name: string; readonly channels: Record<string, number>;
  }
  | {
    readonly op: 'disconnect'; readonly user: string; readonly client?: string; readonly code: number; readonly reason: string;
    /** Only the connections counted before this admission number (single_connection: the user's older ones). */
    readonly before?: number;
  }
  | { readonly op: 'subscribe'; readonly user: string; readonly client?: string; readonly channel: string }
  | { readonly op: 'unsubscribe'; readonly user: string; readonly client?: string; readonly channel: string }
  | { readonly op: 'refresh'; readonly user: string; readonly client?: string; readonly expired?: boolean; readonly expireAt?: number };

/**
 * Commands of an emulated connection (HTTP streaming, SSE) that reached another node's
 * /emulation: they go to the node holding the session (`node`). `data` is the commands' text
 * (JSON) or their bytes in base64 (Protobuf, `binary`).
 */
export interface EmulationAction {
  readonly op: 'emulation';
  readonly user?: undefined;
  readonly node: string;
  readonly session: string;
  readonly data: string;
  readonly binary: boolean;
}

export class CanalNode implements BrokerEventHandler {
  /** A unique id of this process, for the info API and logs. */
  readonly id = randomUUID();
  /** host_port; set again once the server listens (a configured port 0 becomes the real one). */
  name: string;
  readonly startedAt = Date.now();
  readonly hub = new Hub();
  readonly engine: Engine;
  /** Per-user connection counts: the engine's, across nodes, or this node's own for an engine without them. */
  readonly users: UserConnections;
  readonly #broker: Broker;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #namespaces: Record<string, NamespaceOptions>;
  readonly #locks = new KeyedLock();
  /**
   * Connected sessions. A Set, not a Map by client id: nothing looks a session up by id on a hot
   * path, and a Map entry holds a key beside the value (issue 17, idle memory).
   */
  readonly #sessions = new Set<SessionHandle>();
  /**
   * Connected sessions by user: the session itself while the user has one here (most users), a
   * Set from the second on. A Set for every user cost 213 bytes per user with one connection
   * against 54 for the session itself (key and map entry included; V8 heap, Node 20).
   * Anonymous sessions (user '') are not here, only counted in {@link #anonymous}: all of them
   * under '' made one Set as large as the node, a second registry of every anonymous connection
   * (about 100 bytes each on Bun, docs/benchmarks.md) for the rare action aimed at user ''.
   */
  readonly #users = new Map<string, SessionHandle | Set<SessionHandle>>();
  /** Connected anonymous sessions: see {@link #users}. */
  #anonymous = 0;
  readonly #version: string;
  #announcer: NodeJS.Timeout | undefined;
  /** Per channel with history and local subscribers: what was delivered; repairs gaps. */
  readonly streams: StreamTracker;
  /** Where commands for this node's emulated sessions go (set by the transport that holds them). */
  onEmulation: ((action: EmulationAction) => void) | undefined;
  /** Cluster-wide channels queries waiting for the other nodes' replies, by id. */
  readonly #channelQueries = new Map<string, (reply: { node: string; name: string; channels: Record<string, number> }) => void>();

  constructor(engine: Engine, config: Config, log: Logger, version: string, metrics?: Metrics) {
    this.engine = engine;
    this.#version = version;
    this.#metrics = metrics;
    this.#broker = engine.broker;
    this.users = engine.users ?? new MemoryUserConnections();
    this.#config = config;
    this.#log = log;
    this.name = `${hostname()}_${config.port}`;
    // Dev mode adds the demo namespaces; namespaces from the configuration win.
    this.#namespaces = config.dev
      ? { ...devNamespaces({ moderation: config.demo_moderation_endpoint !== undefined }), ...config.namespaces }
      : { ...config.namespaces };
    this.streams = new StreamTracker({
      history: (channel, ns, query) => this.history(channel, ns, query),
      deliver: (channel, pub, position) => this.#deliver(channel, pub, position),
      positionedSubscribers: (channel) => this.#sessionsIn(channel).map((s) => () => s.insufficientState(channel)),
    }, { checkIntervalMs: config.position_check_interval, disconnectWindowMs: config.insufficient_state_window, log });
  }

  /** Connects the node to its broker and starts announcing it to the others; call once before serving. */
  async start(): Promise<void> {
    await this.#broker.start(this);
    this.streams.start();
    await this.#announce();
    this.#announcer = setInterval(() => void this.#announce(), ANNOUNCE_EVERY_MS);
    this.#announcer.unref();
  }

  /**
   * Renames the node (once the server listens, its real port is known) and announces the new name
   * at once, so the other nodes' `info` does not show the old one for up to ANNOUNCE_EVERY_MS.
   */
  rename(name: string): void {
    if (name === this.name) return;
    this.name = name;
    if (this.#announcer !== undefined) void this.#announce();
  }

  /** Stops announcing; the engine is closed by its owner. */
  stop(): void {
    clearInterval(this.#announcer);
    this.streams.stop();
  }

  /** This node's figures, as the server API's info reports them. */
  summary(): NodeSummary {
    return {
      uid: this.id,
      name: this.name,
      version: this.#version,
      num_clients: this.numClients,
      num_users: this.numUsers,
      num_channels: this.hub.numChannels,
      num_subs: this.hub.numSubscriptions,
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }

  async #announce(): Promise<void> {
    try {
      await this.engine.nodes.announce(this.summary(), ANNOUNCE_TTL_MS);
    } catch (err) {
      this.#metrics?.engineError('announce');
      this.#log.warn({ err }, 'could not announce this node to the engine');
    }
  }

  /** Every live node, with this one's figures fresh. */
  async nodes(): Promise<NodeSummary[]> {
    const others = (await this.engine.nodes.list()).filter((n) => n.uid !== this.id);
    return [this.summary(), ...others];
  }

  // ---- namespaces ----

  /** The options of `channel`'s namespace, or undefined when the namespace is not configured. */
  namespace(channel: string): NamespaceOptions | undefined {
    const ns = namespaceOf(channel);
    if (ns === '') return this.#config.default_namespace;
    // Own properties only: "constructor:x" or "__proto__:x" must not find Object's members.
    return Object.hasOwn(this.#namespaces, ns) ? this.#namespaces[ns] : undefined;
  }

  /** Checks `channel`'s name (107) and that its namespace exists (102); returns its options. */
  requireNamespace(channel: string): NamespaceOptions {
    checkChannelName(channel, this.#config.channel_max_length);
    const options = this.namespace(channel);
    if (!options) {
      const known = Object.keys(this.#namespaces).map((n) => `"${n}:"`).join(', ') || 'none';
      throw new ReplyError(ErrorCode.UnknownChannel, `unknown namespace "${namespaceOf(channel)}" (namespaces: ${known})`);
    }
    return options;
  }

  /**
   * The personal channel of `user` — `<ns>:#<user>` for the namespace with user_personal_channel
   * (`#<user>` in the default namespace) — or undefined when no namespace has one.
   */
  personalChannel(user: string): string | undefined {
    if (this.#config.default_namespace.user_personal_channel) return `#${user}`;
    for (const [name, ns] of Object.entries(this.#namespaces)) if (ns.user_personal_channel) return `${name}:#${user}`;
    return undefined;
  }

  /** How long a connection counts for its user after its last renewal: two heartbeats at least, as presence. */
  get userConnectionTtl(): number {
    return Math.max(this.#config.presence_ttl, 2 * this.#config.ping_interval);
  }

  /** Namespace names, for messages. */
  namespaceNames(): string[] {
    return Object.keys(this.#namespaces);
  }

  // ---- broker events ----

  onPublication(channel: string, pub: Publication, position: StreamPosition): void {
    this.streams.onPublication(channel, pub, position);
  }

  #deliver(channel: string, pub: Publication, position: StreamPosition): void {
    const delivered = this.hub.publish(channel, pub, position);
    this.#metrics?.delivered(pub.time === undefined ? 0 : Date.now() - pub.time, delivered);
  }

  onJoin(channel: string, info: ClientInfo): void {
    const sent = this.hub.join(channel, info);
    if (sent > 0) this.#metrics?.sent('join_leave', sent);
  }

  onLeave(channel: string, info: ClientInfo): void {
    const sent = this.hub.leave(channel, info);
    if (sent > 0) this.#metrics?.sent('join_leave', sent);
  }

  onControl(message: ControlMessage): void {
    const action = message as unknown as UserAction;
    if (action.op === 'emulation') {
      if (action.node === this.id) this.onEmulation?.(action);
      return;
    }
    if (action.op === 'channels_request') {
      void this.#answerChannels(action.id, action.from, action.pattern);
      return;
    }
    if (action.op === 'channels_reply') {
      if (action.to === this.id) this.#channelQueries.get(action.id)?.({ node: action.node, name: action.name, channels: action.channels });
      return;
    }
    const targets = this.sessionsOf(action.user).filter((s) => (action.client === undefined || s.id === action.client)
      && (action.op !== 'disconnect' || action.before === undefined || (s.admission !== undefined && s.admission < action.before)));
    for (const session of targets) {
      switch (action.op) {
        case 'disconnect':
          session.disconnect(action.code, action.reason);
          break;
        case 'subscribe':
          session.serverSubscribe(action.channel).catch((err: unknown) => this.#log.warn({ err, channel: action.channel }, 'server-side subscribe failed'));
          break;
        case 'unsubscribe':
          session.serverUnsubscribe(action.channel);
          break;
        case 'refresh':
          if (action.expired) session.disconnect(DisconnectCode.Expired, 'connection expired');
          else session.setExpiry(action.expireAt);
          break;
      }
    }
  }

  /** Applies a server API action to `user`'s connections on every node. */
  async control(action: UserAction): Promise<void> {
    await this.#broker.publishControl(action as unknown as ControlMessage);
  }

  onInsufficientState(channel?: string): void {
    // Repaired here, not by disconnecting: each channel is checked against its stream, and what
    // is missing is read from history; only what history no longer has costs a 3010.
    this.#log.warn({ channel, tracked: this.streams.size }, 'broker may have lost publications; checking channels against history');
    this.streams.check(channel);
    // The engine may have lost presence too (a restarted Redis keeps nothing): renew it now, not at the next tick.
    for (const session of [...this.#sessions.values()]) session.refreshPresence();
  }

  /** Connected sessions subscribed to `channel` on this node. */
  #sessionsIn(channel: string): SessionHandle[] {
    const out: SessionHandle[] = [];
    for (const session of this.#sessions.values()) {
      for (const c of session.channels()) {
        if (c === channel) {
          out.push(session);
          break;
        }
      }
    }
    return out;
  }

  // ---- cluster-wide channels ----

  /** This node's channels with local subscribers matching `match`, with their counts. */
  localChannels(match: (channel: string) => boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (const channel of this.hub.channels()) if (match(channel)) out[channel] = this.hub.count(channel);
    return out;
  }

  /** Answers another node's channels query (through the broker, to every node; the asker keeps it). */
  async #answerChannels(id: string, from: string, pattern: string | undefined): Promise<void> {
    if (from === this.id) return;
    const match = pattern === undefined ? () => true : globMatcher(pattern);
    const reply: UserAction = { op: 'channels_reply', id, to: from, node: this.id, name: this.name, channels: this.localChannels(match) };
    try {
      await this.#broker.publishControl(reply as unknown as ControlMessage);
    } catch (err) {
      this.#log.warn({ err }, 'could not answer a channels query');
    }
  }

  /**
   * The channels with subscribers on every live node, merged (counts summed). Asks the other
   * nodes through the broker and waits for each (as the node registry lists them) up to
   * `timeoutMs`; nodes that did not answer in time are listed in `missing`.
   */
  async clusterChannels(pattern: string | undefined, timeoutMs: number): Promise<{ channels: Record<string, number>; missing: string[] }> {
    const merged = this.localChannels(pattern === undefined ? () => true : globMatcher(pattern));
    const others = (await this.engine.nodes.list()).filter((n) => n.uid !== this.id);
    if (others.length === 0) return { channels: merged, missing: [] };
    const id = randomUUID();
    const waiting = new Map(others.map((n) => [n.uid, n.name]));
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#channelQueries.set(id, (reply) => {
        if (!waiting.delete(reply.node)) return;
        for (const [channel, n] of Object.entries(reply.channels)) merged[channel] = (merged[channel] ?? 0) + n;
        if (waiting.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      const request: UserAction = pattern === undefined ? { op: 'channels_request', id, from: this.id } : { op: 'channels_request', id, from: this.id, pattern };
      await this.#broker.publishControl(request as unknown as ControlMessage);
      await done;
    } finally {
      this.#channelQueries.delete(id);
    }
    return { channels: merged, missing: [...waiting.values()] };
  }

  // ---- operations ----

  /** Publishes to `channel` with its namespace's history settings. Throws ReplyError on a bad channel. */
  async publish(channel: string, input: PublishInput): Promise<StreamPosition> {
    const ns = this.requireNamespace(channel);
    const history = input.skipHistory ? { size: 0, ttlMs: 0 } : historyOf(ns);
    return this.#broker.publish(channel, { data: input.data, ...(input.info ? { info: input.info } : {}), ...(input.tags ? { tags: input.tags } : {}) }, {
      history,
      ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey, idempotencyTtlMs: IDEMPOTENCY_TTL_MS } : {}),
    });
  }

  /**
   * Reads `channel`'s history (the namespace must keep history; the caller checks). A read of a
   * never-published channel keeps the epoch it hands out for three position-check intervals,
   * and each check of a channel with subscribers renews it; nothing else is left behind.
   */
  history(channel: string, ns: NamespaceOptions, query: Omit<HistoryQuery, 'history'>): Promise<HistoryPage> {
    return this.#broker.history(channel, { ...query, history: historyOf(ns), emptyTtlMs: 3 * this.#config.position_check_interval });
  }

  removeHistory(channel: string): Promise<void> {
    return this.#broker.removeHistory(channel);
  }

  /**
   * Starts local delivery of `channel` to `sub`; the broker is subscribed for the channel's
   * first local subscriber. When that broker subscription fails, `sub` is not added and the
   * error is thrown, so a channel in the hub is always one the broker delivers.
   */
  subscribeProtocol(channel: string, sub: ProtocolSubscriber, joinLeave = false): Promise<void> {
    return this.#subscribe(channel, () => this.hub.addProtocol(channel, sub, joinLeave), () => this.hub.removeProtocol(channel, sub));
  }

  /** Stops local delivery to `sub`; the broker is unsubscribed after the channel's last local subscriber. */
  unsubscribeProtocol(channel: string, sub: ProtocolSubscriber): Promise<void> {
    return this.#unsubscribe(channel, () => this.hub.removeProtocol(channel, sub));
  }

  subscribePlain(channel: string, sub: PlainSubscriber): Promise<void> {
    return this.#subscribe(channel, () => this.hub.addPlain(channel, sub), () => this.hub.removePlain(channel, sub));
  }

  unsubscribePlain(channel: string, sub: PlainSubscriber): Promise<void> {
    return this.#unsubscribe(channel, () => this.hub.removePlain(channel, sub));
  }

  #subscribe(channel: string, add: () => boolean, undo: () => boolean): Promise<void> {
    return this.#locks.run(channel, async () => {
      if (!add()) return;
      try {
        await this.#broker.subscribe(channel);
      } catch (err) {
        undo();
        throw err;
      }
      // Channels with history are tracked from the stream's top, read after the broker subscribed.
      const ns = this.namespace(channel);
      if (ns && ns.history_size > 0) {
        try {
          await this.streams.track(channel, ns);
        } catch (err) {
          undo();
          await this.#broker.unsubscribe(channel).catch(() => {});
          throw err;
        }
      }
    });
  }

  #unsubscribe(channel: string, remove: () => boolean): Promise<void> {
    return this.#locks.run(channel, async () => {
      if (!remove()) return;
      this.streams.untrack(channel);
      await this.#broker.unsubscribe(channel);
    });
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.#broker.publishJoin(channel, info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.#broker.publishLeave(channel, info);
  }

  /** Adds or renews presence; entries live at least two ping intervals, since they are renewed once per interval. */
  addPresence(channel: string, info: ClientInfo): Promise<void> {
    return this.engine.presence.add(channel, info, Math.max(this.#config.presence_ttl, 2 * this.#config.ping_interval));
  }

  removePresence(channel: string, clientId: string): Promise<void> {
    return this.engine.presence.remove(channel, clientId);
  }

  presence(channel: string): Promise<Record<string, ClientInfo>> {
    return this.engine.presence.presence(channel);
  }

  presenceStats(channel: string): Promise<PresenceStats> {
    return this.engine.presence.stats(channel);
  }

  // ---- sessions ----

  /** Registers a connected session (after its connect command succeeded). */
  register(session: SessionHandle): void {
    const before = this.#sessions.size;
    this.#sessions.add(session);
    if (this.#sessions.size === before) return;
    if (session.user === '') {
      this.#anonymous++;
      return;
    }
    const entry = this.#users.get(session.user);
    if (entry === undefined) this.#users.set(session.user, session);
    else if (entry instanceof Set) entry.add(session);
    else this.#users.set(session.user, new Set([entry, session]));
  }

  unregister(session: SessionHandle): void {
    if (!this.#sessions.delete(session)) return;
    if (session.user === '') {
      this.#anonymous--;
      return;
    }
    const entry = this.#users.get(session.user);
    if (entry === session) {
      this.#users.delete(session.user);
    } else if (entry instanceof Set) {
      entry.delete(session);
      if (entry.size === 1) this.#users.set(session.user, entry.values().next().value!);
    }
  }

  /** Connected sessions of `user` on this node; for '' (anonymous), a scan of every session, as that index is not kept. */
  sessionsOf(user: string): SessionHandle[] {
    if (user === '') return this.#anonymous === 0 ? [] : [...this.#sessions].filter((s) => s.user === '');
    const entry = this.#users.get(user);
    return entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
  }

  /** The connected session with client id `clientId`: a scan, for tests and tools (nothing on a hot path asks). */
  session(clientId: string): SessionHandle | undefined {
    for (const session of this.#sessions) if (session.id === clientId) return session;
    return undefined;
  }

  sessions(): IterableIterator<SessionHandle> {
    return this.#sessions.values();
  }

  get numClients(): number {
    return this.#sessions.size;
  }

  /** Distinct users among connected sessions (anonymous connections count as one user ''). */
  get numUsers(): number {
    return this.#users.size + (this.#anonymous > 0 ? 1 : 0);
  }

  /** Sizes of internal maps, for tests that prove nothing is left behind. */
  internalSizes(): Record<string, number> {
    return {
      sessions: this.#sessions.size, users: this.#users.size, anonymous: this.#anonymous, hubChannels: this.hub.numChannels, locks: this.#locks.size,
      trackedStreams: this.streams.size, channelQueries: this.#channelQueries.size,
    };
  }
}

/** The history settings of a namespace as the engine takes them. */
export function historyOf(ns: NamespaceOptions): HistoryOptions {
  return { size: ns.history_size, ttlMs: ns.history_ttl, metaTtlMs: ns.history_meta_ttl };
}
