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
import { NO_PUBLICATION, WireFormat, type PublicationEncodings, type PushEncodings } from '../hub/publication-encodings.js';
import type { SharedMessage } from '../hub/shared-message.js';
import type { ClientInfo, StreamPosition } from '../protocol/types.js';

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  /** Queues a push for the client. */
  push(message: SharedMessage): void;
  /** A positioned subscription saw a gap in `channel`: the client must recover. */
  lostPosition(channel: string): void;
}

export interface SubscriptionInit {
  readonly channel: string;
  readonly ns: NamespaceOptions;
  /** Whether the client gets join and leave pushes. */
  readonly joinLeave: boolean;
  /** Whether offsets are checked for gaps. */
  readonly positioned: boolean;
  /** How the connection appears in this channel's presence, joins, leaves and publications. */
  readonly info: ClientInfo;
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

export class Subscription implements ProtocolSubscriber {
  readonly channel: string;
  readonly ns: NamespaceOptions;
  readonly joinLeave: boolean;
  readonly positioned: boolean;
  readonly info: ClientInfo;
  readonly serverSide: boolean;
  expiresAt: number | undefined;
  /** The last position the client has (history channels only). */
  epoch = '';
  offset = 0;
  readonly #owner: SubscriptionOwner;
  readonly #format: WireFormat;
  /** The last publication sent to the client (its number on this node), the base of the next delta. */
  #lastSeq: number = NO_PUBLICATION;
  /** Publications that arrived before activation, in arrival order; undefined once active. */
  #buffer: Buffered[] | undefined = [];

  constructor(owner: SubscriptionOwner, init: SubscriptionInit) {
    this.#owner = owner;
    this.channel = init.channel;
    this.ns = init.ns;
    this.joinLeave = init.joinLeave;
    this.positioned = init.positioned;
    this.info = init.info;
    this.serverSide = init.serverSide;
    this.expiresAt = init.expiresAt;
    this.#format = init.format ?? WireFormat.Json;
  }

  /** Whether live delivery has begun (the subscribe reply or push went out). */
  get active(): boolean {
    return this.#buffer === undefined;
  }

  /** The position the subscribe reply tells the client: later publications continue from it. */
  setPosition(position: StreamPosition): void {
    this.epoch = position.epoch;
    this.offset = position.offset;
  }

  /** A publication in the channel (the hub calls this once per publication, in offset order). */
  deliverPublication(encodings: PublicationEncodings, position: StreamPosition): void {
    if (this.#buffer !== undefined) {
      this.#buffer.push({ encodings, position });
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
    if (this.#format === WireFormat.Json) {
      // The JSON path as it was before issue 15: one shared push, no delta bookkeeping.
      this.#owner.push(encodings.json());
      return;
    }
    this.#owner.push(encodings.messageFor(this.#format, this.#lastSeq));
    this.#lastSeq = encodings.seq;
  }

  /** A join or leave push; returns whether it went to the client (it asked for them and is active). */
  deliverJoinLeave(message: PushEncodings): boolean {
    if (!this.joinLeave || this.#buffer !== undefined) return false;
    this.#owner.push(message.messageFor(this.#format >= WireFormat.Protobuf));
    return true;
  }

  /** Starts live delivery: what was buffered goes out first, duplicates of the reply's publications skipped. */
  activate(): void {
    const buffered = this.#buffer;
    if (buffered === undefined) return;
    this.#buffer = undefined;
    for (const { encodings, position } of buffered) this.deliverPublication(encodings, position);
  }
}
