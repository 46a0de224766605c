/**
 * Builds the configuration from its sources: defaults < config file < `CANAL_*` environment <
 * flags (or the embedding API's options, which rank with flags). Pure: the caller reads the file
 * and passes the environment in. Every wrong field is reported at once.
 */
import { didYouMean } from './did-you-mean.js';
import { resolveProxies } from './proxies.js';
import { V6_PROXY_KEYS } from './proxy-aliases.js';
import { defaults, envName, flagName, OPTIONS, type Config, type OptionKey } from './schema.js';
import { NestedValueErrors, show, ValueError, type Parser } from './values.js';

/** Where a value came from; used in error messages so a person knows what to change. */
export type Source =
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }
  | { kind: 'option' }
  /** A check across several options. */
  | { kind: 'combination' };

/** One wrong field. */
export interface ConfigProblem {
  readonly key: string;
  readonly source: Source;
  readonly message: string;
}

/** The configuration could not be built; `problems` lists every wrong field. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

/** `port: must be an integer from 0 to 65535, got "abc" (from --port)`. */
export function formatProblem(p: ConfigProblem): string {
  return p.source.kind === 'combination' ? `${p.key}: ${p.message}` : `${p.key}: ${p.message} (${describeSource(p.source)})`;
}

function describeSource(s: Source): string {
  switch (s.kind) {
    case 'file': return `in ${s.path}`;
    case 'env': return `from environment variable ${s.name}`;
    case 'flag': return `from flag ${s.name}`;
    case 'option': return 'from the options passed to new Canal()';
    case 'combination': return 'from the combination of options';
  }
}

export interface ConfigSources {
  /** The parsed JSON of a config file, and its path for messages. */
  readonly file?: { readonly path: string; readonly data: unknown };
  /** The process environment; only `CANAL_*` names are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values from flags, keyed by option key (strings, or true for switches). */
  readonly flags?: Readonly<Partial<Record<OptionKey, string | boolean>>>;
  /** Values from the embedding API (typed, but still checked). */
  readonly options?: Readonly<Record<string, unknown>>;
}

const KEYS = Object.keys(OPTIONS) as OptionKey[];

/**
 * Values that start with this are placeholders to be replaced (`replace-with-a-random-key`), as
 * in the copy of the example configuration in docs/config.md: refused in every option, so a
 * server never runs with a secret that was published.
 */
export const PLACEHOLDER_PREFIX = 'replace-with-';

/** Whether `raw` (or an item of it, for lists) is a `replace-with-...` placeholder. */
function isPlaceholder(raw: unknown): boolean {
  if (Array.isArray(raw)) return raw.some(isPlaceholder);
  return typeof raw === 'string' && raw.trim().toLowerCase().startsWith(PLACEHOLDER_PREFIX);
}

/**
 * Returns the checked configuration. Throws {@link ConfigError} listing every wrong field:
 * values that do not parse, `replace-with-...` placeholders that no later source replaced,
 * unknown keys in the file or options, unknown `CANAL_*` variables.
 */
