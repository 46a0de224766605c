/**
 * The HTTP side of the one port: routes a request to the first handler whose path prefix
 * matches, and answers 404 when none takes it. Handlers never throw: an error becomes a 500
 * with a JSON body and a log line, and the process keeps serving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';

/** Handles a request; calls `next()` to pass it on (static files do, for unknown paths). */
export type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void | Promise<void>;

interface Route {
  readonly prefix: string;
  readonly handler: Handler;
  /** Whether the prefix is removed from req.url before the handler sees it. */
  readonly strip: boolean;
}

/** An ordered list of prefix routes with a final 404. */
export class Dispatcher {
  readonly #routes: Route[] = [];
  readonly #log: Logger;
  readonly #notFound: (req: IncomingMessage) => string;

  constructor(log: Logger, notFound: (req: IncomingMessage) => string) {
    this.#log = log;
    this.#notFound = notFound;
  }

  /** Routes requests under `prefix` (a path ending in '/', or an exact path) to `handler`. */
  route(prefix: string, handler: Handler, options: { strip?: boolean } = {}): void {
    this.#routes.push({ prefix, handler, strip: options.strip ?? false });
  }

  /** The 'request' listener for node:http's server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const originalUrl = req.url ?? '/';
    let i = 0;
    const next = (): void => {
      req.url = originalUrl;
      while (i < this.#routes.length) {
        const route = this.#routes[i++]!;
        if (!matches(originalUrl, route.prefix)) continue;
        if (route.strip) req.url = originalUrl.slice(route.prefix.length - 1) || '/';
        this.#run(route.handler, req, res, next);
        return;
      }
      sendText(res, 404, this.#notFound(req));
    };
    next();
  };

  #run(handler: Handler, req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const fail = (err: unknown): void => {
      this.#log.error({ err, url: req.url, method: req.method }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 100, message: 'internal server error' } });
      else res.destroy();
    };
    try {
      const result = handler(req, res, next);
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}

function matches(url: string, prefix: string): boolean {
  const path = url.split('?', 1)[0]!;
  return prefix.endsWith('/') ? path.startsWith(prefix) || path === prefix.slice(0, -1) : path === prefix;
}

/** Headers on every response: no MIME sniffing (bodies may echo the request path), no referrer leaks. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Sends a plain-text response. */
export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
