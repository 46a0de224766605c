/**
 * Routes WebSocket upgrades by path to the endpoint that serves it, after the gates (draining,
 * origin, capacity). A path nobody serves gets an HTTP 404 whose body lists the paths that
 * exist, so a person with a wrong URL can fix it. The router decides; each runtime's transport
 * (node-transport.ts, bun-transport.ts) completes or refuses the handshake its own way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

/** What the gates and logs read of an upgrade request, on either runtime (node:http's IncomingMessage is one). */
export interface UpgradeRequest {
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/**
 * One WebSocket endpoint. `match` returns undefined when the path is not this endpoint's;
 * `target` is what the runtime's transport needs to serve it.
 */
export interface Endpoint<M = unknown, T = unknown> {
  /** The path as a person writes it, e.g. `/raw/<channel>`. */
  readonly path: string;
  /** What it serves, in a few words, for the 404 listing. */
  readonly description: string;
  readonly target: T;
  match(pathname: string): M | undefined;
  /** A match this endpoint cannot serve after all (e.g. an unknown channel): refused with this status. */
  refuse?(match: M): Refusal | undefined;
}

/** Why an upgrade was refused before the handshake: HTTP status and a plain-text body. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** Checks run before any handshake (origin, capacity, draining); a Refusal stops the upgrade. */
export type UpgradeGate = (req: UpgradeRequest, pathname: string) => Refusal | undefined;

/** Told of every upgrade the router refuses, for the log. Must not throw. */
export type RefusalListener = (req: UpgradeRequest, pathname: string, refusal: Refusal) => void;

/** Where an upgrade goes: an endpoint and what its `match` returned, or a refusal. */
export type Route<T> = { readonly endpoint: Endpoint<unknown, T>; readonly match: unknown } | { readonly refusal: Refusal };

/** The endpoints and gates of one server; `T` is what the runtime's transport keeps per endpoint. */
export class UpgradeRouter<T = unknown> {
  readonly #endpoints: Endpoint<any, T>[] = [];
  readonly #gates: UpgradeGate[] = [];
  #onRefused: RefusalListener | undefined;

  /** Adds an endpoint; endpoints are tried in the order they were added. */
  add<M>(endpoint: Endpoint<M, T>): void {
    this.#endpoints.push(endpoint);
  }

  /** Adds a check that runs before every handshake. */
  gate(check: UpgradeGate): void {
    this.#gates.push(check);
  }

  /** Calls `listener` with every refusal (one listener; a second call replaces it). */
  onRefused(listener: RefusalListener): void {
    this.#onRefused = listener;
  }

  /** The endpoints, for listings. */
  get endpoints(): readonly Endpoint<unknown, T>[] {
    return this.#endpoints;
  }

  /**
   * Decides where the upgrade of `req` (for `pathname`) goes: the first endpoint whose path
   * matches, unless a gate or the endpoint refuses it; a refusal is told to the listener. Never throws.
   */
  route(req: UpgradeRequest, pathname: string): Route<T> {
    for (const endpoint of this.#endpoints) {
      const match = endpoint.match(pathname);
      if (match === undefined) continue;
      for (const check of this.#gates) {
        const refusal = check(req, pathname);
        if (refusal) return this.#refuse(req, pathname, refusal);
      }
      const own = endpoint.refuse?.(match);
      if (own) return this.#refuse(req, pathname, own);
      return { endpoint, match };
    }
    return this.#refuse(req, pathname, { status: 404, message: this.notFoundMessage(pathname, req.headers.host) });
  }

  #refuse(req: UpgradeRequest, pathname: string, refusal: Refusal): Route<T> {
    this.#onRefused?.(req, pathname, refusal);
    return { refusal };
  }

  /** The body of the 404 for an unserved path: what exists, with full URLs. */
  notFoundMessage(pathname: string, hostHeader: string | undefined): string {
    const origin = `ws://${hostHeader ?? 'HOST:PORT'}`;
    const lines = this.#endpoints.map((e) => `  ${origin}${e.path}  ${e.description}`);
    return `No WebSocket endpoint at ${pathname}. WebSocket endpoints on this server:\n${lines.join('\n')}\n`;
  }
}

/** The path of a request URL without its query string; `/` when absent. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable',
};

/** The reason phrase of an HTTP status the router answers with. */
export function reasonOf(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** Answers an upgrade request with a plain HTTP error and closes the socket (node:http). */
export function refuse(socket: Duplex, { status, message }: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(message);
  socket.write(
    `HTTP/1.1 ${status} ${reasonOf(status)}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.end(body);
}
