/**
 * One protocol connection (ws://HOST:PORT/connection/websocket): its state machine
 * (connecting -> connected -> closed), its subscriptions, and the dispatch of its commands.
 * Commands are handled one at a time in arrival order, so replies keep their order and a
 * subscribe sent in the same frame as connect sees the connection established. Failures go
 * through toWire() — the one place that turns an error into a reply error or a disconnect.
 */
import { randomUUID } from 'node:crypto';
import type { TokenVerifier } from '../auth/tokens.js';
import type { NamespaceOptions } from '../config/namespaces.js';
import type { Config } from '../config/schema.js';
import { EngineUnavailableError, UnrecoverablePositionError, type HistoryPage } from '../engine/types.js';
import type { Handlers } from '../handlers.js';
import type { Metrics } from '../metrics.js';
import type { ProtocolSubscriber } from '../hub/hub.js';
import type { Logger } from '../log.js';
import type { CanalNode, SessionHandle } from '../node.js';
import { DisconnectCode, ErrorCode, UnsubscribeCode, UNSUBSCRIBES } from '../protocol/codes.js';
import { decodeFrame } from '../protocol/decode.js';
import { encodeErrorReply, encodeReply, encodeSubscribePush, encodeUnsubscribePush, PING } from '../protocol/encode.js';
import { AuthError, DisconnectError, ReplyError, toWire, type AuthContext } from '../protocol/errors.js';
import type {
  ChannelRequest, ClientInfo, Command, ConnectRequest, ConnectResult, HistoryRequest, HistoryResult, Incoming,
  PresenceResult, PresenceStatsResult, PublishRequest, RawJson, RefreshRequest, RefreshResult, Results, RpcRequest,
  RpcResult, SendRequest, StreamPosition, SubRefreshRequest, SubRefreshResult, SubscribePosition, SubscribeRequest,
  SubscribeResult,
} from '../protocol/types.js';
import type { SharedMessage } from '../hub/shared-message.js';
import { withDefined } from '../util/defined.js';
import { RateLimiter } from './rate-limit.js';
import { recoverLatest, recoverStream, type HistorySlice } from './recovery.js';
import { Writer, type FrameSink } from './writer.js';

/** What a session needs from its connection. */
export interface SessionConnection extends FrameSink {
  /** Closes with `code` and a non-empty `reason`. */
  close(code: number, reason: string): void;
  /** Stops reading from the client (TCP then pushes back), until resume(). */
  pause(): void;
  resume(): void;
  readonly remoteAddress: string | undefined;
}

/**
 * Commands waiting to be handled, past which the connection stops reading until the backlog
 * falls to RESUME_AT: a client cannot grow our memory by sending faster than we handle.
 */
const PAUSE_AT = 2000;
const RESUME_AT = 200;

/** Shared by every session of a server: one object, not one per connection. */
export interface SessionContext {
  readonly node: CanalNode;
  readonly config: Config;
  readonly tokens: TokenVerifier;
  readonly handlers: Handlers;
  readonly log: Logger;
  readonly version: string;
  /** Whether connections without a token or user are accepted. */
  readonly anonymousAllowed: boolean;
  readonly metrics: Metrics;
  /** Every open protocol session of the server (connecting or connected), for the heartbeat and shutdown. */
  readonly sessions: Set<ClientSession>;
}

interface Subscription {
  readonly channel: string;
  readonly ns: NamespaceOptions;
  /** Publications that arrive while the subscribe reply is being prepared wait here. */
  buffer: Array<{ frame: SharedMessage; position: StreamPosition }> | undefined;
  readonly joinLeave: boolean;
  readonly positioned: boolean;
  /** The last delivered position (history channels only). */
  epoch: string;
  offset: number;
  readonly info: ClientInfo;
  /** Unix ms, from a subscription token. */
  expiresAt: number | undefined;
  readonly serverSide: boolean;
}

type State = 'connecting' | 'connected' | 'closed';

/** How long past its expiry a connection or subscription may wait for its refresh (the client refreshes at expiry). */
function expiryGrace(config: Config): number {
  return config.client_expired_close_delay;
}

function parseData(raw: RawJson | undefined): unknown {
  return raw === undefined ? undefined : JSON.parse(raw);
}