export function resolveConfig(sources: ConfigSources): Config {
  const config = defaults() as Record<OptionKey, unknown>;
  const problems: ConfigProblem[] = [];

  // A placeholder is refused only when no later source replaces it: a file may keep
  // "replace-with-..." for a secret that every node gets from CANAL_* (docs/scaling.md).
  const placeholders = new Map<OptionKey, { raw: unknown; source: Source }>();

  const apply = (key: OptionKey, raw: unknown, source: Source): void => {
    placeholders.delete(key);
    if (isPlaceholder(raw)) {
      placeholders.set(key, { raw, source });
      return;
    }
    try {
      config[key] = (OPTIONS[key].parse as Parser<unknown>)(raw);
    } catch (err) {
      if (err instanceof NestedValueErrors) {
        for (const p of err.problems) problems.push({ key: `${key}.${p.path}`, source, message: p.message });
        return;
      }
      if (!(err instanceof ValueError)) throw err;
      problems.push({ key, source, message: `must be ${err.allowed}, got ${show(raw)}` });
    }
  };

  const applyObject = (data: unknown, source: Source): void => {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ key: '(top level)', source, message: `must be a JSON object, got ${show(data)}` });
      return;
    }
    for (const [key, raw] of Object.entries(data)) {
      if (isKey(key)) apply(key, raw, source);
      else problems.push({ key, source, message: `is not an option${didYouMean(key, KEYS)}` });
    }
  };

  if (sources.file) {
    // With a config file canal is configured for real: dev mode only when the file asks for it.
    config.dev = false;
    applyObject(sources.file.data, { kind: 'file', path: sources.file.path });
  }

  if (sources.env) {
    const known = new Map<string, OptionKey>();
    for (const key of KEYS) {
      const name = envName(key);
      if (name) known.set(name, key);
    }
    for (const [name, raw] of Object.entries(sources.env)) {
      if (!name.startsWith('CANAL_') || raw === undefined) continue;
      const key = known.get(name);
      if (key) apply(key, raw, { kind: 'env', name });
      else problems.push({ key: name, source: { kind: 'env', name }, message: `is not a canal setting${didYouMean(name, known.keys())}` });
    }
  }

  if (sources.options) applyObject(sources.options, { kind: 'option' });

  if (sources.flags) {
    for (const key of KEYS) {
      const raw = sources.flags[key];
      if (raw !== undefined) apply(key, raw, { kind: 'flag', name: flagName(key) ?? key });
    }
  }

  for (const [key, { raw, source }] of placeholders) {
    const env = envName(key);
    problems.push({
      key,
      source,
      message: `is a placeholder, not a value (${show(raw)}): put a real one there${env ? ` or set ${env}` : ''}; ` +
        '"canal config example" writes a config file with random secrets of its own',
    });
  }
  if (problems.length === 0) problems.push(...crossChecks(config as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config as Config;
}

/**
 * Whether the demo pages (`/` and `/demo/...`) are served: in dev mode only, whose anonymous
 * connections, demo namespaces and /demo/token they need, and not with `demos: false`.
 */
export function servesDemos(config: Readonly<Pick<Config, 'dev' | 'demos'>>): boolean {
  return config.dev && config.demos;
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Checks across options: settings that are each valid but cannot hold together. */
function crossChecks(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (config.dev && !config.insecure_dev && !isLoopback(config.host)) {
    out.push({
      key: 'host',
      source: { kind: 'combination' },
      message: `dev mode (anonymous connections, open demo namespaces) only listens on loopback addresses, not ${config.host}; ` +
        'give a config file (dev mode is then off) or pass --insecure-dev',
    });
  }
  if ((config.admin_password === undefined) !== (config.admin_secret === undefined)) {
    const [set, missing] = config.admin_password === undefined ? ['admin_secret', 'admin_password'] : ['admin_password', 'admin_secret'];
    out.push({
      key: missing,
      source: { kind: 'combination' },
      message: `${set} is set but ${missing} is not: the admin page needs both (admin_secret: 32+ random characters that sign its cookies)`,
    });
  }
  if (config.redis_sentinels.length > 0 && config.redis_cluster.length > 0) {
    out.push({
      key: 'redis_cluster',
      source: { kind: 'combination' },
      message: 'redis_sentinels and redis_cluster are both set: canal talks to a Sentinel-managed Redis or to a Redis Cluster, not both; keep one',
    });
  }
  if (config.engine !== 'redis' && (config.redis_sentinels.length > 0 || config.redis_cluster.length > 0)) {
    out.push({
      key: config.redis_cluster.length > 0 ? 'redis_cluster' : 'redis_sentinels',
      source: { kind: 'combination' },
      message: `is set but engine is "${config.engine}": set engine to "redis" (--engine redis) to use it`,
    });
  }
  if (config.engine === 'memory' && config.workers !== 1) {
    out.push({
      key: 'workers',
      source: { kind: 'combination' },
      message: `is ${JSON.stringify(config.workers)} but engine is "memory": each worker process would keep its own channels, history and presence, ` +
        'so clients on different workers would not see each other\'s publications; use --engine redis (every worker a node of one Redis) or --workers 1',
    });
  }
  if (config.token_jwks_url !== undefined && config.token_public_key !== undefined) {
    out.push({
      key: 'token_jwks_url',
      source: { kind: 'combination' },
      message: 'token_jwks_url and token_public_key are both set: asymmetric tokens are verified with the keys of the JWKS endpoint or with one public key, not both; keep one',
    });
  }
  if (config.single_connection && config.user_connection_limit > 0) {
    out.push({
      key: 'user_connection_limit',
      source: { kind: 'combination' },
      message: 'single_connection is on, which already keeps one connection per user (the newest): unset user_connection_limit, or turn single_connection off',
    });
  }
  if (config.demo_moderation_endpoint !== undefined && !config.dev) {
    out.push({
      key: 'demo_moderation_endpoint',
      source: { kind: 'combination' },
      message: 'is for the demo chat, which exists in dev mode only; for your own namespaces, define a proxy in "proxies" and name it in the namespace\'s publish_proxy',
    });
  }
  const proxies = resolveProxies(config);
  const known = [...proxies.keys()].join(', ') || 'none';
  const namespaces: Array<[string, Config['default_namespace']]> = [['default_namespace', config.default_namespace], ...Object.entries(config.namespaces).map(([n, ns]) => [`namespaces.${n}`, ns] as [string, Config['default_namespace']])];
  for (const [path, ns] of namespaces) {
    for (const option of ['subscribe_proxy', 'publish_proxy', 'sub_refresh_proxy'] as const) {
      const name = ns[option];
      if (name !== undefined && !proxies.has(name)) {
        const v6 = V6_PROXY_KEYS[option];
        // A bare subscribe_proxy_enabled means this name: say so, or the user looks for a key they never wrote.
        const hint = name === v6.fallback ? ` (${v6.enabled} without ${v6.name} means the proxy named "${v6.fallback}")` : '';
        out.push({ key: `${path}.${option}`, source: { kind: 'combination' }, message: `names proxy "${name}", which "proxies" does not define (proxies: ${known})${hint}` });
      }
    }
  }
  const personal = namespaces.filter(([, ns]) => ns.user_personal_channel).map(([path]) => path);
  if (personal.length > 1) {
    out.push({ key: `${personal[1]}.user_personal_channel`, source: { kind: 'combination' }, message: `is also set in ${personal[0]}: a user has one personal channel; keep it in one namespace` });
  }
  return out;
}

function isKey(key: string): key is OptionKey {
  return Object.hasOwn(OPTIONS, key);
}
