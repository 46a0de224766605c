/**
 * Routes WebSocket upgrades by path to the endpoint that serves it. A path nobody serves gets
 * an HTTP 404 whose body lists the paths that exist, so a person with a wrong URL can fix it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

/** One WebSocket endpoint. `match` returns undefined when the path is not this endpoint's. */
export interface Endpoint<M = unknown> {
  /** The path as a person writes it, e.g. `/raw/<channel>`. */
  readonly path: string;
  /** What it serves, in a few words, for the 404 listing. */
  readonly description: string;
  /** The ws server (noServer mode) that completes the handshake for this endpoint. */
  readonly server: WebSocketServer;
  match(pathname: string): M | undefined;
  /** A match this endpoint cannot serve after all (e.g. an unknown channel): refused with this status. */
  refuse?(match: M): Refusal | undefined;
  /** Called once the handshake is done; owns the socket from then on. */
  accept(ws: WebSocket, req: IncomingMessage, match: M): void;
}

/** Why an upgrade was refused before the handshake: HTTP status and a plain-text body. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** Checks run before any handshake (origin, capacity, draining); a Refusal stops the upgrade. */
export type UpgradeGate = (req: IncomingMessage, pathname: string) => Refusal | undefined;

/** Told of every upgrade the router refuses, for the log. Must not throw. */
export type RefusalListener = (req: IncomingMessage, pathname: string, refusal: Refusal) => void;

/** Dispatches 'upgrade' events from the HTTP server to endpoints. */
export class UpgradeRouter {
  readonly #endpoints: Endpoint<any>[] = [];
  readonly #gates: UpgradeGate[] = [];
  #onRefused: RefusalListener | undefined;

  /** Adds an endpoint; endpoints are tried in the order they were added. */
  add<M>(endpoint: Endpoint<M>): void {
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
  get endpoints(): readonly Endpoint<unknown>[] {
    return this.#endpoints;
  }

  /** The 'upgrade' listener for node:http's server. Never throws. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', ignoreSocketError);
    const pathname = pathOf(req.url);
    for (const endpoint of this.#endpoints) {
      const match = endpoint.match(pathname);
      if (match === undefined) continue;
      for (const check of this.#gates) {
        const refusal = check(req, pathname);
        if (refusal) return this.#refuse(req, pathname, socket, refusal);
      }
      const own = endpoint.refuse?.(match);
      if (own) return this.#refuse(req, pathname, socket, own);
      endpoint.server.handleUpgrade(req, socket, head, (ws) => {
        // ws listens for the socket's errors from here on; a second listener kept for the
        // connection's life would cost an array on every socket.
        socket.off('error', ignoreSocketError);
        endpoint.accept(ws, req, match);
      });
      return;
    }
    this.#refuse(req, pathname, socket, { status: 404, message: this.notFoundMessage(pathname, req.headers.host) });
  };

  #refuse(req: IncomingMessage, pathname: string, socket: Duplex, refusal: Refusal): void {
    this.#onRefused?.(req, pathname, refusal);
    refuse(socket, refusal);
  }

  /** The body of the 404 for an unserved path: what exists, with full URLs. */
  notFoundMessage(pathname: string, hostHeader: string | undefined): string {
    const origin = `ws://${hostHeader ?? 'HOST:PORT'}`;
    const lines = this.#endpoints.map((e) => `  ${origin}${e.path}  ${e.description}`);
    return `No WebSocket endpoint at ${pathname}. WebSocket endpoints on this server:\n${lines.join('\n')}\n`;
  }
}

function ignoreSocketError(): void {
  // A peer that resets during the handshake is not our error; ws reports it on the socket it makes.
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

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuse(socket: Duplex, { status, message }: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(message);
  socket.write(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.end(body);
}
