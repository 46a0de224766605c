/**
 * The fan-out load generator's connections: subscribers that check every delivery, and the one
 * publisher. Hand-rolled over node:net, like the echo generator's, so that taking in a delivery
 * costs less than a server spends sending it: every socket reads into one shared buffer, frames
 * are parsed in place, and a delivery is found and checked by reading two numbers located with
 * indexOf (bench/fanout/message.ts), never by making a string or parsing JSON.
 */
import type { Socket } from 'node:net';
import { openClientSocket } from '../lib/client-socket.js';
import type { TargetKind } from '../lib/targets.js';
import { clientFrame, emptyFrameHeader, Opcode, parseFrameHeader, type FrameHeader } from '../lib/ws-frames.js';
import { findPublication, nowMicros, publicationData, type FoundPublication } from './message.js';
import type { Publications } from './publications.js';

/** canal's protocol endpoint. */
export const PROTOCOL_PATH = '/connection/websocket';

/**
 * Where a plain target's publisher connects (its subscribers connect to `/`). The ws peers and
 * the ceiling take any path and send to every other connection; the Bun peer subscribes to its
 * topic every connection but the publisher's, since `server.publish` reaches every subscriber.
 */
export const PLAIN_PUBLISHER_PATH = '/publisher';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The protocol's ping and pong (an empty command): protocol.md, "Ping and pong". */
const PING = Buffer.from('{}', 'latin1');
const PONG_FRAME = clientFrame(Opcode.Text, PING);

/** Where found publications are read into (one per process: reads are handled one at a time). */
const found: FoundPublication = { seq: 0, sentUs: 0 };

/** A handshaken client connection: frames parsed in place, pings answered, text handed to a subclass. */
abstract class FanoutClient {
  protected readonly socket: Socket;
  protected readonly kind: TargetKind;
  readonly #what: string;
  readonly #onError: (err: Error) => void;
  readonly #header: FrameHeader = emptyFrameHeader();
  #pending: Buffer | undefined;
  #closed = false;

  constructor(socket: Socket, kind: TargetKind, what: string, onError: (err: Error) => void) {
    this.socket = socket;
    this.kind = kind;
    this.#what = what;
    this.#onError = onError;
    socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    socket.on('close', () => this.fail('the server closed the TCP connection'));
  }

  /** Handles bytes from the server; `chunk` is only read during the call (it may be the shared read buffer). */
  receive(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    const h = this.#header;
    const nowUs = nowMicros();
    let at = 0;
    try {
      while (parseFrameHeader(buf, at, h)) {
        if (h.maskAt !== -1) throw new Error('the server masked a frame (RFC 6455 §5.1 forbids it)');
        if (h.opcode === Opcode.Text && h.fin) this.onText(buf, h.payloadAt, h.end, nowUs);
        else this.#control(buf, h);
        at = h.end;
      }
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    this.#pending = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
  }

  /** A whole text frame's payload, `buf[at, end)`, received at `nowUs`. Throws to fail the run. */
  protected abstract onText(buf: Buffer, at: number, end: number, nowUs: number): void;

  /** Answers the protocol's ping `{}` when `buf[at, end)` is one; returns whether it was. */
  protected answerPing(buf: Buffer, at: number, end: number): boolean {
    // canal's writer sends a connection's own messages (a ping) in their own frame, apart from
    // shared publication frames, so a ping is a frame of its own, `{}`. A ping joined to other
    // text would go unanswered: canal then closes with 3012 and the run fails, loudly.
    if (this.kind !== 'protocol' || end - at !== PING.length || buf.compare(PING, 0, PING.length, at, end) !== 0) return false;
    this.socket.write(PONG_FRAME);
    return true;
  }

  #control(buf: Buffer, h: FrameHeader): void {
    switch (h.opcode) {
      case Opcode.Ping:
        this.socket.write(clientFrame(Opcode.Pong, Buffer.from(buf.subarray(h.payloadAt, h.end))));
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close: {
        const code = h.payloadLength >= 2 ? buf.readUInt16BE(h.payloadAt) : 1005;
        const reason = buf.subarray(h.payloadAt + 2, h.end).toString('utf8');
        throw new Error(`the server closed the WebSocket with ${code}${reason ? ` "${reason}"` : ''}`);
      }
      default:
        throw new Error(`unexpected frame (opcode ${h.opcode}, fin ${h.fin})`);
    }
  }

