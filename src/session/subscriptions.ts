/**
 * A protocol connection's subscriptions: how one starts (rights, the local subscription, the
 * stream position and what to recover, presence), goes live, and ends (unsubscribe, expiry, the
 * server's say, the connection's end). {@link Subscription} keeps each one's delivery promise;
 * this class runs the steps around it and talks to the node.
 */
import { requireRight, userLimitedAccess, userLimitedDenial } from '../auth/channel-rights.js';
import type { NamespaceOptions } from '../config/namespaces.js';
import { UnrecoverablePositionError, type HistoryPage } from '../engine/types.js';
import { wireFormat } from '../hub/publication-encodings.js';
import type { SharedMessage } from '../hub/shared-message.js';
import { DisconnectCode, ErrorCode, UnsubscribeCode, UNSUBSCRIBES } from '../protocol/codes.js';
import type { Codec, Encoded } from '../protocol/codec.js';
import { DELTA_TYPES } from '../protocol/delta.js';
import { AuthError, DisconnectError, ReplyError } from '../protocol/errors.js';
import type { ClientInfo, JsonText, SubscribePosition, SubscribeRequest, SubscribeResult, SubRefreshRequest, SubRefreshResult } from '../protocol/types.js';
import { parseData, toJsonText } from '../protocol/json-text.js';
import type { SubscribeOptions, SubscribeOverride } from '../protocol/subscribe-options.js';
import { ProxyError } from '../proxy/errors.js';
import type { Caller } from '../proxy/proxy.js';
import { withDefined } from '../util/defined.js';
import { SmallMap } from '../util/small-map.js';
import type { SessionContext } from './context.js';
import { overdue, refreshDeadline, ttlSeconds } from './expiry.js';
import { recoverLatest, recoverStream, type HistorySlice } from './recovery.js';
import { Subscription } from './subscription.js';

/** What the subscriptions need from their connection. */
export interface SubscriptionsHost {
  readonly id: string;
  /** The server's context the connection was made with. */
  readonly context: SessionContext;
  /** The connection's user ('' when anonymous), known once connected. */
  readonly user: string;
  /** How the connection appears to others: user, client id and its conn_info, from connect. */
  readonly info: ClientInfo;
  /** Whether the connection has ended. */
  readonly closed: boolean;
  /** The connection's codec (JSON or Protobuf), for pushes and the subscriptions' wire format. */
  readonly codec: Codec;
  /** Queues a reply or push for the client (Outbox.enqueue: `channel` for a channel's push that is not fanned out). */
  push(item: Encoded | SharedMessage, channel?: string): void;
  /** A positioned subscription lost its place in `channel`: the client must recover (3010). */
  lostPosition(channel: string): void;
  /** An engine call made for a subscription failed where nobody awaits it: count and log it. */
  engineError(err: unknown, what: string): void;
  /** The connection as proxy calls describe it. */
  caller(): Caller;
  /** The subscription to `channel` ended (whatever ended it): its shared messages must stop reaching the connection. */
  channelEnded(channel: string): void;
}

/**
 * What decides a subscription's extras: channel info (from a token, onSubscribe or a proxy), its
 * expiry (Unix ms: a refresh deadline, or with `backendRefresh` when to ask the sub_refresh
 * proxy), and option overrides.
 */
interface Grant {
  readonly chanInfo: JsonText | undefined;
  readonly expiresAt: number | undefined;
  readonly serverSide: boolean;
  readonly override?: SubscribeOverride | undefined;
  /** The namespace's sub_refresh proxy prolongs it, not the client. */
  readonly backendRefresh?: boolean;
}

/** Subscriptions the sub_refresh proxy prolongs (server-side), and those being asked about now. */
interface BackendRefreshed {
  readonly prolonged: Set<Subscription>;
  readonly asking: Set<Subscription>;
}

/**
 * Each connection's BackendRefreshed, made on first use: few connections have subscriptions the
 * sub_refresh proxy prolongs, so it is kept here rather than in a field of every connection's
 * Subscriptions (four fields keep that object in JavaScriptCore's 48-byte size class; issue 17).
 */
const backendRefreshed = new WeakMap<Subscriptions, BackendRefreshed>();

/**
 * When the sub_refresh proxy fails, the subscription lives this much longer and is asked about
 * again (Centrifugo's rule, as for connections).
 */
const SUB_REFRESH_RETRY_MS = 60_000;

