/**
 * One load-generator connection to an echo endpoint: keeps `window` text messages in flight,
 * checks that each reply is `echo: ` + the message it answers, in order, and counts it.
 *
 * Hand-rolled over node:net on purpose: the generator must cost much less per message than
 * the servers it measures (see bench/echo/peers/ceiling-echo.ts for the check), so a batch of
 * pre-framed, pre-masked messages goes out in one write, and replies are compared as bytes
 * without becoming strings or events.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { openClientSocket } from '../lib/client-socket.js';
import type { Tally } from '../lib/tally.js';
import { clientFrame, emptyFrameHeader, headerLength, Opcode, parseFrameHeader, type FrameHeader } from '../lib/ws-frames.js';
import { ECHO_PREFIX, MAX_SEQ, messageTemplate, writeSeq } from './message.js';

/** How a connection loads its server. */
export interface EchoConnectionOptions {
  /** Messages sent and not yet answered, kept constant while running. */
  readonly window: number;
  /** Bytes of each message (ASCII text). */
  readonly size: number;
}

const HANDSHAKE_TIMEOUT_MS = 5000;
const NORMAL_CLOSURE = 1000;

/**
 * Opens a connection to `ws://127.0.0.1:port/` and completes the handshake. Rejects when the
 * server refuses or does not answer within 5 s. Nothing is sent until {@link EchoConnection.start}.
 */
export async function openEchoConnection(
  port: number,
  index: number,
  options: EchoConnectionOptions,
  tally: Tally,
  onError: (err: Error) => void,
): Promise<EchoConnection> {
  const { socket, route } = await openClientSocket(port, '/', `connection ${index}`, HANDSHAKE_TIMEOUT_MS);
  const connection = new EchoConnection(socket, index, options, tally, onError);
  route((bytes) => connection.receive(bytes));
  return connection;
}

/** A handshaken connection; see {@link openEchoConnection}. */
export class EchoConnection {
  readonly #socket: Socket;
  readonly #index: number;
  readonly #window: number;
  readonly #tally: Tally;
  readonly #onError: (err: Error) => void;
  /** `window` masked frames, back to back: a batch is a copy of its start with new numbers. */
  readonly #batch: Buffer;
  readonly #frameLength: number;
  /** Offset of the payload inside one frame. */
  readonly #payloadAt: number;
  readonly #mask: Buffer;
  /** The reply payload expected for the next message; its number is patched per reply. */
  readonly #expected: Buffer;
  /** When each in-flight message was written, by sequence number modulo the window. */
  readonly #sentAt: Float64Array;
  readonly #header: FrameHeader = emptyFrameHeader();
  #sent = 0;
  #received = 0;
  #sending = false;
  #closed = false;
  #pending: Buffer | undefined;
  #onDrained: (() => void) | undefined;

