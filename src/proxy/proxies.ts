/**
 * Every proxy of a server, by name, and what the sessions need from them: the `connect`,
 * `refresh` and `rpc` proxies, a namespace's proxy by name, and the upgrade-request headers
 * worth keeping on a connection (only those some proxy forwards: a server without proxies keeps
 * none, so idle connections cost nothing more).
 */
import type { ProxySettings } from '../config/proxies.js';
import { silentLogger, type Logger } from '../log.js';
import { Proxy, type UpgradeHeaders } from './proxy.js';

export class Proxies {
  readonly #byName = new Map<string, Proxy>();
  /** Lower-case names of the upgrade headers some proxy forwards. */
  readonly #forwarded: readonly string[];
  /** Lower-case names of the emulated headers some proxy forwards. */
  readonly #emulated: readonly string[];
  readonly connect: Proxy | undefined;
  readonly refresh: Proxy | undefined;
  readonly rpc: Proxy | undefined;

  constructor(settings: ReadonlyMap<string, ProxySettings>, log: Logger) {
    for (const [name, s] of settings) this.#byName.set(name, new Proxy(s, log));
    this.#forwarded = [...new Set([...settings.values()].flatMap((s) => s.httpHeaders))];
    this.#emulated = [...new Set([...settings.values()].flatMap((s) => s.emulatedHeaders))];
    this.connect = this.#byName.get('connect');
    this.refresh = this.#byName.get('refresh');
    this.rpc = this.#byName.get('rpc');
  }

  /** None at all: a server without proxies. */
  static none(): Proxies {
    return new Proxies(new Map(), silentLogger());
  }

  /** The proxy called `name` (a namespace's subscribe_proxy, ...); the configuration checked it exists. */
  get(name: string | undefined): Proxy | undefined {
    return name === undefined ? undefined : this.#byName.get(name);
  }

  /** The headers of an upgrade request that some proxy forwards, or undefined when there are none to keep. */
  keepHeaders(headers: UpgradeHeaders | undefined): UpgradeHeaders | undefined {
    if (!headers || this.#forwarded.length === 0) return undefined;
    let out: Record<string, string | readonly string[]> | undefined;
    for (const name of this.#forwarded) {
      const value = headers[name];
      if (value !== undefined) (out ??= {})[name] = value;
    }
    return out;
  }

  /** The headers of a connect command that some proxy forwards (emulated_headers), or undefined. */
  keepEmulated(headers: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
    if (!headers || this.#emulated.length === 0) return undefined;
    let out: Record<string, string> | undefined;
    for (const [name, value] of Object.entries(headers)) {
      if (this.#emulated.includes(name.toLowerCase())) (out ??= {})[name] = value;
    }
    return out;
  }

  /** Sockets to every backend, in use by a call and idle in the pools, for tests that prove none is left behind. */
  get sockets(): { busy: number; idle: number } {
    const out = { busy: 0, idle: 0 };
    for (const p of this.#byName.values()) {
      const s = p.sockets;
      out.busy += s.busy;
      out.idle += s.idle;
    }
    return out;
  }

  /** Closes every connection to the backends (the server is shutting down). */
  close(): void {
    for (const p of this.#byName.values()) p.close();
  }
}
