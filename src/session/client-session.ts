/**
 * One protocol connection (ws://HOST:PORT/connection/websocket): its state machine
 * (connecting -> connected -> closed) and the dispatch of its commands. Commands are handled
 * one at a time in arrival order, so replies keep their order and a subscribe sent in the same
 * frame as connect sees the connection established. Failures go through toWire() — the one
 * place that turns an error into a reply error or a disconnect. Time and timers come from the
 * context's clock only, so the whole session runs under a fake clock in tests.
 */
import { randomUUID } from 'node:crypto';
import { requireHistory, requirePresence, requireRight } from '../auth/channel-rights.js';
import { EngineUnavailableError } from '../engine/types.js';
import type { SharedMessage } from '../hub/shared-message.js';
import type { SessionHandle } from '../node.js';
import { DisconnectCode, ErrorCode, UnsubscribeCode, UNSUBSCRIBES } from '../protocol/codes.js';
import { jsonCodec, type Codec, type Encoded } from '../protocol/codec.js';
import { decodeFrame } from '../protocol/decode.js';
import { AuthError, DisconnectError, ReplyError, toWire, type AuthContext } from '../protocol/errors.js';
import { parseData, toRaw } from '../protocol/raw-json.js';
import type {
  ChannelRequest, ClientInfo, Command, ConnectRequest, ConnectResult, HistoryRequest, HistoryResult, Incoming,
  PresenceResult, PresenceStatsResult, PublishRequest, RawJson, RefreshRequest, RefreshResult, Results, RpcRequest,
  RpcResult, SendRequest, SubscribeResult,
} from '../protocol/types.js';
import { withDefined } from '../util/defined.js';
import type { SessionConnection, SessionContext } from './context.js';
import { overdue, refreshDeadline, ttlSeconds } from './expiry.js';
import { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limit.js';
import { Subscriptions, type SubscriptionsHost } from './subscriptions.js';

/**
 * Commands waiting to be handled, past which the connection stops reading until the backlog
 * falls to RESUME_AT: a client cannot grow our memory by sending faster than we handle.
 */
const PAUSE_AT = 2000;
const RESUME_AT = 200;

type State = 'connecting' | 'connected' | 'closed';

/** How a connection speaks: its codec, and whether it is emulated over HTTP (streaming or SSE). */
export interface SessionOptions {
  /** JSON (the default) or Protobuf. */
  readonly codec?: Codec;
  /**
   * An emulated connection: the client sends its commands to /emulation with this session id,
   * which the connect reply tells it (with the node). Secret: it is never shown to others (the
   * client id is, in presence), so nobody else can send commands as this client.
   */
  readonly emulationSession?: string;
}

export class ClientSession implements SessionHandle, SubscriptionsHost {
  readonly id = randomUUID();
  readonly #ctx: SessionContext;
  readonly #conn: SessionConnection;
  readonly #outbox: Outbox;
  readonly #subs: Subscriptions;
  readonly #queue: Command[] = [];
  readonly #limiter: RateLimiter;
  /** JSON or Protobuf: how commands are read and replies written. */
  readonly codec: Codec;
  readonly emulationSession: string | undefined;
  #processing = false;
  #paused = false;
  #state: State = 'connecting';
  #user = '';
  #connInfo: RawJson | undefined;
  /** When the connection token must be refreshed by (Unix ms), if it expires. */
  #expiresAt: number | undefined;
  #cancelStale: (() => void) | undefined;
  #awaitingPong = false;
  #closeCode = 0;
  #cleanedUp = false;
  #wasConnected = false;

  constructor(conn: SessionConnection, ctx: SessionContext, options: SessionOptions = {}) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.codec = options.codec ?? jsonCodec;
    this.emulationSession = options.emulationSession;
    const { config, clock } = ctx;
    this.#limiter = new RateLimiter(config.client_command_rate, config.client_command_burst, clock.now());
    this.#outbox = new Outbox(conn, config.client_queue_max_bytes, ctx.flushes, () =>
      this.disconnect(DisconnectCode.Slow, `slow: more than ${config.client_queue_max_bytes} bytes waiting to be sent`),
    );
    this.#subs = new Subscriptions(ctx, this);
    this.#cancelStale = clock.after(config.client_connect_timeout,
      () => this.disconnect(DisconnectCode.Stale, `stale: no connect command within ${config.client_connect_timeout} ms`));
    ctx.sessions.add(this);
  }

  get user(): string {
    return this.#user;
  }

  get connInfo(): RawJson | undefined {
    return this.#connInfo;
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

  #accept(commands: Incoming[]): void {
    for (const c of commands) {
      if (c.method !== 'pong') {
        this.#queue.push(c);
      } else if (this.#awaitingPong) {
        // The pong to our ping is taken at once, not behind a slow command: it only proves the client is alive.
        this.#awaitingPong = false;
      } else if (this.#limiter.take(this.#ctx.clock.now()) === 'flood') {
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
    const verdict = this.#limiter.take(this.#ctx.clock.now());
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
      case 'subscribe': return this.#subscribeCommand(cmd.id, cmd.request.channel, await this.#subs.subscribe(cmd.request));
      case 'unsubscribe': return this.#reply(cmd.id, 'unsubscribe', await this.#unsubscribe(cmd.request));
      case 'publish': return this.#reply(cmd.id, 'publish', await this.#publish(cmd.request));
      case 'presence': return this.#reply(cmd.id, 'presence', await this.#presence(cmd.request));
      case 'presence_stats': return this.#reply(cmd.id, 'presence_stats', await this.#presenceStats(cmd.request));
      case 'history': return this.#reply(cmd.id, 'history', await this.#history(cmd.request));
      case 'ping': return this.#reply(cmd.id, 'ping', {});
      case 'send': return this.#send(cmd.request);
      case 'rpc': return this.#reply(cmd.id, 'rpc', await this.#rpc(cmd.request));
      case 'refresh': return this.#reply(cmd.id, 'refresh', await this.#refresh(cmd.request));
      case 'sub_refresh': return this.#reply(cmd.id, 'sub_refresh', await this.#subs.refresh(cmd.request));
    }
  }

  #reply<M extends keyof Results>(id: number, method: M, result: Results[M]): void {
    if (this.#state === 'closed') return;
    this.#ctx.metrics.sent('reply');
    this.#outbox.push(this.codec.reply(id, method, result));
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
    if (!silent && id > 0 && this.#state !== 'closed') this.#outbox.push(this.codec.errorReply(id, wire.code, wire.message, wire.temporary));
  }

  // ---- connect, refresh, expiry ----

  async #connect(req: ConnectRequest): Promise<ConnectResult> {
    const { tokens, handlers, anonymousAllowed, config, node, clock } = this.#ctx;
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
    const now = clock.now();
    if (expiresAt !== undefined && expiresAt <= now) throw new AuthError('expired', 'connection token expired');
    if (this.#state !== 'connecting') throw new DisconnectError(DisconnectCode.ConnectionClosed);
    this.#user = user;
    this.#connInfo = info;
    this.#expiresAt = refreshDeadline(expiresAt, now);
    this.#state = 'connected';
    this.#wasConnected = true;
    // Only a connect that succeeds stops the stale timer: a client whose connects fail stays stale.
    this.#cancelStale?.();
    this.#cancelStale = undefined;
    node.register(this);

    const subs: Record<string, SubscribeResult> = {};
    for (const channel of serverSide) {
      const result = await this.#subs.subscribeAtConnect(channel, req.subs?.[channel]);
      if (result) subs[channel] = result;
    }
    return withDefined<ConnectResult>(
      { client: this.id, version: this.#ctx.version, ping: Math.round(config.ping_interval / 1000), pong: true },
      {
        expires: expiresAt !== undefined ? true : undefined,
        ttl: expiresAt !== undefined ? ttlSeconds(expiresAt, now) : undefined,
        data,
        subs: Object.keys(subs).length > 0 ? subs : undefined,
        session: this.emulationSession,
        node: node.id,
      },
    );
  }

  /** Connect, then — after the reply, which the client must see first — the server-side subscriptions go live. */
  async #connectCommand(id: number, req: ConnectRequest): Promise<void> {
    const result = await this.#connect(req);
    this.#reply(id, 'connect', result);
    for (const channel of Object.keys(result.subs ?? {})) this.#subs.activate(channel);
  }

  async #refresh(req: RefreshRequest): Promise<RefreshResult> {
    const claims = await this.#ctx.tokens.verifyConnection(req.token);
    if (claims.user !== this.#user) throw new AuthError('invalid', 'invalid token: it is for another user');
    const now = this.#ctx.clock.now();
    this.#expiresAt = refreshDeadline(claims.expiresAt, now);
    return withDefined<RefreshResult>({ client: this.id, version: this.#ctx.version }, {
      expires: claims.expiresAt !== undefined ? true : undefined,
      ttl: claims.expiresAt !== undefined ? ttlSeconds(claims.expiresAt, now) : undefined,
    });
  }

  /** The server API moved this connection's expiry (Unix ms), or removed it. */
  setExpiry(expiresAt: number | undefined): void {
    this.#expiresAt = expiresAt;
  }

  // ---- heartbeat (called by the server's one timer) ----

  /** Sends the application-level ping; the client answers with a pong. */
  ping(): void {
    if (this.#state !== 'connected') return;
    this.#awaitingPong = true;
    this.#ctx.metrics.sent('ping');
    this.#outbox.push(this.codec.ping);
  }

  /** Disconnects with 3012 when the last ping got no pong. */
  checkPong(): void {
    if (this.#state === 'connected' && this.#awaitingPong) this.disconnect(DisconnectCode.NoPong, 'no pong: the client did not answer the server ping');
  }

  /** Ends an expired connection (3005) or subscriptions (2501), `client_expired_close_delay` past their deadline; refreshes presence. */
  tick(now: number): void {
    if (this.#state !== 'connected') return;
    const grace = this.#ctx.config.client_expired_close_delay;
    if (overdue(this.#expiresAt, grace, now)) {
      this.disconnect(DisconnectCode.Expired, 'connection expired: the token was not refreshed in time');
      return;
    }
    this.#subs.expire(now, grace);
    this.refreshPresence();
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
    await this.#subs.leave(req.channel);
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

  /** Queues a reply or push for the client (subscriptions deliver through this). */
  push(item: Encoded | SharedMessage): void {
    this.#outbox.push(item);
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

  // ---- publish, history, presence, rpc, send ----

  #asker(channel: string): { user: string; subscribed: boolean } {
    return { user: this.#user, subscribed: this.#subs.has(channel) };
  }

  async #publish(req: PublishRequest): Promise<Results['publish']> {
    const { node, handlers } = this.#ctx;
    const ns = node.requireNamespace(req.channel);
    let data = req.data;
    if (handlers.onPublish) {
      const r = await handlers.onPublish({ client: this.id, user: this.#user, channel: req.channel, data: parseData(data) });
      if (r && r.data !== undefined) data = toRaw(r.data)!;
    } else {
      requireRight(ns, req.channel, 'publish', this.#asker(req.channel));
    }
    const info = this.#subs.get(req.channel)?.info ?? withDefined<ClientInfo>({ user: this.#user, client: this.id }, { conn_info: this.#connInfo });
    await node.publish(req.channel, { data, info });
    return {};
  }

  async #history(req: HistoryRequest): Promise<HistoryResult> {
    const { node } = this.#ctx;
    const ns = node.requireNamespace(req.channel);
    requireHistory(ns, req.channel);
    requireRight(ns, req.channel, 'history', this.#asker(req.channel));
    const page = await node.history(req.channel, ns, withDefined(
      { limit: req.limit ?? 0, reverse: req.reverse },
      { since: req.since },
    ));
    return { publications: page.publications, epoch: page.position.epoch, offset: page.position.offset };
  }

  #presenceAllowed(channel: string): void {
    const ns = this.#ctx.node.requireNamespace(channel);
    requirePresence(ns, channel);
    requireRight(ns, channel, 'presence', this.#asker(channel));
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
    this.#outbox.close();
    try {
      this.#conn.close(code, reason);
    } finally {
      this.connectionClosed(code);
    }
  }

  /** The connection closed (either side): subscriptions, presence and registration are cleaned up once. */
  connectionClosed(code: number): void {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    this.#ctx.sessions.delete(this);
    const wasConnected = this.#wasConnected;
    this.#state = 'closed';
    if (this.#closeCode === 0) this.#closeCode = code;
    this.#cancelStale?.();
    this.#outbox.close();
    this.#ctx.node.unregister(this);
    void this.#subs.leaveAll().then(() => {
      if (wasConnected) this.#ctx.handlers.onDisconnect?.({ client: this.id, user: this.#user, code: this.#closeCode });
    });
  }

  /** An engine call failed where nobody awaits it: count it and log it. */
  engineError(err: unknown, what: string): void {
    this.#ctx.metrics.engineError(what);
    this.#ctx.log.warn({ err, client: this.id }, `engine call failed: ${what}`);
  }
}
