/**
 * Namespaces: per-namespace channel options, their defaults, their checks, and dev mode's
 * built-in namespaces. A channel `ns:rest` uses namespace `ns`; a channel with no colon uses
 * `default_namespace`. Outside dev mode nothing is allowed unless an option says so.
 */
import { didYouMean } from './did-you-mean.js';
import { DEMO_MODERATION_PROXY } from './proxies.js';
import { applyV6ProxyKeys, proxyName, V6_KEY_NAMES } from './proxy-aliases.js';
import { boolean, duration, integer, list, NestedValueErrors, oneOf, optional, show, ValueError, type Parser } from './values.js';

/** The options of one namespace (defaults in {@link NAMESPACE_DEFAULTS}). */
export interface NamespaceOptions {
  /** Connections with a user (token or onConnecting) may subscribe without a subscription token. */
  allow_subscribe_for_client: boolean;
  /** Connections without a user may subscribe. */
  allow_subscribe_for_anonymous: boolean;
  /** Connections with a user may publish. */
  allow_publish_for_client: boolean;
  /** Connections without a user may publish. */
  allow_publish_for_anonymous: boolean;
  /** Subscribers of the channel may publish into it. */
  allow_publish_for_subscriber: boolean;
  allow_history_for_client: boolean;
  allow_history_for_anonymous: boolean;
  allow_history_for_subscriber: boolean;
  allow_presence_for_client: boolean;
  allow_presence_for_anonymous: boolean;
  allow_presence_for_subscriber: boolean;
  /** Publications kept per channel; 0 keeps none (no offsets, no recovery). */
  history_size: number;
  /** How long a publication is kept, in ms. */
  history_ttl: number;
  /** How long the stream's offset and epoch are kept after its last publish, in ms (at least history_ttl). */
  history_meta_ttl: number;
  /** Every subscription is recoverable, whatever the client asked. */
  force_recovery: boolean;
  /** Every subscription is positioned (offsets checked for gaps), whatever the client asked. */
  force_positioning: boolean;
  /** `stream`: recovery returns every missed publication; `cache`: only the latest (latest-value channels). */
  recovery_mode: 'stream' | 'cache';
  /** Keep presence (who is subscribed) for the channel. */
  presence: boolean;
  /** Send join and leave pushes to subscribers that ask for them. */
  join_leave: boolean;
  /** A channel with `#` is user-limited: `dialog:#alice,bob` only for alice and bob. */
  allow_user_limited_channels: boolean;
  /** Every connection with a user is subscribed server-side to `<namespace>:#<user>` (at most one namespace). */
  user_personal_channel: boolean;
  /** The proxy that decides subscribes (and gives their info and data), by name in `proxies`. */
  subscribe_proxy: string | undefined;
  /** The proxy that decides publishes (and may replace their data), by name in `proxies`. */
  publish_proxy: string | undefined;
  /** The proxy that prolongs expiring subscriptions from the subscribe proxy, by name in `proxies`. */
  sub_refresh_proxy: string | undefined;
  /** Delta encodings subscribers may ask for (`fossil`); empty: publications always go in full. */
  allowed_delta_types: Array<'fossil'>;
}

export const NAMESPACE_DEFAULTS: Readonly<NamespaceOptions> = {
  allow_subscribe_for_client: false,
  allow_subscribe_for_anonymous: false,
  allow_publish_for_client: false,
  allow_publish_for_anonymous: false,
  allow_publish_for_subscriber: false,
  allow_history_for_client: false,
  allow_history_for_anonymous: false,
  allow_history_for_subscriber: false,
  allow_presence_for_client: false,
  allow_presence_for_anonymous: false,
  allow_presence_for_subscriber: false,
  history_size: 0,
  history_ttl: 0,
  history_meta_ttl: 30 * 24 * 3_600_000,
  force_recovery: false,
  force_positioning: false,
  recovery_mode: 'stream',
  presence: false,
  join_leave: false,
  allow_user_limited_channels: false,
  user_personal_channel: false,
  subscribe_proxy: undefined,
  publish_proxy: undefined,
  sub_refresh_proxy: undefined,
  allowed_delta_types: [],
};

