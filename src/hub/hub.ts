/**
 * The hub: which local subscriptions each channel has, and the local fan-out. A publication is
 * encoded once per kind of subscriber — a protocol push for centrifuge clients, the bare text
 * for plain /raw/ clients — and the same {@link SharedMessage} goes to every subscriber of that
 * kind (STYLE rule 7); the transport frames it once. Nothing here grows with the number of
 * channels per message: one Map lookup, then the subscribers.
 *
 * A channel's events (publications, joins, leaves) wait for the end of the turn and then go out
 * in one pass over its subscribers, in order. When a turn brought several publications, they go
 * to each subscriber as one message — one WebSocket frame of newline-separated pushes for
 * protocol clients, one buffer of frames for plain clients — built once for all: one write per
 * subscriber per turn however busy the channel, and no bytes copied per subscriber.
 *
 * A pass over more protocol subscribers than {@link Hub.sliceSize} goes in slices, one per turn,
 * so that the process reads its sockets between them: publications that arrive meanwhile join
 * the pass, and every subscriber not yet reached takes them in the same write as the ones it was
 * waiting for (those already reached get them in the next pass). Under load the writes then
 * carry every publication in flight instead of alternating between two halves of them, and no
 * other connection waits for a whole fan-out to be written. In such a pass each subscriber's
 * `hubSeq` says how many of the channel's publications it was handed, so none gets one twice or
 * misses one, in whatever slice it is reached; a pass in one go stores nothing per subscriber.
 */
import { encodeJoinPush, encodeLeavePush } from '../protocol/encode.js';
import { isBinary, payloadJson } from '../protocol/payload.js';
import { encodeProtobufJoinPush, encodeProtobufLeavePush } from '../protocol/protobuf.js';
import type { ClientInfo, Publication, StreamPosition } from '../protocol/types.js';
import { PublicationBatch, PublicationEncodings, PushEncodings } from './publication-encodings.js';
import { SharedMessage } from './shared-message.js';

/** One protocol connection's subscription to one channel. */
export interface ProtocolSubscriber {
  /**
   * How many of the channel's publications on this node the hub had handed out when it was
   * added, or has handed it in a pass in slices since; no less than that, otherwise (a pass in
   * one go does not count, see Rotation.base). Read and set by the hub only.
   */
  hubSeq: number;
  /** A publication in the channel; the subscriber takes the encoding it reads from `encodings`. */
  deliverPublication(encodings: PublicationEncodings, position: StreamPosition): void;
  /**
   * Several publications of one turn, in order. A JSON subscriber sends `batch.json()` (all of
   * them as one message) when it would send every one of them; otherwise it goes one by one.
   */
  deliverPublications(batch: PublicationBatch): void;
  /** A join or leave push (only subscribers added with `joinLeave` are offered them); returns whether it was sent. */
  deliverJoinLeave(message: PushEncodings): boolean;
}

/** A plain WebSocket connection on /raw/<channel>. */
export interface PlainSubscriber {
  /** A publication's data as the text a plain client receives. */
  deliverText(message: SharedMessage): void;
}

/** Something that happened in a channel this turn, waiting for the channel's pass. */
type Event =
  | { readonly kind: 'pub'; readonly pub: Publication; readonly position: StreamPosition }
  | { readonly kind: 'join' | 'leave'; readonly info: ClientInfo };

/** A publication handed to a channel's protocol subscribers, in a pass under way. */
interface Handed {
  readonly encodings: PublicationEncodings;
  readonly position: StreamPosition;
}

/** A channel's pass in slices: the publications some subscriber has yet to receive, and where the pass is. */
interface Rotation {
  /** Publications `head - window.length + 1 .. head` of the channel, oldest first. */
  readonly window: Handed[];
  /**
   * The protocol subscribers as the pass began, and how many of them it has reached. One removed
   * since is skipped (its hubSeq is Infinity); one added since has every publication handed out
   * before it came, and is in the next pass's copy for those after.
   */
  pass: ProtocolSubscriber[];
  reached: number;
  /** The channel's head when this pass began; every subscriber has at least that many once it ends. */
  passStart: number;
  /**
   * The channel's head before the first publication of this rotation: every subscriber had that
   * many, so a hubSeq below it (left from before, as a pass in one go does not count) reads as it.
   */
  readonly base: number;
  /** The batch of the window's publications after the first `from`, by `from`, for the current head. */
  readonly batches: Map<number, PublicationBatch>;
}