  /** Ends the connection without a word (the benchmark is over). */
  close(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  protected fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.#onError(new Error(`${this.#what}: ${reason}`));
  }
}

/** The protocol command that connects and subscribes to `channel` in one frame. */
function connectAndSubscribe(channel: string): Buffer {
  return Buffer.from(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":${JSON.stringify(channel)}}}`);
}

const SUBSCRIBE_REPLY = Buffer.from('{"id":2,', 'latin1');
const ERROR_KEY = Buffer.from('"error"', 'latin1');

/**
 * One subscriber: every text frame must hold the next publications it expects, in order. A
 * server orders a channel's publications as they arrive, so with several publishers the order
 * checked is each publisher's own: publisher `p` of P sends publications p, p + P, p + 2P, ...
 */
export class FanoutSubscriber extends FanoutClient {
  readonly #publications: Publications;
  readonly #index: number;
  /** The sequence number of the next publication this subscriber must receive, per publisher. */
  readonly #next: Float64Array;
  #received = 0;
  /** While connecting (protocol): settles when the subscribe reply arrives. */
  #ready: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(socket: Socket, kind: TargetKind, index: number, publishers: number, publications: Publications, onError: (err: Error) => void) {
    super(socket, kind, `subscriber ${index}`, onError);
    this.#publications = publications;
    this.#index = index;
    this.#next = Float64Array.from({ length: publishers }, (_, p) => p);
  }

  /**
   * Opens subscriber `index` on `port`: for `protocol`, connects and subscribes to `channel` and
   * resolves once subscribed; for `plain`, resolves once the handshake is done (the server has
   * then added it). Rejects on a refusal or an error reply; `onError` reports later failures.
   */
  static async open(
    kind: TargetKind, port: number, channel: string, index: number, publishers: number, publications: Publications, onError: (err: Error) => void,
  ): Promise<FanoutSubscriber> {
    const { socket, route } = await openClientSocket(port, kind === 'protocol' ? PROTOCOL_PATH : '/', `subscriber ${index}`, HANDSHAKE_TIMEOUT_MS);
    const subscriber = new FanoutSubscriber(socket, kind, index, publishers, publications, onError);
    if (kind === 'plain') {
      route((bytes) => subscriber.receive(bytes));
      return subscriber;
    }
    const subscribed = new Promise<void>((resolve, reject) => {
      subscriber.#ready = { resolve, reject };
    });
    route((bytes) => subscriber.receive(bytes));
    socket.write(clientFrame(Opcode.Text, connectAndSubscribe(channel)));
    await subscribed;
    return subscriber;
  }

  protected override onText(buf: Buffer, at: number, end: number, nowUs: number): void {
    if (this.#ready) return this.#onSetupText(buf, at, end);
    const publications = this.#publications;
    const next = this.#next;
    let from = at;
    let count = 0;
    while ((from = findPublication(buf, from, end, found)) !== -1) {
      const p = found.seq % next.length;
      if (found.seq !== next[p]) {
        const expected = next[p]!;
        throw new Error(`received publication ${found.seq}, expected ${expected} from its publisher (${found.seq > expected ? 'missed one' : 'out of order or twice'})`);
      }
      next[p] = found.seq + next.length;
      publications.delivered(found.seq, found.sentUs, nowUs);
      count++;
    }
    this.#received += count;
    if (count === 0 && !this.answerPing(buf, at, end)) {
      throw new Error(`unexpected message: ${JSON.stringify(buf.toString('utf8', at, Math.min(end, at + 200)))}`);
    }
  }

  #onSetupText(buf: Buffer, at: number, end: number): void {
    if (this.answerPing(buf, at, end)) return;
    const within = (needle: Buffer, from: number): boolean => {
      const i = buf.indexOf(needle, from);
      return i !== -1 && i < end;
    };
    const ready = this.#ready!;
    const replyAt = buf.indexOf(SUBSCRIBE_REPLY, at);
    const subscribeReplied = replyAt !== -1 && replyAt < end;
    // The connect reply comes first (maybe in the same frame); only an error ends the wait there.
    if (!subscribeReplied && !within(ERROR_KEY, at)) return;
    this.#ready = undefined;
    const text = buf.toString('utf8', at, end);
    if (!subscribeReplied) ready.reject(new Error(`subscriber ${this.#index}: connect failed: ${text}`));
    else if (within(ERROR_KEY, replyAt)) ready.reject(new Error(`subscriber ${this.#index}: subscribe failed: ${text}`));
    else ready.resolve();
  }

  /** Publications received so far. */
  get received(): number {
    return this.#received;
  }
}