function toRaw(value: unknown): RawJson | undefined {
  return value === undefined ? undefined : (JSON.stringify(value) as RawJson);
}

function ttlSeconds(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil((expiresAt - now) / 1000));
}

/**
 * When a refresh is due: the `ttl` sent to the client is whole seconds rounded up, and the
 * client refreshes exactly then, so the server must not count from the token's own expiry.
 */
function refreshDeadline(expiresAt: number | undefined, now: number): number | undefined {
  return expiresAt === undefined ? undefined : now + ttlSeconds(expiresAt, now) * 1000;
}

export class ClientSession implements ProtocolSubscriber, SessionHandle {
  readonly id = randomUUID();
  readonly #ctx: SessionContext;
  readonly #conn: SessionConnection;
  readonly #writer: Writer;
  readonly #subs = new Map<string, Subscription>();
  readonly #queue: Command[] = [];
  #processing = false;
  #state: State = 'connecting';
  #user = '';
  #connInfo: RawJson | undefined;
  #expiresAt: number | undefined;
  #staleTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #closeCode = 0;
  #cleanedUp = false;
  #wasConnected = false;
  readonly #limiter: RateLimiter;
  #paused = false;

  constructor(conn: SessionConnection, ctx: SessionContext) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#limiter = new RateLimiter(ctx.config.client_command_rate, ctx.config.client_command_burst, Date.now());
    this.#writer = new Writer(conn, ctx.config.client_queue_max_bytes, () =>
      this.disconnect(DisconnectCode.Slow, `slow: more than ${ctx.config.client_queue_max_bytes} bytes waiting to be sent`),
    );
    this.#staleTimer = setTimeout(
      () => this.disconnect(DisconnectCode.Stale, `stale: no connect command within ${ctx.config.client_connect_timeout} ms`),
      ctx.config.client_connect_timeout,
    );
    this.#staleTimer.unref();
    ctx.sessions.add(this);
  }

  get user(): string {
    return this.#user;
  }

  get state(): State {
    return this.#state;
  }

  *channels(): Iterable<string> {
    yield* this.#subs.keys();
  }

  // ---- input ----

  /** A text frame from the client. A malformed frame disconnects with 3501. */
  handleFrame(text: string): void {
    if (this.#state === 'closed') return;
    let commands: Incoming[];
    try {
      commands = decodeFrame(text);
    } catch (err) {
      this.#fail(err, 0);
      return;
    }
    for (const c of commands) {
      if (c.method !== 'pong') {
        this.#queue.push(c);
      } else if (this.#awaitingPong) {
        // The pong to our ping is taken at once, not behind a slow command: it only proves the client is alive.
        this.#awaitingPong = false;
      } else if (this.#limiter.take(Date.now()) === 'flood') {
        // Pongs nobody asked for are commands like any other for the rate limit (issue 13: a
        // flood of `{}` was accepted at 1.6 M/s).
        this.#flooded();
        return;
      }
    }
    if (this.#queue.length > PAUSE_AT && !this.#paused) {
      this.#paused = true;
      this.#conn.pause();
    }
    void this.#drain();
  }

  #flooded(): void {
    const burst = this.#ctx.config.client_command_burst;
    this.disconnect(DisconnectCode.TooManyRequests, `too many requests: more than ${burst} commands refused within a second`);
  }

  /** A binary frame: the JSON protocol is text only. */
  handleBinary(): void {
    this.disconnect(DisconnectCode.BadRequest, 'bad request: binary frames are not part of the JSON protocol; send text');
  }

  async #drain(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#queue.length > 0 && this.#state !== 'closed') {
        const cmd = this.#queue.shift()!;
        if (cmd.method === 'publish' && this.#state === 'connected' && !this.#ctx.handlers.onPublish) {
          // Consecutive publishes overlap: each reaches the engine synchronously, in order, when
          // it starts (the memory engine publishes at once; Redis runs commands in the order one
          // connection sends them), so offsets keep command order while Redis round trips are
          // shared. Profiled: one publisher on Redis waited a round trip per publish (0.29x the
          // memory engine's fan-out rate, docs/benchmarks.md). An onPublish handler may take any
          // time, so with one, publishes stay one at a time.
          const batch = [this.#handle(cmd)];
          while (this.#queue[0]?.method === 'publish') batch.push(this.#handle(this.#queue.shift()!));
          await Promise.all(batch);
        } else {
          await this.#handle(cmd);
        }
        if (this.#paused && this.#queue.length <= RESUME_AT) {
          this.#paused = false;
          this.#conn.resume();
        }
      }
    } finally {
      this.#processing = false;
    }
  }

  async #handle(cmd: Command): Promise<void> {
    const verdict = this.#limiter.take(Date.now());
    if (verdict === 'flood') {
      this.#flooded();
      return;
    }
    if (verdict === 'refused') {
      const rate = this.#ctx.config.client_command_rate;
      if (cmd.method !== 'send') this.#fail(new ReplyError(ErrorCode.TooManyRequests, `too many requests: at most ${rate} commands per second`), cmd.id);
      return;
    }
    if (this.#state === 'connecting' && cmd.method !== 'connect') {
      this.disconnect(DisconnectCode.BadRequest, `bad request: the first command must be connect, got ${cmd.method}`);
      return;
    }
    if (this.#state === 'connected' && cmd.method === 'connect') {
      this.disconnect(DisconnectCode.BadRequest, 'bad request: already connected');
      return;
    }
    try {
      await this.#dispatch(cmd);
    } catch (err) {
      this.#fail(err, cmd.id, cmd.method === 'subscribe' || cmd.method === 'sub_refresh' ? 'subscription' : 'connection', cmd.method === 'send');
    }
  }

  async #dispatch(cmd: Command): Promise<void> {
    this.#ctx.metrics.received('protocol', cmd.method);
    switch (cmd.method) {
      case 'connect': return this.#connectCommand(cmd.id, cmd.request);
      case 'subscribe': return this.#subscribeCommand(cmd.id, cmd.request);
      case 'unsubscribe': return this.#reply(cmd.id, 'unsubscribe', await this.#unsubscribe(cmd.request));
      case 'publish': return this.#reply(cmd.id, 'publish', await this.#publish(cmd.request));
      case 'presence': return this.#reply(cmd.id, 'presence', await this.#presence(cmd.request));
      case 'presence_stats': return this.#reply(cmd.id, 'presence_stats', await this.#presenceStats(cmd.request));
      case 'history': return this.#reply(cmd.id, 'history', await this.#history(cmd.request));
      case 'ping': return this.#reply(cmd.id, 'ping', {});
      case 'send': return this.#send(cmd.request);
      case 'rpc': return this.#reply(cmd.id, 'rpc', await this.#rpc(cmd.request));
      case 'refresh': return this.#reply(cmd.id, 'refresh', await this.#refresh(cmd.request));
      case 'sub_refresh': return this.#reply(cmd.id, 'sub_refresh', await this.#subRefresh(cmd.request));
    }
  }

  #reply<M extends keyof Results>(id: number, method: M, result: Results[M]): void {
    if (this.#state === 'closed') return;
    this.#ctx.metrics.sent('reply');
    this.#writer.push(encodeReply(id, method, result));
  }

  /** The one place a failure becomes what the client sees. */
  #fail(err: unknown, id: number, context: AuthContext = 'connection', silent = false): void {
    if (err instanceof EngineUnavailableError) {
      // Redis away: the command fails as temporary (the client retries), the connection stays.
      this.#engineError(err, 'command');
      err = new ReplyError(ErrorCode.Internal, 'temporarily unavailable, try again', { temporary: true });
    }
    const wire = toWire(err, context);
    if (wire.kind === 'disconnect') {
      this.disconnect(wire.code, wire.reason);
      return;
    }
    if (wire.kind === 'internal') {
      this.#ctx.log.error({ err: wire.cause, client: this.id }, 'command failed');
    }
    this.#ctx.metrics.error(wire.code);
    if (!silent && id > 0 && this.#state !== 'closed') this.#writer.push(encodeErrorReply(id, wire.code, wire.message, wire.temporary));
  }

  // ---- connect, refresh, expiry ----

  async #connect(req: ConnectRequest): Promise<ConnectResult> {
    const { tokens, handlers, anonymousAllowed, config, node } = this.#ctx;
    let user = '';
    let info: RawJson | undefined;
    let expiresAt: number | undefined;
    let channels: readonly string[] = [];
    let data: RawJson | undefined;
    if (req.token !== undefined) {
      const claims = await tokens.verifyConnection(req.token);
      ({ user, channels } = claims);
      info = claims.info;
      expiresAt = claims.expiresAt;
    }
    if (handlers.onConnecting) {
      const r = await handlers.onConnecting(withDefined({ client: this.id, user }, {
        token: req.token, data: parseData(req.data), name: req.name, version: req.version, headers: req.headers,
        remoteAddress: this.#conn.remoteAddress,
      }));
      if (r) {
        if (r.user !== undefined) user = r.user;
        if (r.info !== undefined) info = toRaw(r.info);
        if (r.data !== undefined) data = toRaw(r.data);
        if (r.channels) channels = [...channels, ...r.channels];
        if (r.expireAt !== undefined) expiresAt = r.expireAt * 1000;
      }
    }
    const serverSide = new Set(channels);
    if (serverSide.size > config.client_max_channels) {
      // The connection would start past its own limit (issue 13: a token naming 1,000 channels got them all).
      throw new DisconnectError(DisconnectCode.ChannelLimit,
        `channel limit: the token or connect handler names ${serverSide.size} channels, more than client_max_channels (${config.client_max_channels})`);
    }
    if (user === '' && req.token === undefined && !anonymousAllowed) {
      throw new AuthError('missing', 'unauthorized: a connection token is required (anonymous connections are off)');
    }
    const now = Date.now();
    if (expiresAt !== undefined && expiresAt <= now) throw new AuthError('expired', 'connection token expired');
    if (this.#state !== 'connecting') throw new DisconnectError(DisconnectCode.ConnectionClosed);
    this.#user = user;
    this.#connInfo = info;
    this.#expiresAt = refreshDeadline(expiresAt, now);
    this.#state = 'connected';
    this.#wasConnected = true;
    // Only a connect that succeeds stops the stale timer: a client whose connects fail stays stale.
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    node.register(this);

    const subs: Record<string, SubscribeResult> = {};
    for (const channel of serverSide) {
      const result = await this.#serverSideSubscribe(channel, req.subs?.[channel]);
      if (result) subs[channel] = result;
    }
    const result = withDefined<ConnectResult>(
      { client: this.id, version: this.#ctx.version, ping: Math.round(config.ping_interval / 1000), pong: true },
      {
        expires: expiresAt !== undefined ? true : undefined,
        ttl: expiresAt !== undefined ? ttlSeconds(expiresAt, now) : undefined,
        data,
        subs: Object.keys(subs).length > 0 ? subs : undefined,
        node: node.id,
      },
    );
    return result;
  }

  /** Connect, then — after the reply, which the client must see first — the server-side subscriptions' buffers. */
  async #connectCommand(id: number, req: ConnectRequest): Promise<void> {
    const result = await this.#connect(req);
    this.#reply(id, 'connect', result);
    for (const channel of Object.keys(result.subs ?? {})) this.#activate(channel);
  }

  async #refresh(req: RefreshRequest): Promise<RefreshResult> {
    const claims = await this.#ctx.tokens.verifyConnection(req.token);
    if (claims.user !== this.#user) throw new AuthError('invalid', 'invalid token: it is for another user');
    const now = Date.now();
    this.#expiresAt = refreshDeadline(claims.expiresAt, now);
    return withDefined<RefreshResult>({ client: this.id, version: this.#ctx.version }, {
      expires: claims.expiresAt !== undefined ? true : undefined,
      ttl: claims.expiresAt !== undefined ? ttlSeconds(claims.expiresAt, now) : undefined,
    });
  }

  async #subRefresh(req: SubRefreshRequest): Promise<SubRefreshResult> {
    const sub = this.#subs.get(req.channel);
    if (!sub) throw new ReplyError(ErrorCode.BadRequest, `not subscribed to ${req.channel}`);
    const claims = await this.#ctx.tokens.verifySubscription(req.token, req.channel);
    if (claims.user !== this.#user) throw new AuthError('invalid', 'invalid subscription token: it is for another user');
    sub.expiresAt = refreshDeadline(claims.expiresAt, Date.now());
    return withDefined<SubRefreshResult>({}, {
      expires: claims.expiresAt !== undefined ? true : undefined,
      ttl: claims.expiresAt !== undefined ? ttlSeconds(claims.expiresAt, Date.now()) : undefined,
    });
  }

  // ---- heartbeat (called by the server's one timer) ----

  /** Sends the application-level ping; the client answers with a pong. */
  ping(): void {
    if (this.#state !== 'connected') return;
    this.#awaitingPong = true;
    this.#ctx.metrics.sent('ping');
    this.#writer.push(PING);
  }

  /** Disconnects with 3012 when the last ping got no pong. */
  checkPong(): void {
    if (this.#state === 'connected' && this.#awaitingPong) this.disconnect(DisconnectCode.NoPong, 'no pong: the client did not answer the server ping');
  }

  /** Ends expired connections (3005) and subscriptions; refreshes presence. */
  tick(now: number): void {
    if (this.#state !== 'connected') return;
    const grace = expiryGrace(this.#ctx.config);
    if (this.#expiresAt !== undefined && this.#expiresAt + grace <= now) {
      this.disconnect(DisconnectCode.Expired, 'connection expired: the token was not refreshed in time');
      return;
    }
    for (const sub of this.#subs.values()) {
      if (sub.expiresAt !== undefined && sub.expiresAt + grace <= now) {
        this.#serverUnsubscribe(sub.channel, UnsubscribeCode.Expired, UNSUBSCRIBES[UnsubscribeCode.Expired]);
      }
    }
    this.refreshPresence();
  }

  /** Renews this connection's presence entries (each tick, and at once after the engine came back). */
  refreshPresence(): void {
    if (this.#state !== 'connected') return;
    for (const sub of this.#subs.values()) {
      if (sub.ns.presence && sub.buffer === undefined) {
        void this.#ctx.node.addPresence(sub.channel, sub.info).catch((err: unknown) => this.#engineError(err, 'presence refresh'));
      }
    }
  }

  // ---- subscriptions ----

  async #subscribeCommand(id: number, req: SubscribeRequest): Promise<void> {
    const result = await this.#subscribe(req);
    this.#reply(id, 'subscribe', result);
    this.#activate(req.channel);
  }

  async #subscribe(req: SubscribeRequest): Promise<SubscribeResult> {
    const { node, tokens, handlers, config } = this.#ctx;
    const channel = req.channel;
    const ns = node.requireNamespace(channel);
    if (this.#subs.has(channel)) throw new ReplyError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    if (this.#subs.size >= config.client_max_channels) {
      throw new ReplyError(ErrorCode.LimitExceeded, `limit exceeded: at most ${config.client_max_channels} channels per connection`);
    }
    let chanInfo: RawJson | undefined;
    let data: RawJson | undefined;
    let expiresAt: number | undefined;
    if (req.token !== undefined) {
      const claims = await tokens.verifySubscription(req.token, channel);
      if (claims.user !== this.#user) throw new AuthError('invalid', 'invalid subscription token: it is for another user');
      chanInfo = claims.info;
      expiresAt = refreshDeadline(claims.expiresAt, Date.now());
    } else if (handlers.onSubscribe) {
      const r = await handlers.onSubscribe(withDefined({ client: this.id, user: this.#user, channel }, { data: parseData(req.data) }));
      if (r) {
        chanInfo = toRaw(r.info);
        data = toRaw(r.data);
      }
    } else if (!(this.#user === '' ? ns.allow_subscribe_for_anonymous : ns.allow_subscribe_for_client)) {
      throw new ReplyError(ErrorCode.PermissionDenied, this.#user === ''
        ? `permission denied: namespace of ${channel} does not allow anonymous subscribers`
        : `permission denied: subscribing to ${channel} needs a subscription token`);
    }
    if (this.#subs.has(channel)) throw new ReplyError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    const result = await this.#join(channel, ns, req, { chanInfo, expiresAt, serverSide: false });
    return data === undefined ? result : { ...result, data };
  }

  /** A subscription from the connection token or onConnecting; unknown namespaces are skipped with a warning. */
  async #serverSideSubscribe(channel: string, position: SubscribePosition | undefined): Promise<SubscribeResult | undefined> {
    let ns: NamespaceOptions;
    try {
      ns = this.#ctx.node.requireNamespace(channel);
    } catch (err) {
      this.#ctx.log.warn({ channel, client: this.id, err: (err as Error).message }, 'server-side subscription skipped');
      return undefined;
    }
    if (this.#subs.has(channel)) return undefined;
    const req: SubscribeRequest = withDefined(
      { channel, recover: position?.recover ?? false, positioned: false, recoverable: false, join_leave: true },
      { offset: position?.offset, epoch: position?.epoch },
    );
    return this.#join(channel, ns, req, { chanInfo: undefined, expiresAt: undefined, serverSide: true });
  }

  /**
   * Subscribes locally, then reads the stream position (and what to recover): subscribing first
   * means no publication can fall between the history read and live delivery; those that
   * arrive meanwhile are buffered and de-duplicated by offset in {@link #activate}.
   */
  async #join(channel: string, ns: NamespaceOptions, req: SubscribeRequest,
    extra: { chanInfo: RawJson | undefined; expiresAt: number | undefined; serverSide: boolean }): Promise<SubscribeResult> {
    const { node, config } = this.#ctx;
    const hasHistory = ns.history_size > 0;
    const recoverable = hasHistory && (req.recoverable || ns.force_recovery);
    const positioned = hasHistory && (req.positioned || ns.force_positioning || recoverable);
    const info = withDefined<ClientInfo>({ user: this.#user, client: this.id }, { conn_info: this.#connInfo, chan_info: extra.chanInfo });
    const sub: Subscription = {
      channel, ns, buffer: [], joinLeave: ns.join_leave && req.join_leave, positioned, epoch: '', offset: 0, info,
      expiresAt: extra.expiresAt, serverSide: extra.serverSide,
    };
    this.#subs.set(channel, sub);
    try {
      await node.subscribeProtocol(channel, this, sub.joinLeave);
      let result: SubscribeResult = {};
      if (hasHistory) {
        result = await this.#position(channel, ns, req, recoverable, positioned, config.recovery_max_publications);
        sub.epoch = result.epoch ?? '';
        sub.offset = result.offset ?? 0;
      }
      if (ns.presence) await node.addPresence(channel, info);
      if (this.#state === 'closed' || this.#subs.get(channel) !== sub) throw new DisconnectError(DisconnectCode.ConnectionClosed);
      if (extra.expiresAt !== undefined) {
        result = { ...result, expires: true, ttl: ttlSeconds(extra.expiresAt, Date.now()) };
      }
      return result;
    } catch (err) {
      if (this.#subs.get(channel) === sub) this.#subs.delete(channel);
      void node.unsubscribeProtocol(channel, this).catch(() => {});
      if (ns.presence) void node.removePresence(channel, this.id).catch(() => {});
      throw err;
    }
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
   * After the subscribe reply: deliver what was buffered meanwhile (newer than the result's
   * position), then announce the join — after, so every engine delivers it the same way,
   * including to the subscriber itself when it asked for join/leave.
   */
  #activate(channel: string): void {
    const sub = this.#subs.get(channel);
    if (!sub || sub.buffer === undefined) return;
    const buffered = sub.buffer;
    sub.buffer = undefined;
    for (const { frame, position } of buffered) this.deliverPublication(channel, frame, position);
    if (sub.ns.join_leave) void this.#ctx.node.publishJoin(channel, sub.info).catch((err: unknown) => this.#engineError(err, 'join'));
  }

  async #unsubscribe(req: ChannelRequest): Promise<Results['unsubscribe']> {
    // Always succeeds: the centrifuge SDK reconnects when an unsubscribe fails.
    await this.#leave(req.channel);
    return {};
  }

  /** The server API subscribes this connection to `channel`; the client learns it from a subscribe push. */
  async serverSubscribe(channel: string): Promise<void> {
    if (this.#state !== 'connected' || this.#subs.has(channel)) return;
    const ns = this.#ctx.node.requireNamespace(channel);
    const max = this.#ctx.config.client_max_channels;
    if (this.#subs.size >= max) throw new ReplyError(ErrorCode.LimitExceeded, `limit exceeded: the connection already has client_max_channels (${max}) channels`);
    const req: SubscribeRequest = { channel, recover: false, positioned: false, recoverable: false, join_leave: true };
    const result = await this.#join(channel, ns, req, { chanInfo: undefined, expiresAt: undefined, serverSide: true });
    this.#writer.push(encodeSubscribePush(channel, result));
    this.#activate(channel);
  }

  /** The server API ends this connection's subscription to `channel`. */
  serverUnsubscribe(channel: string): void {
    this.#serverUnsubscribe(channel, UnsubscribeCode.Server, UNSUBSCRIBES[UnsubscribeCode.Server]);
  }

  setExpiry(expiresAt: number | undefined): void {
    this.#expiresAt = expiresAt;
  }

  /** Ends a subscription from the server's side with an unsubscribe push. */
  #serverUnsubscribe(channel: string, code: number, reason: string): void {
    if (!this.#subs.has(channel)) return;
    this.#writer.push(encodeUnsubscribePush(channel, code, reason));
    void this.#leave(channel);
  }

  async #leave(channel: string): Promise<void> {
    const sub = this.#subs.get(channel);
    if (!sub) return;
    this.#subs.delete(channel);
    const { node } = this.#ctx;
    const work: Array<Promise<void>> = [node.unsubscribeProtocol(channel, this)];
    if (sub.ns.presence) work.push(node.removePresence(channel, this.id));
    if (sub.ns.join_leave) work.push(node.publishLeave(channel, sub.info));
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === 'rejected') this.#engineError(r.reason, 'unsubscribe');
  }

  // ---- delivery (called by the hub) ----

  deliverPublication(channel: string, frame: SharedMessage, position: StreamPosition): void {
    const sub = this.#subs.get(channel);
    if (!sub) return;
    if (sub.buffer !== undefined) {
      sub.buffer.push({ frame, position });
      return;
    }
    if (position.offset > 0) {
      if (position.epoch === sub.epoch && position.offset <= sub.offset) return; // already delivered (recovered or buffered)
      if (sub.positioned && (position.epoch !== sub.epoch || position.offset !== sub.offset + 1)) {
        this.insufficientState(channel);
        return;
      }
      sub.epoch = position.epoch;
      sub.offset = position.offset;
    }
    this.#writer.push(frame);
  }

  deliverJoinLeave(channel: string, frame: SharedMessage): void {
    const sub = this.#subs.get(channel);
    if (sub && sub.joinLeave && sub.buffer === undefined) {
      this.#ctx.metrics.sent('join_leave');
      this.#writer.push(frame);
    }
  }

  /** A gap in a positioned subscription: reconnect so the client recovers (3010), never a silent gap. */
  insufficientState(channel?: string): void {
    if (this.#state !== 'connected') return;
    for (const sub of this.#subs.values()) {
      if (sub.positioned && (channel === undefined || sub.channel === channel)) {
        this.disconnect(DisconnectCode.InsufficientState, 'insufficient state: publications may have been missed; reconnect to recover');
        return;
      }
    }
  }

  // ---- publish, history, presence, rpc, send ----

  #allowed(ns: NamespaceOptions, channel: string, forClient: boolean, forAnonymous: boolean, forSubscriber: boolean): boolean {
    return (this.#user === '' ? forAnonymous : forClient) || (forSubscriber && this.#subs.has(channel));
  }

  async #publish(req: PublishRequest): Promise<Results['publish']> {
    const { node, handlers } = this.#ctx;
    const ns = node.requireNamespace(req.channel);
    let data = req.data;
    if (handlers.onPublish) {
      const r = await handlers.onPublish({ client: this.id, user: this.#user, channel: req.channel, data: JSON.parse(data) });
      if (r && r.data !== undefined) data = toRaw(r.data)!;
    } else if (!this.#allowed(ns, req.channel, ns.allow_publish_for_client, ns.allow_publish_for_anonymous, ns.allow_publish_for_subscriber)) {
      throw new ReplyError(ErrorCode.PermissionDenied, `permission denied: clients may not publish to ${req.channel}`);
    }
    const sub = this.#subs.get(req.channel);
    const info = sub?.info ?? withDefined<ClientInfo>({ user: this.#user, client: this.id }, { conn_info: this.#connInfo });
    await node.publish(req.channel, { data, info });
    return {};
  }

  async #history(req: HistoryRequest): Promise<HistoryResult> {
    const { node } = this.#ctx;
    const ns = node.requireNamespace(req.channel);
    if (ns.history_size === 0) throw new ReplyError(ErrorCode.NotAvailable, `not available: ${req.channel} keeps no history`);
    if (!this.#allowed(ns, req.channel, ns.allow_history_for_client, ns.allow_history_for_anonymous, ns.allow_history_for_subscriber)) {
      throw new ReplyError(ErrorCode.PermissionDenied, `permission denied: clients may not read the history of ${req.channel}`);
    }
    try {
      const page = await node.history(req.channel, ns, withDefined(
        { limit: req.limit ?? 0, reverse: req.reverse },
        { since: req.since },
      ));
      return { publications: page.publications, epoch: page.position.epoch, offset: page.position.offset };
    } catch (err) {
      if (err instanceof UnrecoverablePositionError) throw new ReplyError(ErrorCode.UnrecoverablePosition, `unrecoverable position: ${err.message}`);
      throw err;
    }
  }

  #presenceAllowed(channel: string): NamespaceOptions {
    const ns = this.#ctx.node.requireNamespace(channel);
    if (!ns.presence) throw new ReplyError(ErrorCode.NotAvailable, `not available: ${channel} keeps no presence`);
    if (!this.#allowed(ns, channel, ns.allow_presence_for_client, ns.allow_presence_for_anonymous, ns.allow_presence_for_subscriber)) {
      throw new ReplyError(ErrorCode.PermissionDenied, `permission denied: clients may not read the presence of ${channel}`);
    }
    return ns;
  }

  async #presence(req: ChannelRequest): Promise<PresenceResult> {
    this.#presenceAllowed(req.channel);
    return { presence: await this.#ctx.node.presence(req.channel) };
  }

  async #presenceStats(req: ChannelRequest): Promise<PresenceStatsResult> {
    this.#presenceAllowed(req.channel);
    const s = await this.#ctx.node.presenceStats(req.channel);
    return { num_clients: s.numClients, num_users: s.numUsers };
  }

  async #rpc(req: RpcRequest): Promise<RpcResult> {
    const { onRpc } = this.#ctx.handlers;
    if (!onRpc) throw new ReplyError(ErrorCode.MethodNotFound, `method not found: ${JSON.stringify(req.method)} (this server has no RPC methods)`);
    const result = await onRpc(withDefined({ client: this.id, user: this.#user, method: req.method }, { data: parseData(req.data) }));
    return withDefined<RpcResult>({}, { data: toRaw(result) });
  }

  async #send(req: SendRequest): Promise<void> {
    const { onMessage } = this.#ctx.handlers;
    if (onMessage) await onMessage(withDefined({ client: this.id, user: this.#user }, { data: parseData(req.data) }));
  }

  // ---- closing ----

  /** Ends the connection: queued output is written, then the close frame with `code` and `reason`. */
  disconnect(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#closeCode = code;
    this.#ctx.metrics.disconnect(code);
    this.#writer.close();
    try {
      this.#conn.close(code, reason);
    } finally {
      this.closed(code);
    }
  }

  /** The transport closed (either side): subscriptions, presence and registration are cleaned up once. */
  closed(code: number): void {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    this.#ctx.sessions.delete(this);
    const wasConnected = this.#wasConnected;
    this.#state = 'closed';
    if (this.#closeCode === 0) this.#closeCode = code;
    clearTimeout(this.#staleTimer);
    this.#writer.close();
    this.#ctx.node.unregister(this);
    const channels = [...this.#subs.keys()];
    void Promise.all(channels.map((c) => this.#leave(c))).then(() => {
      if (wasConnected) this.#ctx.handlers.onDisconnect?.({ client: this.id, user: this.#user, code: this.#closeCode });
    });
  }

  #engineError(err: unknown, what: string): void {
    this.#ctx.metrics.engineError(what);
    this.#ctx.log.warn({ err, client: this.id }, `engine call failed: ${what}`);
  }
}