interface Subscribers {
  readonly channel: string;
  readonly protocol: Set<ProtocolSubscriber>;
  /** The protocol subscribers that asked for join and leave pushes (a subset of `protocol`). */
  readonly joinLeave: Set<ProtocolSubscriber>;
  readonly plain: Set<PlainSubscriber>;
  /** This turn's events, oldest first; undefined when there are none. */
  events: Event[] | undefined;
  /** The last publication delivered here: the next one's deltas are against it. */
  last: PublicationEncodings | undefined;
  /** Publications handed to the protocol subscribers, ever (ProtocolSubscriber.hubSeq counts the same). */
  head: number;
  /** The pass in slices under way, if any. */
  rotation: Rotation | undefined;
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
  readonly #defer: (fn: () => void) => void;
  /** Channels with events this turn, in the order their first event came. */
  #dirty: Subscribers[] = [];
  /** Channels whose pass goes in slices and is not over. */
  #rotating: Subscribers[] = [];
  #scheduled = false;
  /**
   * The most protocol subscribers one turn's pass reaches per channel: a larger channel's pass
   * goes on in the next turns. Infinity (the default) for a transport that fans a message out in
   * native code to a whole channel at once (Bun's topics: SharedMessage.channel), which must see
   * every subscriber of a channel take the same message.
   */
  sliceSize = Infinity;

  /** `defer` runs a function at the end of the turn (setImmediate); tests pass one they call by hand. */
  constructor(defer: (fn: () => void) => void = setImmediate) {
    this.#defer = defer;
  }

