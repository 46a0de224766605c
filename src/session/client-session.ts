/**
 * One protocol connection (ws://HOST:PORT/connection/websocket): its state machine
 * (connecting -> connected -> closed) and the dispatch of its commands. Commands are handled
 * one at a time in arrival order, so replies keep their order and a subscribe sent in the same
 * frame as connect sees the connection established. Failures go through toWire() — the one
 * place that turns an error into a reply error or a disconnect. Time and timers come from the
 * context's clock only, so the whole session runs under a fake clock in tests.
 */
import { randomUUID } from 'node:crypto';
import { EngineUnavailableError } from '../engine/types.js';
import type { SharedMessage } from '../hub/shared-message.js';
import type { SessionHandle } from '../node.js';
import { DisconnectCode, ErrorCode, UnsubscribeCode, UNSUBSCRIBES } from '../protocol/codes.js';
import { jsonCodec, type Codec, type Encoded } from '../protocol/codec.js';
import { decodeFrame } from '../protocol/decode.js';
import { PING } from '../protocol/encode.js';
import { AuthError, DisconnectError, ReplyError, toWire, type AuthContext } from '../protocol/errors.js';
import { ProxyError } from '../proxy/errors.js';
import type { Caller, UpgradeHeaders } from '../proxy/proxy.js';
import type {
  ChannelRequest, ClientInfo, Command, ConnectRequest, ConnectResult, Incoming, JsonText, RefreshRequest, RefreshResult,
  Results, SubscribeResult,
} from '../protocol/types.js';
import { withDefined } from '../util/defined.js';
import { history, presence, presenceStats, publish, rpc, send } from './commands.js';
import { connectResult, identify, logConnectRefused } from './connect.js';
import type { SessionConnection, SessionContext } from './context.js';
import { overdue, refreshDeadline, ttlSeconds } from './expiry.js';
import { Outbox } from './outbox.js';
import { FULL_BUCKET, REFUSED, Refusals, type Verdict } from './rate-limit.js';
import {
  AWAITING_PONG, CLEANED_UP, emptyRareState, PAUSED, PROCESSING, REFRESHING, stateOf, WAS_CONNECTED, withState, type RareState, type State,
} from './session-state.js';
import { Subscriptions, type SubscriptionsHost } from './subscriptions.js';

/**
 * Commands waiting to be handled, past which the connection stops reading until the backlog
 * falls to RESUME_AT: a client cannot grow our memory by sending faster than we handle.
 */
const PAUSE_AT = 2000;
const RESUME_AT = 200;

/**
 * When the refresh proxy fails (unreachable, timeout...), the connection lives this much longer
 * and is asked about again: a backend's bad minute must not disconnect everyone (Centrifugo's rule).
 */
const REFRESH_RETRY_MS = 60_000;

/**
 * A frame that is exactly `{}`: the client's pong (protocol.md, "Ping and pong"), the only
 * thing an idle connection sends, once per ping interval. decodeFrame gives the same; this
 * spares parsing it and the arrays and objects that go with it (the heartbeat's garbage at
 * 10,000 idle connections, docs/benchmarks.md "Memory").
 */
const PONG_FRAME: readonly Incoming[] = Object.freeze([Object.freeze({ method: 'pong' as const })]);

/** How a connection speaks: its codec, whether it is emulated over HTTP, and what of its upgrade request proxies see. */
export interface SessionOptions {
  /** JSON (the default) or Protobuf. */
  readonly codec?: Codec;
  /**
   * An emulated connection: the client sends its commands to /emulation with this session id,
   * which the connect reply tells it (with the node). Secret: it is never shown to others (the
   * client id is, in presence), so nobody else can send commands as this client.
   */
  readonly emulationSession?: string;
  /** The WebSocket upgrade request's headers (or an emulated stream's opening request's); only those a proxy forwards are kept. */
  readonly upgradeHeaders?: UpgradeHeaders;
}

/**
 * One protocol connection. It is its own outbox (it extends Outbox, whose `sink` is the
 * connection): the queue's fields live in this object, one object fewer per connection and one
 * pointer fewer per delivery.
 */
