/**
 * The composition root: configuration -> engine -> node -> hub -> HTTP + WebSocket endpoints,
 * static pages and the heartbeat, all on one port.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KeyFileError, TokenVerifier } from './auth/tokens.js';
import { ConfigError, isLoopback, resolveConfig, servesDemos } from './config/resolve.js';
import type { NamespaceOptions } from './config/namespaces.js';
import { resolveProxies, type ProxyOptions } from './config/proxies.js';
import { OPTIONS, type Config } from './config/schema.js';
import { createMemoryEngine } from './engine/memory/memory-engine.js';
import { createRedisEngine, redisTopology } from './engine/redis/redis-engine.js';
import type { Engine } from './engine/types.js';
import type { Handlers } from './handlers.js';
import { ADMIN_PREFIX, adminEndpoint, adminOff, adminSettings, type AdminSettings } from './http/admin.js';
import { API_PREFIX, apiEndpoint } from './http/api-endpoint.js';
import { devTokenEndpoint } from './http/dev-token.js';
import { Dispatcher, sendJson, sendText } from './http/dispatcher.js';
import { Metrics, type Stats } from './metrics.js';
import { ServerApi } from './http/server-api.js';
import { centrifugeBrowserDir, staticFiles, WEB_ROOT } from './http/static-files.js';
import { silentLogger, WindowedLog, type Logger } from './log.js';
import { CanalNode, type SessionHandle } from './node.js';
import { CloseCode, DisconnectCode } from './protocol/codes.js';
import { Proxies } from './proxy/proxies.js';
import type { JsonText, StreamPosition } from './protocol/types.js';
import { systemClock, type SessionContext } from './session/context.js';
import { FlushQueue } from './session/outbox.js';
import type { PlainContext } from './session/plain-session.js';
import { CommandRate } from './session/rate-limit.js';
import { Heartbeat } from './transport/heartbeat.js';
import { matchPlain } from './transport/plain-endpoint.js';
import { Emulation, EMULATION_PATH, HTTP_STREAM_PATH, SSE_PATH } from './transport/emulation.js';
import { originChecker } from './transport/origin.js';
import type { UpgradeGate } from './transport/router.js';
import { createTransport, transportDirectWrites, type Transport } from './transport/transport.js';
import { VERSION } from './version.js';

/** Configuration fields as the embedding API takes them: all optional, namespace and proxy options too. */
export type ConfigInput = Omit<Partial<Config>, 'namespaces' | 'default_namespace' | 'engine' | 'proxies'> & {
  readonly namespaces?: Readonly<Record<string, Partial<NamespaceOptions>>>;
  readonly default_namespace?: Partial<NamespaceOptions>;
  readonly proxies?: Readonly<Record<string, Partial<ProxyOptions> & { readonly endpoint: string }>>;
};

/** Options for {@link Canal}: any configuration field (checked like a flag), handlers, a logger, an engine. */
export type CanalOptions = ConfigInput & Handlers & {
  /** Where logs go; by default nothing is logged. */
  readonly logger?: Logger;
  /**
   * The engine: "memory" (the default) or "redis" (made from the redis_* options), both closed
   * with the server; or an Engine you made (createRedisEngine(...)), which you close yourself.
   */
  readonly engine?: 'memory' | 'redis' | Engine;
  /** This server is one worker of `canal serve --workers N` (the CLI sets it; see src/cli/workers.ts). */
  readonly worker?: WorkerRole;
};

/** How a server runs as one of the worker processes of `canal serve --workers N`, which share its port. */
export interface WorkerRole {
  /** 1 to N: the node is named `HOST_PORT_wINDEX` and its metrics carry the label `worker="INDEX"`. */
  readonly index: number;
  /**
   * Dev mode's secrets, made once by the primary so that every worker has the same ones. Each is
   * used only where this server would otherwise make a random one (no api_key, no token secret or
   * key, the admin page's cookie key in dev mode), and then still counts as made by dev mode.
   */
  readonly devSecrets?: { readonly apiKey: string; readonly tokenSecret: string; readonly adminSecret: string };
  /** Every worker's metrics (Prometheus text) and figures, for GET /metrics and GET /stats, which otherwise give this server's own. */
  readonly gather?: { metrics(): Promise<string>; stats(): Promise<Stats> };
}

