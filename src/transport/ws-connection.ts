/**
 * One `ws` WebSocket as the session layer sees it: write text, write a {@link SharedMessage},
 * read how much is waiting, pause and resume reading, close with a code. The socket itself is
 * the connection (a subclass of ws's WebSocket): nothing more per connection, methods on the
 * prototype.
 *
 * Every message is written as one complete frame straight onto the TCP socket: header and payload
 * (UTF-8 text, or Protobuf bytes in a binary frame) in one Buffer, a shared message's built once
 * and cached; server frames are never masked (RFC 6455 §5.1), so the bytes are the same for every
 * peer, and they are the bytes ws's own `send` would write. Without permessage-deflate (off
 * unless websocket_compression is set) ws's sender never queues (canal sends no Blobs), so a
 * direct write is always in order with ws's own frames (pings, close). A session's outbox writes
 * a publication's frame to the TCP socket itself (directWriter), not even reading the
 * {@link WsConnection} (each further object is a cache miss per subscriber at 10,000
 * subscribers). With compression negotiated it is a
 * DeflateWsConnection, which sends everything through ws.send, compressed. The ws internals this
 * relies on are pinned by test/unit/transport/ws-internals.test.ts, which fails loudly on a ws
 * upgrade that changes them.
 */
import type { Socket } from 'node:net';
import * as ws from 'ws';
import type { SharedMessage } from '../hub/shared-message.js';
import { truncateReason } from '../protocol/errors.js';
import type { DirectWriter, Outbox } from '../session/outbox.js';
import { socketUnsent } from './socket-writes.js';

/** The parts of ws's internals the direct path relies on (ws 8: lib/websocket.js). */
export interface WsInternals {
  _socket: Socket | null;
  _extensions: Record<string, unknown>;
}

const TEXT_OPCODE = 0x1;
const BINARY_OPCODE = 0x2;

/** The length of a server frame's header (RFC 6455 §5.2: unmasked) for `length` payload bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** Writes a final, unmasked frame header for `opcode` and `length` at the start of `frame`; returns where the payload goes. */
function writeHeader(frame: Buffer, opcode: number, length: number): number {
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = length;
    return 2;
  }
  if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
    return 4;
  }
  frame[1] = 127;
  frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
  frame.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/**
 * A complete, unmasked, final text frame holding `text`, in one Buffer: the same bytes as ws's
 * `send` (pinned by test/unit/transport/ws-internals.test.ts), without its separate header and
 * payload buffers, which it writes corked (per write, a queued entry each and a writev: about
 * 2 KB of garbage per reply or ping, allocation sampling in docs/benchmarks.md).
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(headerLength(length) + length);
  frame.write(text, writeHeader(frame, TEXT_OPCODE, length));
  return frame;
}

/** A complete, unmasked, final binary frame holding `bytes` (a Protobuf message), in one Buffer. */
export function binaryFrame(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(bytes.byteLength) + bytes.byteLength);
  frame.set(bytes, writeHeader(frame, BINARY_OPCODE, bytes.byteLength));
  return frame;
}

/** The bytes of `message` on the wire: its frame, or its parts' frames one after the other. */
function wireOf(message: SharedMessage): Buffer {
  if (message.parts !== undefined) return Buffer.concat(message.parts.map((p) => (p.wire ??= wireOf(p))));
  return message.bytes ? binaryFrame(message.bytes) : textFrame(message.text);
}

/** How long a closing connection waits for the peer's close frame before the socket is cut. */
const CLOSE_GRACE_MS = 5000;

/**
 * A `ws` WebSocket that is its own session connection: the protocol and plain endpoints' ws
 * servers make their sockets of this class (ws's `WebSocket` option), so a session writes to the
 * socket object itself, with no wrapper between them (one object fewer per connection, and one
 * fewer to load per delivery). Its methods are named apart from ws's own (`closeWith`, not
 * `close`): ws keeps its behaviour. Call {@link adoptCompression} once the handshake is done.
 */
export class WsConnection extends ws.WebSocket {
  /** The outbox writing to the TCP socket itself (directWriter), told before the closing frame goes. */
  #directOwner: Outbox | undefined = undefined;

  /** How the session layer names this transport (on the prototype: nothing per connection). */
  get transport(): 'websocket' {
    return 'websocket';
  }

  /**
   * The peer's address, read when asked: Node caches it on the socket once read (an object and a
   * string, about 100 bytes per connection), and most connections are never asked.
   */
  get remoteAddress(): string | undefined {
    return (this as unknown as WsInternals)._socket?.remoteAddress;
  }

  /** Writes `text` as one text frame, straight onto the TCP socket; a no-op unless the connection is open. */
  writeText(text: string): void {
    if (this.readyState === this.OPEN) (this as unknown as WsInternals)._socket!.write(textFrame(text));
  }

