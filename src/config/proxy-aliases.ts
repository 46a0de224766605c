/**
 * Centrifugo v6's namespace keys for proxies, read as aliases of canal's: Centrifugo turns a
 * namespace's proxy on with `subscribe_proxy_enabled: true` and picks a named one with
 * `subscribe_proxy_name` (the same for `publish_` and `sub_refresh_`), where canal names the
 * proxy in one key, `subscribe_proxy`. A v6 namespace block can so be pasted into canal's
 * config unchanged. Without a name, Centrifugo uses its default proxy for the event
 * (`channel.proxy.subscribe`); in canal that is the proxy named after the event (`subscribe`,
 * `publish`, `sub_refresh`) in `proxies`, as `connect`, `refresh` and `rpc` are. Pure.
 */
import { boolean, ValueError, show, text, type Parser } from './values.js';

/** The canal option each v6 pair stands for, the pair's keys, and the proxy a bare `_enabled` means. */
export const V6_PROXY_KEYS = {
  subscribe_proxy: { enabled: 'subscribe_proxy_enabled', name: 'subscribe_proxy_name', fallback: 'subscribe' },
  publish_proxy: { enabled: 'publish_proxy_enabled', name: 'publish_proxy_name', fallback: 'publish' },
  sub_refresh_proxy: { enabled: 'sub_refresh_proxy_enabled', name: 'sub_refresh_proxy_name', fallback: 'sub_refresh' },
} as const;

type ProxyOption = keyof typeof V6_PROXY_KEYS;

/** Every v6 key a namespace may hold. */
export const V6_KEY_NAMES: readonly string[] = Object.values(V6_PROXY_KEYS).flatMap((k) => [k.enabled, k.name]);

/** The same proxy-name rule as canal's own `*_proxy` options. */
export const proxyName: Parser<string> = text('the name of a proxy defined in "proxies"', /^[A-Za-z0-9_\-.]{1,64}$/);

/**
 * Folds the v6 keys of one namespace (`raw`) into canal's `*_proxy` options (`out`, already
 * parsed from canal's own keys), pushing a problem for each wrong value and each contradiction:
 * a name without `_enabled: true` (Centrifugo would ignore it), `_enabled: false` beside a
 * canal `*_proxy`, or a `_name` that differs from the canal key's. `at(key)` gives a key's path.
 */
export function applyV6ProxyKeys(
  raw: Readonly<Record<string, unknown>>,
  out: Record<ProxyOption, string | undefined>,
  at: (key: string) => string,
  problems: Array<{ path: string; message: string }>,
): void {
  /** The key's value parsed, or undefined (a problem pushed when it was there but wrong). */
  const read = <T>(key: string, value: unknown, parse: Parser<T>): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ path: at(key), message: `must be ${parse.allowed}, got ${show(value)}` });
      return undefined;
    }
  };
  for (const [option, keys] of Object.entries(V6_PROXY_KEYS) as Array<[ProxyOption, (typeof V6_PROXY_KEYS)[ProxyOption]]>) {
    const enabledRaw = raw[keys.enabled];
    const nameRaw = raw[keys.name];
    if (enabledRaw === undefined && nameRaw === undefined) continue;
    const before = problems.length;
    const enabled = read(keys.enabled, enabledRaw, boolean);
    const name = read(keys.name, nameRaw, proxyName);
    if (problems.length > before) continue;
    const canal = out[option];
    if (enabled === undefined) {
      problems.push({
        path: at(keys.name),
        message: `is set but ${keys.enabled} is not: Centrifugo v6 asks the named proxy only with "${keys.enabled}": true; add that, or write "${option}": "${name}"`,
      });
    } else if (!enabled) {
      if (canal !== undefined) {
        problems.push({ path: at(keys.enabled), message: `is false but ${option} is "${canal}": one turns the proxy off, the other names one; keep one of them` });
      }
    } else if (name !== undefined && canal !== undefined && name !== canal) {
      problems.push({ path: at(keys.name), message: `is "${name}" but ${option} is "${canal}": both name the namespace's ${keys.fallback} proxy; keep one of them` });
    } else {
      out[option] = name ?? canal ?? keys.fallback;
    }
  }
}