/** Where a started server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `ws://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
}

/** Options of {@link Canal.publish}. */
export interface PublishOptions {
  /** A second publish with the same key within 5 minutes publishes nothing and returns the first one's position. */
  readonly idempotencyKey?: string;
  /** Publish without keeping it in the channel's history. */
  readonly skipHistory?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Why `listen()` failed, in words a person can act on; `code` is Node's (EADDRINUSE, ...). */
export class ListenError extends Error {
  constructor(readonly code: string, message: string, readonly option: 'port' | 'host') {
    super(message);
    this.name = 'ListenError';
  }
}

/**
 * Protocol subscribers one turn's pass of the hub reaches per channel (Hub.sliceSize): about 5 ms
 * of writes here, short enough to read the sockets often during a fan-out to 10,000, long enough
 * that a channel of a few hundred goes in one pass as before (docs/benchmarks.md).
 */
const FAN_OUT_SLICE = 512;

const HANDLER_KEYS = ['onConnecting', 'onSubscribe', 'onPublish', 'onRpc', 'onMessage', 'onDisconnect'] as const;

/**
 * A canal server. Construct it (options are checked at once; a bad one throws ConfigError),
 * `listen()`, and `close()` when done. One instance owns one port.
 */
export class Canal {
  readonly config: Readonly<Config>;
  /**
   * The server API key: the configured one, or in loopback dev mode a random one made at start
   * (print it for the user); undefined when the API is off.
   */
  readonly apiKey: string | undefined;
  /**
   * The HS256 token secret: the configured one, or in loopback dev mode (with no token key
   * configured) a random one made at start, so dev tools can mint tokens.
   */
  readonly tokenSecret: string | undefined;
  /** Whether {@link tokenSecret} was made here (dev mode) rather than configured by the operator. */
  readonly #secretIsGenerated: boolean;
  readonly metrics: Metrics;
  readonly #log: Logger;
  readonly #engine: Engine;
  readonly #ownsEngine: boolean;
  readonly #node: CanalNode;
  readonly #sessionContext: SessionContext;
  readonly #plainContext: PlainContext;
  readonly #proxies: Proxies;
  /** The port's server: node:http + ws on Node, Bun.serve on Bun (transport/transport.ts). */
  readonly #transport: Transport;
  readonly #dispatcher: Dispatcher;
  readonly #heartbeat: Heartbeat;
  /** HTTP-streaming and SSE connections with their /emulation endpoint (issue 15). */
  #emulation: Emulation | undefined;
  /** The admin page's settings, or why it is off. */
  readonly #admin: AdminSettings | { readonly off: string };
  readonly #worker: WorkerRole | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: CanalOptions = {}) {
    const { logger, engine: engineOption, worker, ...rest } = options;
    const engine = typeof engineOption === 'object' ? engineOption : undefined;
    const handlers: Handlers = {};
    const fields: Record<string, unknown> = { ...rest };
    if (typeof engineOption === 'string') fields.engine = engineOption;
    for (const key of HANDLER_KEYS) {
      if (fields[key] !== undefined) (handlers as Record<string, unknown>)[key] = fields[key];
      delete fields[key];
    }
    this.config = resolveConfig({ options: fields });
    if (this.config.workers !== 1 && worker === undefined) {
      throw new ConfigError([{
        key: 'workers', source: { kind: 'option' },
        message: 'is an option of canal serve, which starts the processes; one Canal is one node (run it in node:cluster workers yourself for more)',
      }]);
    }
    this.#worker = worker;
    const devSecrets = worker?.devSecrets;
    this.#log = logger ?? silentLogger();
    const devLoopback = this.config.dev && isLoopback(this.config.host);
    this.#secretIsGenerated = this.config.token_hmac_secret === undefined && devLoopback && !this.config.token_public_key;
    this.tokenSecret = this.config.token_hmac_secret ?? (this.#secretIsGenerated ? devSecrets?.tokenSecret ?? randomBytes(32).toString('base64url') : undefined);
    let tokens: TokenVerifier;
    try {
      tokens = new TokenVerifier({
        hmacSecret: this.tokenSecret,
        publicKeyFile: this.config.token_public_key,
        jwksUrl: this.config.token_jwks_url,
        issuer: this.config.token_issuer,
        audience: this.config.token_audience,
        log: this.#log,
      });
    } catch (err) {
      if (!(err instanceof KeyFileError)) throw err;
      throw new ConfigError([{ key: 'token_public_key', source: { kind: 'combination' }, message: err.message }]);
    }
    this.apiKey = this.config.api_key ?? (devLoopback ? devSecrets?.apiKey ?? randomBytes(16).toString('hex') : undefined);
    this.#admin = adminSettings(this.config, devLoopback, this.apiKey, devSecrets?.adminSecret ?? randomBytes(32).toString('base64url'));
    this.metrics = new Metrics({
      connections: () => this.#connectionCounts(),
      clients: () => this.#node.numClients,
      channels: () => this.#node.hub.numChannels,
      subscriptions: () => this.#node.hub.numSubscriptions,
    });
    if (worker) this.metrics.registry.setDefaultLabels({ worker: String(worker.index) });
    this.#engine = engine ?? (this.config.engine === 'redis'
      ? createRedisEngine({ topology: redisTopology(this.config), prefix: this.config.redis_prefix, timeoutMs: this.config.redis_timeout, logger: this.#log })
      : createMemoryEngine());
    this.#ownsEngine = engine === undefined;
    this.#node = new CanalNode(this.#engine, this.config, this.#log, VERSION, this.metrics);
    this.#node.name = this.#nodeName(this.config.port);
    this.#proxies = new Proxies(resolveProxies(this.config), this.#log);
    const commandRate = new CommandRate(this.config.client_command_rate, this.config.client_command_burst, systemClock.now());
    this.#sessionContext = {
      node: this.#node,
      config: this.config,
      tokens,
      handlers,
      proxies: this.#proxies,
      log: this.#log,
      connectRefusals: new WindowedLog(this.#log, 'connects refused', 'code'),
      version: VERSION,
      anonymousAllowed: this.config.dev || this.config.allow_anonymous_connect,
      metrics: this.metrics,
      clock: systemClock,
      commandRate,
      outbox: { maxBytes: this.config.client_queue_max_bytes, flushes: new FlushQueue(), direct: transportDirectWrites() },
      connecting: new Map(),
    };
    this.#plainContext = {
      node: this.#node,
      handlers,
      proxies: this.#proxies,
      log: this.#log,
      metrics: this.metrics,
      maxQueueBytes: this.config.client_queue_max_bytes,
      commandRate,
      clock: systemClock,
    };

    this.#heartbeat = new Heartbeat(this.config.ping_interval);
    this.#dispatcher = new Dispatcher(this.#log, (req) => `Not found: ${req.url}. ${this.#demosServed() ? 'Start at / for the demos.' : demosOffReason(this.config)}\n`);
    const originAllowed = originChecker(this.config.allowed_origins);
    const gates: UpgradeGate[] = [
      () => (this.#closing ? { status: 503, message: 'canal is shutting down; connect to another node\n' } : undefined),
      (req) => (originAllowed(req.headers.origin) ? undefined : {
        status: 403,
        message: `origin ${req.headers.origin ?? ''} is not allowed here (allowed_origins: ${this.config.allowed_origins.join(', ')})\n`,
      }),
      () => (this.#openConnections() >= this.config.max_connections ? {
        status: 503,
        message: `connection limit reached on this node (max_connections ${this.config.max_connections}); try again later\n`,
      } : undefined),
    ];
    this.#transport = createTransport({
      config: this.config,
      log: this.#log,
      heartbeat: this.#heartbeat,
      onRequest: this.#dispatcher.handle,
      gates,
      protocol: {
        description: 'the Centrifugo client protocol (JSON, or Protobuf with the centrifuge-protobuf subprotocol): channels, history, presence, RPC',
        ctx: this.#sessionContext,
      },
      echo: { description: 'echo: each text message m is answered "echo: m"; binary is sent back as is', counter: this.metrics },
      plain: {
        description: `plain WebSocket channel: text you send is published, publications arrive as text (namespaces: ${this.#node.namespaceNames().map((n) => `${n}:`).join(', ') || 'none'})`,
        ctx: this.#plainContext,
        match: (pathname) => matchPlain(pathname, this.#node, this.#sessionContext.handlers.onSubscribe !== undefined),
      },
    });
    // A fan-out to thousands goes in slices, reading sockets between them (hub.ts), unless the
    // transport sends a channel's messages to all its subscribers at once.
    this.#node.hub.sliceSize = this.#transport.fansOutNatively ? Infinity : FAN_OUT_SLICE;
    this.#mountEmulation(gates, originAllowed);
    this.#mountOperations();
    this.#mountAdmin();
    this.#mountPages();
    this.#heartbeat.onTick((now) => this.#protocolHeartbeat(now));
  }