/** One sentence per option, for docs/config.md (a test keeps them in step). */
export const NAMESPACE_DOCS: Readonly<Record<keyof NamespaceOptions, string>> = {
  allow_subscribe_for_client: 'Connections with a user may subscribe without a subscription token.',
  allow_subscribe_for_anonymous: 'Connections without a user may subscribe.',
  allow_publish_for_client: 'Connections with a user may publish.',
  allow_publish_for_anonymous: 'Connections without a user may publish.',
  allow_publish_for_subscriber: 'Subscribers of the channel may publish into it.',
  allow_history_for_client: 'Connections with a user may read history.',
  allow_history_for_anonymous: 'Connections without a user may read history.',
  allow_history_for_subscriber: 'Subscribers of the channel may read its history.',
  allow_presence_for_client: 'Connections with a user may read presence.',
  allow_presence_for_anonymous: 'Connections without a user may read presence.',
  allow_presence_for_subscriber: 'Subscribers of the channel may read its presence.',
  history_size: 'Publications kept per channel (0: no history, no offsets, no recovery).',
  history_ttl: 'How long a publication is kept (and how long a latest-value channel keeps its last value).',
  history_meta_ttl: 'How long the stream\'s offset and epoch are kept after its last publication (at least history_ttl), so a quiet channel keeps its epoch and recovery across the quiet time succeeds.',
  force_recovery: 'Make every subscription recoverable, whatever the client asked.',
  force_positioning: 'Make every subscription positioned (gaps detected), whatever the client asked.',
  recovery_mode: '"stream": recovery returns every missed publication; "cache": only the latest one (latest-value channels).',
  presence: 'Keep presence (who is subscribed) for the channel.',
  join_leave: 'Send join and leave pushes to subscribers that ask for them.',
  allow_user_limited_channels: 'A channel whose name has "#" is user-limited: only the users listed after the last "#" (comma-separated) may subscribe, e.g. dialog:#alice,bob (no other right or proxy is asked), and a client of another user may not publish, read history or read presence there, whatever the other options say, unless a subscription token made it a subscriber.',
  user_personal_channel: 'Every connection with a user is subscribed (server-side) to the channel "<namespace>:#<user>" ("#<user>" in the default namespace), so publishing there reaches all of that user\'s connections on every node. The namespace\'s "#" channels are user-limited, as with allow_user_limited_channels: another user may not subscribe, publish, read history or read presence there. At most one namespace.',
  subscribe_proxy: 'Name of the proxy (in "proxies") asked whether a client may subscribe, instead of the allow_subscribe_* options; it may give the subscription\'s info and data (docs/proxy.md).',
  publish_proxy: 'Name of the proxy (in "proxies") asked whether a client may publish, instead of the allow_publish_* options; it may replace the data (docs/proxy.md).',
  sub_refresh_proxy: 'Name of the proxy (in "proxies") asked to prolong subscriptions that expire (an expire_at from the subscribe proxy), instead of the client refreshing a token.',
  allowed_delta_types: 'Delta encodings a subscriber may ask for: ["fossil"] sends each publication after its first as a fossil delta against the previous one (empty: always in full).',
};

const FIELD_PARSERS: { readonly [K in keyof NamespaceOptions]: Parser<NamespaceOptions[K]> } = {
  allow_subscribe_for_client: boolean,
  allow_subscribe_for_anonymous: boolean,
  allow_publish_for_client: boolean,
  allow_publish_for_anonymous: boolean,
  allow_publish_for_subscriber: boolean,
  allow_history_for_client: boolean,
  allow_history_for_anonymous: boolean,
  allow_history_for_subscriber: boolean,
  allow_presence_for_client: boolean,
  allow_presence_for_anonymous: boolean,
  allow_presence_for_subscriber: boolean,
  history_size: integer(0, 1_000_000),
  history_ttl: duration(0, 30 * 24 * 3_600_000),
  history_meta_ttl: duration(1000, 365 * 24 * 3_600_000),
  force_recovery: boolean,
  force_positioning: boolean,
  recovery_mode: oneOf(['stream', 'cache'] as const),
  presence: boolean,
  join_leave: boolean,
  allow_user_limited_channels: boolean,
  user_personal_channel: boolean,
  subscribe_proxy: optional(proxyName),
  publish_proxy: optional(proxyName),
  sub_refresh_proxy: optional(proxyName),
  // The protocol core's DELTA_TYPES (config sits beside it, not above); a test keeps the two equal.
  allowed_delta_types: list(oneOf(['fossil'] as const)) as Parser<Array<'fossil'>>,
};

const NAME = /^[A-Za-z0-9_\-.]{1,64}$/;

type Problem = { path: string; message: string };

/** Parses one namespace's options (unset fields take the defaults); problems are collected. */
function parseNamespace(raw: unknown, path: string, problems: Problem[]): NamespaceOptions {
  const before = problems.length;
  const out: NamespaceOptions = { ...NAMESPACE_DEFAULTS };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path, message: `must be an object of namespace options, got ${show(raw)}` });
    return out;
  }
  const at = (key: string): string => (path === '' ? key : `${path}.${key}`);
  for (const [key, value] of Object.entries(raw)) {
    if (V6_KEY_NAMES.includes(key)) continue;
    const parse = (FIELD_PARSERS as Record<string, Parser<unknown>>)[key];
    if (!parse) {
      problems.push({ path: at(key), message: `is not a namespace option${didYouMean(key, [...Object.keys(FIELD_PARSERS), ...V6_KEY_NAMES])}` });
      continue;
    }
    try {
      (out as unknown as Record<string, unknown>)[key] = parse(value);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ path: at(key), message: `must be ${err.allowed}, got ${show(value)}` });
    }
  }
  // Centrifugo v6's subscribe_proxy_enabled / subscribe_proxy_name (and publish_, sub_refresh_).
  applyV6ProxyKeys(raw as Record<string, unknown>, out, at, problems);
  // Contradictions are judged only on values that parsed: a refused value was reset to its default.
  if (problems.length === before) {
    for (const message of contradictions(out)) problems.push({ path: path === '' ? '(namespace)' : path, message });
  }
  return out;
}