  /**
   * Adds `sub` to `channel`, and to its join/leave audience when `joinLeave`; returns true when
   * it is the channel's first local subscriber.
   */
  addProtocol(channel: string, sub: ProtocolSubscriber, joinLeave = false): boolean {
    return this.#add(channel, (s) => {
      // Publications handed out before now are not for it; this turn's are (they are handed at its end).
      if (!s.protocol.has(sub)) sub.hubSeq = s.head;
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
      if (!s.protocol.delete(sub)) return false;
      sub.hubSeq = Infinity; // a pass in slices under way skips it from now on
      return true;
    });
  }

  removePlain(channel: string, sub: PlainSubscriber): boolean {
    return this.#remove(channel, (s) => s.plain.delete(sub));
  }

  #add(channel: string, add: (s: Subscribers) => void): boolean {
    let subs = this.#channels.get(channel);
    const first = subs === undefined;
    if (!subs) {
      subs = { channel, protocol: new Set(), joinLeave: new Set(), plain: new Set(), events: undefined, last: undefined, head: 0, rotation: undefined };
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

  /**
   * Delivers a publication to every local subscriber of `channel` at the end of this turn (with
   * the turn's other events of the channel, in order); returns how many subscribers it goes to.
   */
  publish(channel: string, pub: Publication, position: StreamPosition): number {
    const subs = this.#channels.get(channel);
    if (!subs) return 0;
    this.#enqueue(subs, { kind: 'pub', pub, position });
    return subs.protocol.size + subs.plain.size;
  }

  /** Delivers a join push to the protocol subscribers of `channel` that asked for them; returns how many asked. */
  join(channel: string, info: ClientInfo): number {
    return this.#joinLeave(channel, { kind: 'join', info });
  }

  /** Delivers a leave push to the protocol subscribers of `channel` that asked for them; returns how many asked. */
  leave(channel: string, info: ClientInfo): number {
    return this.#joinLeave(channel, { kind: 'leave', info });
  }

  /**
   * Only a channel where someone asked for joins and leaves keeps them: a channel where nobody did
   * costs nothing per join (profiled: 10,000 subscribes to one channel spent 60% of the CPU
   * offering each join to every subscriber, docs/benchmarks.md).
   */
  #joinLeave(channel: string, event: Event): number {
    const subs = this.#channels.get(channel);
    if (!subs || subs.joinLeave.size === 0) return 0;
    this.#enqueue(subs, event);
    return subs.joinLeave.size;
  }

  #enqueue(subs: Subscribers, event: Event): void {
    if (subs.events === undefined) {
      subs.events = [event];
      this.#dirty.push(subs);
    } else {
      subs.events.push(event);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#defer(this.flush);
  }

  /**
   * Delivers every channel's waiting events now, and the next slice of each pass in slices (the
   * end of the turn calls it; tests may too).
   */
  readonly flush = (): void => {
    this.#scheduled = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const subs of dirty) {
      const events = subs.events!;
      subs.events = undefined;
      let i = 0;
      while (i < events.length) {
        let j = i;
        while (j < events.length && events[j]!.kind === 'pub') j++;
        if (j > i) this.#deliverPublications(subs, events, i, j);
        if (j < events.length) this.#deliverJoinLeave(subs, events[j] as Extract<Event, { kind: 'join' | 'leave' }>);
        i = j + 1;
      }
    }
    if (this.#rotating.length === 0) return;
    const rotating = this.#rotating;
    this.#rotating = [];
    for (const subs of rotating) {
      if (subs.rotation === undefined) continue; // finished by a join or leave this turn
      if (this.#step(subs, this.sliceSize)) this.#rotating.push(subs);
    }
    if (this.#rotating.length > 0) this.#schedule();
  };

  /** Publications `events[from..to)` of `subs`' channel, to every subscriber, in one pass. */
  #deliverPublications(subs: Subscribers, events: readonly Event[], from: number, to: number): void {
    const pubs = events.slice(from, to) as Array<Extract<Event, { kind: 'pub' }>>;
    const { channel } = subs;
    const head = (subs.head += pubs.length);
    if (subs.protocol.size > 0) {
      // Encodings in publication order: each one's delta is against the one before.
      const encodings = pubs.map((e) => (subs.last = new PublicationEncodings(channel, e.pub, subs.last)));
      let rotation = subs.rotation;
      if (rotation === undefined && subs.protocol.size <= this.sliceSize) {
        // Every subscriber has every earlier publication: one message for all, in one pass now.
        if (pubs.length === 1) {
          for (const s of subs.protocol) s.deliverPublication(encodings[0]!, pubs[0]!.position);
        } else {
          const batch = new PublicationBatch(encodings, pubs.map((e) => e.position));
          for (const s of subs.protocol) s.deliverPublications(batch);
        }
        for (const e of encodings) e.forgetPrevious();
      } else {
        if (rotation === undefined) {
          rotation = subs.rotation = { window: [], pass: [...subs.protocol], reached: 0, passStart: head, base: head - pubs.length, batches: new Map() };
          // (A join or leave may have ended this channel's earlier pass this very turn, leaving it listed.)
          if (!this.#rotating.includes(subs)) this.#rotating.push(subs);
        }
        for (let k = 0; k < pubs.length; k++) rotation.window.push({ encodings: encodings[k]!, position: pubs[k]!.position });
        rotation.batches.clear();
      }
    }
    if (subs.plain.size > 0) {
      const texts = pubs.map((e) => new SharedMessage(plainText(e.pub.data)));
      // A plain client gets one message per publication: several frames, written as one.
      const message = texts.length === 1 ? texts[0]! : SharedMessage.frames(texts);
      for (const s of subs.plain) s.deliverText(message);
    }
  }

  /**
   * Goes on with `subs`' pass in slices for up to `budget` subscribers, starting the next pass
   * when publications came during this one; returns whether it is still under way.
   */
  #step(subs: Subscribers, budget: number): boolean {
    const rotation = subs.rotation!;
    const head = subs.head;
    const window = rotation.window;
    for (;;) {
      const pass = rotation.pass;
      while (rotation.reached < pass.length) {
        const s = pass[rotation.reached++]!;
        // A pass in one go leaves hubSeq as it was (no store per delivery there): below the base, it means the base.
        const from = s.hubSeq > rotation.base ? s.hubSeq : rotation.base;
        if (from < head) {
          s.hubSeq = head;
          const first = window.length - (head - from);
          if (head - from === 1) {
            s.deliverPublication(window[first]!.encodings, window[first]!.position);
          } else {
            let batch = rotation.batches.get(from);
            if (batch === undefined) {
              const range = window.slice(first);
              batch = new PublicationBatch(range.map((h) => h.encodings), range.map((h) => h.position), false);
              rotation.batches.set(from, batch);
            }
            s.deliverPublications(batch);
          }
        }
        if (--budget <= 0) return true;
      }
      // Every subscriber now has the publications up to the pass's start: those need not be kept.
      const kept = head - rotation.passStart;
      for (const h of window.splice(0, window.length - kept)) h.encodings.forgetPrevious();
      if (kept === 0) {
        subs.rotation = undefined;
        return false;
      }
      rotation.pass = [...subs.protocol];
      rotation.reached = 0;
      rotation.passStart = head;
      rotation.batches.clear();
    }
  }

  #deliverJoinLeave(subs: Subscribers, event: Extract<Event, { kind: 'join' | 'leave' }>): void {
    // A subscriber has every publication before a join or leave first: the pass in slices ends now.
    if (subs.rotation !== undefined) this.#step(subs, Infinity);
    if (subs.joinLeave.size === 0) return;
    const { channel } = subs;
    const { info } = event;
    const message = event.kind === 'join'
      ? new PushEncodings(() => encodeJoinPush(channel, info), () => encodeProtobufJoinPush(channel, info))
      : new PushEncodings(() => encodeLeavePush(channel, info), () => encodeProtobufLeavePush(channel, info));
    for (const s of subs.joinLeave) s.deliverJoinLeave(message);
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
