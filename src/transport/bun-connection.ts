/**
 * One WebSocket of Bun's native server as the session layer sees it, and the per-socket state
 * the Bun transport keeps: this object is the socket's `data`, so a connection costs Bun's
 * socket plus this one object (and its session). Methods are on the prototype.
 *
 * Shared messages go out with their text or bytes: uWebSockets frames each send in native code,
 * so there is no frame to cache. Backpressure is Bun's: getBufferedAmount() is what a send
 * queued in user space because the kernel took no more (topic publishes included), which is
 * what the outbox's slow-consumer limit reads.
 *
 * Native fan-out (issue 17): a message the hub marks with its channel (a publication push that
 * every JSON subscriber of the channel receives as is) goes out once per node through Bun's
 * topic publish, to every socket that joined the channel's topic (one topic per form: JSON and
 * Protobuf sockets of a channel are in topics of their own). A socket joins when it first
 * writes such a message directly, so it is caught up (its subscription active, its subscribe
 * reply written before); it leaves when its subscription ends (channelEnded), and a closed
 * socket leaves every topic. Each socket still runs its own checks per publication (position,
 * slow consumer) in the session; here a member only skips the send when the publish already
 * reached it, which the join and publish times say: a socket that joined after the message was
 * published gets it directly.
 *
 * Order within a channel: a topic publish reaches a member at once, while the socket's own
 * messages may wait in its session's outbox until the end of the turn. So when a message of a
 * channel that is not fanned out (a join, a leave) is queued there, the socket leaves the
 * channel's topic at that moment (holdChannel), and a later publication can no longer overtake
 * it: it comes through the outbox, behind it. The socket rejoins at its next direct write of a
 * fanned-out message of the channel. What the topic delivered before the socket left is still
 * known (join and leave times), so a publication queued before the hold is not sent twice.
 */
import type { SharedMessage } from '../hub/shared-message.js';
import { truncateReason } from '../protocol/errors.js';
import type { BunServer, BunSocket } from './bun-api.js';
import { PROTOBUF_SUBPROTOCOL } from './protocol-endpoint.js';

/** Which endpoint a socket is on. */
export const SocketKind = { Echo: 0, Protocol: 1, Plain: 2 } as const;
export type SocketKind = (typeof SocketKind)[keyof typeof SocketKind];

const OPEN = 1;

/** Messages shorter than this go out uncompressed even with compression on, as ws's threshold has it on Node. */
export const COMPRESS_MIN = 1024;

/**
 * The topic of a channel's Protobuf sockets: a JSON socket must never get the Protobuf push (nor
 * the reverse), so each form has its own topic. A space is in no channel name (protocol/channel.ts).
 */
function protobufTopic(channel: string): string {
  return `${channel} protobuf`;
}

/** One server's topic publish, and the clock that orders sockets' joins and publishes. */
export class BunFanOut {
  server: BunServer<BunConnection> | undefined = undefined;
  /** websocket_compression: protocol sockets deflate messages of COMPRESS_MIN bytes or more. */
  compress = false;
  #clock = 0;

  /** The next instant: every join and publish gets its own, increasing. */
  tick(): number {
    return ++this.#clock;
  }

  /** Publishes `message` to `topic`; false when there is no server (then nobody got it). */
  publish(topic: string, message: SharedMessage): boolean {
    const server = this.server;
    if (!server) return false;
    message.fannedOut = this.tick();
    // Bun answers the bytes sent when every member took the message with nothing left unsent, -1
    // when one was left with some (backpressure), 0 when one was dropped or there was no member.
    message.fannedOutDrained = server.publish(topic, message.bytes ?? message.text, this.compress && message.byteLength >= COMPRESS_MIN) > 0;
    return true;
  }
}

/**
 * What every socket of one endpoint and subprotocol has in common, in one object per server that
 * each socket references: four fields fewer per connection (issue 17, idle memory).
 */
export class BunEndpoint {
  readonly kind: SocketKind;
  /** The largest message this endpoint takes, in bytes; past it the socket is closed with 1009. */
  readonly maxPayload: number;
  /** The subprotocol agreed at the upgrade ('' for none). */
  readonly protocol: string;
  /** The server's native fan-out; undefined for sockets that never receive channel messages. */
  readonly fanOut: BunFanOut | undefined;

  constructor(kind: SocketKind, maxPayload: number, protocol: string, fanOut?: BunFanOut) {
    this.kind = kind;
    this.maxPayload = maxPayload;
    this.protocol = protocol;
    this.fanOut = fanOut;
  }
}

/**
 * The last message {@link BunConnection.unsentBytes} found that the topic publish reached, and on
 * which socket: the writeShared the outbox calls next for it returns at once instead of looking
 * again (one per subscriber in a fan-out). Having been reached by a publish stays true, so an
 * older pair is never wrong, only unused; module state, as JavaScript runs one call at a time.
 */