/** A publisher: sends publications (protocol publish commands, or plain text) and checks canal's replies. */
export class FanoutPublisher extends FanoutClient {
  readonly #publications: Publications;
  readonly #channel: string;
  readonly #size: number;
  /** While connecting (protocol): settles when the connect reply arrives. */
  #ready: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** Publish replies still to come (protocol). */
  #unanswered = 0;

  private constructor(socket: Socket, kind: TargetKind, what: string, channel: string, size: number, publications: Publications, onError: (err: Error) => void) {
    super(socket, kind, what, onError);
    this.#publications = publications;
    this.#channel = channel;
    this.#size = size;
  }

  /** Opens publisher `index` on `port` (connected, for `protocol`). */
  static async open(kind: TargetKind, port: number, channel: string, index: number, size: number, publications: Publications, onError: (err: Error) => void): Promise<FanoutPublisher> {
    const what = `publisher ${index}`;
    const { socket, route } = await openClientSocket(port, kind === 'protocol' ? PROTOCOL_PATH : PLAIN_PUBLISHER_PATH, what, HANDSHAKE_TIMEOUT_MS);
    const publisher = new FanoutPublisher(socket, kind, what, channel, size, publications, onError);
    if (kind === 'plain') {
      route((bytes) => publisher.receive(bytes));
      return publisher;
    }
    const connected = new Promise<void>((resolve, reject) => {
      publisher.#ready = { resolve, reject };
    });
    route((bytes) => publisher.receive(bytes));
    socket.write(clientFrame(Opcode.Text, Buffer.from('{"id":1,"connect":{}}')));
    await connected;
    return publisher;
  }

  /** Sends the next publication (numbered by the publications), stamped now. */
  publish(): void {
    const sentUs = nowMicros();
    const seq = this.#publications.send(sentUs);
    const data = publicationData(seq, sentUs, this.#size);
    const text = this.kind === 'protocol' ? `{"id":${seq + 2},"publish":{"channel":${JSON.stringify(this.#channel)},"data":${data}}}` : data;
    if (this.kind === 'protocol') this.#unanswered++;
    this.socket.write(clientFrame(Opcode.Text, Buffer.from(text)));
  }

  /** Publish replies not yet received (protocol). */
  get unanswered(): number {
    return this.#unanswered;
  }

  protected override onText(buf: Buffer, at: number, end: number): void {
    if (this.answerPing(buf, at, end)) return;
    const text = buf.toString('utf8', at, end);
    if (this.kind === 'plain') throw new Error(`unexpected message to the publisher: ${JSON.stringify(text.slice(0, 200))}`);
    if (text.includes('"error"')) {
      const err = new Error(`the server refused: ${text.slice(0, 300)}`);
      if (this.#ready) return this.#ready.reject(err);
      throw err;
    }
    if (this.#ready) {
      const ready = this.#ready;
      this.#ready = undefined;
      ready.resolve();
      return;
    }
    // One frame may hold several replies, one per line; pings may be among them.
    for (const line of text.split('\n')) {
      if (line === '{}') this.socket.write(PONG_FRAME);
      else if (line.includes('"publish":{}')) this.#unanswered--;
      else throw new Error(`unexpected reply to the publisher: ${JSON.stringify(line.slice(0, 200))}`);
    }
  }
}
