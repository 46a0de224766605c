/**
 * Proxies: named HTTP endpoints of the application's backend that canal asks on client events,
 * with Centrifugo's request and response bodies (docs/proxy.md). The proxies named `connect`,
 * `refresh` and `rpc` are used for those events; a namespace names the ones for its subscribe,
 * publish and sub_refresh events. The `*_proxy_endpoint` options are the short way to one
 * backend: each sets the endpoint of the proxy of that name. Pure: parsing and resolving.
 */
import { didYouMean } from './did-you-mean.js';
import { boolean, duration, list, NestedValueErrors, show, text, ValueError, type Parser } from './values.js';

/** One proxy as the configuration gives it; unset `timeout` and `http_headers` take proxy_timeout and proxy_http_headers. */
export interface ProxyOptions {
  /** http:// or https:// URL that canal POSTs the event's JSON body to. */
  readonly endpoint: string;
  /** How long a call may take, in ms. */
  readonly timeout?: number;
  /** Headers of the client's WebSocket upgrade request sent along (Cookie, Authorization, ...). */
  readonly http_headers?: readonly string[];
  /** Headers from the client's connect command (`headers`, browsers' emulation) sent along; client-controlled. */
  readonly emulated_headers: readonly string[];
  /** Headers sent with every call (an upgrade request's or emulated header of the same name wins). */
  readonly static_headers: Readonly<Record<string, string>>;
  /** Client data goes as base64 in `b64data` instead of JSON in `data`. */
  readonly binary_encoding: boolean;
  /** The connection's `meta` (from its token or the connect proxy) goes with every call but connect. */
  readonly include_connection_meta: boolean;
  /** Reuse connections to the backend (HTTP keep-alive); off: one connection per call. */
  readonly keep_alive: boolean;
}

/** A proxy ready to use: every default applied, header names in lower case. */
export interface ProxySettings {
  readonly name: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly httpHeaders: readonly string[];
  readonly emulatedHeaders: readonly string[];
  readonly staticHeaders: Readonly<Record<string, string>>;
  readonly binaryEncoding: boolean;
  readonly includeMeta: boolean;
  readonly keepAlive: boolean;
}

/** The proxy names that serve connection-wide events, and the option that sets each one's endpoint. */
export const EVENT_PROXIES = { connect: 'connect_proxy_endpoint', refresh: 'refresh_proxy_endpoint', rpc: 'rpc_proxy_endpoint' } as const;

/** The proxy the demo chat's publishes go through when demo_moderation_endpoint is set (dev mode). */
export const DEMO_MODERATION_PROXY = 'demo_moderation';

const NAME = /^[A-Za-z0-9_\-.]{1,64}$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An http:// or https:// URL. */
export const endpointUrl: Parser<string> = Object.assign((raw: unknown): string => {
  const allowed = 'an http:// or https:// URL such as http://127.0.0.1:5000/centrifugo/connect (canal\'s proxies speak HTTP, not gRPC)';
  if (typeof raw !== 'string' || raw.length > 2048) throw new ValueError(allowed);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValueError(allowed);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValueError(allowed);
  return raw;
}, { allowed: 'an http:// or https:// URL' });

/** A list of HTTP header names (a JSON array, or comma-separated). */
export const headerNames: Parser<string[]> = list(text('an HTTP header name such as Cookie', HEADER_NAME, 256));

const FIELDS: { readonly [K in keyof ProxyOptions]-?: Parser<unknown> } = {
  endpoint: endpointUrl,
  timeout: duration(10, 600_000),
  http_headers: headerNames,
  emulated_headers: headerNames,
  static_headers: Object.assign((raw: unknown): Record<string, string> => {
    const allowed = 'an object of header name -> value (strings, no line breaks)';
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValueError(allowed);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (!HEADER_NAME.test(k) || typeof v !== 'string' || /[\r\n\0]/.test(v)) throw new ValueError(allowed);
      out[k] = v;
    }
    return out;
  }, { allowed: 'an object of header name -> value' }),
  binary_encoding: boolean,
  include_connection_meta: boolean,
  keep_alive: boolean,
};

type Problem = { path: string; message: string };

