/**
 * The one typed configuration: every option with its default, its parser, its environment
 * variable and its flag, in one table. docs/config.md is checked against this table by a test.
 */
import { namespaceMap, namespaceOptions, NAMESPACE_DEFAULTS, type NamespaceOptions } from './namespaces.js';
import { endpointUrl, headerNames, proxyMap, type ProxyOptions } from './proxies.js';
import { boolean, bytes, duration, host, integer, integerOr, list, oneOf, optional, text, type Parser } from './values.js';

/** One configuration option. `env` and `flag` are derived from the key unless set to false. */
export interface OptionSpec<T> {
  readonly parse: Parser<T>;
  readonly default: T;
  /** One sentence for --help and docs/config.md. */
  readonly doc: string;
  /** Whether a `CANAL_*` environment variable sets it (default true). */
  readonly env?: boolean;
  /** Whether a `--flag` sets it (default true). */
  readonly flag?: boolean;
  /** Placeholder for the flag's value in --help (e.g. PORT); boolean options have none. */
  readonly arg?: string;
}

function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Every option canal reads. The order here is the order of --help and docs/config.md. */
export const OPTIONS = {
  host: option({
    parse: host,
    default: '127.0.0.1',
    arg: 'HOST',
    doc: 'Address to listen on for HTTP and WebSocket.',
  }),
  port: option({
    parse: integer(0, 65535),
    default: 8765,
    arg: 'PORT',
    doc: 'TCP port for HTTP and WebSocket (0 picks a free port).',
  }),
  workers: option({
    parse: integerOr('auto', 'one per CPU', 1, 1024),
    default: 1 as number | 'auto',
    arg: 'N',
    doc: 'Processes that serve the port together (node:cluster), each a node of the redis engine, so that every core serves; "auto" is one per CPU. More than 1 needs engine "redis". For canal serve (one Canal of the embedding API is one node).',
  }),
  log_level: option({
    parse: oneOf(LOG_LEVELS),
    default: 'info' as (typeof LOG_LEVELS)[number],
    arg: 'LEVEL',
    doc: 'Least severe log level written (JSON lines on stderr); connections are logged at debug.',
  }),
  max_message_bytes: option({
    parse: bytes(1, 256 * 1024 * 1024),
    default: 1024 * 1024,
    arg: 'BYTES',
    doc: 'Largest message on the echo endpoint (ws://HOST:PORT/) and largest server API request body; a larger message closes the connection with 1009.',
  }),
  protocol_max_message_bytes: option({
    parse: bytes(1024, 256 * 1024 * 1024),
    default: 256 * 1024,
    arg: 'BYTES',
    doc: 'Largest frame accepted on /connection/websocket (several commands may share a frame); larger: close 1009.',
  }),
  websocket_compression: option({
    parse: boolean,
    default: false,
    doc: 'Offer permessage-deflate (RFC 7692) on /connection/websocket (on Node; on Bun it is negotiated on every endpoint, and only protocol connections send compressed messages): fewer bytes for large JSON messages, at a CPU cost per message and about 250 KB of zlib state per connection that was sent a compressed message (measured on Node, docs/benchmarks.md). Shared frames are then compressed once per connection.',
  }),
  raw_max_message_bytes: option({
    parse: bytes(1, 256 * 1024 * 1024),
    default: 64 * 1024,
    arg: 'BYTES',
    doc: 'Largest message accepted on /raw/<channel>; larger: close 1009.',
  }),
  max_connections: option({
    parse: integer(1, 10_000_000),
    default: 100_000,
    arg: 'N',
    doc: 'Most WebSocket connections this node accepts; past it an upgrade gets HTTP 503 (clients retry, possibly on another node).',
  }),
  header_timeout: option({
    parse: duration(500, 120_000),
    default: 10_000,
    arg: 'DURATION',
    doc: 'How long a new HTTP connection (a WebSocket upgrade included) may take to send its request headers; a slower one is closed, so half-open connections cannot hold file descriptors for long.',
  }),
  allowed_origins: option({
    parse: list(text('an origin such as https://example.com, https://*.example.com, http://localhost:*, or null', /^(null|[a-z][a-z0-9+.-]*:\/\/[^\s/?]+)$/)),
    default: [] as string[],
    arg: 'ORIGINS',
    doc: 'Browser origins allowed to open WebSockets (comma-separated, * matches any run of characters); empty allows any. Clients that send no Origin header (not browsers) are always allowed; other origins get HTTP 403.',
  }),
  client_command_rate: option({
    parse: integer(1, 1_000_000),
    default: 1000,
    arg: 'N',
    doc: 'Commands per second one protocol connection (or messages one plain /raw/ client) may send on average (a token bucket); past it commands get error 111, and a plain client is closed with 1008.',
  }),
  client_command_burst: option({
    parse: integer(1, 1_000_000),
    default: 2000,
    arg: 'N',
    doc: 'Commands a protocol connection may send at once above the rate; after more than this many are refused within one second it is disconnected with 3013.',
  }),
  ping_interval: option({
    parse: duration(1000, 3_600_000),
    default: 25_000,
    arg: 'DURATION',
    doc: 'How often the server pings every connection; a peer silent until the next ping is dropped.',
  }),
  dev: option({
    parse: boolean,
    default: true,
    doc: 'Dev mode: anonymous connections and the demo namespaces (chat, scores, game) on a loopback address. Default true, or false when a config file is given.',
  }),
  insecure_dev: option({
    parse: boolean,
    default: false,
    doc: 'Allow dev mode on a non-loopback host (anyone who can reach the port may connect and publish).',
  }),
  demos: option({
    parse: boolean,
    default: true,
    doc: 'Serve the demo pages (/ and /demo/...). Only in dev mode, whose anonymous connections, demo namespaces and /demo/token they need; outside it those paths answer 404 saying so, and the listening line does not point at /.',
  }),
  allow_anonymous_connect: option({
    parse: boolean,
    default: false,
    doc: 'Accept protocol connections without a token (their user is empty). Always on in dev mode.',
  }),
  namespaces: option({
    parse: namespaceMap,
    default: {} as Record<string, NamespaceOptions>,
    env: false,
    flag: false,
    doc: 'Namespace name -> channel options (see "Namespace options"); a channel "ns:rest" uses namespace "ns".',
  }),
  default_namespace: option({
    parse: namespaceOptions,
    default: { ...NAMESPACE_DEFAULTS } as NamespaceOptions,
    env: false,
    flag: false,
    doc: 'Channel options for channels with no colon in their name.',
  }),
  token_hmac_secret: option({
    parse: optional(text('a secret of at least 32 characters', /^.{32,}$/s)),
    default: undefined as string | undefined,
    arg: 'SECRET',
    doc: 'Secret for HS256 connection and subscription tokens.',
  }),
  token_public_key: option({
    parse: optional(text('the path of a PEM public key file (RSA for RS256, EC P-256 for ES256)', /^.+$/)),
    default: undefined as string | undefined,
    arg: 'FILE',
    doc: 'PEM public key (SPKI) for RS256 or ES256 tokens.',
  }),
  token_issuer: option({
    parse: optional(text('a string')),
    default: undefined as string | undefined,
    arg: 'ISS',
    doc: 'When set, tokens must carry this "iss" claim.',
  }),
  token_audience: option({
    parse: optional(text('a string')),
    default: undefined as string | undefined,
    arg: 'AUD',
    doc: 'When set, tokens must carry this "aud" claim.',
  }),
  token_jwks_url: option({
    parse: optional(endpointUrl),
    default: undefined as string | undefined,
    arg: 'URL',
    doc: 'JSON Web Key Set endpoint whose RSA and EC keys verify RS256/384/512 and ES256/384/512 tokens (by "kid"); fetched on first use and kept 1 h (a token with an unknown "kid" fetches it again, at most every 30 s).',
  }),
  user_connection_limit: option({
    parse: integer(0, 1_000_000),
    default: 0,
    arg: 'N',
    doc: 'Most connections one user may have open at once, counted across every node sharing the engine (0: no limit); past it connect is refused with disconnect 3504. Anonymous connections are not counted.',
  }),
  single_connection: option({
    parse: boolean,
    default: false,
    doc: 'Each user keeps one connection: a new one closes the user\'s older connections, on every node, with disconnect 3504.',
  }),
  proxies: option({
    parse: proxyMap,
    default: {} as Record<string, ProxyOptions>,
    env: false,
    flag: false,
    doc: 'Proxy name -> HTTP endpoint of your backend asked on client events, with Centrifugo\'s request and response bodies (docs/proxy.md); "connect", "refresh" and "rpc" serve those events, namespaces name their subscribe_proxy, publish_proxy and sub_refresh_proxy.',
  }),
  connect_proxy_endpoint: option({
    parse: optional(endpointUrl),
    default: undefined as string | undefined,
    arg: 'URL',
    doc: 'Your backend decides who connects (connect without a token): the endpoint of the proxy named "connect".',
  }),
  refresh_proxy_endpoint: option({
    parse: optional(endpointUrl),
    default: undefined as string | undefined,
    arg: 'URL',
    doc: 'Your backend prolongs expiring connections (server-side, instead of the client refreshing a token): the endpoint of the proxy named "refresh".',
  }),
  rpc_proxy_endpoint: option({
    parse: optional(endpointUrl),
    default: undefined as string | undefined,
    arg: 'URL',
    doc: 'Your backend answers the clients\' RPC calls: the endpoint of the proxy named "rpc".',
  }),
  proxy_timeout: option({
    parse: duration(10, 600_000),
    default: 1000,
    arg: 'DURATION',
    doc: 'How long a proxy call may take, for proxies that set no timeout of their own; past it the client gets error 100 (temporary).',
  }),
  proxy_http_headers: option({
    parse: headerNames,
    default: [] as string[],
    arg: 'HEADERS',
    doc: 'Headers of the client\'s WebSocket upgrade request (or of the request that opens its HTTP stream or SSE) that proxies send on to the backend (e.g. Cookie,Authorization), for proxies that list no http_headers of their own.',
  }),
  demo_moderation_endpoint: option({
    parse: optional(endpointUrl),
    default: undefined as string | undefined,
    arg: 'URL',
    doc: 'Dev mode: the demo chat\'s messages go through this publish proxy, which may rewrite or refuse them (README, "Moderation").',
  }),
  engine: option({
    parse: oneOf(['memory', 'redis'] as const),
    default: 'memory' as 'memory' | 'redis',
    arg: 'NAME',
    doc: 'Where publications, history and presence live: "memory" (one process, no setup) or "redis" (several nodes share one Redis, a Sentinel-managed Redis or a Redis Cluster).',
  }),
  redis_url: option({
    parse: text('a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0', /^rediss?:\/\/\S+$/),
    default: 'redis://127.0.0.1:6379/0',
    arg: 'URL',
    doc: 'The Redis of the redis engine: redis://[user:password@]host:port/db.',
  }),
  redis_prefix: option({
    parse: text('1-64 of A-Z a-z 0-9 _ - . :', /^[A-Za-z0-9_\-.:]{1,64}$/),
    default: 'canal',
    arg: 'PREFIX',
    doc: 'Prefix of every Redis key and pub/sub channel canal uses (nodes that share channels share it).',
  }),
  redis_sentinels: option({
    parse: list(text('a sentinel address host:port such as 10.0.0.5:26379', /^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/, 300)),
    default: [] as string[],
    arg: 'ADDRS',
    doc: 'Redis Sentinel addresses (comma-separated host:port); when set, the redis engine asks them for the master named by redis_sentinel_master and follows failovers (redis_url is then not used).',
  }),
  redis_sentinel_master: option({
    parse: text('a Sentinel master name (1-128 of A-Z a-z 0-9 _ - .)', /^[A-Za-z0-9_\-.]{1,128}$/),
    default: 'mymaster',
    arg: 'NAME',
    doc: 'The master name the sentinels monitor (their "sentinel monitor NAME ...").',
  }),
  redis_sentinel_password: option({
    parse: optional(text('a password with no spaces', /^\S+$/)),
    default: undefined as string | undefined,
    arg: 'PASSWORD',
    doc: 'Password of the sentinels themselves (their requirepass), when they have one.',
  }),
  redis_cluster: option({
    parse: list(text('a cluster node address host:port such as 10.0.0.5:7000', /^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/, 300)),
    default: [] as string[],
    arg: 'ADDRS',
    doc: 'Redis Cluster seed nodes (comma-separated host:port, Redis >= 7); when set, channels are spread over the cluster\'s masters with sharded pub/sub (redis_url is then not used).',
  }),
  redis_password: option({
    parse: optional(text('a password with no spaces', /^\S+$/)),
    default: undefined as string | undefined,
    arg: 'PASSWORD',
    doc: 'Password of the Redis servers found through redis_sentinels or redis_cluster (with redis_url, put it in the URL).',
  }),
  redis_timeout: option({
    parse: duration(100, 60_000),
    default: 2000,
    arg: 'DURATION',
    doc: 'Timeout of every Redis call; a call that times out fails as temporary (code 100). Connecting waits at least 2 s, and the start at least 5 s, whatever this says.',
  }),
  api_key: option({
    parse: optional(text('a key of at least 8 characters with no spaces', /^\S{8,}$/)),
    default: undefined as string | undefined,
    arg: 'KEY',
    doc: 'Key of the server API (POST /api/<method> with X-API-Key: KEY); unset, the API is off, except in dev mode where a random key is made at start.',
  }),
  admin_password: option({
    parse: optional(text('a password of at least 8 characters', /^.{8,}$/s)),
    default: undefined as string | undefined,
    arg: 'PASSWORD',
    doc: 'Password of the admin page (/admin); set with admin_secret, it turns the page on. Unset, the page is off, except in dev mode on loopback, where its password is the server API key.',
  }),
  admin_secret: option({
    parse: optional(text('a secret of at least 32 characters', /^.{32,}$/s)),
    default: undefined as string | undefined,
    arg: 'SECRET',
    doc: 'Key that signs the admin page\'s session cookies (HMAC-SHA256); changing it logs every admin out. Set with admin_password.',
  }),
  admin_session_ttl: option({
    parse: duration(60_000, 86_400_000),
    default: 8 * 3_600_000,
    arg: 'DURATION',
    doc: 'How long an admin page login lasts; then the page asks for the password again.',
  }),
  channel_max_length: option({
    parse: integer(1, 1024),
    default: 255,
    arg: 'BYTES',
    doc: 'Longest channel name accepted, in bytes of UTF-8 (longer: error 107).',
  }),
  client_max_channels: option({
    parse: integer(1, 1_000_000),
    default: 128,
    arg: 'N',
    doc: 'Most channels one connection may subscribe to (more: error 106).',
  }),
  client_queue_max_bytes: option({
    parse: bytes(1024, 1024 * 1024 * 1024),
    default: 4 * 1024 * 1024,
    arg: 'BYTES',
    doc: 'Most bytes waiting to be sent to one connection; past it the client is a slow consumer and is disconnected with 3008 (it reconnects and recovers).',
  }),
  client_connect_timeout: option({
    parse: duration(100, 600_000),
    default: 10_000,
    arg: 'DURATION',
    doc: 'A protocol connection that sends no connect command within this time is closed with 3502 (stale).',
  }),
  client_expired_close_delay: option({
    parse: duration(0, 600_000),
    default: 25_000,
    arg: 'DURATION',
    doc: 'How long past its token expiry a connection (3005) or subscription (unsubscribed, 2501) may wait for its refresh.',
  }),
  pong_timeout: option({
    parse: duration(100, 600_000),
    default: 8000,
    arg: 'DURATION',
    doc: 'A protocol client that does not answer a server ping within this time (at most half of ping_interval) is disconnected with 3012.',
  }),
  presence_ttl: option({
    parse: duration(1000, 3_600_000),
    default: 60_000,
    arg: 'DURATION',
    doc: 'A presence entry not refreshed by its connection within this time disappears (the node refreshes every ping interval).',
  }),
  position_check_interval: option({
    parse: duration(1000, 3_600_000),
    default: 40_000,
    arg: 'DURATION',
    doc: 'How often a node checks, per channel with history and local subscribers, that it has delivered up to the top of the stream, so a lost publication with no later one is found too (and repaired from history).',
  }),
  insufficient_state_window: option({
    parse: duration(0, 600_000),
    default: 2000,
    arg: 'DURATION',
    doc: 'When a gap cannot be repaired from history (trimmed, or a new epoch), the channel\'s positioned subscribers are disconnected with 3010 spread over this window with jitter, and its live delivery waits until the window ends.',
  }),
  recovery_max_publications: option({
    parse: integer(1, 1_000_000),
    default: 300,
    arg: 'N',
    doc: 'Most publications a reconnecting subscriber may recover; a larger gap answers recovered: false.',
  }),
  shutdown_drain_window: option({
    parse: duration(0, 600_000),
    default: 2000,
    arg: 'DURATION',
    doc: 'On SIGINT, SIGTERM or SIGHUP, protocol clients are disconnected with 3001 spread over this window (at most half of shutdown_timeout), so they reconnect elsewhere gradually.',
  }),
  shutdown_timeout: option({
    parse: duration(0, 600_000),
    default: 5000,
    arg: 'DURATION',
    doc: 'On SIGINT, SIGTERM or SIGHUP, how long connections get to close before they are terminated.',
  }),
} as const;

export type OptionKey = keyof typeof OPTIONS;

/** The resolved configuration: every option present, every value checked. */
export type Config = { -readonly [K in OptionKey]: (typeof OPTIONS)[K]['default'] };

/** The environment variable that sets `key` (e.g. `max_message_bytes` -> `CANAL_MAX_MESSAGE_BYTES`). */
export function envName(key: OptionKey): string | undefined {
  return (OPTIONS[key] as OptionSpec<unknown>).env === false ? undefined : `CANAL_${key.toUpperCase()}`;
}

/** The flag that sets `key` (e.g. `max_message_bytes` -> `--max-message-bytes`). */
export function flagName(key: OptionKey): string | undefined {
  return (OPTIONS[key] as OptionSpec<unknown>).flag === false ? undefined : `--${key.replaceAll('_', '-')}`;
}

/** Whether the option's flag takes no value (a boolean switch). */
export function isSwitch(key: OptionKey): boolean {
  return (OPTIONS[key].parse as Parser<unknown>) === (boolean as Parser<unknown>);
}

/** A fresh copy of the defaults. */
export function defaults(): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS)) out[key] = structuredClone(spec.default);
  return out as Config;
}