  /** `HOST_PORT`, or for a worker `HOST_PORT_wINDEX`: every worker of one port is a node of its own. */
  #nodeName(port: number): string {
    return `${hostname()}_${port}${this.#worker ? `_w${this.#worker.index}` : ''}`;
  }

  #connectionCounts(): Record<string, number> {
    const { echo, protocol, plain } = this.#transport.sockets();
    // The keys are the endpoint label of canal_connections and the fields of /stats: public names.
    return { echo, protocol: protocol + (this.#emulation?.size ?? 0), raw: plain };
  }

  #openConnections(): number {
    return Object.values(this.#connectionCounts()).reduce((a, b) => a + b, 0);
  }

  /** The node: channels, sessions, engine (for the server API and tests). */
  get node(): CanalNode {
    return this.#node;
  }

  /** /connection/http_stream, /connection/sse and /emulation: the same gates as a WebSocket upgrade. */
  #mountEmulation(gates: readonly UpgradeGate[], originAllowed: (origin: string | undefined) => boolean): void {
    const emulation = new Emulation({
      ctx: this.#sessionContext,
      admit: (req) => {
        for (const gate of gates) {
          const refusal = gate(req, '');
          if (refusal) return refusal;
        }
        return undefined;
      },
      originAllowed,
      maxBodyBytes: this.config.protocol_max_message_bytes,
      log: this.#log,
    });
    this.#emulation = emulation;
    this.#dispatcher.route(HTTP_STREAM_PATH, emulation.httpStream);
    this.#dispatcher.route(SSE_PATH, emulation.sse);
    this.#dispatcher.route(EMULATION_PATH, emulation.emulation);
  }

