/**
 * The few pieces of Bun's API the Bun peers use, typed here so that they type-check with the
 * rest of bench/ under Node's types (the project does not depend on Bun's type package), and
 * read from `globalThis.Bun` so that nothing global is declared for the other files.
 * Only ever imported by files run with `bun`.
 */

/** A server-side WebSocket of Bun.serve. */
export interface BunSocket<Data> {
  readonly data: Data;
  send(message: string | Uint8Array): number;
  subscribe(topic: string): void;
}

/** The `websocket` handlers and options of Bun.serve. */
export interface BunWebSocketHandler<Data> {
  open?(ws: BunSocket<Data>): void;
  message(ws: BunSocket<Data>, message: string | Uint8Array): void;
  perMessageDeflate?: boolean;
  /** Seconds without traffic before Bun closes a connection; 0 never. */
  idleTimeout?: number;
  /** Whether Bun pings connections before idleTimeout. */
  sendPings?: boolean;
  backpressureLimit?: number;
  closeOnBackpressureLimit?: boolean;
  maxPayloadLength?: number;
}

export interface BunServer<Data> {
  readonly port: number;
  upgrade(request: Request, options?: { data: Data }): boolean;
  /** Sends `message` to every connection subscribed to `topic`, the fan-out done in native code. */
  publish(topic: string, message: string | Uint8Array): number;
}

export interface BunServeOptions<Data> {
  hostname: string;
  port: number;
  fetch(request: Request, server: BunServer<Data>): Response | undefined;
  websocket: BunWebSocketHandler<Data>;
}

interface BunGlobal {
  serve<Data>(options: BunServeOptions<Data>): BunServer<Data>;
  gc(force: boolean): void;
  readonly version: string;
}

/** `globalThis.Bun`; exits 1 with the reason when not run by Bun. */
export function bunApi(): BunGlobal {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!bun) {
    process.stderr.write('this file is a Bun program: run it with bun (node_modules/@oven/bun-*/bin/bun)\n');
    process.exit(1);
  }
  return bun;
}

/**
 * The options every Bun peer shares, set to what the Node peers do, so that defaults cannot
 * skew a comparison: no compression (ws's default for servers too), no idle timeout and no
 * pings (ws sends none; Bun's default would close connections idle for 120 s), no limit on
 * buffered bytes that would drop messages (ws buffers without bound).
 */
export const PEER_WEBSOCKET_OPTIONS = {
  perMessageDeflate: false,
  idleTimeout: 0,
  sendPings: false,
  backpressureLimit: 0,
  closeOnBackpressureLimit: false,
} as const;