let reachedMessage: SharedMessage | undefined;
let reachedConnection: BunConnection | undefined;

/** The bits of BunConnection's flags. */
const AWAITING_PONG = 1;
const CLOSED = 2;
/** The connection has a map in {@link heldChannels}. */
const HELD = 4;

/**
 * Per connection, the channels whose topic it left while a message of them waits in its outbox
 * (BunConnection.holdChannel), with when. Few connections ever hold one, so the map is kept here
 * rather than in a field of every connection (the HELD flag says whether there is one): six
 * fields keep a connection in JavaScriptCore's 64-byte size class instead of 80 (issue 17).
 */
const heldChannels = new WeakMap<BunConnection, Map<string, number>>();

export class BunConnection {
  readonly endpoint: BunEndpoint;
  /** Set when Bun opens the socket. */
  ws: BunSocket<BunConnection> | undefined = undefined;
  /**
   * Until Bun opens the socket, what its upgrade carried for the session: the request's headers
   * (a protocol socket) or the /raw/ target. From then on, the session its messages go to
   * (protocol and /raw/ sockets). One field for both: the first is read once, as the second is made.
   */
  session: unknown;
  /**
   * The channels whose topic this socket joined, with when (BunFanOut.tick): most sockets are in
   * one channel, kept as its name with the time in {@link #joined} — read per subscriber in a
   * fan-out, both are in this object already, where a Map lookup reads the Map and its table too
   * (docs/benchmarks.md); a Map from the second channel on.
   */
  #topics: string | Map<string, number> | undefined = undefined;
  /** When the socket joined the topic of `#topics` when that is one channel's name. */
  #joined = 0;
  /** AWAITING_PONG, CLOSED and HELD: three booleans in one field. */
  #flags = 0;

  constructor(endpoint: BunEndpoint, upgrade: unknown) {
    this.endpoint = endpoint;
    this.session = upgrade;
  }

  /** Of the channels joined, those whose topic it left since, held behind a queued message, with when (see heldChannels). */
  get #held(): Map<string, number> | undefined {
    return (this.#flags & HELD) !== 0 ? heldChannels.get(this) : undefined;
  }