  /** /healthz, /metrics, /stats and the server API. */
  #mountOperations(): void {
    this.#dispatcher.route('/healthz', (_req, res) => {
      if (this.#closing) sendJson(res, 503, { status: 'draining' }, { 'cache-control': 'no-store' });
      else sendJson(res, 200, { status: 'ok' }, { 'cache-control': 'no-store' });
    });
    this.#dispatcher.route('/metrics', async (_req, res) => {
      const text = this.#worker?.gather ? await this.#worker.gather.metrics() : await this.metrics.text();
      sendText(res, 200, text, { 'content-type': this.metrics.registry.contentType, 'cache-control': 'no-store' });
    });
    this.#dispatcher.route('/stats', async (_req, res) => {
      const stats = this.#worker?.gather ? await this.#worker.gather.stats() : this.metrics.snapshot();
      sendJson(res, 200, stats, { 'cache-control': 'no-store' });
    });
    const api = new ServerApi(this.#node, this.#log, this.config.redis_timeout);
    this.#dispatcher.route(API_PREFIX, apiEndpoint(api, {
      key: this.apiKey,
      maxBodyBytes: this.config.max_message_bytes,
      observe: (method, outcome) => this.metrics.api(method, outcome),
    }));
  }

  /** /admin: the admin page and its API when on, else a 404 that says how to turn it on. */
  #mountAdmin(): void {
    const admin = this.#admin;
    this.#dispatcher.route(ADMIN_PREFIX, 'off' in admin ? adminOff(admin.off) : adminEndpoint(new ServerApi(this.#node, this.#log, this.config.redis_timeout), {
      ...admin,
      sessionTtlMs: this.config.admin_session_ttl,
      maxBodyBytes: this.config.max_message_bytes,
      log: this.#log,
    }));
  }

  /**
   * The demo pages are served in dev mode only: they need its anonymous connections, demo
   * namespaces and /demo/token (and `canal serve` runs their server side only then). Outside it
   * they could only fail (issue 16), so / and /demo/ answer 404 with the reason instead.
   */
  #demosServed(): boolean {
    return servesDemos(this.config);
  }

  #mountPages(): void {
    this.#dispatcher.route('/vendor/centrifuge/', staticFiles(centrifugeBrowserDir(), { immutable: true }), { strip: true });
    this.#dispatcher.route('/assets/', staticFiles(join(WEB_ROOT, 'assets')), { strip: true });
    if (!this.#demosServed()) return;
    // Only with the secret dev mode made itself: with the operator's secret, the endpoint would
    // hand anyone a valid token for any user (issue 13, item 4).
    if (this.#secretIsGenerated && this.tokenSecret !== undefined) this.#dispatcher.route('/demo/token', devTokenEndpoint(this.tokenSecret));
    this.#dispatcher.route('/', staticFiles(WEB_ROOT));
  }

  /**
   * Each tick: ping every connected protocol client, expire what expired, refresh presence; then
   * check pongs. Sessions are visited in slices of HEARTBEAT_SLICE with a turn of the event loop
   * between them, so 10,000 connections do not hold publications back for half a second
   * (profiled, docs/benchmarks.md).
   */
  #protocolHeartbeat(now: number): void {
    // Only connected sessions have heartbeat work (each method returns at once otherwise).
    inSlices([...this.#node.sessions()], (session) => {
      session.tick(now);
      session.ping();
    });
    // A pong is awaited before the next ping: the timeout is at most half the ping interval.
    setTimeout(() => {
      inSlices([...this.#node.sessions()], (session) => session.checkPong());
    }, Math.min(this.config.pong_timeout, this.config.ping_interval / 2)).unref();
  }

  /**
   * Publishes `data` (any JSON value) to `channel` with its namespace's history settings, as the
   * server (no client info). Resolves once it is in history (when the namespace keeps history)
   * with its position. Throws ReplyError for a bad channel name (107) or unknown namespace (102).
   */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<StreamPosition> {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('publish: data must be a JSON value');
    return this.#node.publish(channel, {
      data: text as JsonText,
      ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
      ...(options.skipHistory ? { skipHistory: true } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
    });
  }

  /**
   * Starts listening on the configured host and port. Resolves once connections are accepted;
   * rejects with {@link ListenError} when the port is taken or the host is not this machine's.
   */
  async listen(): Promise<ListenAddress> {
    await this.#node.start();
    const { host, port } = this.config;
    try {
      await this.#transport.listen(host, port);
    } catch (err) {
      throw describeListenError(err as NodeJS.ErrnoException, host, port);
    }
    this.#heartbeat.start();
    this.#warnAboutFileLimit();
    const address = this.address;
    if (!address) throw new ListenError('ENOTLISTENING', 'server stopped while starting', 'port');
    this.#node.rename(this.#nodeName(address.port));
    this.#log.debug({ host: address.host, port: address.port }, 'listening');
    if (!('off' in this.#admin)) {
      const url = `${address.url.replace(/^ws/, 'http')}/admin`;
      this.#log.info({ url }, this.#admin.hint ? 'admin page on (dev mode: its password is the server API key)' : 'admin page on');
    }
    return address;
  }

  /**
   * Says when max_connections is more than the file-descriptor limit allows: a warning when the
   * operator chose it, a debug line for the default (most machines' limit is below 100,000).
   */
  #warnAboutFileLimit(): void {
    const usable = this.#transport.connectionBudget;
    const wanted = this.config.max_connections;
    if (usable === undefined || wanted <= usable) return;
    const chosen = wanted !== OPTIONS.max_connections.default;
    this.#log[chosen ? 'warn' : 'debug']({ max_connections: wanted, usable },
      `max_connections ${wanted} is more than this process's file-descriptor limit allows (about ${usable} connections); raise ulimit -n (or LimitNOFILE) to serve more`);
  }

  /** Where the server listens, or undefined before `listen()` and after `close()`. */
  get address(): ListenAddress | undefined {
    const a = this.#transport.address();
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `ws://${host}:${a.port}` };
  }

  /**
   * Stops accepting; closes protocol clients with 3001 (shutdown: they reconnect, elsewhere if
   * there is an elsewhere) and echo and plain sockets with 1001 (going away); resolves once all are
   * closed. Connections still open after `shutdown_timeout` are terminated. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Disconnects `sessions` with 3001 (shutdown: the client reconnects) in about 20 even batches
   * over `windowMs`, so a node going away does not send all its clients to the other nodes in
   * the same instant.
   */
  async #drain(sessions: SessionHandle[], windowMs: number): Promise<void> {
    const batches = windowMs <= 0 ? 1 : 20;
    const size = Math.ceil(sessions.length / batches);
    for (let i = 0; i < sessions.length; i += size) {
      if (i > 0) await new Promise((r) => setTimeout(r, windowMs / batches));
      for (const session of sessions.slice(i, i + size)) session.disconnect(DisconnectCode.Shutdown, 'shutdown');
    }
  }

  async #shutdown(): Promise<void> {
    this.#heartbeat.stop();
    // The port stays open while draining: /healthz answers 503 and upgrades get 503, so a load
    // balancer sees the node leave instead of a refused connection.
    const allClosed = this.#transport.socketsClosed();
    this.#transport.closeEchoAndPlainSockets(CloseCode.GoingAway, 'server shutting down');
    const window = Math.min(this.config.shutdown_drain_window, this.config.shutdown_timeout / 2);
    const drained = this.#drain([...this.#sessionContext.connecting.keys(), ...this.#node.sessions()], window);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, this.config.shutdown_timeout, 'timeout').unref());
    if ((await Promise.race([drained.then(() => allClosed), timer])) === 'timeout') this.#transport.terminateSockets();
    const stopped = this.#transport.close();
    this.#node.stop();
    this.#proxies.close();
    await stopped;
    if (this.#ownsEngine) await this.#engine.close();
  }
}