export class ClientSession extends Outbox<SessionConnection> implements SessionHandle, SubscriptionsHost {
  readonly id = randomUUID();
  readonly #ctx: SessionContext;
  readonly #subs: Subscriptions;
  /** Commands waiting to be handled, oldest first; none (undefined) when idle, so an idle connection keeps no array. */
  #queue: Command[] | undefined = undefined;
  /**
   * The rate limit's bucket: when it is full again (CommandRate.take), a number rather than an
   * object per connection; undefined while full, set back by the heartbeat tick. On Node a
   * fraction here is a 16-byte box: a field that starts as undefined holds one only while set,
   * where one that starts as 0 keeps it for good once any session stored a fraction.
   */
  #bucket: number | undefined = undefined;
  /** PROCESSING, PAUSED, AWAITING_PONG, CLEANED_UP, WAS_CONNECTED, REFRESHING: six booleans and the state in one number, one field instead of seven. */
  #flags = 0;
  #user = '';
  /**
   * How the connection appears to others (presence, joins, publications), shared by its
   * subscriptions: made at connect when the connection has conn_info, else on the first read
   * (a connection that never shows itself to others keeps none).
   */
  #info: ClientInfo | undefined;
  /** See RareState; undefined until one of its fields is set. */
  #rare: RareState | undefined = undefined;

  constructor(conn: SessionConnection, ctx: SessionContext, options: SessionOptions = {}) {
    super(conn, ctx.outbox);
    this.#ctx = ctx;
    if (options.codec !== undefined && options.codec !== jsonCodec) this.#more().codec = options.codec;
    if (options.emulationSession !== undefined) this.#more().emulationSession = options.emulationSession;
    const headers = ctx.proxies.keepHeaders(options.upgradeHeaders);
    if (headers !== undefined) this.#more().headers = headers;
    const { config, clock } = ctx;
    this.#subs = new Subscriptions(this);
    // The stale timer's cancel is kept in `connecting`, not in a field: a connected session needs
    // neither, and on Bun one field fewer puts a session in a smaller size class (224 -> 160 bytes).
    ctx.connecting.set(this, clock.after(config.client_connect_timeout,
      () => this.disconnect(DisconnectCode.Stale, `stale: no connect command within ${config.client_connect_timeout} ms`)));
  }

  /** The server's context this session was made with (SubscriptionsHost). */
  get context(): SessionContext {
    return this.#ctx;
  }

