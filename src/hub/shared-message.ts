/**
 * A message that many connections receive — a publication push, a join or leave, a plain
 * client's text — encoded once (STYLE rule 7). The hub makes it; each connection's transport
 * turns it into wire bytes the first time one writes it and keeps them in {@link wire}, so
 * every other connection writes the same bytes. The hub never frames anything itself.
 *
 * A message may be several messages to send as separate frames ({@link SharedMessage.frames}):
 * a plain client's publications of one turn, written together.
 */
export class SharedMessage {
  /** The text of one message; empty for several ({@link parts}). */
  readonly text: string;
  /** The messages to send one frame each, in order, when this stands for several. */
  readonly parts: readonly SharedMessage[] | undefined;
  #byteLength = -1;
  /**
   * The transport's wire form of this message (a complete WebSocket frame for `ws`, or the
   * frames of every part one after the other), made by the first connection that writes it.
   * Only the transport reads or sets it.
   */
  wire: Uint8Array | undefined = undefined;

  constructor(text: string, parts?: readonly SharedMessage[]) {
    this.text = text;
    this.parts = parts;
  }

  /** Several messages, sent as one frame each, in order, and written together. */
  static frames(parts: readonly SharedMessage[]): SharedMessage {
    return new SharedMessage('', parts);
  }

  /** The text's size in bytes of UTF-8 (of every part's), computed once (slow-consumer accounting). */
  get byteLength(): number {
    if (this.#byteLength < 0) {
      this.#byteLength = this.parts === undefined ? Buffer.byteLength(this.text) : this.parts.reduce((n, p) => n + p.byteLength, 0);
    }
    return this.#byteLength;
  }
}