const HEARTBEAT_SLICE = 500;

/** Calls `fn` on every item, HEARTBEAT_SLICE at a time, yielding to the event loop in between. */
function inSlices<T>(items: readonly T[], fn: (item: T) => void, from = 0): void {
  const end = Math.min(from + HEARTBEAT_SLICE, items.length);
  for (let i = from; i < end; i++) fn(items[i]!);
  if (end < items.length) setImmediate(inSlices<T>, items, fn, end);
}

/** Why the demo pages are not served, for the 404 of / and /demo/. */
function demosOffReason(config: Readonly<Config>): string {
  return config.dev
    ? 'The demo pages are off (demos: false).'
    : 'The demo pages are served in dev mode only (they need its anonymous connections, demo namespaces and /demo/token), ' +
      'and this server runs with dev mode off. Run canal without a config file, or set "dev": true, to see them.';
}

function describeListenError(err: NodeJS.ErrnoException, host: string, port: number): ListenError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(err.code, `port ${port} on ${host} is already in use`, 'port');
    case 'EACCES':
      return new ListenError(err.code, `no permission to listen on port ${port} (ports below 1024 need privileges)`, 'port');
    case 'EADDRNOTAVAIL':
      return new ListenError(err.code, `cannot listen on ${host}: that address is not on this machine`, 'host');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(err.code, `cannot listen on ${host}: no such host`, 'host');
    default:
      return new ListenError(err.code ?? 'UNKNOWN', `cannot listen on ${host}:${port}: ${err.message}`, 'port');
  }
}