  /** The held channels' map, made now if there is none. */
  #heldMap(): Map<string, number> {
    let held = this.#held;
    if (held === undefined) {
      held = new Map();
      heldChannels.set(this, held);
      this.#flags |= HELD;
    }
    return held;
  }

  /** How the session layer names this transport (on the prototype: nothing per connection). */
  get transport(): 'websocket' {
    return 'websocket';
  }

  get kind(): SocketKind {
    return this.endpoint.kind;
  }

  /** The largest message this endpoint takes, in bytes; past it the socket is closed with 1009. */
  get maxPayload(): number {
    return this.endpoint.maxPayload;
  }

  /** The subprotocol agreed at the upgrade ('' for none). */
  get protocol(): string {
    return this.endpoint.protocol;
  }

  /** The server's native fan-out; undefined for sockets that never receive channel messages. */
  get fanOut(): BunFanOut | undefined {
    return this.endpoint.fanOut;
  }

  /** A ping was sent on the last heartbeat tick and no pong came since (echo and plain sockets only). */
  get awaitingPong(): boolean {
    return (this.#flags & AWAITING_PONG) !== 0;
  }

  set awaitingPong(awaiting: boolean) {
    this.#flags = awaiting ? this.#flags | AWAITING_PONG : this.#flags & ~AWAITING_PONG;
  }

  get #closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  get remoteAddress(): string | undefined {
    return this.ws?.remoteAddress;
  }

  get open(): boolean {
    return !this.#closed && this.ws !== undefined && this.ws.readyState === OPEN;
  }

  /** Marks the socket closed: Bun's close handler ran. */
  markClosed(): void {
    this.#flags |= CLOSED;
  }

  writeText(text: string): void {
    // A UTF-16 unit is at least one byte: a text of COMPRESS_MIN units has at least that many.
    if (this.open) this.ws!.sendText(text, this.#compress(text.length));
  }

  writeBinary(bytes: Uint8Array): void {
    if (this.open) this.ws!.sendBinary(bytes, this.#compress(bytes.byteLength));
  }

  /** Whether a message of `size` goes out deflated: protocol sockets only (fanOut), with compression on. */
  #compress(size: number): boolean {
    return this.fanOut !== undefined && this.fanOut.compress && size >= COMPRESS_MIN;
  }

  writeShared(message: SharedMessage): void {
    const channel = message.channel;
    const fanOut = this.fanOut;
    if (channel === undefined || fanOut === undefined) {
      if (this.open) this.#send(message);
      return;
    }
    // The outbox has just asked unsentBytes about this very message, which found it reached here.
    if (message === reachedMessage && this === reachedConnection) return;
    const joined = this.#joinedAt(channel);
    // A member the publish reached has nothing to do, which is known without asking Bun for the
    // socket's readyState: a native call that took a third of canal's JavaScript time per
    // subscriber in a fan-out to 10,000 (docs/benchmarks.md).
    if (this.#reachedBy(message, channel, joined) || !this.open) return;
    if (message.fannedOut === 0) {
      // The first socket to write the message publishes it, before any socket joins through it:
      // it reaches the members of that moment, and only them.
      fanOut.publish(this.#topic(channel), message);
      if (this.#reachedBy(message, channel, joined)) return;
    }
    this.#send(message);
    if (joined === undefined || this.#held?.has(channel) === true) {
      this.#held?.delete(channel);
      const at = fanOut.tick();
      const topics = this.#topics;
      if (topics === undefined || topics === channel) {
        this.#topics = channel;
        this.#joined = at;
      } else if (typeof topics === 'string') {
        this.#topics = new Map([[topics, this.#joined], [channel, at]]);
      } else {
        topics.set(channel, at);
      }
      this.ws!.subscribe(this.#topic(channel));
    }
  }

  /** When this socket joined `channel`'s topic; undefined when it is not in it. */
  #joinedAt(channel: string): number | undefined {
    const topics = this.#topics;
    if (typeof topics === 'string') return topics === channel ? this.#joined : undefined;
    return topics?.get(channel);
  }

  /**
   * Whether the topic publish of `message` reached this open socket: it had joined `channel`'s
   * topic (at `joined`) before the publish and had not left it (held) by then.
   */
  #reachedBy(message: SharedMessage, channel: string, joined: number | undefined): boolean {
    if (joined === undefined || message.fannedOut === 0 || joined >= message.fannedOut || this.#closed) return false;
    const left = this.#held?.get(channel);
    return left === undefined || message.fannedOut < left;
  }

  /**
   * Leaves `channel`'s topic while a message of it that is not fanned out waits in the outbox
   * (MessageSink.holdChannel), so no publication overtakes it; writeShared rejoins.
   */
  holdChannel(channel: string): void {
    if (this.#joinedAt(channel) === undefined || this.#held?.has(channel) === true) return;
    this.#heldMap().set(channel, this.fanOut!.tick());
    // What the topic published to the socket before this still reaches it, ahead of its later
    // sends: uWebSockets' send drains the socket's pending publishes first (Bun's
    // packages/bun-uws/src/WebSocket.h, sendFrame), so held counts from here on.
    if (this.open) this.ws!.unsubscribe(this.#topic(channel));
  }

  /** The native topic of `channel` for this socket's form (JSON or Protobuf). */
  #topic(channel: string): string {
    return this.protocol === PROTOBUF_SUBPROTOCOL ? protobufTopic(channel) : channel;
  }

  #send(message: SharedMessage): void {
    const ws = this.ws!;
    if (message.parts === undefined) {
      const compress = this.#compress(message.byteLength);
      if (message.bytes) ws.sendBinary(message.bytes, compress);
      else ws.sendText(message.text, compress);
      return;
    }
    for (const part of message.parts) {
      if (part.bytes) ws.sendBinary(part.bytes, this.#compress(part.bytes.byteLength));
      else ws.sendText(part.text, this.#compress(part.text.length));
    }
  }

  channelEnded(channel: string): void {
    const held = this.#held?.delete(channel) === true;
    const topics = this.#topics;
    let joined: boolean;
    if (typeof topics === 'string') {
      joined = topics === channel;
      if (joined) this.#topics = undefined;
    } else {
      joined = topics?.delete(channel) === true;
    }
    if (joined && !held && this.open) this.ws!.unsubscribe(this.#topic(channel));
  }

  /**
   * Asked per delivery: Bun answers 0 for a closed socket, so its readyState is not asked too
   * (writeShared). A member that the topic publish of `message` reached, when that publish left
   * no member with bytes unsent, has none: nothing was written to the socket since (the outbox
   * writes it once per turn), so Bun is not asked either — a native call per subscriber that took
   * a tenth of canal's JavaScript time in a fan-out to 10,000 (docs/benchmarks.md).
   */
  unsentBytes(message?: SharedMessage): number {
    if (this.#closed || this.ws === undefined) return 0;
    const channel = message?.channel;
    if (channel !== undefined && message!.fannedOutDrained && this.#reachedBy(message!, channel, this.#joinedAt(channel))) {
      reachedMessage = message;
      reachedConnection = this;
      return 0;
    }
    return this.ws.getBufferedAmount();
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
  pauseReading(): void {}

  resumeReading(): void {}

  /** Sends the close frame with `code` and `reason`; Bun ends the socket once it is written. */
  closeWith(code: number, reason: string): void {
    if (!this.open) return;
    this.#flags |= CLOSED;
    try {
      this.ws!.close(code, truncateReason(reason));
    } catch {
      this.ws!.terminate();
    }
  }

  terminate(): void {
    if (this.ws && !this.#closed) {
      this.#flags |= CLOSED;
      this.ws.terminate();
    }
  }
}
