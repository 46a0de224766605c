/**
 * One subscription of one protocol connection to one channel, and the heart of the delivery
 * guarantee: every publication reaches the client once, in offset order, or the connection is
 * told to recover. The hub holds the subscription itself and hands it each publication.
 *
 * While the subscribe reply is being prepared (the history read that fixes the position runs
 * after the local subscription starts, so nothing can fall between them), publications are
 * buffered; {@link Subscription.activate} then delivers those newer than the position the reply
 * told the client, and live delivery begins. A publication at or below the position is a
 * duplicate (already recovered or buffered) and is skipped; in a positioned subscription, one
 * past the next offset, or of another epoch, is a gap, and the owner makes the client recover
 * (3010) rather than let it miss anything silently. Pure: no I/O, no clock.
 */
import type { NamespaceOptions } from '../config/namespaces.js';
import type { ProtocolSubscriber } from '../hub/hub.js';
import { NO_PUBLICATION, WireFormat, type PublicationBatch, type PublicationEncodings, type PushEncodings } from '../hub/publication-encodings.js';
import type { SharedMessage } from '../hub/shared-message.js';
import type { ClientInfo, StreamPosition } from '../protocol/types.js';

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  /**
   * Queues a push for the client; `channel` is given with a push the transport may not fan out
   * natively (a join, a leave, a per-format publication), so that it keeps the channel's later
   * fanned-out pushes behind it (Outbox.enqueue).
   */
  push(message: SharedMessage, channel?: string): void;
  /** A positioned subscription saw a gap in `channel`: the client must recover. */
  lostPosition(channel: string): void;
  /**
   * How the connection appears to others now: a subscription of the owner's info keeps no
   * reference of its own (see Subscription.keepInfo for when it changes). The owner may make it
   * on the first read.
   */
  readonly info: ClientInfo;
}

export interface SubscriptionInit {
  readonly channel: string;
  readonly ns: NamespaceOptions;
  /** Whether the client gets join and leave pushes. */
  readonly joinLeave: boolean;
  /** Whether offsets are checked for gaps. */
  readonly positioned: boolean;
  /**
   * How the connection appears in this channel's presence, joins, leaves and publications when
   * that is not the owner's info (a channel info from a token or the subscribe proxy); undefined
   * (or the owner's own object) for the owner's, read from it when needed.
   */
  readonly info?: ClientInfo | undefined;
  /** From a token or the connection (not the client's own subscribe command). */
  readonly serverSide: boolean;
  /** Unix ms by which a subscription token must be refreshed, when it has one. */
  readonly expiresAt: number | undefined;
  /** What the client reads: JSON or Protobuf, with or without fossil deltas (JSON without when absent). */
  readonly format?: WireFormat;
}

interface Buffered {
  readonly encodings: PublicationEncodings;
  readonly position: StreamPosition;
}

/**
 * What only some subscriptions have, or have only for a while, in one object made when the first
 * of it is set: an idle subscription then has eight fields, 80 bytes on Bun instead of 112 (issue
 * 17; JavaScriptCore rounds an object of 9 to 12 fields up to 112) and 24 fewer on Node.
 */
interface RareSubscriptionState {
  /** Publications that arrived before activation, in arrival order; undefined once active. */
  buffer: Buffered[] | undefined;
  /** Unix ms by which the subscription token must be refreshed, when it has one. */
  expiresAt: number | undefined;
  /** The last publication sent to the client (its number on this node), the base of the next delta. */
  lastSeq: number;
  /** How the connection appears in this channel, when not as the owner's info (channel info, or the owner's info changed since). */
  info: ClientInfo | undefined;
}

/**
 * The bits of Subscription's flags: four booleans and the wire format in one field (there is one
 * subscription per channel per connection).
 */
const JOIN_LEAVE = 1;
const POSITIONED = 2;
const SERVER_SIDE = 4;
/** Publications are buffered until activation (RareSubscriptionState.buffer). */
const BUFFERING = 8;
const FORMAT_SHIFT = 4;

export class Subscription implements ProtocolSubscriber {
  // The fields a delivery reads come first, together: fewer cache lines per subscriber.
  /** The hub's count of the channel's publications handed to this subscription (ProtocolSubscriber). */
  hubSeq = 0;
  /** JOIN_LEAVE, POSITIONED, SERVER_SIDE, BUFFERING and the wire format. */
  #flags: number;
  readonly #owner: SubscriptionOwner;
  /** The last position the client has (history channels only). */
  epoch = '';
  offset = 0;
  readonly channel: string;
  readonly ns: NamespaceOptions;
  /** Undefined when none of its fields is set. */
  #rare: RareSubscriptionState | undefined;