  /** Writes `bytes` as one binary frame (Protobuf), straight onto the TCP socket; a no-op unless open. */
  writeBinary(bytes: Uint8Array): void {
    if (this.readyState === this.OPEN) (this as unknown as WsInternals)._socket!.write(binaryFrame(bytes));
  }

  /** Writes `message` as its cached frame, straight onto the TCP socket; a no-op unless open. */
  writeShared(message: SharedMessage): void {
    if (this.readyState === this.OPEN) (this as unknown as WsInternals)._socket!.write(message.wire ??= wireOf(message));
  }

  /**
   * The TCP socket, for `owner` to write shared messages' frames to itself (MessageSink.directWriter,
   * through socket-writes.ts): without compression those are the bytes writeShared would write.
   * ws sends its closing frame through close() (canal's closeWith, and ws itself when the peer's
   * closing frame comes), which tells `owner` first; every other way ws stops ends or destroys
   * the socket, which then is not writable.
   */
  directWriter(owner: Outbox): DirectWriter | undefined {
    if (this.readyState !== this.OPEN) return undefined;
    this.#directOwner = owner;
    return (this as unknown as WsInternals)._socket!;
  }

  /** The frame of `message`, cached on it: what writeShared writes. */
  frameOf(message: SharedMessage): Uint8Array {
    return message.wire ??= wireOf(message);
  }

  /** ws's close, after the direct writer's owner stops writing to the socket (its frames must not follow the closing frame). */
  override close(code?: number, data?: string | Buffer): void {
    const owner = this.#directOwner;
    this.#directOwner = undefined;
    owner?.connectionClosing();
    super.close(code, data);
  }

  /**
   * Bytes accepted for sending but not yet handed to the kernel: the TCP socket's, in its stream
   * and in libuv's queue, where direct writes wait (socket-writes.ts). ws's bufferedAmount adds
   * its sender's queue, always empty without compression.
   */
  unsentBytes(): number {
    return socketUnsent((this as unknown as WsInternals)._socket!);
  }

  /** Holds the socket's writes until uncork(): several frames, one system call. */
  cork(): void {
    (this as unknown as WsInternals)._socket?.cork();
  }

  uncork(): void {
    (this as unknown as WsInternals)._socket?.uncork();
  }

  /** Stops reading from the client (TCP then pushes back), until resumeReading(). */
  pauseReading(): void {
    if (this.readyState === this.OPEN) this.pause();
  }

  resumeReading(): void {
    if (this.readyState === this.OPEN) this.resume();
  }

  /**
   * Closes with `code` and `reason`, and terminates the socket if the peer has not completed the
   * closing handshake within CLOSE_GRACE_MS (a slow or dead peer must not hold memory for ws's 30 s).
   */
  closeWith(code: number, reason: string): void {
    closeSocket(this, code, reason);
  }
}

/**
 * A connection with permessage-deflate: a shared message goes through ws.send like any other
 * message, compressed for this connection (its frame cannot be shared), in order behind what
 * ws's sender is still compressing.
 */
class DeflateWsConnection extends WsConnection {
  /** None: every message goes through ws.send, compressed for this connection. */
  override directWriter(): undefined {
    return undefined;
  }

  override writeText(text: string): void {
    if (this.readyState === this.OPEN) this.send(text);
  }

  override writeBinary(bytes: Uint8Array): void {
    if (this.readyState === this.OPEN) this.send(bytes, { binary: true });
  }

  override writeShared(message: SharedMessage): void {
    if (this.readyState !== this.OPEN) return;
    if (message.parts === undefined) {
      this.send(message.bytes ?? message.text);
    } else {
      for (const part of message.parts) this.send(part.bytes ?? part.text);
    }
  }

  /** Bytes accepted for sending but not yet handed to the kernel, ws's sender queue included. */
  override unsentBytes(): number {
    return this.bufferedAmount;
  }
}

/**
 * Makes `socket` a {@link DeflateWsConnection} when its handshake negotiated compression (ws
 * makes the socket before it knows; the class is switched once, at accept, and only for such
 * sockets), and returns it.
 */
export function adoptCompression(socket: WsConnection): WsConnection {
  if ((socket as unknown as WsInternals)._extensions['permessage-deflate']) Object.setPrototypeOf(socket, DeflateWsConnection.prototype);
  return socket;
}

/** Closes `socket` with `code` and `reason`; see {@link WsConnection.close}. */
export function closeSocket(socket: ws.WebSocket, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
  if (socket.readyState === socket.CLOSED) return;
  if (socket.readyState === socket.OPEN) {
    // A connection paused for backpressure must read again, or the peer's answering close
    // frame is never seen and the close waits out the grace period.
    if (socket.isPaused) socket.resume();
    try {
      socket.close(code, truncateReason(reason));
    } catch {
      socket.terminate(); // a code ws refuses must still end the connection
      return;
    }
  }
  const timer = setTimeout(() => socket.terminate(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
