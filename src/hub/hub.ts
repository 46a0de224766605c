/**
 * The hub: which local subscriptions each channel has, and the local fan-out. A publication is
 * encoded once per kind of subscriber — a protocol push for centrifuge clients, the bare text
 * for plain /raw/ clients — and the same {@link SharedMessage} goes to every subscriber of that
 * kind (STYLE rule 7); the transport frames it once. Nothing here grows with the number of
 * channels per message: one Map lookup, then the subscribers.
 */
import { encodeJoinPush, encodeLeavePush } from '../protocol/encode.js';
import { isBinary, payloadJson } from '../protocol/payload.js';
import { encodeProtobufJoinPush, encodeProtobufLeavePush } from '../protocol/protobuf.js';
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import { PublicationEncodings, PushEncodings } from './publication-encodings.js';
import { SharedMessage } from './shared-message.js';

/** One protocol connection's subscription to one channel. */
export interface ProtocolSubscriber {
  /** A publication in the channel; the subscriber takes the encoding it reads from `encodings`. */
  deliverPublication(encodings: PublicationEncodings, position: StreamPosition): void;
  /** A join or leave push (only subscribers added with `joinLeave` are offered them); returns whether it was sent. */
  deliverJoinLeave(message: PushEncodings): boolean;
}

/** A plain WebSocket connection on /raw/<channel>. */
export interface PlainSubscriber {
  /** A publication's data as the text a plain client receives. */
  deliverText(message: SharedMessage): void;
}

interface Subscribers {
  readonly protocol: Set<ProtocolSubscriber>;
  /** The protocol subscribers that asked for join and leave pushes (a subset of `protocol`). */
  readonly joinLeave: Set<ProtocolSubscriber>;
  readonly plain: Set<PlainSubscriber>;
  /** The last publication delivered here: the next one's deltas are against it. */
  last: PublicationEncodings | undefined;
}

/**
 * The text a plain client receives for a publication whose data is the JSON text `data`: a JSON
 * string as its bare text, anything else as its JSON text.
 */
export function plainText(data: string): string {
  if (isBinary(data)) data = payloadJson(data); // bytes from a Protobuf client (payload.ts)
  return data.charCodeAt(0) === 0x22 /* " */ ? (JSON.parse(data) as string) : data;
}

export class Hub {
  readonly #channels = new Map<string, Subscribers>();
  #subscriptions = 0;

  /**
   * Adds `sub` to `channel`, and to its join/leave audience when `joinLeave`; returns true when
   * it is the channel's first local subscriber.
   */
  addProtocol(channel: string, sub: ProtocolSubscriber, joinLeave = false): boolean {
    return this.#add(channel, (s) => {
      s.protocol.add(sub);
      if (joinLeave) s.joinLeave.add(sub);
    });
  }

  /** Adds a plain subscriber; returns true when it is the channel's first local subscriber. */
  addPlain(channel: string, sub: PlainSubscriber): boolean {
    return this.#add(channel, (s) => s.plain.add(sub));
  }

  /** Removes `sub`; returns true when the channel has no local subscriber left. */
  removeProtocol(channel: string, sub: ProtocolSubscriber): boolean {
    return this.#remove(channel, (s) => {
      s.joinLeave.delete(sub);
      return s.protocol.delete(sub);
    });
  }

  removePlain(channel: string, sub: PlainSubscriber): boolean {
    return this.#remove(channel, (s) => s.plain.delete(sub));
  }

  #add(channel: string, add: (s: Subscribers) => void): boolean {
    let subs = this.#channels.get(channel);
    const first = subs === undefined;
    if (!subs) {
      subs = { protocol: new Set(), joinLeave: new Set(), plain: new Set(), last: undefined };
      this.#channels.set(channel, subs);
    }
    const before = subs.protocol.size + subs.plain.size;
    add(subs);
    this.#subscriptions += subs.protocol.size + subs.plain.size - before;
    return first;
  }

  #remove(channel: string, remove: (s: Subscribers) => boolean): boolean {
    const subs = this.#channels.get(channel);
    if (!subs) return false;
    if (remove(subs)) this.#subscriptions--;
    if (subs.protocol.size + subs.plain.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  /** Delivers a publication to every local subscriber of `channel`, encoding once per kind. */
  publish(channel: string, pub: Publication, position: StreamPosition): number {
    const subs = this.#channels.get(channel);
    if (!subs) return 0;
    if (subs.protocol.size > 0) {
      const encodings = new PublicationEncodings(channel, pub, subs.last);
      subs.last = encodings;
      for (const s of subs.protocol) s.deliverPublication(encodings, position);
    }
    if (subs.plain.size > 0) {
      const message = new SharedMessage(plainText(pub.data));
      for (const s of subs.plain) s.deliverText(message);
    }
    return subs.protocol.size + subs.plain.size;
  }

  /** Delivers a join push to the protocol subscribers of `channel` that asked for them; returns how many got it. */
  join(channel: string, info: ClientInfo): number {
    return this.#joinLeave(channel, new PushEncodings(() => encodeJoinPush(channel, info), () => encodeProtobufJoinPush(channel, info)));
  }

  /** Delivers a leave push to the protocol subscribers of `channel` that asked for them; returns how many got it. */
  leave(channel: string, info: ClientInfo): number {
    return this.#joinLeave(channel, new PushEncodings(() => encodeLeavePush(channel, info), () => encodeProtobufLeavePush(channel, info)));
  }

  /**
   * Only the subscribers that asked for joins and leaves are visited: a channel where nobody did
   * costs nothing per join (profiled: 10,000 subscribes to one channel spent 60% of the CPU
   * offering each join to every subscriber, docs/benchmarks.md).
   */
  #joinLeave(channel: string, message: PushEncodings): number {
    const subs = this.#channels.get(channel);
    if (!subs || subs.joinLeave.size === 0) return 0;
    let sent = 0;
    for (const s of subs.joinLeave) if (s.deliverJoinLeave(message)) sent++;
    return sent;
  }

  /** Whether `channel` has a local subscriber. */
  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** Local subscribers of `channel` (protocol and plain). */
  count(channel: string): number {
    const subs = this.#channels.get(channel);
    return subs ? subs.protocol.size + subs.plain.size : 0;
  }

  /** Channels with at least one local subscriber. */
  channels(): IterableIterator<string> {
    return this.#channels.keys();
  }

  get numChannels(): number {
    return this.#channels.size;
  }

  /** Local subscriptions, summed over channels. */
  get numSubscriptions(): number {
    return this.#subscriptions;
  }
}