  constructor(socket: Socket, index: number, options: EchoConnectionOptions, tally: Tally, onError: (err: Error) => void) {
    this.#socket = socket;
    this.#index = index;
    this.#window = options.window;
    this.#tally = tally;
    this.#onError = onError;
    const message = messageTemplate(index, options.size);
    // One random mask per connection, not per frame: the server's unmasking work is the same,
    // and the generator saves a random draw per message.
    const frame = clientFrame(Opcode.Text, message);
    this.#frameLength = frame.length;
    this.#payloadAt = headerLength(message.length, true);
    this.#mask = Buffer.from(frame.subarray(this.#payloadAt - 4, this.#payloadAt));
    this.#batch = Buffer.allocUnsafe(this.#frameLength * this.#window);
    for (let i = 0; i < this.#window; i++) frame.copy(this.#batch, i * this.#frameLength);
    this.#expected = Buffer.concat([Buffer.from(ECHO_PREFIX, 'latin1'), message]);
    this.#sentAt = new Float64Array(this.#window);
    socket.on('error', (err) => this.#fail(`socket error: ${err.message}`));
    socket.on('close', () => {
      if (!this.#closed) this.#fail('the server closed the TCP connection');
    });
  }

  /**
   * Fills the window; from then on every reply is answered by a new message, until
   * {@link stop}. May be called again once stopped and drained.
   */
  start(): void {
    if (this.#sending || this.#closed) return;
    this.#sending = true;
    this.#send(this.#window - (this.#sent - this.#received), performance.now());
  }

  /** Stops sending; resolves once every message sent has been answered. */
  stop(): Promise<void> {
    this.#sending = false;
    if (this.#received === this.#sent) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onDrained = resolve;
    });
  }

  /** Sends a close frame (1000) and ends the TCP connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const code = Buffer.alloc(2);
    code.writeUInt16BE(NORMAL_CLOSURE);
    this.#socket.end(clientFrame(Opcode.Close, code));
  }

  /**
   * Handles bytes from the server: replies are checked and counted, then replaced by new
   * messages. `chunk` is only read during the call (it is the shared read buffer).
   */
  receive(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    const h = this.#header;
    const now = performance.now();
    let at = 0;
    let replies = 0;
    try {
      while (parseFrameHeader(buf, at, h)) {
        if (h.opcode === Opcode.Text && h.fin) {
          this.#verify(buf, h, now);
          replies++;
        } else {
          this.#control(buf, h);
        }
        at = h.end;
      }
    } catch (err) {
      this.#fail((err as Error).message);
      return;
    }
    this.#pending = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
    if (replies > 0 && this.#sending) this.#send(replies, now);
    if (this.#onDrained && this.#received === this.#sent) {
      const drained = this.#onDrained;
      this.#onDrained = undefined;
      drained();
    }
  }

  #verify(buf: Buffer, h: FrameHeader, now: number): void {
    const seq = this.#received;
    if (seq >= this.#sent) throw new Error(`reply ${seq} arrived before its message was sent`);
    if (h.maskAt !== -1) throw new Error('the server masked a frame (RFC 6455 §5.1 forbids it)');
    const expected = this.#expected;
    writeSeq(expected, ECHO_PREFIX.length, seq);
    if (h.payloadLength !== expected.length || buf.compare(expected, 0, expected.length, h.payloadAt, h.end) !== 0) {
      const got = buf.subarray(h.payloadAt, Math.min(h.end, h.payloadAt + 40)).toString('latin1');
      throw new Error(`reply ${seq} is wrong: expected ${JSON.stringify(expected.subarray(0, 40).toString('latin1'))}..., got ${JSON.stringify(got)}...`);
    }
    this.#received = seq + 1;
    this.#tally.record((now - this.#sentAt[seq % this.#window]!) * 1000);
  }

  #control(buf: Buffer, h: FrameHeader): void {
    switch (h.opcode) {
      case Opcode.Ping:
        // canal pings every connection every 25 s by default; a run outlives several pings.
        this.#socket.write(clientFrame(Opcode.Pong, Buffer.from(buf.subarray(h.payloadAt, h.end))));
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close: {
        const code = h.payloadLength >= 2 ? buf.readUInt16BE(h.payloadAt) : 1005;
        throw new Error(`the server closed the WebSocket with ${code}`);
      }
      default:
        throw new Error(`unexpected frame (opcode ${h.opcode}, fin ${h.fin})`);
    }
  }

  /** Writes `count` new messages in one write, all stamped `now` (they leave together). */
  #send(count: number, now: number): void {
    const n = Math.min(count, MAX_SEQ + 1 - this.#sent);
    if (n <= 0) {
      // The sequence numbers are spent: this connection is done (the count bound of the loop).
      if (this.#sent > MAX_SEQ) this.#sending = false;
      return;
    }
    // A copy per batch: the socket may still hold the previous one when it could not flush.
    const out = Buffer.allocUnsafe(n * this.#frameLength);
    this.#batch.copy(out, 0, 0, out.length);
    for (let i = 0; i < n; i++) {
      const seq = this.#sent++;
      writeSeq(out, i * this.#frameLength + this.#payloadAt, seq, this.#mask);
      this.#sentAt[seq % this.#window] = now;
    }
    this.#socket.write(out);
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sending = false;
    this.#socket.destroy();
    this.#onError(new Error(`connection ${this.#index}: ${reason}`));
  }
}
