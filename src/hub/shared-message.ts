/**
 * A message that many connections receive — a publication push, a join or leave, a plain
 * client's text — encoded once (STYLE rule 7). The hub makes it; each connection's transport
 * turns it into wire bytes the first time one writes it and keeps them in {@link wire}, so
 * every other connection writes the same bytes. The hub never frames anything itself.
 *
 * A message is text (the JSON protocol, plain clients), bytes (a Protobuf push, sent in a binary
 * frame), or several messages to send as separate frames ({@link SharedMessage.frames}: a plain
 * client's publications of one turn, written together).
 */
export class SharedMessage {
  /** The message as text; empty for a binary message or for several. */
  readonly text: string;
  /** The message as bytes (a Protobuf push, varint length first), or undefined for text. */
  readonly bytes: Uint8Array | undefined;
  /** The messages to send one frame each, in order, when this stands for several. */
  readonly parts: readonly SharedMessage[] | undefined;
  /**
   * How many messages this carries: 1, or more for a turn's publications sent together. Only a
   * single message may pass the slow-consumer limit on its own (a big publication cuts nobody); a
   * burst of many counts like the queue it replaces.
   */
  readonly count: number;
  #byteLength = -1;
  /**
   * The transport's wire form of this message (a complete WebSocket frame for `ws`, or the
   * frames of every part one after the other), made by the first connection that writes it.
   * Only the transport reads or sets it.
   */
  wire: Uint8Array | undefined = undefined;
  /**
   * The channel whose every subscriber of this message's form on this node (JSON, or Protobuf,
   * without deltas) receives exactly this message — a publication push, alone or a turn's JSON
   * batch — and no subscriber of another form does; else undefined. A transport that can fan out
   * in native code (Bun's topics) may send it once to all of them (issue 17); set by the hub only.
   */
  channel: string | undefined = undefined;
  /** When the transport fanned this message out natively (its own counter); 0: not yet. Only the transport reads or sets it. */
  fannedOut = 0;
  /**
   * Whether that native fan-out left no recipient with bytes unsent (all of it taken by the
   * kernel), so a recipient's backlog is known to be empty without asking its socket. Only the
   * transport reads or sets it.
   */
  fannedOutDrained = false;

  constructor(text: string, bytes?: Uint8Array, parts?: readonly SharedMessage[], count = parts?.length ?? 1) {
    this.text = text;
    this.bytes = bytes;
    this.parts = parts;
    this.count = count;
  }

  /** Several text messages joined in one (JSON lines: one frame for all). */
  static joined(text: string, count: number): SharedMessage {
    return new SharedMessage(text, undefined, undefined, count);
  }

  /** A binary message (sent in a binary frame). */
  static binary(bytes: Uint8Array): SharedMessage {
    return new SharedMessage('', bytes);
  }

  /** Several messages, sent as one frame each, in order, and written together. */
  static frames(parts: readonly SharedMessage[]): SharedMessage {
    return new SharedMessage('', undefined, parts);
  }

  /** The size in bytes (UTF-8 for text; every part's), computed once (slow-consumer accounting). */
  get byteLength(): number {
    if (this.#byteLength < 0) {
      this.#byteLength = this.parts !== undefined
        ? this.parts.reduce((n, p) => n + p.byteLength, 0)
        : this.bytes !== undefined ? this.bytes.length : Buffer.byteLength(this.text);
    }
    return this.#byteLength;
  }
}
