/**
 * The pieces of Bun's API the Bun transport uses, typed here so that src/ type-checks under
 * Node's types alone (the project does not depend on Bun's type package), and read from
 * `globalThis.Bun`, so nothing global is declared for other files. {@link bunRuntime} is the one
 * place canal asks which runtime it is on.
 */

/** Bun's server-side WebSocket (uWebSockets underneath); `data` is what `upgrade` was given. */
export interface BunSocket<Data> {
  readonly data: Data;
  /** 1 while open (the WebSocket readyState numbers). */
  readonly readyState: number;
  readonly remoteAddress: string;
  /**
   * Bytes written, -1 when queued behind backpressure, 0 when dropped. `compress` deflates the
   * message when the socket negotiated permessage-deflate (Bun's default is not to).
   */
  sendText(text: string, compress?: boolean): number;
  sendBinary(bytes: Uint8Array, compress?: boolean): number;
  /** Bytes queued in user space and not yet written to the socket. */
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  /** Ends the connection at once, without a close frame. */
  terminate(): void;
  ping(data?: string | Uint8Array): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  isSubscribed(topic: string): boolean;
  /** Runs `fn` with the socket's writes held, so what it sends leaves in one system call. */
  cork<T>(fn: (ws: BunSocket<Data>) => T): T;
}

/** The `websocket` handlers and options of Bun.serve. */
export interface BunWebSocketHandler<Data> {
  open(ws: BunSocket<Data>): void;
  message(ws: BunSocket<Data>, message: string | Uint8Array): void;
  close(ws: BunSocket<Data>, code: number, reason: string): void;
  drain?(ws: BunSocket<Data>): void;
  pong?(ws: BunSocket<Data>, data: Uint8Array): void;
  perMessageDeflate?: boolean;
  /** Seconds without traffic before Bun closes a connection; 0 never. */
  idleTimeout?: number;
  /** Whether Bun pings connections before idleTimeout. */
  sendPings?: boolean;
  backpressureLimit?: number;
  closeOnBackpressureLimit?: boolean;
  maxPayloadLength?: number;
  /** Whether a socket's own server.publish reaches it too (topics). */
  publishToSelf?: boolean;
}

export interface BunServer<Data> {
  readonly port: number;
  readonly hostname: string;
  upgrade(request: Request, options?: { data: Data; headers?: Record<string, string> }): boolean;
  /** Sends `message` to every connection subscribed to `topic`: one call, the fan-out in native code. */
  publish(topic: string, message: string | Uint8Array, compress?: boolean): number;
  requestIP(request: Request): { address: string; family: string; port: number } | null;
  /** Stops listening; with `closeActive`, closes every open connection too. */
  stop(closeActive?: boolean): Promise<void> | void;
}

export interface BunServeOptions<Data> {
  hostname: string;
  port: number;
  /** Bun closes, without an answer, a request that declares a longer body (default 128 MiB). */
  maxRequestBodySize?: number;
  fetch(request: Request, server: BunServer<Data>): Response | Promise<Response> | undefined;
  error?(error: Error): Response | Promise<Response>;
  websocket: BunWebSocketHandler<Data>;
}

export interface BunGlobal {
  serve<Data>(options: BunServeOptions<Data>): BunServer<Data>;
  readonly version: string;
}

/** `globalThis.Bun` when this process runs on Bun, else undefined. */
export function bunRuntime(): BunGlobal | undefined {
  return (globalThis as { Bun?: BunGlobal }).Bun;
}