/** The namespace's options as `override` changes them for one subscription. */
function overridden(ns: NamespaceOptions, o: SubscribeOverride | undefined): NamespaceOptions {
  if (!o) return ns;
  return {
    ...ns,
    presence: o.presence ?? ns.presence,
    join_leave: o.join_leave ?? ns.join_leave,
    force_recovery: o.force_recovery ?? ns.force_recovery,
    force_positioning: o.force_positioning ?? ns.force_positioning,
  };
}

/**
 * The connection's subscriptions by channel (a SmallMap itself: one object per connection, not
 * two; its set and delete are for the steps below, callers use the methods that run them).
 */
export class Subscriptions extends SmallMap<string, Subscription> {
  readonly #host: SubscriptionsHost;

  constructor(host: SubscriptionsHost) {
    super();
    this.#host = host;
  }

  /** The server's context, as the connection has it (one field fewer here). */
  get #ctx(): SessionContext {
    return this.#host.context;
  }

  /** See BackendRefreshed; undefined until first used. */
  get #backend(): BackendRefreshed | undefined {
    return backendRefreshed.get(this);
  }

  #backendRefreshed(): BackendRefreshed {
    let backend = backendRefreshed.get(this);
    if (backend === undefined) {
      backend = { prolonged: new Set(), asking: new Set() };
      backendRefreshed.set(this, backend);
    }
    return backend;
  }

  channels(): Iterable<string> {
    return this.keys();
  }

  /** Removes the subscription to `channel`, and tells the connection its shared messages must stop (issue 17: native fan-out). */
  override delete(channel: string): boolean {
    const deleted = super.delete(channel);
    if (deleted) this.#host.channelEnded(channel);
    return deleted;
  }

  /** Whether a positioned subscription (to `channel`, or to any channel) exists: only those can miss publications. */
  hasPositioned(channel?: string): boolean {
    for (const sub of this.values()) if (sub.positioned && (channel === undefined || sub.channel === channel)) return true;
    return false;
  }

  // ---- starting ----

  /**
   * The client's subscribe command: who may subscribe is checked in the documented order
   * (docs/protocol.md, "subscribe"; docs/proxy.md, "Proxies and in-process handlers"): a
   * subscription token is enough on its own; a user-limited channel is its listed users' only;
   * else the application's onSubscribe, then the namespace's subscribe proxy, decide; with
   * neither, the namespace. The caller sends the reply, then calls {@link activate}.
   */
  async subscribe(req: SubscribeRequest): Promise<SubscribeResult> {
    const { node, tokens, handlers, config, clock, proxies } = this.#ctx;
    const host = this.#host;
    const channel = req.channel;
    const ns = node.requireNamespace(channel);
    if (this.has(channel)) throw new ReplyError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    if (this.size >= config.client_max_channels) {
      throw new ReplyError(ErrorCode.LimitExceeded, `limit exceeded: at most ${config.client_max_channels} channels per connection`);
    }
    let chanInfo: JsonText | undefined;
    let data: JsonText | undefined;
    let expiresAt: number | undefined;
    let override: SubscribeOverride | undefined;
    let backendRefresh = false;
    const limited = userLimitedAccess(ns, channel, host.user);
    if (req.token !== undefined) {
      const claims = await tokens.verifySubscription(req.token, channel, host.id);
      if (claims.user !== host.user) throw new AuthError('invalid', 'invalid subscription token: it is for another user');
      chanInfo = claims.info;
      data = claims.data;
      override = claims.override;
      if (claims.expiresAt !== undefined && claims.expiresAt <= clock.now()) throw new AuthError('expired', 'subscription token expired (its expire_at)');
      expiresAt = refreshDeadline(claims.expiresAt, clock.now());
    } else if (limited !== undefined) {
      if (!limited) throw new ReplyError(ErrorCode.PermissionDenied, userLimitedDenial(channel));
    } else {
      const proxy = proxies.get(ns.subscribe_proxy);
      if (handlers.onSubscribe) {
        const r = await handlers.onSubscribe(withDefined({ client: host.id, user: host.user, channel }, { data: parseData(req.data) }));
        if (r) {
          chanInfo = toJsonText(r.info);
          data = toJsonText(r.data);
        }
      }
      if (proxy) {
        const answer = await proxy.subscribe(host.caller(), channel, req.data);
        if (answer.info !== undefined) chanInfo = answer.info;
        if (answer.data !== undefined) data = answer.data;
        override = answer.override;
        if (answer.expiresAt !== undefined && answer.expiresAt <= clock.now()) throw new ReplyError(ErrorCode.Expired, 'expired: the subscribe proxy gave an expire_at in the past');
        backendRefresh = answer.expiresAt !== undefined && ns.sub_refresh_proxy !== undefined;
        expiresAt = backendRefresh ? answer.expiresAt : refreshDeadline(answer.expiresAt, clock.now());
      }
      if (!handlers.onSubscribe && !proxy) requireRight(ns, channel, 'subscribe', { user: host.user, subscribed: false });
    }
    if (this.has(channel)) throw new ReplyError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    const result = await this.#start(channel, overridden(ns, override), req, { chanInfo, expiresAt, serverSide: false, backendRefresh });
    return data === undefined ? result : { ...result, data };
  }

  /**
   * A subscription from the connection token, onConnecting, the connect proxy or the personal
   * channel, made during connect; its result goes in the connect reply. Unknown namespaces are
   * skipped with a warning.
   */
  async subscribeAtConnect(channel: string, position: SubscribePosition | undefined, options: SubscribeOptions = {}): Promise<SubscribeResult | undefined> {
    let ns: NamespaceOptions;
    try {
      ns = this.#ctx.node.requireNamespace(channel);
    } catch (err) {
      this.#ctx.log.warn({ channel, client: this.#host.id, err: (err as Error).message }, 'server-side subscription skipped');
      return undefined;
    }
    if (this.has(channel)) return undefined;
    const req: SubscribeRequest = withDefined(
      { channel, recover: position?.recover ?? false, positioned: false, recoverable: false, join_leave: true },
      { offset: position?.offset, epoch: position?.epoch },
    );
    const now = this.#ctx.clock.now();
    const backendRefresh = options.expiresAt !== undefined && ns.sub_refresh_proxy !== undefined;
    const expiresAt = backendRefresh ? options.expiresAt : refreshDeadline(options.expiresAt, now);
    const result = await this.#start(channel, overridden(ns, options.override), req, {
      chanInfo: options.info, expiresAt, serverSide: true, backendRefresh,
    });
    return options.data === undefined ? result : { ...result, data: options.data };
  }

  /** The server API subscribes the connection to `channel`; the client learns it from a subscribe push. */
  async subscribeFromServer(channel: string): Promise<void> {
    if (this.has(channel)) return;
    const ns = this.#ctx.node.requireNamespace(channel);
    const max = this.#ctx.config.client_max_channels;
    if (this.size >= max) throw new ReplyError(ErrorCode.LimitExceeded, `limit exceeded: the connection already has client_max_channels (${max}) channels`);
    const req: SubscribeRequest = { channel, recover: false, positioned: false, recoverable: false, join_leave: true };
    const result = await this.#start(channel, ns, req, { chanInfo: undefined, expiresAt: undefined, serverSide: true });
    this.#host.push(this.#host.codec.subscribePush(channel, result));
    this.activate(channel);
  }

  /**
   * Subscribes locally, then reads the stream position (and what to recover): subscribing first
   * means no publication can fall between the history read and live delivery; those that
   * arrive meanwhile wait in the subscription until {@link activate}.
   */
  async #start(channel: string, ns: NamespaceOptions, req: SubscribeRequest, grant: Grant): Promise<SubscribeResult> {
    const { node, config, clock } = this.#ctx;
    const host = this.#host;
    const hasHistory = ns.history_size > 0;
    const recoverable = hasHistory && (req.recoverable || ns.force_recovery);
    const positioned = hasHistory && (req.positioned || ns.force_positioning || recoverable);
    // Subscriptions without channel info share the connection's info object (one per connection,
    // not per channel), which the connection makes only when one is read: not here.
    const info = grant.chanInfo === undefined ? undefined : { ...host.info, chan_info: grant.chanInfo };
    const delta = this.#delta(req.delta, ns);
    const sub = new Subscription(host, {
      channel, ns, joinLeave: ns.join_leave && req.join_leave, positioned, info, serverSide: grant.serverSide, expiresAt: grant.expiresAt,
      format: wireFormat(host.codec.binary, delta),
    });
    this.set(channel, sub);
    try {
      await node.subscribeProtocol(channel, sub, sub.joinLeave);
      let result: SubscribeResult = {};
      if (hasHistory) {
        result = await this.#position(channel, ns, req, recoverable, positioned, config.recovery_max_publications);
        sub.setPosition({ epoch: result.epoch ?? '', offset: result.offset ?? 0 });
      }
      if (ns.presence) await node.addPresence(channel, sub.info);
      if (host.closed || this.get(channel) !== sub) throw new DisconnectError(DisconnectCode.ConnectionClosed);
      if (grant.backendRefresh) {
        // The sub_refresh proxy prolongs it: the client is not told of an expiry (it could do nothing about it).
        this.#backendRefreshed().prolonged.add(sub);
      } else if (grant.expiresAt !== undefined) {
        result = { ...result, expires: true, ttl: ttlSeconds(grant.expiresAt, clock.now()) };
      }
      // With deltas on, recovered publications go as a delta chain from a full first one (encode.ts, protobuf.ts).
      if (delta) result = { ...result, delta: true };
      return result;
    } catch (err) {
      if (this.get(channel) === sub) this.delete(channel);
      this.#backend?.prolonged.delete(sub);
      void node.unsubscribeProtocol(channel, sub).catch(() => {});
      if (ns.presence) void node.removePresence(channel, host.id).catch(() => {});
      throw err;
    }
  }

  /**
   * Whether the subscription gets fossil deltas: the client asked for a type the namespace
   * allows. A type canal does not know is a bad request; a known one the namespace does not
   * allow subscribes without deltas (the reply's `delta` is absent), as Centrifugo does.
   */
  #delta(asked: string | undefined, ns: NamespaceOptions): boolean {
    if (asked === undefined) return false;
    if (!(DELTA_TYPES as readonly string[]).includes(asked)) {
      throw new ReplyError(ErrorCode.BadRequest, `bad request: unknown delta type ${JSON.stringify(asked)} (canal knows: ${DELTA_TYPES.join(', ')})`);
    }
    return (ns.allowed_delta_types as readonly string[]).includes(asked);
  }

  /** The subscribe result's stream fields and recovered publications. */
  async #position(channel: string, ns: NamespaceOptions, req: SubscribeRequest, recoverable: boolean, positioned: boolean,
    maxRecover: number): Promise<SubscribeResult> {
    const { node } = this.#ctx;
    const from = req.recover ? { offset: req.offset ?? 0, epoch: req.epoch ?? '' } : undefined;
    const base = { recoverable, positioned };
    if (ns.recovery_mode === 'cache') {
      const page = await node.history(channel, ns, { limit: 1, reverse: true });
      const outcome = recoverLatest(from, page.publications[0], page.position);
      return withDefined<SubscribeResult>({ ...base, epoch: page.position.epoch, offset: page.position.offset }, {
        publications: outcome.publications.length > 0 ? outcome.publications : undefined,
        recovered: from ? outcome.recovered : undefined,
        was_recovering: from ? true : undefined,
      });
    }
    if (from && recoverable) {
      let slice: HistorySlice;
      try {
        const page = await node.history(channel, ns, { since: from, limit: maxRecover + 1 });
        slice = { kind: 'page', publications: page.publications, top: page.position };
      } catch (err) {
        if (!(err instanceof UnrecoverablePositionError)) throw err;
        slice = { kind: 'unrecoverable', top: (await node.history(channel, ns, { limit: 0 })).position };
      }
      const outcome = recoverStream(from, slice, maxRecover);
      return withDefined<SubscribeResult>({ ...base, epoch: slice.top.epoch, offset: slice.top.offset, was_recovering: true }, {
        publications: outcome.publications.length > 0 ? outcome.publications : undefined,
        recovered: outcome.recovered ? true : undefined,
      });
    }
    const page: HistoryPage = await node.history(channel, ns, { limit: 0 });
    return { ...base, epoch: page.position.epoch, offset: page.position.offset };
  }

  /**
   * After the subscribe reply (or push): delivers what was buffered meanwhile, then announces
   * the join — after, so every engine delivers it the same way, including to the subscriber
   * itself when it asked for join/leave.
   */
  activate(channel: string): void {
    const sub = this.get(channel);
    if (!sub || sub.active) return;
    sub.activate();
    if (sub.ns.join_leave) void this.#ctx.node.publishJoin(channel, sub.info).catch((err: unknown) => this.#host.engineError(err, 'join'));
  }

  // ---- refreshing ----

  /** A sub_refresh command: a new subscription token for a channel the connection is subscribed to. */
  async refresh(req: SubRefreshRequest): Promise<SubRefreshResult> {
    const sub = this.get(req.channel);
    if (!sub) throw new ReplyError(ErrorCode.BadRequest, `not subscribed to ${req.channel}`);
    if (this.#backend?.prolonged.has(sub)) {
      throw new DisconnectError(DisconnectCode.BadRequest, `bad request: ${req.channel} is refreshed by the server (sub_refresh proxy)`);
    }
    const claims = await this.#ctx.tokens.verifySubscription(req.token, req.channel, this.#host.id);
    if (claims.user !== this.#host.user) throw new AuthError('invalid', 'invalid subscription token: it is for another user');
    const now = this.#ctx.clock.now();
    if (claims.expiresAt !== undefined && claims.expiresAt <= now) throw new AuthError('expired', 'subscription token expired (its expire_at)');
    sub.expiresAt = refreshDeadline(claims.expiresAt, now);
    return withDefined<SubRefreshResult>({}, {
      expires: claims.expiresAt !== undefined ? true : undefined,
      ttl: claims.expiresAt !== undefined ? ttlSeconds(claims.expiresAt, now) : undefined,
    });
  }

  /**
   * Ends the subscriptions whose token was not refreshed `grace` ms past its deadline (2501: the
   * client subscribes again), and asks the sub_refresh proxy about those it prolongs once due.
   */
  expire(now: number, grace: number): void {
    for (const sub of this.values()) {
      if (this.#backend?.prolonged.has(sub)) {
        if (sub.expiresAt !== undefined && sub.expiresAt <= now && !this.#backend?.asking.has(sub)) void this.#refreshFromBackend(sub);
      } else if (overdue(sub.expiresAt, grace, now)) {
        this.endFromServer(sub.channel, UnsubscribeCode.Expired, UNSUBSCRIBES[UnsubscribeCode.Expired]);
      }
    }
  }

  /**
   * The sub_refresh proxy decides whether `sub` lives on: a later expire_at prolongs it;
   * `expired`, no result or an expire_at not in the future ends it (2501). When the backend
   * fails, it is asked again in a minute.
   */
  async #refreshFromBackend(sub: Subscription): Promise<void> {
    const proxy = this.#ctx.proxies.get(sub.ns.sub_refresh_proxy);
    if (!proxy) return;
    this.#backendRefreshed().asking.add(sub);
    try {
      const answer = await proxy.subRefresh(this.#host.caller(), sub.channel);
      if (this.get(sub.channel) !== sub) return;
      if (!answer || answer.expired || answer.expiresAt === undefined || answer.expiresAt <= this.#ctx.clock.now()) {
        this.endFromServer(sub.channel, UnsubscribeCode.Expired, UNSUBSCRIBES[UnsubscribeCode.Expired]);
        return;
      }
      sub.expiresAt = answer.expiresAt;
    } catch (err) {
      if (!(err instanceof ProxyError)) {
        this.#ctx.log.error({ err, channel: sub.channel, client: this.#host.id }, 'sub_refresh failed');
        this.endFromServer(sub.channel, UnsubscribeCode.Expired, UNSUBSCRIBES[UnsubscribeCode.Expired]);
        return;
      }
      sub.expiresAt = this.#ctx.clock.now() + SUB_REFRESH_RETRY_MS; // the failure is logged by the proxy
    } finally {
      this.#backend?.asking.delete(sub);
    }
  }

  /** Renews presence entries (each tick, and at once after the engine came back). */
  refreshPresence(): void {
    for (const sub of this.values()) {
      if (sub.ns.presence && sub.active) {
        void this.#ctx.node.addPresence(sub.channel, sub.info).catch((err: unknown) => this.#host.engineError(err, 'presence refresh'));
      }
    }
  }

  // ---- ending ----

  /** Ends a subscription from the server's side with an unsubscribe push (code < 2500: the client stays unsubscribed). */
  endFromServer(channel: string, code: number, reason: string): void {
    if (!this.has(channel)) return;
    this.#host.push(this.#host.codec.unsubscribePush(channel, code, reason));
    void this.end(channel);
  }

  /** Ends the subscription to `channel`: local delivery, presence, and a leave for the others. Never throws. */
  async end(channel: string): Promise<void> {
    const sub = this.get(channel);
    if (!sub) return;
    this.delete(channel);
    this.#backend?.prolonged.delete(sub);
    const { node } = this.#ctx;
    const work: Array<Promise<void>> = [node.unsubscribeProtocol(channel, sub)];
    if (sub.ns.presence) work.push(node.removePresence(channel, this.#host.id));
    if (sub.ns.join_leave) work.push(node.publishLeave(channel, sub.info));
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === 'rejected') this.#host.engineError(r.reason, 'unsubscribe');
  }

  /** Ends every subscription (the connection closed). */
  async endAll(): Promise<void> {
    await Promise.all([...this.keys()].map((c) => this.end(c)));
  }
}
