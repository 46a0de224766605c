/**
 * A message that many connections receive — a publication push, a join or leave, a plain
 * client's text — encoded once (STYLE rule 7). The hub makes it; each connection's transport
 * turns it into wire bytes the first time one writes it and keeps them in {@link wire}, so
 * every other connection writes the same bytes. The hub never frames anything itself.
 */
export class SharedMessage {
  /** The message as text (JSON protocol, plain clients); empty for a binary message. */
  readonly text: string;
  /** The message as bytes (a Protobuf reply, varint length first), or undefined for a text message. */
  readonly bytes: Uint8Array | undefined;
  #byteLength = -1;
  /**
   * The transport's wire form of this message (a complete WebSocket frame for `ws`), made by
   * the first connection that writes it alone. Only the transport reads or sets it.
   */
  wire: Uint8Array | undefined = undefined;

  constructor(text: string, bytes?: Uint8Array) {
    this.text = text;
    this.bytes = bytes;
  }

  /** A binary message (sent in a binary frame). */
  static binary(bytes: Uint8Array): SharedMessage {
    return new SharedMessage('', bytes);
  }

  /** The message's size in bytes (UTF-8 for text), computed once (slow-consumer accounting). */
  get byteLength(): number {
    if (this.#byteLength < 0) this.#byteLength = this.bytes ? this.bytes.length : Buffer.byteLength(this.text);
    return this.#byteLength;
  }
}