/** Options that cannot hold together; each is a sentence saying what to change. */
export function contradictions(ns: NamespaceOptions): string[] {
  const out: string[] = [];
  if (ns.history_size > 0 && ns.history_ttl === 0) out.push('history_size is set but history_ttl is 0: set how long publications are kept');
  if (ns.history_size === 0 && ns.history_ttl > 0) out.push('history_ttl is set but history_size is 0: set how many publications are kept');
  if (ns.history_size > 0 && ns.history_meta_ttl < ns.history_ttl) {
    out.push('history_meta_ttl is shorter than history_ttl: the offset and epoch must outlive the publications; raise history_meta_ttl');
  }
  if (ns.history_size === 0 && (ns.force_recovery || ns.recovery_mode === 'cache')) {
    out.push('recovery needs history: set history_size and history_ttl, or turn off force_recovery / recovery_mode "cache"');
  }
  if (ns.history_size === 0 && ns.force_positioning) out.push('force_positioning needs history: set history_size and history_ttl');
  if (!ns.presence && (ns.allow_presence_for_client || ns.allow_presence_for_anonymous || ns.allow_presence_for_subscriber)) {
    out.push('presence is off, so allow_presence_for_* cannot be set: turn presence on');
  }
  if (ns.history_size === 0 && (ns.allow_history_for_client || ns.allow_history_for_anonymous || ns.allow_history_for_subscriber)) {
    out.push('history is off (history_size 0), so allow_history_for_* cannot be set');
  }
  return out;
}

/** Parser for `default_namespace`: one namespace's options. */
export const namespaceOptions: Parser<NamespaceOptions> = Object.assign(
  (raw: unknown): NamespaceOptions => {
    const problems: Problem[] = [];
    const out = parseNamespace(raw, '', problems);
    if (problems.length > 0) throw new NestedValueErrors(problems);
    return out;
  },
  { allowed: 'an object of namespace options' },
);

/** Parser for `namespaces`: an object of namespace name -> options. */
export const namespaceMap: Parser<Record<string, NamespaceOptions>> = Object.assign(
  (raw: unknown): Record<string, NamespaceOptions> => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ValueError('an object of namespace name -> options, e.g. {"chat": {"allow_subscribe_for_client": true}}');
    }
    const problems: Problem[] = [];
    const entries: Array<[string, NamespaceOptions]> = [];
    for (const [name, value] of Object.entries(raw)) {
      if (!NAME.test(name)) {
        problems.push({ path: name, message: 'is not a valid namespace name (1-64 of A-Z a-z 0-9 _ - .)' });
        continue;
      }
      entries.push([name, parseNamespace(value, name, problems)]);
    }
    const personal = entries.filter(([, ns]) => ns.user_personal_channel).map(([name]) => name);
    if (personal.length > 1) {
      problems.push({ path: personal[1]!, message: `user_personal_channel is also set in namespace "${personal[0]}": a user has one personal channel; keep it in one namespace` });
    }
    if (problems.length > 0) throw new NestedValueErrors(problems);
    // fromEntries defines own properties, so a namespace named "__proto__" is data, not a prototype.
    return Object.fromEntries(entries);
  },
  { allowed: 'an object of namespace name -> options' },
);

const MINUTE = 60_000;

/**
 * Dev mode's namespaces, so the demos work with no configuration: `chat` (anyone subscribes
 * and publishes; history, recovery, presence, join/leave), `scores` (anyone subscribes to a
 * latest-value channel; the server API publishes), `game` (anyone subscribes; inputs go by RPC).
 * With `moderation`, chat's publishes go through the demo moderation proxy first.
 */
export function devNamespaces(options: { readonly moderation?: boolean } = {}): Record<string, NamespaceOptions> {
  const open = { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true };
  return {
    chat: {
      ...open,
      allow_publish_for_client: true,
      allow_publish_for_anonymous: true,
      history_size: 100,
      history_ttl: 10 * MINUTE,
      force_recovery: true,
      presence: true,
      join_leave: true,
      allow_history_for_subscriber: true,
      allow_presence_for_subscriber: true,
      ...(options.moderation ? { publish_proxy: DEMO_MODERATION_PROXY } : {}),
    },
    scores: {
      ...open,
      history_size: 1,
      history_ttl: 24 * 60 * MINUTE,
      force_recovery: true,
      recovery_mode: 'cache',
      allow_history_for_subscriber: true,
      allowed_delta_types: ['fossil'],
    },
    game: {
      ...open,
      presence: true,
      join_leave: true,
      allow_presence_for_subscriber: true,
      allowed_delta_types: ['fossil'],
    },
  };
}