  constructor(owner: SubscriptionOwner, init: SubscriptionInit) {
    this.#owner = owner;
    this.channel = init.channel;
    this.ns = init.ns;
    this.#flags = (init.joinLeave ? JOIN_LEAVE : 0) | (init.positioned ? POSITIONED : 0) | (init.serverSide ? SERVER_SIDE : 0)
      | BUFFERING | ((init.format ?? WireFormat.Json) << FORMAT_SHIFT);
    this.#rare = {
      buffer: [],
      expiresAt: init.expiresAt,
      lastSeq: NO_PUBLICATION,
      // The owner's info is made only when something reads it (a connection without presence or joins never does).
      info: init.info === undefined || init.info === owner.info ? undefined : init.info,
    };
  }

  /** How the connection appears in this channel's presence, joins, leaves and publications. */
  get info(): ClientInfo {
    return this.#rare?.info ?? this.#owner.info;
  }

  /**
   * The owner's info is about to change (a refresh with new conn_info) from `info`: this
   * subscription keeps showing what it showed, as subscriptions made before a refresh do.
   */
  keepInfo(info: ClientInfo): void {
    Subscription.#more(this).info ??= info;
  }

  /** Unix ms by which the subscription token must be refreshed, when it has one. */
  get expiresAt(): number | undefined {
    return this.#rare?.expiresAt;
  }

  set expiresAt(at: number | undefined) {
    if (at !== undefined || this.#rare !== undefined) Subscription.#more(this).expiresAt = at;
  }

  /**
   * What the client reads: JSON or Protobuf, with or without deltas. A private getter would give
   * every subscription V8's private brand, one more field (8 bytes on Node).
   */
  get format(): WireFormat {
    return (this.#flags >> FORMAT_SHIFT) as WireFormat;
  }

  /** Whether the client gets join and leave pushes. */
  get joinLeave(): boolean {
    return (this.#flags & JOIN_LEAVE) !== 0;
  }

  /** Whether offsets are checked for gaps. */
  get positioned(): boolean {
    return (this.#flags & POSITIONED) !== 0;
  }

  /** From a token or the connection (not the client's own subscribe command). */
  get serverSide(): boolean {
    return (this.#flags & SERVER_SIDE) !== 0;
  }

  /** Whether live delivery has begun (the subscribe reply or push went out). */
  get active(): boolean {
    return (this.#flags & BUFFERING) === 0;
  }

  /** The position the subscribe reply tells the client: later publications continue from it. */
  setPosition(position: StreamPosition): void {
    this.epoch = position.epoch;
    this.offset = position.offset;
  }

  /** A publication in the channel (the hub calls this once per publication, in offset order). */
  deliverPublication(encodings: PublicationEncodings, position: StreamPosition): void {
    if ((this.#flags & BUFFERING) !== 0) {
      this.#rare!.buffer!.push({ encodings, position });
      return;
    }
    if (position.offset > 0) {
      if (position.epoch === this.epoch && position.offset <= this.offset) return; // already delivered (recovered or buffered)
      if (this.positioned && (position.epoch !== this.epoch || position.offset !== this.offset + 1)) {
        this.#owner.lostPosition(this.channel);
        return;
      }
      this.epoch = position.epoch;
      this.offset = position.offset;
    }
    if (this.format === WireFormat.Json) {
      // The JSON path as it was before issue 15: one shared push, no delta bookkeeping.
      this.#owner.push(encodings.json());
      return;
    }
    const rare = Subscription.#more(this);
    this.#owner.push(encodings.messageFor(this.format, rare.lastSeq), this.channel);
    rare.lastSeq = encodings.seq;
  }

  /**
   * Several publications of one turn, in order. A JSON subscriber takes them as one message (one
   * write, bytes shared with every other subscriber) when it would take every one of them in
   * turn — the common case; otherwise, and for other formats, one by one through the checks above.
   */
  deliverPublications(batch: PublicationBatch): void {
    const { positions, encodings } = batch;
    const first = positions[0]!;
    const last = positions[positions.length - 1]!;
    if ((this.#flags & BUFFERING) === 0 && this.format === WireFormat.Json) {
      const unnumbered = first.offset === 0 && last.offset === 0;
      // The node delivers a channel's publications in offset order, each once, so the batch is
      // contiguous; it goes whole when it starts right after this subscription's position.
      const next = first.epoch === this.epoch && first.offset === this.offset + 1 && last.epoch === this.epoch
        && last.offset - first.offset === positions.length - 1;
      if (unnumbered || next) {
        if (!unnumbered) this.offset = last.offset;
        this.#owner.push(batch.json());
        return;
      }
    }
    for (let i = 0; i < encodings.length; i++) this.deliverPublication(encodings[i]!, positions[i]!);
  }

  /** A join or leave push; returns whether it went to the client (it asked for them and is active). */
  deliverJoinLeave(message: PushEncodings): boolean {
    if (!this.joinLeave || (this.#flags & BUFFERING) !== 0) return false;
    this.#owner.push(message.messageFor(this.format >= WireFormat.Protobuf), this.channel);
    return true;
  }

  /** Starts live delivery: what was buffered goes out first, duplicates of the reply's publications skipped. */
  activate(): void {
    if ((this.#flags & BUFFERING) === 0) return;
    const rare = this.#rare!;
    const buffered = rare.buffer!;
    this.#flags &= ~BUFFERING;
    rare.buffer = undefined;
    for (const { encodings, position } of buffered) this.deliverPublication(encodings, position);
    // Most subscriptions need nothing more of it once live.
    if (rare.expiresAt === undefined && rare.lastSeq === NO_PUBLICATION && rare.info === undefined) this.#rare = undefined;
  }

  /**
   * `sub`'s rare state, made now if it was not. Static: an instance's private method would give
   * every subscription V8's private brand, a field (8 bytes on Node).
   */
  static #more(sub: Subscription): RareSubscriptionState {
    return sub.#rare ??= { buffer: undefined, expiresAt: undefined, lastSeq: NO_PUBLICATION, info: undefined };
  }
}
