/**
 * One timer per server that keeps every connection honest: each tick pings every echo and plain
 * socket (RFC 6455 §5.5.2) and drops the ones that did not answer the previous ping.
 * Protocol sessions hook the same tick to send their application-level ping.
 */
import type { WebSocket } from 'ws';

const kAwaitingPong = Symbol('canal.awaitingPong');

type Tracked = WebSocket & { [kAwaitingPong]?: boolean };

/** Marks a socket alive; shared by every socket so no closure is made per connection. */
function onPong(this: Tracked): void {
  this[kAwaitingPong] = false;
}

/** Starts liveness tracking for an echo or plain socket; the pong listener is module-level. */
export function trackLiveness(ws: WebSocket): void {
  (ws as Tracked)[kAwaitingPong] = false;
  ws.on('pong', onPong);
}

/**
 * Pings each socket in `sockets`; a socket still awaiting the pong of the previous sweep is
 * terminated (its peer is gone or stuck), which fires its 'close' event as usual.
 */
export function sweepSockets(sockets: Iterable<WebSocket>): void {
  for (const ws of sockets as Iterable<Tracked>) {
    if (ws.readyState !== ws.OPEN) continue;
    if (ws[kAwaitingPong]) {
      ws.terminate();
      continue;
    }
    ws[kAwaitingPong] = true;
    ws.ping();
  }
}

/** A repeating tick shared by everything that needs periodic liveness work. */
export class Heartbeat {
  readonly #intervalMs: number;
  readonly #listeners: Array<(nowMs: number) => void> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Registers `fn` to run on every tick, in registration order. */
  onTick(fn: (nowMs: number) => void): void {
    this.#listeners.push(fn);
  }

  /** Starts ticking; the timer does not keep the process alive on its own. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const fn of this.#listeners) fn(now);
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
