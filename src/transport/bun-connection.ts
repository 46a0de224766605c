/**
 * One WebSocket of Bun's native server as the session layer sees it, and the per-socket state
 * the Bun transport keeps: this object is the socket's `data`, so a connection costs Bun's
 * socket plus this one object (and its session). Methods are on the prototype.
 *
 * Shared messages go out with their text or bytes: uWebSockets frames each send in native code,
 * so there is no frame to cache. Backpressure is Bun's: getBufferedAmount() is what a send
 * queued in user space because the kernel took no more, which is what the outbox's
 * slow-consumer limit reads.
 */
import type { SharedMessage } from '../hub/shared-message.js';
import { truncateReason } from '../protocol/errors.js';
import type { BunSocket } from './bun-api.js';

/** Which endpoint a socket is on. */
export const SocketKind = { Echo: 0, Protocol: 1, Raw: 2 } as const;
export type SocketKind = (typeof SocketKind)[keyof typeof SocketKind];

const OPEN = 1;

export class BunConnection {
  readonly kind: SocketKind;
  /** The largest message this endpoint takes, in bytes; past it the socket is closed with 1009. */
  readonly maxPayload: number;
  /** The subprotocol agreed at the upgrade ('' for none). */
  readonly protocol: string;
  /** Set when Bun opens the socket. */
  ws: BunSocket<BunConnection> | undefined = undefined;
  /** The session its messages go to (protocol and /raw/ sockets), set when Bun opens the socket. */
  session: unknown = undefined;
  /** Until the handshake is done: the upgrade request's headers (read by the session), and the /raw/ target. */
  upgrade: unknown = undefined;
  /** A ping was sent on the last heartbeat tick and no pong came since (plain sockets only). */
  awaitingPong = false;
  #closed = false;

  constructor(kind: SocketKind, maxPayload: number, protocol: string, upgrade: unknown) {
    this.kind = kind;
    this.maxPayload = maxPayload;
    this.protocol = protocol;
    this.upgrade = upgrade;
  }

  get remoteAddress(): string | undefined {
    return this.ws?.remoteAddress;
  }

  get open(): boolean {
    return !this.#closed && this.ws !== undefined && this.ws.readyState === OPEN;
  }

  /** Marks the socket closed: Bun's close handler ran. */
  markClosed(): void {
    this.#closed = true;
  }

  writeText(text: string): void {
    if (this.open) this.ws!.sendText(text);
  }

  writeBinary(bytes: Uint8Array): void {
    if (this.open) this.ws!.sendBinary(bytes);
  }

  writeShared(message: SharedMessage): void {
    if (!this.open) return;
    const ws = this.ws!;
    if (message.parts === undefined) {
      if (message.bytes) ws.sendBinary(message.bytes);
      else ws.sendText(message.text);
      return;
    }
    for (const part of message.parts) {
      if (part.bytes) ws.sendBinary(part.bytes);
      else ws.sendText(part.text);
    }
  }

  unsentBytes(): number {
    return this.open ? this.ws!.getBufferedAmount() : 0;
  }

  /**
   * uWebSockets corks a socket's sends within one of its callbacks by itself, and the outbox's
   * writes outside them are few (a flush per turn); there is no cork to hold across calls.
   */
  cork(): void {}

  uncork(): void {}

  /**
   * Bun's server has no way to stop reading one socket: these do nothing, and a session that
   * would pause keeps queueing commands (docs: "Run it on Bun", what differs).
   */
  pause(): void {}

  resume(): void {}

  /** Sends the close frame with `code` and `reason`; Bun ends the socket once it is written. */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.#closed = true;
    try {
      this.ws!.close(code, truncateReason(reason));
    } catch {
      this.ws!.terminate();
    }
  }

  terminate(): void {
    if (this.ws && !this.#closed) {
      this.#closed = true;
      this.ws.terminate();
    }
  }
}
