/**
 * One publication's encodings for every kind of protocol subscriber: the JSON push, the
 * Protobuf push, and for subscribers with fossil deltas the delta against the channel's previous
 * publication (or the full data in the form those subscribers read). The hub makes one per
 * publication and hands it to every subscriber, which asks for the {@link WireFormat} it needs;
 * each encoding — and each delta — is computed the first time a subscriber asks, once per
 * publication however many subscribers share it (STYLE rule 7), and kept as a
 * {@link SharedMessage} whose frame the transport builds once.
 */
import { binaryDelta, textDelta, utf8Bytes } from '../protocol/delta.js';
import { encodeDeltaPublication, encodePublicationPush } from '../protocol/encode.js';
import { payloadBytes, payloadJson } from '../protocol/payload.js';
import { encodeProtobufPublicationPush } from '../protocol/protobuf.js';
import type { Publication, StreamPosition } from '../protocol/types.js';
import { SharedMessage } from './shared-message.js';

/** What a protocol subscriber reads: JSON or Protobuf, with or without fossil deltas. */
export const WireFormat = { Json: 0, JsonDelta: 1, Protobuf: 2, ProtobufDelta: 3 } as const;
export type WireFormat = (typeof WireFormat)[keyof typeof WireFormat];

/** The format of a subscriber that speaks Protobuf (or JSON) and negotiated deltas (or not). */
export function wireFormat(protobuf: boolean, delta: boolean): WireFormat {
  return ((protobuf ? 2 : 0) + (delta ? 1 : 0)) as WireFormat;
}

/** No publication delivered yet: the next one goes in full. */
export const NO_PUBLICATION = 0;

let nextSeq = 1;

export class PublicationEncodings {
  readonly channel: string;
  readonly pub: Publication;
  /** This publication's number on this node, for a subscriber to say which one it last received. */
  readonly seq = nextSeq++;
  /** The channel's previous publication, while a delta against it may still be asked for. */
  #prev: PublicationEncodings | undefined;
  #json: SharedMessage | undefined;
  #protobuf: SharedMessage | undefined;
  #jsonFull: SharedMessage | undefined;
  /** The full Protobuf push for delta subscribers: the same bytes as #protobuf in another message, never fanned out (SharedMessage.channel). */
  #protobufFull: SharedMessage | undefined;
  #jsonDelta: SharedMessage | null | undefined;
  #protobufDelta: SharedMessage | null | undefined;
  #jsonBytes: Uint8Array | undefined;
  #protobufBytes: Uint8Array | undefined;

  /** `prev` is the publication before this one in the channel on this node, if any. */
  constructor(channel: string, pub: Publication, prev: PublicationEncodings | undefined) {
    this.channel = channel;
    this.pub = pub;
    this.#prev = prev;
  }

  /**
   * Forgets the previous publication once every subscriber has this one (the hub calls it after
   * the channel's pass): only one step back is ever needed, and a chain would keep every
   * publication alive.
   */
  forgetPrevious(): void {
    this.#prev = undefined;
  }