function parseProxy(raw: unknown, path: string, problems: Problem[]): ProxyOptions | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path, message: `must be an object of proxy options (at least "endpoint"), got ${show(raw)}` });
    return undefined;
  }
  const out: Record<string, unknown> = { emulated_headers: [], static_headers: {}, binary_encoding: false, include_connection_meta: false, keep_alive: true };
  const before = problems.length;
  for (const [key, value] of Object.entries(raw)) {
    const parse = (FIELDS as Record<string, Parser<unknown>>)[key];
    if (!parse) {
      problems.push({ path: `${path}.${key}`, message: `is not a proxy option${didYouMean(key, Object.keys(FIELDS))}` });
      continue;
    }
    try {
      out[key] = parse(value);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ path: `${path}.${key}`, message: `must be ${err.allowed}, got ${show(value)}` });
    }
  }
  if (out.endpoint === undefined && problems.length === before) problems.push({ path: `${path}.endpoint`, message: 'is required: the URL canal POSTs to' });
  return out as unknown as ProxyOptions;
}

/** Parser for `proxies`: an object of proxy name -> options. */
export const proxyMap: Parser<Record<string, ProxyOptions>> = Object.assign(
  (raw: unknown): Record<string, ProxyOptions> => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ValueError('an object of proxy name -> options, e.g. {"connect": {"endpoint": "http://127.0.0.1:5000/centrifugo/connect"}}');
    }
    const problems: Problem[] = [];
    const entries: Array<[string, ProxyOptions]> = [];
    for (const [name, value] of Object.entries(raw)) {
      if (!NAME.test(name)) {
        problems.push({ path: name, message: 'is not a valid proxy name (1-64 of A-Z a-z 0-9 _ - .)' });
        continue;
      }
      const parsed = parseProxy(value, name, problems);
      if (parsed) entries.push([name, parsed]);
    }
    if (problems.length > 0) throw new NestedValueErrors(problems);
    return Object.fromEntries(entries);
  },
  { allowed: 'an object of proxy name -> options' },
);

/** What {@link resolveProxies} reads from the configuration. */
export interface ProxySources {
  readonly proxies: Readonly<Record<string, ProxyOptions>>;
  readonly connect_proxy_endpoint: string | undefined;
  readonly refresh_proxy_endpoint: string | undefined;
  readonly rpc_proxy_endpoint: string | undefined;
  readonly proxy_timeout: number;
  readonly proxy_http_headers: readonly string[];
  readonly dev: boolean;
  readonly demo_moderation_endpoint: string | undefined;
}

/**
 * Every proxy, defaults applied: those of `proxies`, with the `*_proxy_endpoint` options setting
 * (or adding) the endpoint of `connect`, `refresh` and `rpc`, and in dev mode the demo chat's
 * moderation proxy.
 */
export function resolveProxies(config: ProxySources): Map<string, ProxySettings> {
  const raw = new Map<string, ProxyOptions>(Object.entries(config.proxies));
  const withEndpoint = (name: string, endpoint: string | undefined): void => {
    if (endpoint === undefined) return;
    const known = raw.get(name);
    raw.set(name, known ? { ...known, endpoint } : {
      endpoint, emulated_headers: [], static_headers: {}, binary_encoding: false, include_connection_meta: false, keep_alive: true,
    });
  };
  for (const [name, option] of Object.entries(EVENT_PROXIES)) withEndpoint(name, config[option]);
  if (config.dev) withEndpoint(DEMO_MODERATION_PROXY, config.demo_moderation_endpoint);
  const out = new Map<string, ProxySettings>();
  for (const [name, p] of raw) {
    out.set(name, {
      name,
      endpoint: p.endpoint,
      timeoutMs: p.timeout ?? config.proxy_timeout,
      httpHeaders: (p.http_headers ?? config.proxy_http_headers).map((h) => h.toLowerCase()),
      emulatedHeaders: p.emulated_headers.map((h) => h.toLowerCase()),
      staticHeaders: p.static_headers,
      binaryEncoding: p.binary_encoding,
      includeMeta: p.include_connection_meta,
      keepAlive: p.keep_alive,
    });
  }
  return out;
}