  /** The rarely used state, made now if it was not. */
  #more(): RareState {
    return this.#rare ??= emptyRareState();
  }

  /** Sets a rarely used field; setting undefined where there is no rare state makes none. */
  #keep<K extends keyof RareState>(key: K, value: RareState[K]): void {
    if (value !== undefined || this.#rare !== undefined) this.#more()[key] = value;
  }

  /** JSON or Protobuf: how commands are read and replies written. */
  get codec(): Codec {
    return this.#rare?.codec ?? jsonCodec;
  }

  /** connecting -> connected -> closed, kept as two bits of #flags (one field fewer per connection). */
  get #state(): State {
    return stateOf(this.#flags);
  }

  set #state(state: State) {
    this.#flags = withState(this.#flags, state);
  }

  /** The emulated session id (an emulated connection), or undefined (a WebSocket). */
  get emulationSession(): string | undefined {
    return this.#rare?.emulationSession;
  }

  get user(): string {
    return this.#user;
  }

  /** New conn_info (a refresh): what the connection's later subscriptions and publications show. */
  #setConnInfo(info: JsonText): void {
    // The subscriptions made before keep showing the info they were made with.
    const before = this.info;
    for (const sub of this.#subs.values()) sub.keepInfo(before);
    this.#info = withDefined<ClientInfo>({ user: this.#user, client: this.id }, { conn_info: info });
  }

  get info(): ClientInfo {
    return this.#info ??= { user: this.#user, client: this.id };
  }

  get admission(): number | undefined {
    return this.#rare?.admission;
  }

  /** This connection as proxy calls describe it. */
  caller(): Caller {
    return { client: this.id, transport: this.sink.transport, protocol: this.codec.name, user: this.#user, meta: this.#rare?.meta, headers: this.#rare?.headers, emulated: this.#rare?.emulated };
  }

  get state(): State {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  channels(): Iterable<string> {
    return this.#subs.channels();
  }

  // ---- input ----

  /** A text frame from the client. A malformed frame disconnects with 3501. */
  handleFrame(text: string): void {
    if (this.#state === 'closed') return;
    if (this.codec.binary) {
      this.disconnect(DisconnectCode.BadRequest, 'bad request: text frames are not part of the Protobuf protocol; send binary');
      return;
    }
    if (text === PING) {
      this.#accept(PONG_FRAME);
      return;
    }
    let commands: Incoming[];
    try {
      commands = decodeFrame(text);
    } catch (err) {
      this.#fail(err, 0);
      return;
    }
    this.#accept(commands);
  }

  /** A binary frame: Protobuf commands, or a bad request (3501) on a JSON connection. */
  handleBinary(bytes: Uint8Array = new Uint8Array(0)): void {
    if (this.#state === 'closed') return;
    if (!this.codec.binary) {
      this.disconnect(DisconnectCode.BadRequest, 'bad request: binary frames are not part of the JSON protocol; send text');
      return;
    }
    let commands: Incoming[];
    try {
      commands = this.codec.decode(bytes);
    } catch (err) {
      this.#fail(err, 0);
      return;
    }
    this.#accept(commands);
  }

  #accept(commands: readonly Incoming[]): void {
    for (const c of commands) {
      if (c.method !== 'pong') {
        (this.#queue ??= []).push(c);
      } else if (this.#has(AWAITING_PONG)) {
        // The pong to our ping is taken at once, not behind a slow command: it only proves the client is alive.
        this.#clear(AWAITING_PONG);
      } else if (this.#take() === 'flood') {
        // Pongs nobody asked for are commands like any other for the rate limit (issue 13: a
        // flood of `{}` was accepted at 1.6 M/s).
        this.#flooded();
        return;
      }
    }
    if (this.#queue !== undefined && this.#queue.length > PAUSE_AT && !this.#has(PAUSED)) {
      this.#set(PAUSED);
      this.sink.pauseReading();
    }
    // Only when there is something to handle: #drain is async, and a pong alone would make a
    // promise for nothing.
    if (this.#queue !== undefined) void this.#drain();
  }

  #has(flag: number): boolean {
    return (this.#flags & flag) !== 0;
  }

  #set(flag: number): void {
    this.#flags |= flag;
  }

  #clear(flag: number): void {
    this.#flags &= ~flag;
  }

  /** Leaves the sessions still connecting, and stops the stale timer (a connect succeeded, or the connection closed). */
  #connected(): void {
    const connecting = this.#ctx.connecting;
    const cancelStale = connecting.get(this);
    if (cancelStale === undefined) return;
    cancelStale();
    connecting.delete(this);
  }

  /** One command against the rate limit; a refusal is counted in the rare state, where a flood is seen. */
  #take(): Verdict {
    const { commandRate, clock } = this.#ctx;
    const now = clock.now();
    const bucket = commandRate.take(this.#bucket ?? FULL_BUCKET, now);
    if (bucket !== REFUSED) {
      this.#bucket = bucket;
      return 'ok';
    }
    return (this.#more().refusals ??= new Refusals(now)).count(now, commandRate.burst);
  }

  #flooded(): void {
    const burst = this.#ctx.config.client_command_burst;
    this.disconnect(DisconnectCode.TooManyRequests, `too many requests: more than ${burst} commands refused within a second`);
  }

  async #drain(): Promise<void> {
    if (this.#has(PROCESSING)) return;
    this.#set(PROCESSING);
    try {
      for (let queue = this.#queue; queue !== undefined && queue.length > 0 && this.#state !== 'closed'; queue = this.#queue) {
        const cmd = queue.shift()!;
        if (this.#overlaps(cmd)) {
          // Consecutive publishes overlap: each reaches the engine synchronously, in order, when
          // it starts (the memory engine publishes at once; Redis runs commands in the order one
          // connection sends them), so offsets keep command order while Redis round trips are
          // shared. Profiled: one publisher on Redis waited a round trip per publish (0.29x the
          // memory engine's fan-out rate, docs/benchmarks.md). An onPublish handler may take any
          // time, and so may a publish proxy, so through either, publishes stay one at a time.
          const batch = [this.#handle(cmd)];
          while (queue[0] && this.#overlaps(queue[0])) batch.push(this.#handle(queue.shift()!));
          await Promise.all(batch);
        } else {
          await this.#handle(cmd);
        }
        if (this.#has(PAUSED) && queue.length <= RESUME_AT) {
          this.#clear(PAUSED);
          this.sink.resumeReading();
        }
      }
    } finally {
      this.#clear(PROCESSING);
      if (this.#queue?.length === 0) this.#queue = undefined;
    }
  }

  /** Whether `cmd` is a publish that may start before the previous one ended (see #drain). */
  #overlaps(cmd: Command): boolean {
    return cmd.method === 'publish' && this.#state === 'connected' && !this.#ctx.handlers.onPublish
      && this.#ctx.node.namespace(cmd.request.channel)?.publish_proxy === undefined;
  }

  async #handle(cmd: Command): Promise<void> {
    const verdict = this.#take();
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
      if (cmd.method === 'connect') logConnectRefused(this.#ctx, this.sink, this.id, err);
      this.#fail(err, cmd.id, cmd.method === 'subscribe' || cmd.method === 'sub_refresh' ? 'subscription' : 'connection', cmd.method === 'send');
    }
  }

  async #dispatch(cmd: Command): Promise<void> {
    this.#ctx.metrics.received('protocol', cmd.method);
    switch (cmd.method) {
      case 'connect': return this.#connectCommand(cmd.id, cmd.request);
      case 'subscribe': return this.#subscribeCommand(cmd.id, cmd.request.channel, await this.#subs.subscribe(cmd.request));
      case 'unsubscribe': return this.#reply(cmd.id, 'unsubscribe', await this.#unsubscribe(cmd.request));
      case 'publish': return this.#reply(cmd.id, 'publish', await publish(this.#ctx, this, this.#subs, cmd.request));
      case 'presence': return this.#reply(cmd.id, 'presence', await presence(this.#ctx, this, this.#subs, cmd.request));
      case 'presence_stats': return this.#reply(cmd.id, 'presence_stats', await presenceStats(this.#ctx, this, this.#subs, cmd.request));
      case 'history': return this.#reply(cmd.id, 'history', await history(this.#ctx, this, this.#subs, cmd.request));
      case 'ping': return this.#reply(cmd.id, 'ping', {});
      case 'send': return send(this.#ctx, this, cmd.request);
      case 'rpc': return this.#reply(cmd.id, 'rpc', await rpc(this.#ctx, this, cmd.request));
      case 'refresh': return this.#reply(cmd.id, 'refresh', await this.#refresh(cmd.request));
      case 'sub_refresh': return this.#reply(cmd.id, 'sub_refresh', await this.#subs.refresh(cmd.request));
    }
  }

  #reply<M extends keyof Results>(id: number, method: M, result: Results[M]): void {
    if (this.#state === 'closed') return;
    this.#ctx.metrics.sent('reply');
    this.push(this.codec.reply(id, method, result));
  }

  /** The one place a failure becomes what the client sees. */
  #fail(err: unknown, id: number, context: AuthContext = 'connection', silent = false): void {
    // Redis away: the command fails as temporary (toWire: 100, the client retries), the connection stays.
    if (err instanceof EngineUnavailableError) this.engineError(err, 'command');
    const wire = toWire(err, context);
    if (wire.kind === 'disconnect') {
      this.disconnect(wire.code, wire.reason);
      return;
    }
    if (wire.kind === 'internal') {
      this.#ctx.log.error({ err: wire.cause, client: this.id }, 'command failed');
    }
    this.#ctx.metrics.error(wire.code);
    if (!silent && id > 0 && this.#state !== 'closed') this.push(this.codec.errorReply(id, wire.code, wire.message, wire.temporary));
  }

  // ---- connect, refresh, expiry ----

  /**
   * Who the client is (connect.ts: token, onConnecting, connect proxy, and the rules they must
   * meet), then the connection limit, the switch to connected, and the server-side subscriptions.
   */
  async #connect(req: ConnectRequest): Promise<ConnectResult> {
    const { config, node, proxies } = this.#ctx;
    this.#keep('emulated', proxies.keepEmulated(req.headers));
    // Only onConnecting is told the peer's address: reading it makes Node cache it on the socket
    // (an object and a string, about 84 bytes per connection; heap snapshot), so it is read only then.
    const remoteAddress = this.#ctx.handlers.onConnecting ? this.sink.remoteAddress : undefined;
    const identity = await identify(this.#ctx, { id: this.id, remoteAddress, caller: () => this.caller() }, req);
    const { user, expiresAt } = identity;
    await this.#admit(user);
    if (this.#state !== 'connecting') {
      this.#release(user);
      throw new DisconnectError(DisconnectCode.ConnectionClosed);
    }
    this.#user = user;
    // Without conn_info, the info object is made when first read (presence, joins, a publication), as many connections never need it.
    this.#info = identity.info === undefined ? undefined : { user, client: this.id, conn_info: identity.info };
    this.#keep('meta', identity.meta);
    const serverRefresh = proxies.refresh !== undefined;
    // With a refresh proxy the server asks the backend at the expiry itself; the client is not told.
    this.#keep('expiresAt', serverRefresh ? expiresAt : refreshDeadline(expiresAt, identity.checkedAt));
    this.#state = 'connected';
    this.#set(WAS_CONNECTED);
    // Only a connect that succeeds stops the stale timer: a client whose connects fail stays stale.
    this.#connected();
    node.register(this);
    const admission = this.#rare?.admission;
    if (config.single_connection && admission !== undefined) {
      void node.control({
        op: 'disconnect', user, before: admission, code: DisconnectCode.ConnectionLimit,
        reason: 'connection limit: this user connected again elsewhere (single_connection)',
      }).catch((err: unknown) => this.engineError(err, 'single_connection'));
    }

    const subResults: Record<string, SubscribeResult> = {};
    for (const [channel, options] of identity.subs) {
      const result = await this.#subs.subscribeAtConnect(channel, req.subs?.[channel], options);
      if (result) subResults[channel] = result;
    }
    return connectResult(this.#ctx, this, identity, serverRefresh, subResults);
  }

  /**
   * Counts this connection toward its user's limit (user_connection_limit, single_connection),
   * on every node: refused past the limit with 3504. Anonymous connections are not counted.
   */
  async #admit(user: string): Promise<void> {
    const { config, node } = this.#ctx;
    if (user === '' || (config.user_connection_limit === 0 && !config.single_connection)) return;
    const limit = config.single_connection ? 0 : config.user_connection_limit;
    const admission = await node.users.admit(user, this.id, limit, node.userConnectionTtl);
    if (!admission.admitted) {
      throw new DisconnectError(DisconnectCode.ConnectionLimit,
        `connection limit: this user already has ${admission.count} connections (user_connection_limit ${limit})`);
    }
    this.#keep('admission', admission.seq);
  }

  /** Stops counting this connection toward `user`'s limit. */
  #release(user: string): void {
    if (this.#rare?.admission === undefined) return;
    this.#keep('admission', undefined);
    void this.#ctx.node.users.remove(user, this.id).catch((err: unknown) => this.engineError(err, 'connection count removal'));
  }

  /** Connect, then — after the reply, which the client must see first — the server-side subscriptions go live. */
  async #connectCommand(id: number, req: ConnectRequest): Promise<void> {
    const result = await this.#connect(req);
    this.#reply(id, 'connect', result);
    for (const channel of Object.keys(result.subs ?? {})) this.#subs.activate(channel);
  }

  async #refresh(req: RefreshRequest): Promise<RefreshResult> {
    if (this.#ctx.proxies.refresh) {
      // The client was told no expiry (the server refreshes through the backend): a refresh is out of place.
      throw new DisconnectError(DisconnectCode.BadRequest, 'bad request: this server refreshes connections itself (refresh proxy)');
    }
    const claims = await this.#ctx.tokens.verifyConnection(req.token);
    if (claims.user !== this.#user) throw new AuthError('invalid', 'invalid token: it is for another user');
    const now = this.#ctx.clock.now();
    if (claims.expiresAt !== undefined && claims.expiresAt <= now) throw new ReplyError(ErrorCode.Expired, 'expired: the token\'s expire_at is not in the future');
    this.#keep('expiresAt', refreshDeadline(claims.expiresAt, now));
    if (claims.info !== undefined) this.#setConnInfo(claims.info);
    if (claims.meta !== undefined) this.#keep('meta', claims.meta);
    return withDefined<RefreshResult>({ client: this.id, version: this.#ctx.version }, {
      expires: claims.expiresAt !== undefined ? true : undefined,
      ttl: claims.expiresAt !== undefined ? ttlSeconds(claims.expiresAt, now) : undefined,
    });
  }

  /**
   * The refresh proxy decides whether the connection lives on: a later expire_at prolongs it
   * (with new info and meta, when given); `expired`, no result, or an expire_at not in the future
   * ends it with 3005. When the backend fails, it is asked again in a minute.
   */
  async #refreshFromBackend(proxy: NonNullable<SessionContext['proxies']['refresh']>): Promise<void> {
    this.#set(REFRESHING);
    try {
      const answer = await proxy.refresh(this.caller());
      if (this.#state !== 'connected') return;
      const now = this.#ctx.clock.now();
      if (!answer || answer.expired || answer.expiresAt === undefined || answer.expiresAt <= now) {
        this.disconnect(DisconnectCode.Expired, 'connection expired: the backend did not prolong it');
        return;
      }
      this.#keep('expiresAt', answer.expiresAt);
      if (answer.info !== undefined) this.#setConnInfo(answer.info);
      if (answer.meta !== undefined) this.#keep('meta', answer.meta);
    } catch (err) {
      if (!(err instanceof ProxyError)) throw err;
      this.#keep('expiresAt', this.#ctx.clock.now() + REFRESH_RETRY_MS); // the failure is logged by the proxy
    } finally {
      this.#clear(REFRESHING);
    }
  }

  /** The server API moved this connection's expiry (Unix ms), or removed it. */
  setExpiry(expiresAt: number | undefined): void {
    this.#keep('expiresAt', expiresAt);
  }

  // ---- heartbeat (called by the server's one timer) ----

  /** Sends the application-level ping; the client answers with a pong. */
  ping(): void {
    if (this.#state !== 'connected') return;
    this.#set(AWAITING_PONG);
    this.#ctx.metrics.sent('ping');
    this.push(this.codec.ping);
  }

  /** Disconnects with 3012 when the last ping got no pong. */
  checkPong(): void {
    if (this.#state === 'connected' && this.#has(AWAITING_PONG)) this.disconnect(DisconnectCode.NoPong, 'no pong: the client did not answer the server ping');
  }

  /**
   * Ends an expired connection (3005) or subscriptions (2501), `client_expired_close_delay` past
   * their deadline, or asks the refresh proxies when they are due; renews presence and the
   * connection's place in its user's count.
   */
  tick(now: number): void {
    if (this.#state !== 'connected') return;
    const grace = this.#ctx.config.client_expired_close_delay;
    const refreshProxy = this.#ctx.proxies.refresh;
    if (refreshProxy) {
      const expiresAt = this.#rare?.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now && !this.#has(REFRESHING)) {
        void this.#refreshFromBackend(refreshProxy).catch((err: unknown) => {
          this.#ctx.log.error({ err, client: this.id }, 'server-side refresh failed');
          this.disconnect(DisconnectCode.ServerError, 'internal server error: the connection could not be refreshed');
        });
      }
    } else if (overdue(this.#rare?.expiresAt, grace, now)) {
      this.disconnect(DisconnectCode.Expired, 'connection expired: the token was not refreshed in time');
      return;
    }
    this.#subs.expire(now, grace);
    if (this.#bucket !== undefined && this.#ctx.commandRate.isFull(this.#bucket, now)) this.#bucket = undefined;
    if (this.#rare?.refusals?.isOver(now)) this.#rare.refusals = undefined;
    this.refreshPresence();
    if (this.#rare?.admission !== undefined) {
      void this.#ctx.node.users.renew(this.#user, this.id, this.#ctx.node.userConnectionTtl)
        .catch((err: unknown) => this.engineError(err, 'connection count renewal'));
    }
  }

  /** Renews this connection's presence entries (each tick, and at once after the engine came back). */
  refreshPresence(): void {
    if (this.#state === 'connected') this.#subs.refreshPresence();
  }

  // ---- subscriptions ----

  #subscribeCommand(id: number, channel: string, result: SubscribeResult): void {
    this.#reply(id, 'subscribe', result);
    this.#subs.activate(channel);
  }

  async #unsubscribe(req: ChannelRequest): Promise<Results['unsubscribe']> {
    // Always succeeds: the centrifuge SDK reconnects when an unsubscribe fails.
    await this.#subs.end(req.channel);
    return {};
  }

  /** The server API subscribes this connection to `channel`; the client learns it from a subscribe push. */
  async serverSubscribe(channel: string): Promise<void> {
    if (this.#state === 'connected') await this.#subs.subscribeFromServer(channel);
  }

  /** The server API ends this connection's subscription to `channel`. */
  serverUnsubscribe(channel: string): void {
    this.#subs.endFromServer(channel, UnsubscribeCode.Server, UNSUBSCRIBES[UnsubscribeCode.Server]);
  }

  /**
   * Queues a reply or push for the client (subscriptions deliver through this, naming the push's
   * channel). Past client_queue_max_bytes the client is a slow consumer: it is disconnected (it
   * reconnects and recovers).
   */
  push(item: Encoded | SharedMessage, channel?: string): void {
    if (this.enqueue(item, channel)) {
      this.disconnect(DisconnectCode.Slow, `slow: more than ${this.#ctx.config.client_queue_max_bytes} bytes waiting to be sent`);
    }
  }

  channelEnded(channel: string): void {
    this.sink.channelEnded?.(channel);
  }

  /** A subscription saw a gap: reconnect so the client recovers (3010), never a silent gap. */
  lostPosition(channel: string): void {
    this.insufficientState(channel);
  }

  /** The broker may have lost deliveries for `channel` (or every channel): positioned subscribers reconnect to recover (3010). */
  insufficientState(channel?: string): void {
    if (this.#state === 'connected' && this.#subs.hasPositioned(channel)) {
      this.disconnect(DisconnectCode.InsufficientState, 'insufficient state: publications may have been missed; reconnect to recover');
    }
  }

  // ---- closing ----

  /** Ends the connection: queued output is written, then the close frame with `code` and `reason`. */
  disconnect(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#more().closeCode = code;
    this.#ctx.metrics.disconnect(code);
    this.closeOutbox();
    try {
      this.sink.closeWith(code, reason);
    } finally {
      this.connectionClosed(code);
    }
  }

  /** The connection closed (either side): subscriptions, presence and registration are cleaned up once. */
  connectionClosed(code: number): void {
    if (this.#has(CLEANED_UP)) return;
    this.#set(CLEANED_UP);
    this.#connected();
    const wasConnected = this.#has(WAS_CONNECTED);
    this.#state = 'closed';
    const rare = this.#more();
    if (rare.closeCode === 0) rare.closeCode = code;
    this.closeOutbox();
    this.#ctx.node.unregister(this);
    this.#release(this.#user);
    void this.#subs.endAll().then(() => {
      if (wasConnected) this.#ctx.handlers.onDisconnect?.({ client: this.id, user: this.#user, code: rare.closeCode });
    });
  }

  /** An engine call failed where nobody awaits it: count it and log it. */
  engineError(err: unknown, what: string): void {
    this.#ctx.metrics.engineError(what);
    this.#ctx.log.warn({ err, client: this.id }, `engine call failed: ${what}`);
  }
}