  /**
   * The message for a subscriber reading `format` whose last publication received in this
   * channel was number `lastSeq` ({@link NO_PUBLICATION} for none): with deltas, a delta when it
   * has the previous publication and the delta is worth it, else the full data.
   */
  messageFor(format: WireFormat, lastSeq: number): SharedMessage {
    switch (format) {
      case WireFormat.Json:
        return this.json();
      case WireFormat.Protobuf:
        if (this.#protobuf === undefined) {
          this.#protobuf = SharedMessage.binary(encodeProtobufPublicationPush(this.channel, this.pub, this.protobufBytes, false));
          this.#protobuf.channel = this.channel;
        }
        return this.#protobuf;
      case WireFormat.JsonDelta:
        if (this.#prev !== undefined && lastSeq === this.#prev.seq) {
          if (this.#jsonDelta === undefined) {
            const d = textDelta(this.#prev.jsonBytes, this.jsonBytes);
            this.#jsonDelta = d === undefined ? null : new SharedMessage(pushOf(this.channel, encodeDeltaPublication(this.pub, d, true)));
          }
          if (this.#jsonDelta !== null) return this.#jsonDelta;
        }
        return (this.#jsonFull ??= new SharedMessage(pushOf(this.channel, encodeDeltaPublication(this.pub, payloadJson(this.pub.data), false))));
      case WireFormat.ProtobufDelta:
        if (this.#prev !== undefined && lastSeq === this.#prev.seq) {
          if (this.#protobufDelta === undefined) {
            const d = binaryDelta(this.#prev.protobufBytes, this.protobufBytes);
            this.#protobufDelta = d === undefined ? null : SharedMessage.binary(encodeProtobufPublicationPush(this.channel, this.pub, d, true));
          }
          if (this.#protobufDelta !== null) return this.#protobufDelta;
        }
        // Not #protobuf: a delta subscriber must never hold a message that is fanned out to the
        // channel's Protobuf subscribers, or it would get their next one besides its own delta.
        return (this.#protobufFull ??= SharedMessage.binary(this.messageFor(WireFormat.Protobuf, lastSeq).bytes!));
    }
  }

  /** The JSON push, for subscribers without deltas: the common case, kept to one field read after the first. */
  json(): SharedMessage {
    if (this.#json === undefined) {
      this.#json = new SharedMessage(encodePublicationPush(this.channel, this.pub));
      // Every JSON subscriber without deltas gets this very message, and only such subscribers do.
      this.#json.channel = this.channel;
    }
    return this.#json;
  }

  /** The UTF-8 bytes of the data as JSON clients read it (their delta base). */
  get jsonBytes(): Uint8Array {
    return (this.#jsonBytes ??= utf8Bytes(payloadJson(this.pub.data)));
  }

  /** The data's bytes as Protobuf clients read them (their delta base). */
  get protobufBytes(): Uint8Array {
    return (this.#protobufBytes ??= payloadBytes(this.pub.data));
  }
}

function pushOf(channel: string, publication: string): string {
  return `{"push":{"channel":${JSON.stringify(channel)},"pub":${publication}}}`;
}

/**
 * Several publications of one channel in one turn, in order, with their positions; for JSON
 * subscribers, all of them as one message of newline-separated pushes — one WebSocket frame, as
 * the protocol allows — built the first time one asks and shared by all.
 */
export class PublicationBatch {
  readonly encodings: readonly PublicationEncodings[];
  readonly positions: readonly StreamPosition[];
  /** Whether every subscriber of the channel on this node takes this batch (see SharedMessage.channel). */
  readonly #everyone: boolean;
  #json: SharedMessage | undefined;

  /** `everyone`: false for a batch only some subscribers take (a pass in slices joins publications for those not yet reached). */
  constructor(encodings: readonly PublicationEncodings[], positions: readonly StreamPosition[], everyone = true) {
    this.encodings = encodings;
    this.positions = positions;
    this.#everyone = everyone;
  }

  /** Every publication's JSON push, one per line, as one message. */
  json(): SharedMessage {
    if (this.#json === undefined) {
      this.#json = SharedMessage.joined(this.encodings.map((e) => e.json().text).join('\n'), this.encodings.length);
      if (this.#everyone) this.#json.channel = this.encodings[0]!.channel;
    }
    return this.#json;
  }
}

/** A join or leave push in both wire formats, each encoded the first time a subscriber asks. */
export class PushEncodings {
  readonly #json: () => string;
  readonly #protobuf: () => Uint8Array;
  #jsonMessage: SharedMessage | undefined;
  #protobufMessage: SharedMessage | undefined;

  constructor(json: () => string, protobuf: () => Uint8Array) {
    this.#json = json;
    this.#protobuf = protobuf;
  }

  messageFor(protobuf: boolean): SharedMessage {
    return protobuf
      ? (this.#protobufMessage ??= SharedMessage.binary(this.#protobuf()))
      : (this.#jsonMessage ??= new SharedMessage(this.#json()));
  }
}
